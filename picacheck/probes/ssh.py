"""SSH to one host, with every wait bounded: connect, run a command, read all its output.

Two things here are our own rather than testinfra's or paramiko's, and both are tested
against a real sshd (selftests/unit/test_ssh.py):
- **Reading a command's output.** A command is over when the channel has received its EOF
  and both buffers are drained; only then is the exit status taken (within the same
  deadline). Stopping as soon as `exit_status_ready()` is true loses output: an SSH server
  may send the exit status before the last of stdout (RFC 4254 allows it, and OpenSSH does
  when the process exits before its pipes are drained or the client's window is full).
- **Saying why a host cannot be reached**, in words an administrator can act on: the SSH
  port is closed, the connection timed out, the host accepts TCP but sends no SSH banner,
  authentication failed.
"""

from __future__ import annotations

import logging
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from picacheck.errors import UserError

# paramiko's transport threads log their own tracebacks (a refused or reset connection);
# the suite reports those as verdicts, so they must never reach the terminal.
_paramiko_log = logging.getLogger("paramiko")
_paramiko_log.addHandler(logging.NullHandler())
_paramiko_log.propagate = False

READ_CHUNK = 65536
POLL_S = 0.2


class HostUnreachable(UserError):
    """The host cannot be reached over SSH: "bob is unreachable: SSH port closed (…)"."""

    def __init__(self, host: str, reason: str):
        self.host = host
        self.reason = reason
        super().__init__(f"{host} is unreachable: {reason}")


class CommandTimeout(UserError):
    """A command did not finish (output and exit status) within its deadline."""


# --- connecting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where and how to connect, as the generated ssh_config says it for one host."""

    name: str
    hostname: str
    port: int
    user: str
    key_file: str | None
    proxy_command: str | None

    @classmethod
    def from_ssh_config(cls, name: str, ssh_config: Path) -> "Target":
        config = paramiko.SSHConfig.from_path(str(ssh_config))
        entry = config.lookup(name)
        key_files = entry.get("identityfile") or [None]
        return cls(name=name, hostname=entry.get("hostname", name), port=int(entry.get("port", 22)),
                   user=entry.get("user", "root"), key_file=key_files[0], proxy_command=entry.get("proxycommand"))


