"""Network faults on a host, over SSH: cut it from named peers with iptables, and mend it.

The cut drops every packet between the host and the peers' addresses (INPUT and OUTPUT,
inserted first so that established connections die too), tagged with a comment so that
mending removes exactly these rules. The host also gets a timer that mends the cut by
itself after `expire_after` seconds: a partition never outlives a crashed runner.
"""

from __future__ import annotations

import ipaddress
import shlex

from picacheck.errors import UserError
from picacheck.inventory import Inventory
from picacheck.probes.remote import HostPool

TAG = "picacheck-partition"
TIMER = f"{TAG}-timer"  # marks the self-mending timer's shell, so that mending stops it
_MEND = (f"iptables-save | grep -- '--comment {TAG}' | sed 's/^-A /-D /' "
         f"| while read -r rule; do iptables $rule; done")
# The bracket keeps pkill from matching the shell that runs this very command.
_STOP_TIMER = f"pkill -f '{TIMER[:-1]}[{TIMER[-1]}]' || true"


def peer_addresses(inventory: Inventory, hosts: HostPool, host: str, peers: list[str]) -> list[str]:
    """Every IPv4 address by which `host` may reach the peers: what their names resolve to
    on `host` (gluster and Swarm use names) and the addresses the inventory gives them."""
    addresses: set[str] = set()
    for peer in peers:
        documented = inventory.hosts[peer]
        for address in (documented.ssh.address, documented.private_address, documented.public_ipv4):
            if address and _is_ipv4(address):
                addresses.add(address)
        resolved = hosts[host].run(f"getent ahostsv4 {shlex.quote(peer)}", timeout=10)
        addresses.update(line.split()[0] for line in resolved.stdout.splitlines() if line.strip())
    own = inventory.hosts[host].ssh.address
    return sorted(a for a in addresses if a != own and not ipaddress.ip_address(a).is_loopback)


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def check_cuttable(inventory: Inventory, host: str, peers: list[str]) -> None:
    """Cutting a host from the peer we reach it through would cut our own control."""
    jump = inventory.hosts[host].ssh.jump
    if jump in peers:
        raise UserError(f"{host} is reached through {jump} (ssh.jump): cutting it from {jump} would cut the suite off")


def cut_script(addresses: list[str], expire_after: int) -> str:
    """A shell script that cuts the host from the addresses (in the foreground: its exit
    status says whether every rule went in) and leaves a detached timer that mends the cut
    after `expire_after` s. The timer is backgrounded alone, in braces, with its output
    away from the SSH channel: backgrounding the whole `a && b &` list would keep the
    channel open until the timer ends."""
    rules = []
    for address in addresses:
        rules.append(f"iptables -I INPUT -s {address} -m comment --comment {TAG} -j DROP")
        rules.append(f"iptables -I OUTPUT -d {address} -m comment --comment {TAG} -j DROP")
    timer = f": {TIMER}; sleep {int(expire_after)}; {_MEND}"
    detached = f"{{ setsid nohup sh -c {shlex.quote(timer)} >/dev/null 2>&1 < /dev/null & }}"
    return " && ".join([*rules, detached])


def cut(hosts: HostPool, host: str, addresses: list[str], expire_after: int) -> None:
    if not addresses:
        raise UserError(f"no address to cut {host} from")
    hosts[host].run(f"{_STOP_TIMER}", timeout=20)  # an older cut's timer would mend this one early
    hosts[host].check_output(cut_script(addresses, expire_after), timeout=20)


def mend(hosts: HostPool, host: str) -> None:
    """Remove the cut's rules (all of them, whoever added them) and check none is left."""
    hosts[host].run(f"{_STOP_TIMER}; {_MEND}", timeout=20)
    left = hosts[host].run(f"iptables-save | grep -c -- '--comment {TAG}'", timeout=20).stdout.strip()
    if left not in ("", "0"):
        raise AssertionError(f"{host}: {left} partition rules left after mending")


def rules_in_place(hosts: HostPool, host: str) -> int:
    result = hosts[host].run(f"iptables-save | grep -c -- '--comment {TAG}'", timeout=10)
    return int(result.stdout.strip() or 0)
