"""SSH to the hypervisors as the lab's other hosts are reached: root, topology.SSH_KEY.

OpenSSH's client, a connect timeout and a command timeout on every call, no host key
kept (the machines get new host keys each time the lab is made).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from picacheck.lab import topology as T


@dataclass
class Result:
    status: int | None  # None: timed out
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def ssh_command(address: str, connect_timeout: int = 3) -> list[str]:
    return ["ssh", "-i", str(T.SSH_KEY), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={connect_timeout}", "-o", "ServerAliveInterval=5",
            "-o", "ServerAliveCountMax=2", f"root@{address}"]


def run(address: str, command: str, timeout: float = 30, connect_timeout: int = 3) -> Result:
    try:
        result = subprocess.run([*ssh_command(address, connect_timeout), command], capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else (error.stdout or "")
        return Result(None, out, f"timed out after {timeout:.0f}s")
    return Result(result.returncode, result.stdout, result.stderr)


def reachable(address: str, timeout: float = 6) -> bool:
    return run(address, "true", timeout=timeout, connect_timeout=max(1, int(timeout) - 1)).ok
