"""SSH to the lab's nodes, as the suite reaches a real host: root, the lab's key, a timeout
on every command, one connection per host (reused)."""

from __future__ import annotations

import io
import logging
import shlex
import socket
import time
from dataclasses import dataclass

import paramiko

from picacheck.errors import UserError
from picacheck.lab import topology as T

# paramiko logs a traceback for every refused connection while a node boots; the lab
# reports its own, one-line errors instead.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


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


class RemoteError(UserError):
    pass


class Node:
    """One SSH connection to one lab host."""

    def __init__(self, name: str, connect_timeout: float = 10):
        self.name = name
        self.address = T.HOSTS[name].address
        self.connect_timeout = connect_timeout
        self._client: paramiko.SSHClient | None = None
        self.host_key: paramiko.PKey | None = None

    def _connect(self) -> paramiko.SSHClient:
        if self._client is not None:
            transport = self._client.get_transport()
            if transport is not None and transport.is_active():
                return self._client
        client = paramiko.SSHClient()
        # The lab records each node's host key itself (known_hosts) once it has connected.
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        key = paramiko.Ed25519Key.from_private_key_file(str(T.SSH_KEY))
        try:
            client.connect(self.address, username="root", pkey=key, timeout=self.connect_timeout,
                           banner_timeout=self.connect_timeout, auth_timeout=self.connect_timeout,
                           allow_agent=False, look_for_keys=False)
        except (OSError, paramiko.SSHException, EOFError) as error:
            raise RemoteError(f"lab: cannot reach {self.name} ({self.address}) over SSH: {error}") from None
        transport = client.get_transport()
        transport.set_keepalive(15)
        self.host_key = transport.get_remote_server_key()
        self._client = client
        return client

    def run(self, command: str, *, timeout: float = 120, check: bool = True, what: str | None = None,
            stdin: bytes | None = None) -> Result:
        client = self._connect()
        try:
            chan = client.get_transport().open_session(timeout=self.connect_timeout)
            chan.settimeout(timeout)
            chan.exec_command(command)
            if stdin is not None:
                chan.sendall(stdin)
                chan.shutdown_write()
            out, err = io.BytesIO(), io.BytesIO()
            deadline = time.monotonic() + timeout
            while True:
                if chan.recv_ready():
                    out.write(chan.recv(65536))
                elif chan.recv_stderr_ready():
                    err.write(chan.recv_stderr(65536))
                elif chan.exit_status_ready():
                    while chan.recv_ready():
                        out.write(chan.recv(65536))
                    while chan.recv_stderr_ready():
                        err.write(chan.recv_stderr(65536))
                    break
                elif time.monotonic() > deadline:
                    chan.close()
                    raise RemoteError(f"lab: {what or 'a step'}: `{command}` on {self.name} "
                                      f"did not finish within {timeout:.0f}s")
                else:
                    time.sleep(0.02)
            status = chan.recv_exit_status()
            chan.close()
        except (socket.timeout, paramiko.SSHException, EOFError, OSError) as error:
            self.close()
            raise RemoteError(f"lab: {what or 'a step'}: `{command}` on {self.name} failed: {error}") from None
        result = Result(self.name, command, status, out.getvalue().decode(errors="replace"),
                        err.getvalue().decode(errors="replace"))
        if check and not result.ok:
            raise RemoteError(f"lab: {what or 'a step'} failed on {self.name}: `{command}` exited "
                              f"{status}: {result.tail()}")
        return result

    def ok(self, command: str, timeout: float = 60) -> bool:
        return self.run(command, timeout=timeout, check=False).ok

    def out(self, command: str, timeout: float = 60, what: str | None = None) -> str:
        return self.run(command, timeout=timeout, what=what).stdout

    def read(self, path: str) -> bytes | None:
        client = self._connect()
        sftp = client.open_sftp()
        try:
            with sftp.open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        finally:
            sftp.close()

    def put(self, path: str, data: bytes | str, mode: int = 0o644) -> bool:
        """Write a file if its content differs. Returns whether it changed."""
        if isinstance(data, str):
            data = data.encode()
        if self.read(path) == data:
            current = self.run(f"stat -c %a {shlex.quote(path)}", check=False).stdout.strip()
            if current == f"{mode:o}":
                return False
        client = self._connect()
        directory = path.rsplit("/", 1)[0] or "/"
        self.run(f"mkdir -p {shlex.quote(directory)}", what=f"creating {directory}")
        sftp = client.open_sftp()
        try:
            with sftp.open(path + ".picalab-new", "wb") as handle:
                handle.write(data)
            sftp.chmod(path + ".picalab-new", mode)
            sftp.posix_rename(path + ".picalab-new", path)
        finally:
            sftp.close()
        return True

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def wait_ssh(name: str, timeout: float = 90) -> Node:
    """A connected Node, once its sshd accepts the lab's key."""
    node = Node(name, connect_timeout=5)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            node.run("true", timeout=10)
            return node
        except RemoteError as error:
            last = error
            time.sleep(0.5)
    raise RemoteError(f"lab: {name} did not accept SSH within {timeout:.0f}s ({last})")
