"""Reaching hosts: one SSH connection per host (testinfra's paramiko backend), a timeout on
every command, and a record of what was run so that a failing check can show its evidence.

The ssh_config is generated from the inventory (HostName, Port, User, IdentityFile, and a
ProxyCommand for jump hosts, which both OpenSSH and paramiko understand), so a person can
reproduce any check by hand with `ssh -F <that file> <host>`.
"""

from __future__ import annotations

import select
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko
import testinfra.host
from testinfra.backend.base import CommandResult
from testinfra.backend.paramiko import ParamikoBackend

from picacheck.errors import UserError
from picacheck.inventory.model import Inventory

# --- evidence --------------------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    """One command run on one host, kept as evidence for the report."""

    host: str
    command: str
    exit_status: int | None  # None: it timed out or the host was unreachable
    output: str
    seconds: float

    def excerpt(self, max_lines: int = 40) -> str:
        lines = self.output.rstrip().splitlines()
        if len(lines) > max_lines:
            lines = lines[:max_lines] + [f"… ({len(lines) - max_lines} more lines)"]
        status = "timed out / unreachable" if self.exit_status is None else f"exit {self.exit_status}"
        body = "\n".join(f"    {line}" for line in lines)
        return f"[{self.host}] $ {self.command}  ({status}, {self.seconds:.1f}s)\n{body}"