def connect(target: Target, timeout: float) -> paramiko.SSHClient:
    """An authenticated SSH client, or HostUnreachable; no wait longer than `timeout`."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.MissingHostKeyPolicy())  # the inventory names the hosts
    sock = paramiko.ProxyCommand(target.proxy_command) if target.proxy_command else None
    try:
        client.connect(target.hostname, port=target.port, username=target.user, key_filename=target.key_file,
                       timeout=timeout, banner_timeout=timeout, auth_timeout=timeout, channel_timeout=timeout,
                       sock=sock, allow_agent=False, look_for_keys=target.key_file is None)
    except Exception as error:  # paramiko raises many types; each becomes one reason
        client.close()
        raise HostUnreachable(target.name, unreachable_reason(error, target, timeout)) from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)  # a dead peer is noticed even between commands
    return client


def unreachable_reason(error: BaseException, target: Target, timeout: float) -> str:
    """Why a connection failed, in one short phrase."""
    where = f"{target.hostname}:{target.port}" + (" through its jump host" if target.proxy_command else "")
    if isinstance(error, paramiko.AuthenticationException):
        return f"SSH authentication failed as {target.user} on {where} (check the user and key_file in the inventory)"
    if isinstance(error, paramiko.ssh_exception.NoValidConnectionsError):
        errors = list(error.errors.values())
        error = errors[0] if errors else error
    if isinstance(error, ConnectionRefusedError):
        return f"SSH port closed (connection refused on {where})"
    if isinstance(error, (socket.timeout, TimeoutError)):
        return f"timed out connecting to {where} after {timeout:.0f} s"
    if isinstance(error, paramiko.SSHException) and "banner" in str(error).lower():
        return f"no SSH banner within {timeout:.0f} s from {where} (the port accepts TCP but does not speak SSH)"
    if isinstance(error, paramiko.ssh_exception.ProxyCommandFailure):
        return f"the jump host's ProxyCommand failed ({str(error).splitlines()[0][:200]})"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror.lower()} ({where})"
    text = (str(error) or type(error).__name__).splitlines()[0]
    return f"cannot connect over SSH to {where} ({text[:200]})"


def banner_check(address: str, port: int, timeout: float) -> str | None:
    """None if `address:port` sends an SSH banner within `timeout`, else the reason.

    Cheaper than a full connection and bounded by one timeout: the pre-flight asks it of
    every host at once, so that a dead host costs the run one timeout, not one per check.
    """
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError as error:
        return unreachable_reason(error, Target(address, address, port, "", None, None), timeout)
    with sock:
        received = _first_line(sock, time.monotonic() + timeout)
    if received is None:
        return f"no SSH banner within {timeout:.0f} s from {address}:{port} (the port accepts TCP but does not speak SSH)"
    if not received.startswith(b"SSH-"):
        return f"no SSH banner from {address}:{port} (it answered {received[:40]!r})"
    return None


def _first_line(sock: socket.socket, deadline: float) -> bytes | None:
    """What the peer sends up to its first newline or its close; None if it says nothing in time."""
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return received or None
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(256)
        except (socket.timeout, OSError):
            return received or None
        if not chunk:
            return received
        received += chunk
    return received


# --- running a command -------------------------------------------------------------------


def run_command(client: paramiko.SSHClient, command: bytes, timeout: float, host: str) -> tuple[int, bytes, bytes]:
    """Run `command`; return (exit status, stdout, stderr), all of them, or raise."""
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        raise HostUnreachable(host, "the SSH connection is closed")
    deadline = time.monotonic() + timeout
    channel = open_session(transport, deadline, host)
    try:
        channel.exec_command(command)
        channel.shutdown_write()  # no stdin: a command that reads it sees its end instead of hanging
        stdout, stderr = read_until_eof(channel, deadline, host, command)
        return wait_exit_status(channel, deadline, host, command), stdout, stderr
    finally:
        channel.close()


def open_session(transport: paramiko.Transport, deadline: float, host: str) -> paramiko.Channel:
    """A new session channel. sshd refuses one beyond its MaxSessions ("Connect failed", also
    for a moment after a channel closed, until it has counted the close): that refusal is
    waited out until the deadline; any other failure is the host's."""
    pause = 0.05
    while True:
        try:
            return transport.open_session(timeout=max(1.0, deadline - time.monotonic()))
        except paramiko.ChannelException as error:
            if error.code != paramiko.common.OPEN_FAILED_CONNECT_FAILED or time.monotonic() + pause > deadline:
                raise HostUnreachable(host, f"cannot open an SSH session ({error})") from None
        except (paramiko.SSHException, EOFError, OSError) as error:
            raise HostUnreachable(host, f"cannot open an SSH session ({str(error) or type(error).__name__})") from None
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


def read_until_eof(channel: paramiko.Channel, deadline: float, host: str, command: bytes) -> tuple[bytes, bytes]:
    """Both streams, read until the server's EOF (or the channel's close) and drained."""
    stdout, stderr = bytearray(), bytearray()
    while True:
        # The EOF flag is read before draining: data always arrives before the EOF, so once
        # it is seen, what the buffers hold is all there will ever be.
        finished = channel.eof_received or channel.closed
        while channel.recv_ready():
            stdout += channel.recv(READ_CHUNK)
        while channel.recv_stderr_ready():
            stderr += channel.recv_stderr(READ_CHUNK)
        if finished:
            return bytes(stdout), bytes(stderr)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _timeout(host, command, deadline, "before the end of its output")
        select.select([channel], [], [], min(POLL_S, remaining))


def wait_exit_status(channel: paramiko.Channel, deadline: float, host: str, command: bytes) -> int:
    if not channel.status_event.wait(max(0.0, deadline - time.monotonic())):
        raise _timeout(host, command, deadline, "after its output: no exit status came")
    if channel.exit_status == -1:  # the status event is also set when the channel closes
        raise HostUnreachable(host, f"the connection closed before `{_text(command)}` reported its exit status")
    return channel.exit_status


def _timeout(host: str, command: bytes, deadline: float, when: str) -> CommandTimeout:
    return CommandTimeout(f"{host}: `{_text(command)}` did not finish within its timeout ({when})")


def _text(command: bytes) -> str:
    text = command.decode(errors="replace")
    return text if len(text) <= 200 else text[:200] + "…"
