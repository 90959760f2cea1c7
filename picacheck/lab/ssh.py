"""The lab's one SSH client: root with the lab's key, a timeout on every wait, admin through
alice (its jump host, as in the report), on top of the suite's own client (probes/ssh.py:
connecting, reading a command's whole output).

    node = Node("pica01")                  # connects on first use, reconnects if dropped
    node.run("docker info", timeout=30)    # Result; a failure raises RemoteError (check=False: it does not)
    node.ok(…) / node.out(…) / node.read(path) / node.put(path, data, mode)
    wait_ssh("alice", timeout=120, until="test -e /var/lib/picalab/provisioned")

`Node` also gives picacheck.probes.docker_remote what it needs (a name and a backend with a
paramiko client), so the lab reaches a node's Docker API over the same connection.
"""

from __future__ import annotations

import shlex
import threading
import time
from dataclasses import dataclass
from typing import Callable

import paramiko

from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.probes import ssh as probe_ssh
from picacheck.probes.remote import MAX_SESSIONS


class RemoteError(UserError):
    pass


@dataclass
class Result:
    host: str
    command: str
    status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0

    def tail(self, lines: int = 3) -> str:
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " / ".join(text[-lines:])


def _openssh_options(connect_timeout: float, known_hosts=None) -> list[str]:
    checks = ({"StrictHostKeyChecking": "yes", "UserKnownHostsFile": str(known_hosts)} if known_hosts
              else {"StrictHostKeyChecking": "no", "UserKnownHostsFile": "/dev/null"})
    options = {"BatchMode": "yes", "IdentitiesOnly": "yes", **checks, "LogLevel": "ERROR",
               "ConnectTimeout": str(int(connect_timeout))}
    return ["-i", str(T.SSH_KEY), *[part for key, value in options.items() for part in ("-o", f"{key}={value}")]]


def openssh_argv(name: str, known_hosts=None, connect_timeout: float = 10) -> list[str]:
    """OpenSSH's command line to reach `name` as root (a person's way in; the lab's selftests'),
    through its jump host if it has one. `known_hosts`: check host keys against that file."""
    argv = ["ssh", *_openssh_options(connect_timeout, known_hosts)]
    if name in T.JUMP_HOSTS:
        argv += ["-o", f"ProxyCommand={target(name, connect_timeout).proxy_command}"]
    return [*argv, f"root@{T.ssh_address(name)}"]


def target(name: str, connect_timeout: float = 10) -> probe_ssh.Target:
    """How the lab reaches `name`: directly, or through its jump host with OpenSSH's -W."""
    jump = T.JUMP_HOSTS.get(name)
    proxy = None
    if jump:
        proxy = " ".join(shlex.quote(part) for part in
                         ["ssh", *_openssh_options(connect_timeout), "-W", f"{T.ssh_address(name)}:22",
                          f"root@{T.ssh_address(jump)}"])
    return probe_ssh.Target(name, T.ssh_address(name), 22, "root", str(T.SSH_KEY), proxy)


class Node:
    """One SSH connection to one lab host, as root."""

    def __init__(self, name: str, connect_timeout: float = 10):
        self.name = name
        self.address = T.ssh_address(name)
        self.connect_timeout = connect_timeout
        self._client: paramiko.SSHClient | None = None
        self.backend = self  # what probes.docker_remote reads: remote.backend.client …
        self.docker_dial_command = "docker system dial-stdio"  # … and the dial command (root: no sudo)
        self.sessions = threading.BoundedSemaphore(MAX_SESSIONS)  # … and the Docker API's share of sshd's MaxSessions

    @property
    def client(self) -> paramiko.SSHClient:
        if self._client is not None:
            transport = self._client.get_transport()
            if transport is not None and transport.is_active():
                return self._client
        try:
            self._client = probe_ssh.connect(target(self.name, self.connect_timeout), self.connect_timeout)
        except probe_ssh.HostUnreachable as error:
            raise RemoteError(f"lab: cannot reach {error}") from None
        return self._client

    def run(self, command: str, *, timeout: float = 120, check: bool = True, what: str | None = None,
            stdin: bytes | None = None) -> Result:
        deadline = time.monotonic() + timeout
        try:
            channel = self.client.get_transport().open_session(timeout=self.connect_timeout)
        except (paramiko.SSHException, EOFError, OSError) as error:
            self.close()
            raise RemoteError(f"lab: {what or 'a step'}: cannot open a session on {self.name}: {error}") from None
        try:
            channel.exec_command(command)
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()  # no (more) stdin: a command reading it sees its end
            out, err = probe_ssh.read_until_eof(channel, deadline, self.name, command.encode())
            status = probe_ssh.wait_exit_status(channel, deadline, self.name, command.encode())
        except (probe_ssh.CommandTimeout, probe_ssh.HostUnreachable) as error:
            self.close()
            raise RemoteError(f"lab: {what or 'a step'}: {error}") from None
        except (paramiko.SSHException, EOFError, OSError) as error:
            self.close()
            raise RemoteError(f"lab: {what or 'a step'}: `{command}` on {self.name} failed: {error}") from None
        finally:
            channel.close()
        result = Result(self.name, command, status, out.decode(errors="replace"), err.decode(errors="replace"))
        if check and not result.ok:
            raise RemoteError(f"lab: {what or 'a step'} failed on {self.name}: `{command}` exited "
                              f"{status}: {result.tail()}")
        return result

    def ok(self, command: str, timeout: float = 60) -> bool:
        return self.run(command, timeout=timeout, check=False).ok

    def out(self, command: str, timeout: float = 60, what: str | None = None) -> str:
        return self.run(command, timeout=timeout, what=what).stdout

    def read(self, path: str) -> bytes | None:
        """A file's content (None: there is no such file)."""
        sftp = self.client.open_sftp()
        try:
            sftp.get_channel().settimeout(60)
            with sftp.open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        finally:
            sftp.close()

    def put(self, path: str, data: bytes | str, mode: int = 0o644) -> bool:
        """Write a file if its content or mode differs. Returns whether it changed."""
        if isinstance(data, str):
            data = data.encode()
        if self.read(path) == data:
            if self.run(f"stat -c %a {shlex.quote(path)}", check=False).stdout.strip() == f"{mode:o}":
                return False
        directory = path.rsplit("/", 1)[0] or "/"
        partial = f"{path}.picalab-new"
        self.run(f"mkdir -p {shlex.quote(directory)} && cat > {shlex.quote(partial)} && "
                 f"chmod {mode:o} {shlex.quote(partial)} && mv {shlex.quote(partial)} {shlex.quote(path)}",
                 stdin=data, what=f"writing {path}", timeout=120)
        return True

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def wait_ssh(name: str, timeout: float = 90, until: str = "true",
             give_up: Callable[[], str | None] = lambda: None) -> Node:
    """A connected Node, once `name` accepts the lab's key and `until` succeeds there.
    `give_up()` returning a reason stops the wait at once (a machine that died booting)."""
    node = Node(name, connect_timeout=5)
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        reason = give_up()
        if reason:
            raise RemoteError(f"lab: {name}: {reason}")
        try:
            result = node.run(until, timeout=10, check=False)
            if result.ok:
                return node
            last = result.tail() or f"`{until}` exited {result.status}"
        except RemoteError as error:
            last = str(error)
        time.sleep(0.5)
    node.close()
    raise RemoteError(f"lab: {name} not ready over SSH within {timeout:.0f}s ({last})")
