"""How `picacheck verify` grows with the number of hosts: N real SSH hosts on this machine,
each an sshd in a network namespace of its own with its own address on a bridge of its own,
checked with what applies to such a host (H1: its address and /etc/hosts, H10: resolvers,
H13: a documented mount, H14: sshd runs), for N = 4, 16, 40.

    python benchmarks/verify_scale.py                    # N = 4, 16, 40, with `-n auto`
    python benchmarks/verify_scale.py --hosts 4 40       # other sizes
    python benchmarks/verify_scale.py --workers 0        # one process, one check after another

Prints, per N: wall time, time per host, peak memory and peak open file descriptors of the
run (pytest and its workers, sampled), the checks' outcomes, and at the end the ratio of the
largest N to the smallest (goal: 40 hosts in at most twice the time of 4). No figure is
asserted anywhere.

The namespaces share this machine's files: /etc/hosts, /etc/resolv.conf and / are documented
as this machine has them, so the checks hold. Traffic goes only between this machine and
the namespaces it creates. Everything made here (namespaces with their veths, the bridge,
the sshd processes, the temporary folder) is removed at the end, also on Ctrl-C and SIGTERM;
what a run killed with -9 left is removed at the next start. Needs root.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from picacheck.facts.hosts import parse_etc_hosts  # noqa: E402
from picacheck.facts.mounts import parse_findmnt  # noqa: E402
from picacheck.facts.resolv import parse_resolv_conf  # noqa: E402
from picacheck.processes import stop_group  # noqa: E402

BRIDGE = "pcscale0"
NETNS_PREFIX = "pcscale-"
SUBNET = ipaddress.ip_network("172.30.70.0/24")
BRIDGE_ADDRESS = f"{SUBNET[1]}/{SUBNET.prefixlen}"
STATE = Path("/run/picacheck-scale")  # pid files of the sshd started, for the next start's clean-up
CHECKS = "public_addresses or etc_hosts or resolvers or documented_mounts or sshd_runs"
CLAIMS = ("H1", "H10", "H13", "H14")


def run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=60)


# --- the hosts ----------------------------------------------------------------------------------


@dataclass
class ScaleHost:
    name: str
    address: str
    sshd: subprocess.Popen


class Hosts:
    """N sshd, each in its namespace, on the bridge; `close()` removes them all."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.hosts: list[ScaleHost] = []
        for kind in ("host_key", "client_key"):
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / kind))
        shutil.copy(directory / "client_key.pub", directory / "authorized_keys")
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
        STATE.mkdir(exist_ok=True)
        run("ip", "link", "add", BRIDGE, "type", "bridge")
        run("ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE)
        run("ip", "link", "set", BRIDGE, "up")

    @property
    def key_file(self) -> Path:
        return self.directory / "client_key"

    def grow_to(self, count: int) -> list[ScaleHost]:
        while len(self.hosts) < count:
            self.hosts.append(self._add(len(self.hosts) + 1))
        for host in self.hosts[:count]:
            _wait_for_banner(host.address)
        return self.hosts[:count]

    def _add(self, number: int) -> ScaleHost:
        name, address = f"h{number:03d}", str(SUBNET[9 + number])
        netns, outside, inside = f"{NETNS_PREFIX}{number}", f"pcs{number}", f"pcs{number}n"
        run("ip", "netns", "add", netns)
        run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
        run("ip", "link", "set", outside, "master", BRIDGE, "up")
        run("ip", "link", "set", inside, "netns", netns)
        run("ip", "-n", netns, "addr", "add", f"{address}/{SUBNET.prefixlen}", "dev", inside)
        run("ip", "-n", netns, "link", "set", inside, "up")
        run("ip", "-n", netns, "link", "set", "lo", "up")
        config = self.directory / f"sshd_config.{name}"
        config.write_text(
            f"ListenAddress {address}\nPort 22\nHostKey {self.directory / 'host_key'}\n"
            f"AuthorizedKeysFile {self.directory / 'authorized_keys'}\nPidFile {self.directory / f'sshd.{name}.pid'}\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "UsePAM no\nStrictModes no\nMaxSessions 50\nMaxStartups 100\nLogLevel ERROR\n")
        # nsenter rather than `ip netns exec`, which would also mount a /sys of its own.
        process = subprocess.Popen(["nsenter", f"--net=/run/netns/{netns}", "/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
                                   stdout=subprocess.DEVNULL, stderr=open(self.directory / f"sshd.{name}.log", "wb"),
                                   start_new_session=True)
        (STATE / f"{name}.pid").write_text(f"{process.pid} {config}\n")
        return ScaleHost(name, address, process)

    def close(self) -> None:
        for host in self.hosts:
            _stop(host.sshd.pid)
        for host in self.hosts:
            try:
                host.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(host.sshd.pid, signal.SIGKILL)
            (STATE / f"{host.name}.pid").unlink(missing_ok=True)
        self.hosts.clear()
        remove_leftovers()


def _wait_for_banner(address: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((address, 22), timeout=2) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no sshd answered on {address}:22 within {timeout:.0f} s")


def _stop(pid: int) -> None:
    """The sshd started here and its sessions (its own process group)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def remove_leftovers() -> None:
    """What this benchmark made and a killed run left: its sshd, namespaces, veths, bridge
    and temporary folder."""
    for pid_file in STATE.glob("*.pid") if STATE.is_dir() else ():
        pid, _, config = pid_file.read_text().partition(" ")
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and config.strip() in cmdline.read_bytes().decode(errors="replace"):
            _stop(int(pid))
        pid_file.unlink()
    for line in run("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(NETNS_PREFIX):
            run("ip", "netns", "del", name, check=False)
    # A veth's outer end can outlive its namespace (or be made before the move): removed by name.
    for line in run("ip", "-br", "link", check=False).stdout.splitlines():
        link = line.split()[0].split("@")[0] if line.split() else ""
        if re.fullmatch(r"pcs[0-9]+n?", link):
            run("ip", "link", "del", link, check=False)
    run("ip", "link", "del", BRIDGE, check=False)
    folder = STATE / "folder"
    if folder.exists():
        shutil.rmtree(folder.read_text().strip(), ignore_errors=True)
        folder.unlink()


# --- the inventory --------------------------------------------------------------------------------


def documented_machine() -> dict:
    """What the namespaces see of this machine's files, as the inventory documents it."""
    etc_hosts = parse_etc_hosts(Path("/etc/hosts").read_text())
    names = {name: addresses[0] for name in ("localhost",) if (addresses := etc_hosts.addresses_for(name))}
    resolv = parse_resolv_conf(Path("/etc/resolv.conf").read_text())
    root = parse_findmnt(run("findmnt", "--json", "--bytes", "--output", "TARGET,SOURCE,FSTYPE,SIZE",
                             "--mountpoint", "/").stdout)[0]
    return {"etc_hosts": names, "nameservers": list(resolv.nameservers),
            "mount": {"path": "/", "filesystem": root.fstype, **({"size_gb": root.size_bytes / 1e9} if root.size_bytes else {})}}


def write_inventory(path: Path, hosts: list[ScaleHost], key_file: Path, machine: dict) -> None:
    inventory = {
        "environment": {"name": f"scale-{len(hosts)}", "kind": "lab",
                        "description": "benchmarks/verify_scale.py: sshd in network namespaces"},
        "hosts": {
            host.name: {
                "roles": ["hypervisor"],
                "ssh": {"address": host.address, "user": "root", "key_file": str(key_file),
                        "connect_timeout": 10, "command_timeout": 60},
                "public_ipv4": host.address,
                "mounts": [machine["mount"]],
                "network": {"nameservers": machine["nameservers"], "etc_hosts": machine["etc_hosts"]},
            }
            for host in hosts
        },
    }
    path.write_text(json.dumps(inventory, indent=1))  # JSON is YAML


# --- one measured run -------------------------------------------------------------------------------


@dataclass
class Figures:
    hosts: int
    seconds: float
    peak_rss_mb: float
    peak_fds: int
    exit_status: int
    verdicts: dict
    suite_cpu_s: float  # pytest and its workers
    hosts_cpu_s: float  # the sshd of the hosts and the commands they ran


class TreeSampler(threading.Thread):
    """Peak resident memory and open file descriptors of a process and its descendants."""

    def __init__(self, root_pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.peak_rss_kb, self.peak_fds = 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            pids = _tree(self.root_pid)
            self.peak_rss_kb = max(self.peak_rss_kb, sum(_rss_kb(pid) for pid in pids))
            self.peak_fds = max(self.peak_fds, sum(_fds(pid) for pid in pids))
            self._done.wait(self.interval)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _rss_kb(pid: int) -> int:
    try:
        line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("VmRSS:"))
        return int(line.split()[1])
    except (OSError, StopIteration, ValueError, IndexError):
        return 0


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and of its children it has waited for (utime stime cutime cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _stop_run(process: subprocess.Popen) -> None:
    """Ctrl-C for pytest and its workers (their own process group), then, if need be, SIGKILL."""
    stop_group(process, ((signal.SIGINT, 15), (signal.SIGKILL, 5)))


def verify(inventory: Path, report_dir: Path, workers: str, sshd_pids: list[int]) -> Figures:
    command = [sys.executable, "-m", "pytest", str(REPO / "tests" / "hosts"), f"--rootdir={REPO}",
               f"--inventory={inventory}", f"--report-dir={report_dir}", "-k", CHECKS, "-q",
               "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-n", workers]
    suite_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    hosts_before = sum(_cpu_seconds(pid) for pid in sshd_pids)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    sampler = TreeSampler(process.pid)
    sampler.start()
    try:
        output, _ = process.communicate(timeout=1800)
    except BaseException:  # Ctrl-C, SIGTERM, the timeout: the run and its workers stop too
        _stop_run(process)
        raise
    seconds = time.monotonic() - started
    sampler.stop()
    suite_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    suite_cpu = (suite_after.ru_utime + suite_after.ru_stime) - (suite_before.ru_utime + suite_before.ru_stime)
    time.sleep(1)  # the hosts' sshd reap their closed sessions (whose CPU time they then count)
    hosts_cpu = sum(_cpu_seconds(pid) for pid in sshd_pids) - hosts_before
    summary = json.loads((report_dir / "summary.json").read_text()) if (report_dir / "summary.json").exists() else {}
    verdicts = {row["id"]: row["status"] for row in summary.get("claims", []) if row["id"] in CLAIMS}
    if process.returncode not in (0, 1) or not verdicts:
        print(output[-3000:], file=sys.stderr)
    hosts = len(json.loads(inventory.read_text())["hosts"])
    return Figures(hosts, seconds, sampler.peak_rss_kb / 1024, sampler.peak_fds, process.returncode, verdicts,
                   suite_cpu, hosts_cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[4, 16, 40], help="the sizes N to run (default: 4 16 40)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist's -n (default: auto; 0: one process)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("verify_scale.py: needs root (network namespaces, a bridge)", file=sys.stderr)
        return 2
    if max(args.hosts) > SUBNET.num_addresses - 12 or min(args.hosts) < 1:
        print(f"verify_scale.py: --hosts: between 1 and {SUBNET.num_addresses - 12}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupted)
    remove_leftovers()
    directory = Path(tempfile.mkdtemp(prefix="picacheck-scale-"))
    STATE.mkdir(exist_ok=True)
    (STATE / "folder").write_text(str(directory))
    hosts = None
    results: list[Figures] = []
    try:
        hosts = Hosts(directory)
        machine = documented_machine()
        print(f"{'hosts':>5} {'wall s':>8} {'s/host':>7} {'peak MB':>8} {'peak fds':>8} {'suite cpu s':>11} "
              f"{'hosts cpu s':>11}  exit  claims")
        for count in args.hosts:
            inventory = directory / f"inventory-{count}.yml"
            write_inventory(inventory, hosts.grow_to(count), hosts.key_file, machine)
            sshd_pids = [host.sshd.pid for host in hosts.hosts[:count]]
            figures = verify(inventory, directory / f"report-{count}", args.workers, sshd_pids)
            results.append(figures)
            claims = " ".join(f"{claim}: {status}" for claim, status in figures.verdicts.items())
            print(f"{figures.hosts:>5} {figures.seconds:>8.1f} {figures.seconds / figures.hosts:>7.2f} "
                  f"{figures.peak_rss_mb:>8.0f} {figures.peak_fds:>8} {figures.suite_cpu_s:>11.1f} "
                  f"{figures.hosts_cpu_s:>11.1f}  {figures.exit_status:>4}  {claims}", flush=True)
        if len(results) > 1:
            small, large = min(results, key=lambda f: f.hosts), max(results, key=lambda f: f.hosts)
            print(f"ratio {large.hosts}/{small.hosts} hosts: {large.seconds / small.seconds:.2f} "
                  f"(goal: at most 2 for 40/4); this machine has {os.cpu_count()} CPUs for the suite and every host")
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        for name in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C does not stop the clean-up
            signal.signal(name, signal.SIG_IGN)
        if hosts is not None:
            hosts.close()
        remove_leftovers()
        shutil.rmtree(directory, ignore_errors=True)
    return 0


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM as Ctrl-C: the same clean-up


if __name__ == "__main__":
    sys.exit(main())