class EvidenceLog:
    """Executions of the current test (the plugin clears it before each test)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: list[Execution] = []

    def record(self, execution: Execution) -> None:
        with self._lock:
            self._executions.append(execution)

    def clear(self) -> None:
        with self._lock:
            self._executions.clear()

    def executions(self) -> list[Execution]:
        with self._lock:
            return list(self._executions)


evidence = EvidenceLog()


class HostUnreachable(UserError):
    pass


class CommandTimeout(UserError):
    pass


# --- ssh_config ------------------------------------------------------------------------


def render_ssh_config(inventory: Inventory, config_path: Path) -> str:
    """An OpenSSH client configuration with one entry per inventory host."""
    blocks = []
    for name, host in inventory.hosts.items():
        ssh = host.ssh
        lines = [
            f"Host {name}",
            f"    HostName {ssh.address}",
            f"    Port {ssh.port}",
            f"    User {ssh.user}",
            f"    ConnectTimeout {ssh.connect_timeout}",
            "    StrictHostKeyChecking no",
            "    UserKnownHostsFile /dev/null",
            "    LogLevel ERROR",
            "    BatchMode yes",
        ]
        if ssh.key_file:
            lines += [f"    IdentityFile {ssh.key_file}", "    IdentitiesOnly yes"]
        if ssh.jump:
            # ProxyCommand rather than ProxyJump: paramiko (testinfra, Docker SDK) reads it too.
            lines.append(f"    ProxyCommand ssh -F {config_path} -W %h:%p {ssh.jump}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def write_ssh_config(inventory: Inventory, directory: Path | None = None) -> Path:
    directory = directory or Path(tempfile.mkdtemp(prefix="picacheck-ssh-"))
    path = directory / "ssh_config"
    path.write_text(render_ssh_config(inventory, path))
    return path


# --- a testinfra backend with timeouts -------------------------------------------------


class TimedParamikoBackend(ParamikoBackend):
    """testinfra's paramiko backend, with a deadline on every command.

    The stock backend waits forever for a command to finish; a hung NFS mount or a dead
    daemon would hang the whole run. Here a command that outlives its timeout is abandoned
    (its channel closed) and reported as a CommandTimeout.
    """

    def __init__(self, name: str, ssh_config: Path, connect_timeout: int, command_timeout: int):
        super().__init__(name, ssh_config=str(ssh_config), timeout=connect_timeout)
        self.name = name
        self.command_timeout = command_timeout
        self._per_thread = threading.local()  # chaos observers share one connection across threads

    @property
    def deadline_override(self) -> float | None:
        return getattr(self._per_thread, "timeout", None)

    @deadline_override.setter
    def deadline_override(self, value: float | None) -> None:
        self._per_thread.timeout = value

    @property
    def client(self) -> paramiko.SSHClient:  # type: ignore[override]
        try:
            return self._connected_client()
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise HostUnreachable(f"{self.name}: cannot connect over SSH ({_reason(error)})") from None

    @client.deleter
    def client(self) -> None:  # testinfra drops a dead connection this way before retrying
        self.__dict__.pop("_client", None)

    def _connected_client(self) -> paramiko.SSHClient:
        existing = self.__dict__.get("_client")
        if existing is not None and existing.get_transport() and existing.get_transport().is_active():
            return existing
        client = ParamikoBackend.client.func(self)  # type: ignore[attr-defined]
        self.__dict__["_client"] = client
        return client

    def _exec_command(self, command: bytes) -> tuple[int, bytes, bytes]:
        timeout = self.deadline_override or self.command_timeout
        channel = self.client.get_transport().open_session(timeout=timeout)
        channel.exec_command(command)
        stdout, stderr = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while True:
            while channel.recv_ready():
                stdout += channel.recv(65536)
            while channel.recv_stderr_ready():
                stderr += channel.recv_stderr(65536)
            if channel.exit_status_ready() and not channel.recv_ready() and not channel.recv_stderr_ready():
                break
            if time.monotonic() > deadline:
                channel.close()
                raise CommandTimeout(
                    f"{self.name}: `{command.decode(errors='replace')}` did not finish within {timeout}s"
                )
            select.select([channel], [], [], 0.2)
        return channel.recv_exit_status(), bytes(stdout), bytes(stderr)

    def close(self) -> None:
        client = self.__dict__.pop("_client", None)
        if client is not None:
            client.close()


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.timeout):
        return "connection timed out"
    if isinstance(error, paramiko.AuthenticationException):
        return "authentication failed: check the user and key_file in the inventory"
    text = str(error) or type(error).__name__
    return text.splitlines()[0]


# --- the hosts a run talks to ----------------------------------------------------------


class RemoteHost:
    """A testinfra host plus evidence recording and timeouts.

    Use `.run()` for commands (recorded as evidence) and `.testinfra` for testinfra's
    modules (file, service, mount_point, …).
    """

    def __init__(self, name: str, backend: TimedParamikoBackend):
        self.name = name
        self.backend = backend
        self.testinfra = testinfra.host.Host(backend)

    def run(self, command: str, *, timeout: int | None = None) -> CommandResult:
        started = time.monotonic()
        self.backend.deadline_override = timeout
        try:
            result = self.testinfra.run(command)
        except UserError as error:
            evidence.record(Execution(self.name, command, None, str(error), time.monotonic() - started))
            raise
        finally:
            self.backend.deadline_override = None
        output = result.stdout + (("\n[stderr]\n" + result.stderr) if result.stderr.strip() else "")
        evidence.record(Execution(self.name, command, result.rc, output, time.monotonic() - started))
        return result

    def check_output(self, command: str, *, timeout: int | None = None) -> str:
        """stdout of a command that must succeed (a failure raises, with its evidence)."""
        result = self.run(command, timeout=timeout)
        if result.rc != 0:
            raise AssertionError(
                f"{self.name}: `{command}` exited {result.rc}: {(result.stderr or result.stdout).strip()[:500]}"
            )
        return result.stdout

    def close(self) -> None:
        self.backend.close()


class HostPool:
    """One lazily opened SSH connection per inventory host, shared by a whole run."""

    def __init__(self, inventory: Inventory, ssh_config: Path | None = None):
        if inventory.environment.kind.value == "production" and not _production_allowed():
            raise UserError(
                f"inventory {inventory.environment.name!r} is a production inventory: "
                "the suite never contacts production (set PICACHECK_ALLOW_PRODUCTION=1 on an "
                "administrator's machine to verify it for real)"
            )
        self.inventory = inventory
        self.ssh_config = ssh_config or write_ssh_config(inventory)
        self._hosts: dict[str, RemoteHost] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> RemoteHost:
        with self._lock:
            if name not in self._hosts:
                if name not in self.inventory.hosts:
                    raise UserError(f"no host named {name!r} in the inventory")
                ssh = self.inventory.hosts[name].ssh
                backend = TimedParamikoBackend(name, self.ssh_config, ssh.connect_timeout, ssh.command_timeout)
                self._hosts[name] = RemoteHost(name, backend)
            return self._hosts[name]

    def close(self) -> None:
        for host in self._hosts.values():
            host.close()
        self._hosts.clear()


def _production_allowed() -> bool:
    import os

    return os.environ.get("PICACHECK_ALLOW_PRODUCTION") == "1"
