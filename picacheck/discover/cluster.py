"""The clusters as the inventory documents them: corosync (C1–C3), GlusterFS (C4–C8) and
Docker Swarm (C10, C11). `describe_*` are pure; `read_*` ask one member of each cluster.

Members are written under their inventory names: a name the cluster uses (a gluster peer's
hostname, a Swarm node's hostname) that is no host of the inventory, nor an address of one,
is left out and said in a comment, as the inventory cannot name what it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.discover import probes as more
from picacheck.discover.tree import Noted, Unknown
from picacheck.facts.corosync import CorosyncConf, QuorumStatus
from picacheck.facts.fstab import Fstab
from picacheck.facts.gluster import GlusterVolume, PeerStatus, parse_volume_info
from picacheck.facts.mounts import MountedFilesystem
from picacheck.facts.systemd import UnitFile
from picacheck.probes import cluster, system
from picacheck.probes.cluster import SwarmMember
from picacheck.probes.remote import RemoteHost

COROSYNC_CONFS = ("/etc/corosync/corosync.conf", "/etc/pve/corosync.conf")
GLUSTER_TIMEOUT_S = 30  # gluster hangs when its peers are partitioned: killed on the host after this
SWARM_DEFAULT_NETWORKS = {"ingress"}  # made by Docker itself with every swarm


class Names:
    """Inventory host names from what a cluster calls its members (a hostname, an address)."""

    def __init__(self, known: dict[str, set[str]]):
        self.known = known  # host → the names and addresses it is known by

    def of(self, seen: str) -> str | None:
        short = seen.split(".", 1)[0]
        for name, aliases in self.known.items():
            if seen in aliases or seen == name or short == name:
                return name
        return None

    def members(self, seen: list[str]) -> tuple[list[str], list[str]]:
        """(inventory names in the inventory's order, each once; those not known)."""
        found = {self.of(member) for member in seen} - {None}
        return [name for name in self.known if name in found], [member for member in seen if self.of(member) is None]


def _listed(names: list[str], unknown: list[str], what: str = "not a host of the inventory"):
    return Noted(names, f"{what}: {', '.join(unknown)}") if unknown else names


# --- corosync ------------------------------------------------------------------------------


def describe_corosync(conf: CorosyncConf, conf_path: str, quorum: QuorumStatus | None, unit: UnitFile | None,
                      names: Names) -> dict:
    nodes, unknown = [], []
    for node in conf.nodes:
        name = names.of(node.name or "")
        if name and node.nodeid:
            nodes.append({"name": name, "nodeid": node.nodeid})
        else:
            unknown.append(node.name or f"node {node.nodeid}")
    found: dict = {"cluster_name": conf.cluster_name or Noted("FILL-IN", "corosync.conf sets no cluster_name"),
                   "nodes": _listed(nodes, unknown), "two_node": conf.two_node, "authenticated": conf.authenticated}
    if quorum is not None and quorum.expected_votes is not None:
        found["expected_votes"] = quorum.expected_votes
    else:
        votes = sum(node.quorum_votes or 1 for node in conf.nodes)
        found["expected_votes"] = Noted(votes, "from corosync.conf: the quorum status could not be read")
    flags = list(quorum.flags) if quorum is not None and quorum.flags is not None else []
    found["flags"] = flags if quorum is not None and quorum.flags is not None else Noted(flags, "the quorum status shows no flags")
    found["conf_path"] = conf_path
    for key, setting in (("unit_restart", "Restart"), ("unit_restart_sec", "RestartSec")):
        entry = unit.entry("Service", setting) if unit else None
        if entry is not None and entry.value_is_clean:
            found[key] = entry.value
        elif entry is not None:
            found[key] = Unknown(f"systemd rejects {setting}={entry.value!r} (the comment is part of the value) "
                                 "and keeps its default", entry.intended_value, known=True)
    return found


def read_corosync(host: RemoteHost, names: Names) -> dict:
    """{}: the host has no corosync.conf."""
    path = next((p for p in COROSYNC_CONFS if system.file_text(host, p) is not None), None)
    if path is None:
        return {}
    return describe_corosync(cluster.corosync_conf(host, path), path, cluster.quorum_status(host),
                             cluster.corosync_unit(host), names)


# --- GlusterFS -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GlusterFacts:
    asked: str  # the peer that answered (inventory name)
    peers: PeerStatus
    volumes: tuple[GlusterVolume, ...]
    brick_mounts: dict[str, MountedFilesystem | None]  # "host:/path" → what is mounted on the brick path
    mounts: dict[str, tuple[MountedFilesystem, ...]]  # peer → its glusterfs mounts
    fstabs: dict[str, Fstab]  # peer → its fstab


def _brick_filesystem(volume: GlusterVolume, bricks: list[str], facts: GlusterFacts):
    found = [facts.brick_mounts.get(brick) for brick in bricks]
    if not found or any(mount is None for mount in found):
        return None
    first = found[0]
    entry = {"filesystem": first.fstype, "mountpoint": first.path}
    if all(mount.source == first.source for mount in found):
        entry = {"device": first.source, **entry}
    return entry


def _volume_mount(volume: GlusterVolume, facts: GlusterFacts) -> dict | None:
    where: dict[str, list[str]] = {}
    for peer, mounts in facts.mounts.items():
        for mount in mounts:
            if mount.source.rstrip("/").endswith((f":/{volume.name}", f":{volume.name}")):
                where.setdefault(mount.path, []).append(peer)
    if not where:
        return None
    path, hosts = next(iter(where.items()))
    entry = facts.fstabs.get(hosts[0])
    options = [o for o in (entry.at(path).mntops if entry and entry.at(path) else ()) if o != "defaults"]
    return {"path": path, "hosts": hosts, "fstab_options": options}


def describe_gluster(facts: GlusterFacts, names: Names) -> dict:
    peers, unknown = names.members([facts.asked] + [peer.hostname for peer in facts.peers.peers])
    volumes = []
    for volume in facts.volumes:
        bricks, strangers = [], []
        for brick in volume.bricks:
            host = names.of(brick.host or "")
            (bricks if host else strangers).append(f"{host}:{brick.path}" if host else brick.name)
        entry: dict = {"name": volume.name, "type": volume.type}
        if volume.replica_count:
            entry["replica"] = volume.replica_count
        entry["bricks"] = _listed(bricks, strangers)
        allowed = volume.options.get("auth.allow", "")
        entry["auth_allow_required"] = Noted(bool(allowed) and allowed != "*", f"auth.allow: {allowed or 'unset'}")
        filesystem = _brick_filesystem(volume, bricks, facts)
        if filesystem:
            entry["brick_filesystem"] = filesystem
        mount = _volume_mount(volume, facts)
        if mount:
            entry["mount"] = mount
        volumes.append(entry)
    return {"peers": _listed(peers, unknown), "volumes": volumes}


def read_gluster(hosts: dict[str, RemoteHost], names: Names) -> dict:
    """`hosts`: the reachable gluster peers (inventory name → host); the first one is asked."""
    asked, first = next(iter(hosts.items()))
    volumes = first.parsed(f"timeout -s KILL {GLUSTER_TIMEOUT_S} gluster volume info", parse_volume_info,
                           timeout=GLUSTER_TIMEOUT_S + 1)
    brick_mounts = {}
    for volume in volumes:
        for brick in volume.bricks:
            host = names.of(brick.host or "")
            if host in hosts:
                brick_mounts[f"{host}:{brick.path}"] = system.mounted(hosts[host], brick.path)
    return describe_gluster(GlusterFacts(
        asked=asked, peers=cluster.peer_status(first, GLUSTER_TIMEOUT_S), volumes=volumes, brick_mounts=brick_mounts,
        mounts={name: tuple(m for m in more.all_mounts(host) if m.fstype == "fuse.glusterfs") for name, host in hosts.items()},
        fstabs={name: system.fstab(host) for name, host in hosts.items()},
    ), names)


# --- Docker Swarm -------------------------------------------------------------------------


def describe_swarm(members: list[SwarmMember], networks: dict[str, str], names: Names) -> dict:
    managers, unknown_managers = names.members([m.hostname for m in members if m.role == "manager"])
    workers, unknown_workers = names.members([m.hostname for m in members if m.role != "manager"])
    found: dict = {"managers": _listed(managers, unknown_managers)}
    found["workers"] = _listed(workers, unknown_workers)
    found["networks"] = [{"name": name, "driver": driver} for name, driver in sorted(networks.items())
                         if driver == "overlay" and name not in SWARM_DEFAULT_NETWORKS]
    return found


def read_swarm(manager: RemoteHost, names: Names) -> dict:
    return describe_swarm(cluster.swarm_members(manager), cluster.swarm_networks(manager), names)
