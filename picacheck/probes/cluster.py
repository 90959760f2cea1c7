"""Cluster probes: corosync, GlusterFS and Docker Swarm, read on the hosts and parsed to facts."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from picacheck.facts import corosync, gluster, swarm, systemd, traefik
from picacheck.facts.errors import ParseError
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import RemoteHost

# --- corosync ----------------------------------------------------------------------------


def quorum_status(host: RemoteHost) -> corosync.QuorumStatus:
    # corosync-quorumtool exits non-zero when the cluster is not quorate; its output still
    # says why, so it is parsed whatever the exit status (an empty output is a ParseError).
    return host.parsed("corosync-quorumtool -s", corosync.parse_quorum_status, any_status=True)


def corosync_conf(host: RemoteHost, path: str) -> corosync.CorosyncConf:
    return host.parsed(f"cat {path}", corosync.parse_corosync_conf)


def corosync_unit(host: RemoteHost) -> systemd.UnitFile:
    """The unit as systemd sees it: the file and its drop-ins (`systemctl cat`)."""
    return host.parsed("systemctl cat corosync.service", systemd.parse_unit_file)


# --- GlusterFS ---------------------------------------------------------------------------


def _bounded(command: str, timeout: int | None) -> str:
    """A gluster command killed on the host after `timeout` s: during a partition gluster
    hangs, and a hung command would hold its SSH session."""
    return f"timeout -s KILL {timeout} {command}" if timeout else command


def peer_status(host: RemoteHost, timeout: int | None = None) -> gluster.PeerStatus:
    return host.parsed(_bounded("gluster peer status", timeout), gluster.parse_peer_status,
                       timeout=timeout + 1 if timeout else None)


def volume_info(host: RemoteHost, volume: str) -> gluster.GlusterVolume:
    volumes = host.parsed(f"gluster volume info {volume}", gluster.parse_volume_info)
    found = next((v for v in volumes if v.name == volume), None)
    assert found is not None, f"{host.name}: no volume {volume}"
    return found


def volume_status(host: RemoteHost, volume: str) -> gluster.VolumeStatus:
    report = host.parsed(f"gluster volume status {volume}", gluster.parse_volume_status)
    status = report.volume(volume)
    assert status is not None, f"{host.name}: `gluster volume status {volume}` shows no such volume: {report.errors}"
    return status


def heal_info(host: RemoteHost, volume: str, variant: str = "", timeout: int | None = None) -> gluster.HealInfo:
    """`gluster volume heal VOLUME info [split-brain]`."""
    command = f"gluster volume heal {volume} info {variant}".strip()
    return host.parsed(_bounded(command, timeout), gluster.parse_heal_info, timeout=timeout + 1 if timeout else None)


# --- Docker Swarm (the Docker API over SSH, read into picacheck/facts/swarm.py's facts) ---------


def swarm_nodes(host: RemoteHost, timeout: int | None = None) -> tuple[swarm.SwarmNode, ...]:
    """The swarm's nodes as this node's manager sees them."""
    with docker_client(host, **({"timeout": timeout} if timeout else {})) as client:
        nodes = client.nodes.list()
    return tuple(_read(host, swarm.node_from_api, node.attrs) for node in nodes)


@dataclass(frozen=True)
class SwarmMember:
    """A node as the observers and discover compare them from one sample to the next:
    plain, hashable words (swarm_nodes() has the whole of each node)."""

    hostname: str
    state: str
    availability: str
    role: str
    leader: bool
    reachability: str | None = None  # reachable / unreachable (managers)


def _reachability(manager_status: str | None) -> str | None:
    """The API's ManagerStatus.Reachability from the CLI's MANAGER STATUS (the leader is reachable)."""
    if not manager_status:
        return None
    return "reachable" if manager_status == "Leader" else manager_status.lower()


def swarm_members(host: RemoteHost, timeout: int | None = None) -> list[SwarmMember]:
    """The Swarm's members in plain words (state and availability lower-case), as the
    observers and discover read them."""
    return [SwarmMember(node.hostname, (node.status or "").lower(), (node.availability or "").lower(),
                        "manager" if node.is_manager else "worker", bool(node.is_leader),
                        _reachability(node.manager_status))
            for node in swarm_nodes(host, timeout)]


def swarm_networks(host: RemoteHost) -> dict[str, str]:
    """Network name → driver, as this node sees them."""
    with docker_client(host) as client:
        return {network.name: network.attrs.get("Driver", "") for network in client.networks.list()}


def service_images(host: RemoteHost) -> dict[str, str]:
    """Swarm service name → the image it runs (without the pinned digest)."""
    with docker_client(host) as client:
        services = client.services.list()
    return {service.name: _read(host, swarm.service_from_api, service.attrs, [], {}, {}).image for service in services}


def local_images(host: RemoteHost) -> set[str]:
    """Every repo:tag present in this node's image store."""
    with docker_client(host) as client:
        return {tag for image in client.images.list() for tag in image.tags}


