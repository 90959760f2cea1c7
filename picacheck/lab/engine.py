"""The lab's Docker engine, and the host tools the lab needs.

Which engine the lab uses, in this order:
1. `PICACHECK_LAB_DOCKER_HOST` (e.g. unix:///var/run/docker.sock), when set;
2. the lab's own engine, when its socket (topology.DOCKER_SOCKET) answers;
3. otherwise the lab starts its own: Debian's `dockerd` with its own data root, exec root,
   pid file, socket and configuration file, no default bridge (`--bridge=none`), so that it
   never touches a system engine's files. `down` stops it and puts back what it changed on
   the host (IP forwarding, the FORWARD policy, Docker's iptables chains).

The lab never guesses at a system engine: an engine it did not start is only used when
named explicitly, and then `down` removes only the objects that carry the lab's label.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import docker
import docker.errors

from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.progress import say, step

# Host commands → the Debian package that provides them.
HOST_TOOLS = {
    "dockerd": "docker.io",
    "debootstrap": "debootstrap",
    "losetup": "mount",
    "mkfs.ext4": "e2fsprogs",
    "iptables": "iptables",
    "ip": "iproute2",
    "tar": "tar",
}

ENGINE_STATE = T.RUN_DIR / "engine.json"  # what the lab changed on the host when it started dockerd
DOCKERD_LOG = T.RUN_DIR / "dockerd.log"
DOCKERD_CONFIG = T.RUN_DIR / "daemon.json"
DOCKER_CHAINS = ("DOCKER", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2", "DOCKER-USER")


def run(argv: list[str], *, what: str, timeout: float = 120, input: bytes | None = None) -> str:
    """Run a host command; a failure becomes a UserError naming the step."""
    try:
        done = subprocess.run(argv, input=input, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise UserError(f"lab: {what}: command {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"lab: {what}: `{' '.join(argv)}` did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()[-3:]
        raise UserError(f"lab: {what} failed: `{' '.join(argv)}` exited {done.returncode}: {' / '.join(tail)}")
    return done.stdout.decode(errors="replace")


# --- host prerequisites ----------------------------------------------------------------


def require_root() -> None:
    if os.geteuid() != 0:
        raise UserError("lab: the embedded lab must run as root (it starts dockerd, attaches loop devices)")


def missing_tools(tools: dict[str, str] | None = None) -> dict[str, str]:
    """command (or absolute path of a file) → package, for those that are missing."""
    tools = HOST_TOOLS if tools is None else tools
    return {cmd: pkg for cmd, pkg in tools.items()
            if not (os.path.exists(cmd) if cmd.startswith("/") else shutil.which(cmd))}


_apt = threading.Lock()  # the parts prepare at once; apt-get runs one at a time
_start = threading.Lock()  # one dockerd, however many parts ask for it


def ensure_host_tools(tools: dict[str, str] | None = None) -> bool:
    """Install the Debian packages of missing host tools with apt-get (unless told not to)."""
    with _apt:
        return _install_missing(tools)


def _install_missing(tools: dict[str, str] | None) -> bool:
    missing = missing_tools(tools)
    if not missing:
        return False
    packages = sorted(set(missing.values()))
    hint = f"apt-get install {' '.join(packages)}"
    if os.environ.get("PICACHECK_LAB_NO_INSTALL") == "1" or shutil.which("apt-get") is None:
        raise UserError(f"lab: missing host tools: {', '.join(sorted(missing))}", hint=hint)
    with step(f"Installing host packages: {' '.join(packages)}"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for argv in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", *packages]):
            done = subprocess.run(argv, capture_output=True, env=env, timeout=900)
            if done.returncode != 0:
                tail = done.stderr.decode(errors="replace").strip().splitlines()[-2:]
                raise UserError(f"lab: `{' '.join(argv)}` failed: {' / '.join(tail)}", hint=hint)
    still = missing_tools(tools)
    if still:
        raise UserError(f"lab: still missing after apt-get: {', '.join(sorted(still))}", hint=hint)
    return True


# --- engine ----------------------------------------------------------------------------


def _client(base_url: str, timeout: int = 300) -> docker.DockerClient:
    return docker.DockerClient(base_url=base_url, timeout=timeout)


def _answers(base_url: str) -> bool:
    try:
        client = _client(base_url, timeout=5)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def own_engine_url() -> str:
    return f"unix://{T.DOCKER_SOCKET}"


def explicit_engine_url() -> str | None:
    return os.environ.get("PICACHECK_LAB_DOCKER_HOST") or None


def dockerd_pid() -> int | None:
    """The pid of the lab's own dockerd, if it runs."""
    try:
        pid = int(T.DOCKER_PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if cmdline and cmdline[0].endswith(b"dockerd") and f"unix://{T.DOCKER_SOCKET}".encode() in cmdline:
        return pid
    return None


def connect(start: bool = True) -> tuple[docker.DockerClient, bool]:
    """A client for the lab's engine and whether the lab owns it (started it).

    With start=False, returns (None, False) when no engine answers.
    """
    explicit = explicit_engine_url()
    if explicit:
        if not _answers(explicit):
            raise UserError(f"lab: the Docker engine named by PICACHECK_LAB_DOCKER_HOST ({explicit}) does not answer")
        return _client(explicit), False
    url = own_engine_url()
    if _answers(url):
        return _client(url), True
    if not start:
        return None, False  # type: ignore[return-value]
    with _start:
        if not _answers(url):
            start_dockerd()
    return _client(url), True


def running() -> bool:
    """Whether the lab's engine answers (the lab is not down)."""
    client, _ = connect(start=False)
    if client is None:
        return False
    client.close()
    return True


def require_lab(part: str) -> None:
    """Root, and the lab's engine running: what a part that builds on the VMs needs."""
    require_root()
    if not running():
        raise UserError(f"lab {part}: the lab is down", hint="run `picacheck lab up` first")


@contextlib.contextmanager
def lab_client():
    """A client of the lab's running engine (closed afterwards); a UserError when it is down."""
    client, _ = connect(start=False)
    if client is None:
        raise UserError("lab: its Docker engine is not running", hint="run `picacheck lab up` first")
    try:
        yield client
    finally:
        client.close()


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def _forward_policy() -> str | None:
    try:
        rules = run(["iptables", "-S", "FORWARD"], what="reading the FORWARD policy", timeout=20)
    except UserError:
        return None
    for line in rules.splitlines():
        if line.startswith("-P FORWARD "):
            return line.split()[2]
    return None


def _existing_chains() -> set[str]:
    try:
        rules = run(["iptables", "-S"], what="listing iptables chains", timeout=20)
        nat = run(["iptables", "-t", "nat", "-S"], what="listing iptables chains", timeout=20)
    except UserError:
        return set()
    chains = set()
    for table, text in (("filter", rules), ("nat", nat)):
        for line in text.splitlines():
            if line.startswith("-N "):
                chains.add(f"{table}:{line.split()[1]}")
    return chains


def start_dockerd() -> None:
    """Start the lab's own dockerd (Debian's docker.io) and wait until it answers."""
    require_root()
    ensure_host_tools({"dockerd": "docker.io", "iptables": "iptables", "ip": "iproute2"})
    with step("Starting the lab's Docker engine"):
        for directory in (T.RUN_DIR, T.DOCKER_EXEC_ROOT, T.DOCKER_DATA_ROOT):
            directory.mkdir(parents=True, exist_ok=True)
        if not ENGINE_STATE.exists():
            # What dockerd changes on the host, to put it back in `down`.
            ENGINE_STATE.write_text(json.dumps({
                "ip_forward": _sysctl_path("net.ipv4.ip_forward").read_text().strip(),
                "forward_policy": _forward_policy(),
                "chains_before": sorted(_existing_chains()),
            }))
        DOCKERD_CONFIG.write_text(json.dumps({}))  # never read /etc/docker/daemon.json
        if T.DOCKER_SOCKET.exists():
            T.DOCKER_SOCKET.unlink()
        argv = [
            shutil.which("dockerd") or "dockerd",
            "--config-file", str(DOCKERD_CONFIG),
            "--data-root", str(T.DOCKER_DATA_ROOT),
            "--exec-root", str(T.DOCKER_EXEC_ROOT),
            "--pidfile", str(T.DOCKER_PIDFILE),
            "-H", f"unix://{T.DOCKER_SOCKET}",
            "--bridge=none",
            "--storage-driver=overlay2",
            "--log-driver=json-file",
            "--log-opt=max-size=10m",
        ]
        log = open(DOCKERD_LOG, "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, close_fds=True)
        log.close()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = DOCKERD_LOG.read_text(errors="replace").strip().splitlines()[-3:]
                raise UserError(f"lab: the lab's dockerd exited with status {process.returncode}: {' / '.join(tail)}",
                                hint=f"full log: {DOCKERD_LOG}")
            if _answers(own_engine_url()):
                say(f"dockerd (pid {process.pid}) answers on {T.DOCKER_SOCKET}")
                return
            time.sleep(0.5)
        raise UserError("lab: the lab's dockerd did not answer within 90s", hint=f"see {DOCKERD_LOG}")


def stop_dockerd(restore: bool = True) -> bool:
    """Stop the lab's own dockerd (and its containerd); with `restore`, undo its host
    changes too (see restore_host_network)."""
    pid = dockerd_pid()
    changed = False
    if pid is not None:
        with step(f"Stopping the lab's Docker engine (pid {pid})"):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                _reap(pid)
                time.sleep(0.3)
            if Path(f"/proc/{pid}").exists():
                say(f"dockerd {pid} did not stop in 60s: killing it")
                os.kill(pid, signal.SIGKILL)
                time.sleep(1)
        changed = True
    changed |= _stop_leftover_containerd()
    if restore:
        changed |= restore_host_network()
    return changed


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _stop_leftover_containerd() -> bool:
    """The containerd (and shims) that the lab's dockerd managed, if it outlived dockerd."""
    changed = False
    marker = str(T.DOCKER_EXEC_ROOT).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        name = cmdline.split(b"\0", 1)[0]
        if marker in cmdline and (name.endswith(b"containerd") or b"containerd-shim" in name):
            say(f"stopping leftover {name.decode(errors='replace')} (pid {entry.name})")
            try:
                os.kill(int(entry.name), signal.SIGTERM)
                changed = True
            except ProcessLookupError:
                pass
    if changed:
        time.sleep(2)
    return changed


def restore_host_network() -> bool:
    """Put back IP forwarding, the FORWARD policy, and drop the iptables chains dockerd added."""
    try:
        saved = json.loads(ENGINE_STATE.read_text())
    except (OSError, ValueError):
        return False
    if _other_dockerd_running():
        say("another dockerd runs on this host: leaving iptables and IP forwarding as they are")
        ENGINE_STATE.unlink()
        return False
    with step("Restoring the host's iptables and IP forwarding"):
        before = set(saved.get("chains_before", []))
        # Only Docker's own chains: other parts of the lab (the hypervisors' guard) hook
        # their chains into DOCKER-USER too, and keep them.
        added = sorted(c for c in set(_existing_chains()) - before if c.split(":", 1)[1] in DOCKER_CHAINS)
        for table in ("filter", "nat"):
            ours = [c.split(":", 1)[1] for c in added if c.startswith(f"{table}:")]
            if not ours:
                continue
            # Delete every rule that jumps to one of our chains, then the chains.
            text = run(["iptables", "-t", table, "-S"], what="listing iptables rules", timeout=20)
            for line in text.splitlines():
                parts = line.split()
                if parts[:1] == ["-A"] and "-j" in parts and parts[parts.index("-j") + 1] in ours \
                        and parts[1] not in ours:
                    subprocess.run(["iptables", "-t", table, "-D", *parts[1:]], capture_output=True, timeout=20)
            for chain in ours:
                subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True, timeout=20)
            for chain in ours:
                subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True, timeout=20)
        policy = saved.get("forward_policy")
        if policy and policy != _forward_policy():
            subprocess.run(["iptables", "-P", "FORWARD", policy], capture_output=True, timeout=20)
        forward = saved.get("ip_forward")
        if forward is not None:
            _sysctl_path("net.ipv4.ip_forward").write_text(forward + "\n")
    ENGINE_STATE.unlink()
    return True


def _other_dockerd_running() -> bool:
    """Another dockerd in this network namespace (iptables and forwarding are per namespace)."""
    try:
        own_netns = os.readlink("/proc/self/ns/net")
    except OSError:
        own_netns = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            netns = os.readlink(entry / "ns" / "net")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"dockerd") and str(T.DOCKER_SOCKET).encode() not in b" ".join(cmdline) \
                and netns == own_netns:
            return True
    return False
