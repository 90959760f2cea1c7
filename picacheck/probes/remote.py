"""Reaching hosts: one SSH connection per host (testinfra's paramiko backend), a timeout on
every command, and a record of what was run so that a failing check can show its evidence.

The ssh_config is generated from the inventory (HostName, Port, User, IdentityFile, and a
ProxyCommand for jump hosts, which both OpenSSH and paramiko understand), so a person can
reproduce any check by hand with `ssh -F <that file> <host>`.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import paramiko
import testinfra.host
from testinfra.backend.base import CommandResult
from testinfra.backend.paramiko import ParamikoBackend

from picacheck import guard
from picacheck.errors import UserError
from picacheck.facts.errors import ParseError
from picacheck.inventory.model import Inventory
from picacheck.probes import ssh
from picacheck.probes.ssh import CommandTimeout, HostUnreachable

T = TypeVar("T")

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


# OpenSSH refuses a connection's 11th channel (MaxSessions 10 by default) with "Connect
# failed": the suite keeps below it, and a command beyond waits for a free session.
MAX_SESSIONS = 8


class TimedParamikoBackend(ParamikoBackend):
    """testinfra's paramiko backend, with every wait bounded (see probes/ssh.py).

    One connection per host, opened on first use and reused. With `remember_unreachable`
    (a verification run), a host that could not be reached is not tried again: each later
    check fails at once with the first attempt's reason, so a dead host costs the run one
    timeout, not one per check. Chaos experiments reconnect instead (their victims return).
    """

    def __init__(self, name: str, ssh_config: Path, connect_timeout: int, command_timeout: int,
                 remember_unreachable: bool = False, sudo: bool = False, before_connecting=lambda: None):
        # testinfra wraps every command in get_sudo_command() when `sudo` is set.
        super().__init__(name, ssh_config=str(ssh_config), timeout=connect_timeout, sudo=sudo)
        self.name = name
        self.ssh_config = ssh_config
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.remember_unreachable = remember_unreachable
        self.before_connecting = before_connecting
        self.target = ssh.Target.from_ssh_config(name, ssh_config)
        self.unreachable: str | None = None  # the reason, once a connection failed
        self._connect_lock = threading.Lock()
        self.sessions = threading.BoundedSemaphore(MAX_SESSIONS)  # commands and Docker API channels together
        self._per_thread = threading.local()  # chaos observers share one connection across threads

    @property
    def deadline_override(self) -> float | None:
        return getattr(self._per_thread, "timeout", None)

    @deadline_override.setter
    def deadline_override(self, value: float | None) -> None:
        self._per_thread.timeout = value

    @property
    def client(self) -> paramiko.SSHClient:  # type: ignore[override]
        with self._connect_lock:
            existing = self.__dict__.get("_client")
            if existing is not None and existing.get_transport() and existing.get_transport().is_active():
                return existing
            if self.unreachable and self.remember_unreachable:
                raise HostUnreachable(self.name, self.unreachable)
            self.before_connecting()
            try:
                client = ssh.connect(self.target, self.connect_timeout)
            except HostUnreachable as error:
                self.unreachable = error.reason
                raise
            self.__dict__["_client"] = client
            return client

    @client.deleter
    def client(self) -> None:  # testinfra drops a dead connection this way before retrying
        self.__dict__.pop("_client", None)

    def get_sudo_command(self, command: str, sudo_user: str | None) -> str:
        # -n: a sudo that wants a password fails at once instead of waiting for one.
        if sudo_user is None:
            return self.quote("sudo -n /bin/sh -c %s", command)
        return self.quote("sudo -n -u %s /bin/sh -c %s", sudo_user, command)

    @property
    def docker_dial_command(self) -> str:
        """How the Docker API is reached over this connection (docker-py's SSH transport)."""
        return "sudo -n docker system dial-stdio" if self.sudo else "docker system dial-stdio"

    def mark_unreachable(self, reason: str) -> None:
        self.unreachable = reason

    def _exec_command(self, command: bytes) -> tuple[int, bytes, bytes]:
        timeout = self.deadline_override or self.command_timeout
        client = self.client
        if not self.sessions.acquire(timeout=timeout):
            raise CommandTimeout(f"{self.name}: all {MAX_SESSIONS} SSH sessions busy for {timeout}s: "
                                 f"`{command.decode(errors='replace')[:200]}` did not start")
        try:
            return ssh.run_command(client, command, timeout, self.name)
        finally:
            self.sessions.release()

    def close(self) -> None:
        client = self.__dict__.pop("_client", None)
        if client is not None:
            client.close()


# --- the hosts a run talks to ----------------------------------------------------------


class SudoRefused(UserError):
    """A privileged command that the host's sudo rules do not allow the inventory's user."""


_SUDO_REFUSALS = ("a password is required", "is not allowed to execute", "is not in the sudoers file",
                  "a terminal is required", "may not run sudo")


def sudo_refusal(stderr: str) -> str | None:
    """sudo's own refusal line in a command's stderr (None: the command itself failed)."""
    for line in stderr.splitlines():
        if line.startswith("sudo: ") and any(reason in line for reason in _SUDO_REFUSALS):
            return line.removeprefix("sudo: ").strip()
    return None


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
        as_run = self.backend.get_command(command)  # with its sudo wrapper, where the host has one
        self.backend.deadline_override = timeout
        try:
            result = self.testinfra.run(command)
        except UserError as error:
            evidence.record(Execution(self.name, as_run, None, str(error), time.monotonic() - started))
            raise
        finally:
            self.backend.deadline_override = None
        output = result.stdout + (("\n[stderr]\n" + result.stderr) if result.stderr.strip() else "")
        evidence.record(Execution(self.name, as_run, result.rc, output, time.monotonic() - started))
        if self.backend.sudo and result.rc != 0:
            refusal = sudo_refusal(result.stderr)
            if refusal:
                raise SudoRefused(f"{self.name}: sudo refused `{command}` to {self.backend.target.user}"
                                  f" ({refusal}): the check needs root there")
        return result

    def check_output(self, command: str, *, timeout: int | None = None) -> str:
        """stdout of a command that must succeed (a failure raises, with its evidence)."""
        result = self.run(command, timeout=timeout)
        if result.rc != 0:
            raise AssertionError(
                f"{self.name}: `{command}` exited {result.rc}: {(result.stderr or result.stdout).strip()[:500]}"
            )
        return result.stdout

    def parsed(self, command: str, parse: Callable[[str], T], *, timeout: int | None = None,
               any_status: bool = False) -> T:
        """`parse` applied to the stdout of a command that must succeed (`any_status`: whatever
        its exit status). Output the parser cannot read is a clear failure naming the host,
        the command and what came back, never a parser's traceback."""
        output = self.run(command, timeout=timeout).stdout if any_status else self.check_output(command, timeout=timeout)
        try:
            return parse(output)
        except (ParseError, ValueError, KeyError, IndexError, TypeError) as error:
            shown = output if len(output) <= 300 else output[:300] + f"… ({len(output)} bytes in all)"
            raise AssertionError(f"{self.name}: `{command}` returned output that cannot be read "
                                 f"({type(error).__name__}: {str(error)[:200]}): {shown!r}") from None

    def close(self) -> None:
        self.backend.close()


class HostPool:
    """One lazily opened SSH connection per inventory host, shared by a whole run.

    `remember_unreachable`: a host that could not be reached once is not tried again in
    this pool (a verification run); chaos experiments use a pool that reconnects.
    """

    def __init__(self, inventory: Inventory, ssh_config: Path | None = None, remember_unreachable: bool = False,
                 grant: guard.Grant | None = None):
        self.inventory = inventory
        self.grant = grant  # asked before the first connection (a dry run makes hosts, connects to none)
        self._own_config_dir = None if ssh_config else Path(tempfile.mkdtemp(prefix="picacheck-ssh-"))
        self.ssh_config = ssh_config or write_ssh_config(inventory, self._own_config_dir)
        self.remember_unreachable = remember_unreachable
        self._hosts: dict[str, RemoteHost] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> RemoteHost:
        with self._lock:
            if name not in self._hosts:
                if name not in self.inventory.hosts:
                    raise UserError(f"no host named {name!r} in the inventory")
                connection = self.inventory.hosts[name].ssh
                backend = TimedParamikoBackend(name, self.ssh_config, connection.connect_timeout,
                                               connection.command_timeout, self.remember_unreachable, connection.sudo,
                                               before_connecting=self.allowed)
                self._hosts[name] = RemoteHost(name, backend)
            return self._hosts[name]

    def allowed(self) -> None:
        """The production guard, before any connection (see picacheck/guard.py)."""
        guard.require(self.inventory, self.grant, guard.Access.read, "this run's connections")

    def preflight(self) -> dict[str, str]:
        """Ask every host for its SSH banner at once; return the unreachable ones and why.

        Those hosts are marked unreachable in this pool, so that their checks fail at once
        with the reason instead of each waiting for its own timeout.
        """
        self.allowed()
        direct = {name: host.ssh for name, host in self.inventory.hosts.items() if not host.ssh.jump}
        pool = ThreadPoolExecutor(max_workers=min(32, max(1, len(direct))))
        try:
            answers = dict(zip(direct, pool.map(
                lambda c: ssh.banner_check(c.address, c.port, c.connect_timeout), direct.values())))
        finally:  # a Ctrl-C stops the run now, not once a silent host's banner timeout is over
            pool.shutdown(wait=False, cancel_futures=True)
        unreachable = {name: reason for name, reason in answers.items() if reason}
        for name, host in self.inventory.hosts.items():
            jump = host.ssh.jump
            if jump and jump in unreachable:
                unreachable[name] = f"reached through {jump}, which is unreachable"
        for name, reason in unreachable.items():
            self[name].backend.mark_unreachable(reason)
        return unreachable

    def unreachable(self) -> dict[str, str]:
        """Hosts that could not be reached in this pool so far, with the reason."""
        return {name: host.backend.unreachable for name, host in self._hosts.items() if host.backend.unreachable}

    def close(self) -> None:
        for host in self._hosts.values():
            host.close()
        self._hosts.clear()
        if self._own_config_dir is not None:
            shutil.rmtree(self._own_config_dir, ignore_errors=True)