def swarm_services(host: RemoteHost, name: str | None = None) -> list[swarm.SwarmService]:
    """The Swarm's services (or the one named) with their current tasks (those Swarm wants running)."""
    with docker_client(host) as client:
        found = client.services.list(filters={"name": name} if name else None)
        if name:
            found = [s for s in found if s.name == name]  # the filter matches prefixes
        if not found:
            return []
        nodes = [_read(host, swarm.node_from_api, node.attrs) for node in client.nodes.list()]
        network_names = {network.id: network.name for network in client.networks.list()}
        tasks = {service.name: service.tasks(filters={"desired-state": "running"}) for service in found}
    node_names = {node.id: node.hostname for node in nodes}
    return [_read(host, swarm.service_from_api, service.attrs, tasks[service.name], node_names, network_names)
            for service in found]


def _read(host: RemoteHost, parse, *answer):
    """A fact from the Docker API's answer; an answer of another shape fails naming the host."""
    try:
        return parse(*answer)
    except ParseError as error:
        raise AssertionError(f"{host.name}: the Docker API answered something unexpected: {error}") from None


def swarm_service(host: RemoteHost, name: str) -> swarm.SwarmService | None:
    found = swarm_services(host, name)
    return found[0] if found else None


# --- Traefik's configuration (the router labels of its services, its static file) ------------


def router_labels(host: RemoteHost, name: str) -> traefik.TraefikRouting | None:
    """The routers a Swarm service declares to Traefik in its labels (None: no such service)."""
    service = swarm_service(host, name)
    return None if service is None else traefik.parse_router_labels(service.labels)


TRAEFIK_CONFIG_TARGETS = tuple(f"/etc/traefik/traefik.{suffix}" for suffix in ("toml", "yml", "yaml"))


def traefik_static_config(host: RemoteHost, service_name: str) -> tuple[str, traefik.TraefikStatic] | None:
    """Traefik's static configuration file, as the Swarm service binds it at Traefik's default
    place (/etc/traefik/traefik.toml, .yml or .yaml), read on `host`: (its path on the host,
    its facts). None: the service binds no such file (its configuration is in its flags)."""
    with docker_client(host) as client:
        found = [s for s in client.services.list(filters={"name": service_name}) if s.name == service_name]
    if not found:
        raise AssertionError(f"{host.name}: no Swarm service named {service_name}")
    mounts = found[0].attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("Mounts") or []
    source = next((m.get("Source") for m in mounts if m.get("Type") == "bind" and m.get("Target") in TRAEFIK_CONFIG_TARGETS),
                  None)
    if source is None:
        return None
    fmt = "toml" if source.endswith(".toml") else "yaml"
    return source, host.parsed(f"cat {shlex.quote(source)}", lambda text: traefik.parse_traefik_static(text, fmt))
