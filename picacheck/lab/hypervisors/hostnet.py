"""The host side of the hypervisors' networks: bridges, one tap per machine NIC, and a
guard so that nothing the hypervisors send is routed anywhere but the lab's own subnets.

- public bridge (topology.BRIDGE_NAME): normally Docker's `picalab` network; made here
  (with the gateway address) only when absent, and then removed by down() if empty.
- cluster bridge `picalab2`: host-only, no address on the host, made and removed here.
- vmbr1 uplink (topology.PRIVATE_BRIDGE_NAME): host-only, no address on the host: alice's
  vmbr1 port and the admin VM (Docker's network `picalab-vmbr1` adopts it).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.lab.hypervisors import plan


def _run(cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise UserError(f"lab hypervisors: `{' '.join(cmd)}` failed", hint=result.stderr.strip())
    return result


def link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def is_bridge(name: str) -> bool:
    return Path("/sys/class/net", name, "bridge").is_dir()


def bridge_ports(name: str) -> list[str]:
    try:
        return sorted(os.listdir(Path("/sys/class/net", name, "brif")))
    except FileNotFoundError:
        return []


def master_of(name: str) -> str | None:
    link = Path("/sys/class/net", name, "master")
    return os.path.basename(os.readlink(link)) if link.is_symlink() else None


def _created() -> set[str]:
    try:
        return set(plan.CREATED_BRIDGES_FILE.read_text().split())
    except FileNotFoundError:
        return set()


def _remember_created(name: str) -> None:
    plan.CREATED_BRIDGES_FILE.parent.mkdir(parents=True, exist_ok=True)
    plan.CREATED_BRIDGES_FILE.write_text("\n".join(sorted(_created() | {name})) + "\n")


def ensure_bridge(name: str, address: str | None) -> None:
    """A Linux bridge `name`, up; made (with `address` on the host, if any) when absent."""
    if link_exists(name):
        if not is_bridge(name):
            raise UserError(f"lab hypervisors: {name} exists but is not a bridge")
        _run(["ip", "link", "set", name, "up"])
        return
    _run(["ip", "link", "add", name, "type", "bridge"])
    _remember_created(name)
    if address:
        _run(["ip", "addr", "add", address, "dev", name])
    _run(["ip", "link", "set", name, "up"])


def ensure_public_bridge() -> None:
    prefix = ipaddress.ip_network(T.SUBNET).prefixlen
    ensure_bridge(plan.PUBLIC_BRIDGE, f"{T.GATEWAY}/{prefix}")


def ensure_cluster_bridge() -> None:
    ensure_bridge(plan.CLUSTER_BRIDGE, None)


def ensure_tap(tap: str, bridge: str | None) -> None:
    """A tap for one UML NIC, up, in `bridge` when that bridge exists."""
    if not link_exists(tap):
        _run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"])
    if bridge and is_bridge(bridge) and master_of(tap) != bridge:
        _run(["ip", "link", "set", tap, "master", bridge])
    _run(["ip", "link", "set", tap, "up"])


def remove_tap(tap: str) -> None:
    if link_exists(tap):
        _run(["ip", "link", "del", tap], check=False)


def _docker_uses(name: str) -> bool:
    """Whether Docker has taken the bridge over (its network rules name it)."""
    rules = _run(["iptables", "-S"], check=False).stdout + _run(["iptables", "-t", "nat", "-S"], check=False).stdout
    return any(f"-o {name} -j DOCKER" in line or f"-i {name} -j RETURN" in line for line in rules.splitlines())


def remove_created_bridges() -> list[str]:
    """Bridges this module made and that nothing else uses any more (no port, not Docker's)."""
    removed = []
    for name in sorted(_created()):
        if link_exists(name) and not bridge_ports(name) and not _docker_uses(name):
            _run(["ip", "link", "del", name], check=False)
        if not link_exists(name):
            removed.append(name)
    left = _created() - set(removed)
    if left:
        plan.CREATED_BRIDGES_FILE.write_text("\n".join(sorted(left)) + "\n")
    else:
        plan.CREATED_BRIDGES_FILE.unlink(missing_ok=True)
    return removed


# --- the guard (host iptables) -----------------------------------------------------------

def _guard_rules() -> list[list[str]]:
    pub, clu = plan.PUBLIC_BRIDGE, plan.CLUSTER_BRIDGE
    rules = [
        # alice <-> bob on the cluster network (bridged frames pass FORWARD with br_netfilter)
        ["-i", clu, "-o", clu, "-j", "ACCEPT"],
        ["-i", clu, "-j", "DROP"],
        ["-o", clu, "-j", "DROP"],
        # the /32 hosts reach each other through the gateway (hairpin on the lab bridge)
        ["-i", pub, "-o", pub, "-j", "ACCEPT"],
        # alice's vmbr1 port and the admin VM on the private bridge (bridged frames)
        ["-i", plan.VMBR1_UPLINK_BRIDGE, "-o", plan.VMBR1_UPLINK_BRIDGE, "-j", "ACCEPT"],
    ]
    for m in plan.MACHINES.values():
        for subnet in plan.LAB_SUBNETS:
            rules.append(["-s", f"{m.public_address}/32", "-d", subnet, "-j", "RETURN"])
        rules.append(["-s", f"{m.public_address}/32", "-j", "DROP"])  # never beyond the lab
    return rules


def _nat_guard_rules() -> list[list[str]]:
    # With br_netfilter the host's nat table sees frames bridged between alice's vmbr1
    # port and the admin VM; Docker's `-s <lab subnet> ! -o picalab0 -j MASQUERADE` would
    # rewrite their source (alice's DNAT then never sees the replies). No NAT there.
    return [["-o", plan.VMBR1_UPLINK_BRIDGE, "-j", "ACCEPT"], ["-o", plan.CLUSTER_BRIDGE, "-j", "ACCEPT"]]


def _jumps() -> list[str]:
    parents = ["FORWARD"]
    if _run(["iptables", "-n", "-L", "DOCKER-USER"], check=False).returncode == 0:
        parents.append("DOCKER-USER")
    return parents


def ensure_guard() -> None:
    chain = plan.GUARD_CHAIN
    if _run(["iptables", "-n", "-L", chain], check=False).returncode != 0:
        _run(["iptables", "-N", chain])
    _run(["iptables", "-F", chain])
    for rule in _guard_rules():
        _run(["iptables", "-A", chain, *rule])
    for parent in _jumps():
        # exactly one jump, first in the chain
        while _run(["iptables", "-D", parent, "-j", chain], check=False).returncode == 0:
            pass
        _run(["iptables", "-I", parent, "1", "-j", chain])
    nat = ["iptables", "-t", "nat"]
    if _run([*nat, "-n", "-L", chain], check=False).returncode != 0:
        _run([*nat, "-N", chain])
    _run([*nat, "-F", chain])
    for rule in _nat_guard_rules():
        _run([*nat, "-A", chain, *rule])
    while _run([*nat, "-D", "POSTROUTING", "-j", chain], check=False).returncode == 0:
        pass
    _run([*nat, "-I", "POSTROUTING", "1", "-j", chain])


def remove_guard() -> None:
    chain = plan.GUARD_CHAIN
    for table, parents in (("filter", ("FORWARD", "DOCKER-USER")), ("nat", ("POSTROUTING",))):
        ipt = ["iptables", "-t", table]
        for parent in parents:
            while _run([*ipt, "-D", parent, "-j", chain], check=False).returncode == 0:
                pass
        _run([*ipt, "-F", chain], check=False)
        _run([*ipt, "-X", chain], check=False)


def guard_present() -> bool:
    return any(_run(["iptables", "-t", table, "-n", "-L", plan.GUARD_CHAIN], check=False).returncode == 0
               for table in ("filter", "nat"))
