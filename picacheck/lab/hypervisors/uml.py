"""Running one user-mode-linux machine: its command line, a detached start, the
management console (mconsole), and stopping it (clean poweroff, then halt, then kill).

UML runs as a few host processes (the kernel and its helpers), all in the session that
`setsid --fork` gives the kernel, so the session id is what stop() kills at the end.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab.hypervisors import plan
from picacheck.lab.hypervisors.plan import Machine

MCONSOLE_MAGIC = 0xCAFEBABE
MCONSOLE_VERSION = 2


def command_line(m: Machine, image: Path) -> list[str]:
    args = [
        "linux.uml",
        f"umid={m.umid}",
        f"uml_dir={plan.UML_DIR}",
        f"mem={plan.MEMORY}",
    ]
    for index, (_, lab_name, _, _) in enumerate(plan.DISKS):
        args.append(f"ubd{index}={m.disk_file(lab_name)}")
    args.append(f"ubd{len(plan.DISKS)}={m.disk_file(plan.SAVE_DISK[0])}")
    args.append(f"ubd{len(plan.DISKS) + 1}={m.cow},{image}")
    args += [
        f"root=/dev/{plan.ROOT_DISK}", "rw",
        "con=null", "ssl=null", "con0=null,fd:1",  # the console is stdout: the log file
        f"hostfs={m.seed_dir}",  # hostfs sees only the seed folder
        f"systemd.hostname={m.name}",
    ]
    for index, (_, tap, _, mac) in enumerate(m.nics()):
        args.append(f"vec{index}:transport=tap,ifname={tap},mac={mac}")
    return args


def read_pid(m: Machine) -> int | None:
    try:
        return int(m.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _is_ours(pid: int, m: Machine) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"linux.uml") and f"umid={m.umid}".encode() in cmdline


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def running_pid(m: Machine) -> int | None:
    """The machine's UML kernel process, if it runs."""
    pid = read_pid(m)
    if pid and _is_ours(pid, m) and not _is_zombie(pid):
        return pid
    return None


def session_pids(sid: int) -> list[int]:
    """Every process of the UML session `sid` (the kernel and its helper processes)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields: state ppid pgrp session ...
            pids.append(int(entry))
    return pids


def start(m: Machine, image: Path) -> int:
    """Start the machine detached (new session, stdin /dev/null, console → log); its pid."""
    if not plan.UML_DIR.exists():
        plan.UML_DIR.mkdir(parents=True)
    stale = plan.UML_DIR / m.umid
    if stale.exists() and running_pid(m) is None:  # left by a killed UML: it refuses to start
        for child in stale.iterdir():
            child.unlink()
        stale.rmdir()
    args = command_line(m, image)
    (m.dir / "cmdline").write_text(" ".join(args) + "\n")
    with open(m.console_log, "ab") as log, open(os.devnull, "rb") as devnull:
        log.write(f"\n=== picacheck lab: start {time.strftime('%Y-%m-%d %H:%M:%S')} ===\n".encode())
        log.flush()
        # setsid --fork: the UML kernel is not our child (no zombie), leads its own session.
        subprocess.run(["setsid", "--fork", *args], stdin=devnull, stdout=log, stderr=subprocess.STDOUT,
                       cwd=m.dir, check=True, close_fds=True)
    pid_file = plan.UML_DIR / m.umid / "pid"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            pid = int(pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            time.sleep(0.05)
            continue
        m.pid_file.write_text(f"{pid}\n")
        return pid
    tail = m.console_log.read_text(errors="replace").strip().splitlines()[-5:]
    raise UserError(f"lab hypervisors: {m.name} (user-mode-linux) did not start",
                    hint=f"{m.console_log}: " + " / ".join(tail))


def mconsole(m: Machine, command: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Send one command to the machine's management console: (ok, reply)."""
    if not m.mconsole.exists():
        return False, "no mconsole socket"
    data = command.encode()
    request = struct.pack("III512s", MCONSOLE_MAGIC, MCONSOLE_VERSION, len(data), data)
    with tempfile.TemporaryDirectory(prefix="picalab-mc-") as tmp:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(os.path.join(tmp, "client"))
            sock.settimeout(timeout)
            sock.sendto(request, str(m.mconsole))
            reply = b""
            while True:
                packet = sock.recv(4096)
                err, more, length = struct.unpack("III", packet[:12])
                reply += packet[12:12 + length]
                if not more:
                    break
        except OSError as error:
            return False, str(error)
        finally:
            sock.close()
    return err == 0, reply.rstrip(b"\0").decode(errors="replace")


def _wait_gone(pid: int, m: Machine, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_ours(pid, m) or _is_zombie(pid):
            return True
        time.sleep(0.2)
    return not _is_ours(pid, m) or _is_zombie(pid)


def stop(m: Machine, clean_timeout: float = 30.0) -> str:
    """Stop the machine: poweroff (ctrl-alt-del → poweroff.target), then halt, then SIGKILL.

    Returns how it ended: "not running", "poweroff", "halt" or "killed".
    """
    pid = running_pid(m)
    how = "not running"
    if pid is not None:
        sid = os.getsid(pid)
        how = "killed"
        if clean_timeout > 0 and mconsole(m, "cad")[0] and _wait_gone(pid, m, clean_timeout):
            how = "poweroff"
        elif mconsole(m, "halt")[0] and _wait_gone(pid, m, 5):
            how = "halt"
        # Whatever is left of the session (helpers), and the kernel if it did not stop;
        # only processes of this machine (same UML command line) in its own session.
        for _ in range(3):
            left = [p for p in (session_pids(sid) if sid == pid else [pid])
                    if p != os.getpid() and _is_ours(p, m)]
            if not left:
                break
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.3)
        # until the exiting ones are reaped too (by init, since the kernel left)
        deadline = time.monotonic() + 5
        while sid == pid and session_pids(sid) and time.monotonic() < deadline:
            time.sleep(0.1)
    m.pid_file.unlink(missing_ok=True)
    stale = plan.UML_DIR / m.umid
    if stale.exists():
        for child in stale.iterdir():
            child.unlink()
        stale.rmdir()
    return how
