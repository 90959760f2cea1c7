"""Cluster probes: corosync, GlusterFS and Docker Swarm, read on the hosts and parsed to facts."""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.facts import corosync, gluster, systemd
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


# --- Docker Swarm (the Docker API over SSH) ---------------------------------------------


@dataclass(frozen=True)
class SwarmMember:
    hostname: str
    state: str  # ready / down
    availability: str  # active / pause / drain
    role: str  # manager / worker
    leader: bool
    reachability: str | None  # reachable / unreachable (managers)


def swarm_members(host: RemoteHost, timeout: int | None = None) -> list[SwarmMember]:
    """The swarm's nodes as this node's manager sees them."""
    with docker_client(host, **({"timeout": timeout} if timeout else {})) as client:
        nodes = client.nodes.list()
    return [
        SwarmMember(
            hostname=node.attrs["Description"]["Hostname"],
            state=node.attrs["Status"]["State"],
            availability=node.attrs["Spec"]["Availability"],
            role=node.attrs["Spec"]["Role"],
            leader=bool(node.attrs.get("ManagerStatus", {}).get("Leader", False)),
            reachability=node.attrs.get("ManagerStatus", {}).get("Reachability"),
        )
        for node in nodes
    ]


def swarm_networks(host: RemoteHost) -> dict[str, str]:
    """Network name → driver, as this node sees them."""
    with docker_client(host) as client:
        return {network.name: network.attrs.get("Driver", "") for network in client.networks.list()}


def service_images(host: RemoteHost) -> dict[str, str]:
    """Swarm service name → the image it runs (without the pinned digest)."""
    with docker_client(host) as client:
        services = client.services.list()
    return {
        service.name: service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0]
        for service in services
    }


def local_images(host: RemoteHost) -> set[str]:
    """Every repo:tag present in this node's image store."""
    with docker_client(host) as client:
        return {tag for image in client.images.list() for tag in image.tags}


@dataclass(frozen=True)
class SwarmTask:
    node: str
    state: str  # running, failed, rejected, …
    desired: str


@dataclass(frozen=True)
class SwarmService:
    name: str
    mode: str  # global / replicated
    replicas: int | None
    tasks: tuple[SwarmTask, ...]
    networks: tuple[str, ...]
    published_ports: tuple[int, ...]
    labels: dict


def swarm_services(host: RemoteHost, name: str | None = None) -> list[SwarmService]:
    """The Swarm's services (or the one named) with their current tasks (those Swarm wants running)."""
    with docker_client(host) as client:
        found = client.services.list(filters={"name": name} if name else None)
        if name:
            found = [s for s in found if s.name == name]  # the filter matches prefixes
        if not found:
            return []
        node_names = {node.id: node.attrs["Description"]["Hostname"] for node in client.nodes.list()}
        network_names = {network.id: network.name for network in client.networks.list()}
        tasks = {service.name: service.tasks(filters={"desired-state": "running"}) for service in found}
    return [_service(service, tasks[service.name], node_names, network_names) for service in found]


def swarm_service(host: RemoteHost, name: str) -> SwarmService | None:
    found = swarm_services(host, name)
    return found[0] if found else None


def _service(service, tasks: list[dict], node_names: dict, network_names: dict) -> SwarmService:
    spec = service.attrs["Spec"]
    ports = spec.get("EndpointSpec", {}).get("Ports", [])
    return SwarmService(
        name=service.name,
        mode="global" if "Global" in spec["Mode"] else "replicated",
        replicas=spec["Mode"].get("Replicated", {}).get("Replicas"),
        tasks=tuple(
            SwarmTask(node_names.get(task.get("NodeID", ""), task.get("NodeID", "?")),
                      task["Status"]["State"], task["DesiredState"])
            for task in tasks
        ),
        networks=tuple(network_names.get(n["Target"], n["Target"]) for n in spec["TaskTemplate"].get("Networks", [])),
        published_ports=tuple(port["PublishedPort"] for port in ports if "PublishedPort" in port),
        labels=dict(spec.get("Labels") or {}),
    )


def service_labels(host: RemoteHost, name: str) -> dict | None:
    service = swarm_service(host, name)
    return None if service is None else service.labels
