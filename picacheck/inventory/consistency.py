"""The rules that tie the parts of an inventory together.

A name that refers to another part (a host, a database, a Swarm network, a claim) must
name one that exists, with the role it needs; names that identify something (services,
domains, databases, volumes, corosync nodes, VM ids) must not be used twice. Each problem
is one message that starts with its key, e.g. ``monitoring.host: no host named 'monitorin'``.

Why it matters: a check or an experiment acts on the host a name points to, with root
keys. A name that points nowhere crashes it later (KeyError in `load`), and one that
points at the wrong kind of host (a `hypervisor` that is a VM) sends it to the wrong
machine.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Iterable

from picacheck.claims import claim_ids
from picacheck.inventory.values import shown

if TYPE_CHECKING:
    from picacheck.inventory.model import GlusterVolume, Host, Inventory


def problems(inventory: Inventory) -> list[str]:
    """Every broken reference and every name used twice, in file order of the sections."""
    rules = _Rules(inventory)
    for name, host in inventory.hosts.items():
        rules.host(name, host)
    rules.jump_cycles()
    rules.vm_ids()
    rules.cluster()
    rules.services()
    rules.backups()
    rules.claims()
    return rules.problems


class _Rules:
    def __init__(self, inventory: Inventory):
        self.inventory = inventory
        self.problems: list[str] = []

    # --- what every rule uses -------------------------------------------------------

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    def refer(self, name: str | None, where: str, role: str | None = None) -> None:
        """`name` (when given) is a host of the inventory, with `role` when one is needed."""
        if name is None:
            return
        host = self.inventory.hosts.get(name)
        if host is None:
            self.problem(where, f"no host named {shown(name)} in hosts")
        elif role and role not in host.roles:
            self.problem(where, f"{name} does not have the role {role} (its roles: {', '.join(host.roles) or 'none'})")

    def refer_all(self, names: Iterable[str], where: str, role: str | None = None) -> None:
        """A list of host names: each a host, none twice."""
        names = list(names)
        for i, name in enumerate(names):
            self.refer(name, f"{where}.{i}", role)
        self.unique(names, where)

    def unique(self, values: Iterable, where: str, field: str = "") -> None:
        """No value twice in the list at `where` (`field`: the key of each entry, ".name")."""
        first: dict = {}
        for i, value in enumerate(values):
            if value in first:
                self.problem(f"{where}.{i}{field}", f"{shown(value)} is already {where}.{first[value]}{field}")
            else:
                first[value] = i

    # --- hosts ------------------------------------------------------------------------

    def host(self, name: str, host: Host) -> None:
        where = f"hosts.{name}"
        if host.ssh.jump == name:
            self.problem(f"{where}.ssh.jump", "a host cannot be its own jump host")
        else:
            self.refer(host.ssh.jump, f"{where}.ssh.jump")
        if host.hypervisor == name:
            self.problem(f"{where}.hypervisor", "a host cannot run on itself")
        else:
            self.refer(host.hypervisor, f"{where}.hypervisor", role="hypervisor")
        if host.vmid is not None and host.hypervisor is None:
            self.problem(f"{where}.vmid", "a VM id needs the hypervisor the VM runs on (hypervisor: …)")
        self.unique((array.name for array in host.raid), f"{where}.raid", ".name")
        self.unique((group.name for group in host.volume_groups), f"{where}.volume_groups", ".name")
        groups = {group.name for group in host.volume_groups}
        for i, array in enumerate(host.raid):
            if array.lvm_vg is not None and array.lvm_vg not in groups:
                self.problem(f"{where}.raid.{i}.lvm_vg",
                             f"no volume group named {shown(array.lvm_vg)} in volume_groups")
        for i, group in enumerate(host.volume_groups):
            self.unique((lv.name for lv in group.lvs), f"{where}.volume_groups.{i}.lvs", ".name")
        self.unique((mount.path for mount in host.mounts), f"{where}.mounts", ".path")
        if host.network:
            for key, route, version in (("gateway4", host.network.gateway4, 4), ("gateway6", host.network.gateway6, 6)):
                if route and ipaddress.ip_address(route.via).version != version:
                    self.problem(f"{where}.network.{key}.via", f"not an IPv{version} address: {shown(route.via)}")

    def jump_cycles(self) -> None:
        """ssh would loop for ever: alice jumps through bob, which jumps through alice."""
        hosts, reported = self.inventory.hosts, set()
        for name in hosts:
            chain, current = [name], hosts[name].ssh.jump
            while current in hosts and current not in chain:
                chain.append(current)
                current = hosts[current].ssh.jump
            if current == name and len(chain) > 1 and name not in reported:  # its own jump host: see host()
                self.problem(f"hosts.{name}.ssh.jump", f"the jump hosts loop: {' -> '.join(chain + [name])}")
                reported.update(chain)

    def vm_ids(self) -> None:
        """One VM id per VM; Proxmox keeps them cluster-wide (/etc/pve is shared by the nodes)."""
        corosync_nodes = {node.name for node in self.inventory.corosync.nodes} if self.inventory.corosync else set()
        owners: dict = {}
        for name, host in self.inventory.hosts.items():
            if host.vmid is None or host.hypervisor is None:
                continue
            scope = "the cluster" if host.hypervisor in corosync_nodes else host.hypervisor
            other = owners.setdefault((scope, host.vmid), name)
            if other != name:
                self.problem(f"hosts.{name}.vmid", f"{host.vmid} is already the id of {other} on {scope}")

    # --- cluster ----------------------------------------------------------------------

    def cluster(self) -> None:
        corosync, gluster, swarm = self.inventory.corosync, self.inventory.gluster, self.inventory.swarm
        if corosync:
            self.refer_all((node.name for node in corosync.nodes), "corosync.nodes", role="hypervisor")
            self.unique((node.nodeid for node in corosync.nodes), "corosync.nodes", ".nodeid")
            if corosync.two_node and len(corosync.nodes) != 2:
                self.problem("corosync.two_node", f"two_node needs exactly 2 nodes, there are {len(corosync.nodes)}")
        if gluster:
            self.refer_all(gluster.peers, "gluster.peers")
            self.unique((volume.name for volume in gluster.volumes), "gluster.volumes", ".name")
            for i, volume in enumerate(gluster.volumes):
                self.volume(f"gluster.volumes.{i}", volume, gluster.peers)
        if swarm:
            self.refer_all(swarm.managers, "swarm.managers")
            self.refer_all(swarm.workers, "swarm.workers")
            for i, worker in enumerate(swarm.workers):
                if worker in swarm.managers:
                    self.problem(f"swarm.workers.{i}", f"{worker} is already a manager")
            self.unique((network.name for network in swarm.networks), "swarm.networks", ".name")
        traefik = self.inventory.traefik
        if traefik and swarm and swarm.networks and traefik.network not in {n.name for n in swarm.networks}:
            self.problem("traefik.network", f"no network named {shown(traefik.network)} in swarm.networks")

    def volume(self, where: str, volume: GlusterVolume, peers: tuple[str, ...]) -> None:
        self.unique(volume.bricks, f"{where}.bricks")
        for j, (host, _) in enumerate(volume.brick_places):
            self.refer(host, f"{where}.bricks.{j}")
            if host in self.inventory.hosts and host not in peers:
                self.problem(f"{where}.bricks.{j}", f"{host} is not one of gluster.peers")
        if len(volume.bricks) % volume.replica:
            self.problem(f"{where}.bricks",
                         f"{len(volume.bricks)} bricks is not a multiple of replica {volume.replica}")
        if volume.mount:
            self.refer_all(volume.mount.hosts, f"{where}.mount.hosts")

    # --- services ---------------------------------------------------------------------

    def services(self) -> None:
        inventory = self.inventory
        self.unique((service.name for service in inventory.services), "services", ".name")
        self.unique((service.domain.lower() for service in inventory.services), "services", ".domain")
        self.unique((database.name for database in inventory.databases), "databases", ".name")
        databases = {database.name for database in inventory.databases}
        for i, service in enumerate(inventory.services):
            if service.database is not None and service.database not in databases:
                self.problem(f"services.{i}.database", f"no database named {shown(service.database)} in databases")
        self.refer_all(inventory.dns.round_robin_hosts, "dns.round_robin_hosts")
        if inventory.registry:
            self.refer(inventory.registry.host, "registry.host")
            self.refer(inventory.registry.forwarded_by, "registry.forwarded_by", role="hypervisor")
        if inventory.monitoring:
            self.refer(inventory.monitoring.host, "monitoring.host")
            self.refer_all(inventory.monitoring.shippers, "monitoring.shippers")

    # --- backups ----------------------------------------------------------------------

    def backups(self) -> None:
        backups = self.inventory.backups
        databases = {database.name for database in self.inventory.databases}
        for i, dump in enumerate(backups.dumps):
            self.refer(dump.host, f"backups.dumps.{i}.host")
            if dump.database not in databases:
                self.problem(f"backups.dumps.{i}.database", f"no database named {shown(dump.database)} in databases")
        if backups.vzdump:
            self.refer_all(backups.vzdump.hosts, "backups.vzdump.hosts", role="hypervisor")
        for i, mirror in enumerate(backups.rsync):
            self.refer(mirror.host, f"backups.rsync.{i}.host")
            if mirror.source_host == mirror.host:
                self.problem(f"backups.rsync.{i}.source_host", "a host cannot pull its own archives")
            else:
                self.refer(mirror.source_host, f"backups.rsync.{i}.source_host")

    # --- claims -----------------------------------------------------------------------

    def claims(self) -> None:
        known = claim_ids()
        for claim in self.inventory.not_applicable:
            if claim not in known:
                self.problem(f"not_applicable.{claim}", "no claim with this ID in picacheck/claims.yml")
        for name, host in self.inventory.hosts.items():
            for i, array in enumerate(host.raid):
                if array.claim is not None and array.claim not in known:
                    self.problem(f"hosts.{name}.raid.{i}.claim",
                                 f"no claim {shown(array.claim)} in picacheck/claims.yml")
