"""How long `picacheck lab up` takes: cold (from nothing: debootstrap, image builds,
containers, GlusterFS, registry, Swarm, images) and warm (a second `up` on a running lab,
which must change nothing), then `down`.

    python benchmarks/lab_up.py              # on this host's lab: down, up, up, down
    python benchmarks/lab_up.py --keep       # ... and leave the lab up at the end
    python benchmarks/lab_up.py --isolated   # in a throwaway network namespace and
                                             # directories: a running lab (or the
                                             # hypervisors part) is not disturbed

--isolated gives the namespace one veth to the host, masqueraded, so that debootstrap and
apt reach Debian's mirror as they do from the host; the veth, the NAT rules, the namespace
and the directories are removed at the end. Needs root (as the lab does).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

NETNS = "picalab-bench"
VETH_HOST, VETH_NS = "pcbench0", "pcbench1"
LINK_NET, HOST_ADDR, NS_ADDR = "172.30.45.0/30", "172.30.45.1/30", "172.30.45.2/30"
BENCH_LAB_DIR, BENCH_RUN_DIR = "/var/lib/picacheck-lab-bench", "/run/picacheck-lab-bench"
# nsenter, not `ip netns exec`: the latter mounts a fresh /sys without the cgroup
# hierarchies that dockerd needs.
IN_NETNS = ["nsenter", f"--net=/run/netns/{NETNS}"]
NAT_RULES = [
    ["-t", "nat", "POSTROUTING", "-s", LINK_NET, "-j", "MASQUERADE"],
    ["FORWARD", "-s", LINK_NET, "-j", "ACCEPT"],
    ["FORWARD", "-d", LINK_NET, "-j", "ACCEPT"],
]


def measure(keep: bool) -> dict:
    from picacheck.lab import manage

    results = {}
    started = time.monotonic()
    manage.down()
    results["down_before_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    changed = manage.up()
    results["cold_up_s"] = round(time.monotonic() - started, 1)
    results["cold_changed"] = len(changed)
    started = time.monotonic()
    changed = manage.up()
    results["warm_up_s"] = round(time.monotonic() - started, 1)
    results["warm_changed"] = changed
    if not keep:
        started = time.monotonic()
        manage.down()
        results["down_s"] = round(time.monotonic() - started, 1)
    return results


def _sh(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def _iptables(rule: list[str], action: str) -> subprocess.CompletedProcess:
    if rule[0] == "-t":
        return _sh(["iptables", rule[0], rule[1], action, *rule[2:]], check=False)
    return _sh(["iptables", action, *rule], check=False)


def isolated_setup() -> None:
    isolated_teardown()
    _sh(["ip", "netns", "add", NETNS])
    _sh(["ip", "link", "add", VETH_HOST, "type", "veth", "peer", "name", VETH_NS])
    _sh(["ip", "link", "set", VETH_NS, "netns", NETNS])
    _sh(["ip", "addr", "add", HOST_ADDR, "dev", VETH_HOST])
    _sh(["ip", "link", "set", VETH_HOST, "up"])
    inside = ["ip", "netns", "exec", NETNS]
    _sh(inside + ["ip", "link", "set", "lo", "up"])
    _sh(inside + ["ip", "addr", "add", NS_ADDR, "dev", VETH_NS])
    _sh(inside + ["ip", "link", "set", VETH_NS, "up"])
    _sh(inside + ["ip", "route", "add", "default", "via", HOST_ADDR.split("/")[0]])
    for rule in NAT_RULES:
        _iptables(rule, "-I" if rule[0] == "FORWARD" else "-A")
    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")


def isolated_teardown() -> None:
    for rule in NAT_RULES:
        while _iptables(rule, "-D").returncode == 0:
            pass
    _sh(["ip", "link", "del", VETH_HOST], check=False)
    _sh(["ip", "netns", "del", NETNS], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isolated", action="store_true", help="run in a throwaway network namespace")
    parser.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/lab_up.py: run as root (the lab starts dockerd, attaches loop devices)", file=sys.stderr)
        return 2
    if args.isolated and not args.inner:
        isolated_setup()
        try:
            env = dict(os.environ, PICACHECK_LAB_DIR=BENCH_LAB_DIR, PICACHECK_LAB_RUN_DIR=BENCH_RUN_DIR)
            done = subprocess.run([*IN_NETNS, sys.executable, __file__, "--inner"], env=env)
            if done.returncode != 0:
                # Whatever happened, leave nothing behind.
                subprocess.run([*IN_NETNS, sys.executable, "-c",
                                "from picacheck.lab import manage; manage.down()"], env=env, cwd=REPO)
            return done.returncode
        finally:
            isolated_teardown()
    results = measure(keep=args.keep and not args.inner)
    results["cores"] = os.cpu_count()
    results["isolated"] = args.inner
    print(f"lab up, cold (from nothing): {results['cold_up_s']:7.1f} s  ({results['cold_changed']} steps changed)")
    print(f"lab up, warm (already up):   {results['warm_up_s']:7.1f} s  "
          f"(changed: {', '.join(results['warm_changed']) or 'nothing'})")
    if "down_s" in results:
        print(f"lab down:                    {results['down_s']:7.1f} s")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
