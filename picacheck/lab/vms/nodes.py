"""The lab's containers ("VMs"), their network and their disks.

pica01, pica02 and admin are Docker-in-Docker containers of picalab-node on the Docker
network topology.NETWORK_NAME (bridge topology.BRIDGE_NAME), each at its fixed address,
with the capability list that LAB-FACTS.md measured (every capability but SYS_RESOURCE,
no seccomp or AppArmor profile, every device allowed, /dev/fuse, /var/lib/docker on a
volume, /run on tmpfs). Each Gluster node also gets its "LV vg01/data": an ext4 image on a
host loop device, seen inside the container as /dev/mapper/vg01-data.
"""

from __future__ import annotations

import io
import json
import re
import resource
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
from docker.types import IPAMConfig, IPAMPool

from picacheck.errors import UserError
from picacheck.lab import engine, images, keys
from picacheck.lab import topology as T
from picacheck.progress import say, step

# LAB-FACTS.md: `--privileged` fails here (no CAP_SYS_RESOURCE in the sandbox); every other
# capability, added one by one, works.
CAPABILITIES = [
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "CHOWN",
    "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN",
    "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
    "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
]

SERVICES = {
    "pica01": "ssh cron docker glusterd",
    "pica02": "ssh cron docker glusterd",
    "admin": "ssh cron docker docker-registry",
}
HOST_LABEL = f"{T.LABEL}.host"
CACHE_MOUNT = "/picalab-cache"  # LAB_DIR/cache on admin, read-only


def volume_names(host: str) -> dict[str, str]:
    """Named volumes of a node: mount point → volume."""
    volumes = {"/var/lib/docker": f"{T.container_name(host)}-docker"}
    if host in T.GLUSTER_NODES:
        volumes["/var/lib/glusterd"] = f"{T.container_name(host)}-glusterd"
    if host == T.REGISTRY_HOST:
        volumes["/DOCKER"] = f"{T.container_name(host)}-docker-dir"
    return volumes


# --- network ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    name: str
    bridge: str
    subnet: str
    gateway: str
    host_address: bool  # whether the host holds the gateway address (the public network only)


# The public lab network (the host is its gateway), and alice's vmbr1 network: its gateway is
# alice's vmbr1 address, the host has no address on it (admin reaches the world through alice).
PUBLIC = Network(T.NETWORK_NAME, T.BRIDGE_NAME, T.SUBNET, T.GATEWAY, host_address=True)
PRIVATE = Network(T.PRIVATE_NETWORK_NAME, T.PRIVATE_BRIDGE_NAME, T.PRIVATE_SUBNET, T.VMBR1_ADDRESS,
                  host_address=False)


def network_of(host: str) -> Network:
    return PRIVATE if host == T.REGISTRY_HOST else PUBLIC


def ensure_networks(client: docker.DockerClient) -> bool:
    changed = False
    for network in (PUBLIC, PRIVATE):
        changed |= _ensure_network(client, network)
    return changed


def _ensure_network(client: docker.DockerClient, net: Network) -> bool:
    try:
        network = client.networks.get(net.name)
    except docker.errors.NotFound:
        network = None
    if network is not None:
        config = (network.attrs.get("IPAM") or {}).get("Config") or [{}]
        bridge = (network.attrs.get("Options") or {}).get("com.docker.network.bridge.name")
        if config[0].get("Subnet") != net.subnet or bridge != net.bridge:
            raise UserError(f"lab: a Docker network {net.name} exists with another subnet or bridge",
                            hint="run `picacheck lab down` first")
        return _ensure_bridge_link(net)
    if _link_exists(net.bridge):
        # The hypervisors' part of the lab made the bridge first (its UML taps join it);
        # Docker adopts an existing bridge of the configured name.
        say(f"bridge {net.bridge} already exists: the Docker network adopts it")
    options = {"com.docker.network.bridge.name": net.bridge}
    if not net.host_address:  # no address for the host, no masquerading: the gateway is alice
        options.update({"com.docker.network.bridge.inhibit_ipv4": "true",
                        "com.docker.network.bridge.enable_ip_masquerade": "false"})
    with step(f"Creating network {net.name} ({net.subnet}, bridge {net.bridge})"):
        try:
            client.networks.create(net.name, driver="bridge", options=options, labels={T.LABEL: "1"},
                                   ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=net.subnet, gateway=net.gateway)]))
        except docker.errors.APIError as error:
            raise UserError(f"lab: creating network {net.name} failed: {error.explanation or error}") from None
    return True


def links() -> dict[str, dict]:
    """The host's network interfaces (this network namespace's, from netlink)."""
    text = engine.run(["ip", "-j", "link", "show"], what="listing network interfaces", timeout=20)
    return {link["ifname"]: link for link in json.loads(text or "[]")}


def _link_exists(name: str) -> bool:
    return name in links()


def bridge_ports(name: str) -> list[str]:
    return sorted(n for n, link in links().items() if link.get("master") == name)


def _ensure_bridge_link(net: Network) -> bool:
    """The bridge itself (with the gateway address on the public one). Docker makes it with
    the network, but another part of the lab (the hypervisors' taps join the same bridges) may
    have removed and remade it behind Docker's back; then the lab puts it back as Docker made it."""
    changed = False
    if not _link_exists(net.bridge):
        engine.run(["ip", "link", "add", net.bridge, "type", "bridge"], what="re-making a lab bridge")
        say(f"bridge {net.bridge} had disappeared: made it again")
        changed = True
    if net.host_address:
        address = f"{net.gateway}/{net.subnet.split('/')[1]}"
        if address not in engine.run(["ip", "-4", "-o", "addr", "show", "dev", net.bridge], what="reading the bridge"):
            engine.run(["ip", "addr", "add", address, "dev", net.bridge], what="bridge address")
            changed = True
    if "UP" not in links()[net.bridge].get("flags", []):
        engine.run(["ip", "link", "set", net.bridge, "up"], what="bridge up")
        changed = True
    return changed


def _host_veth(container) -> dict | None:
    """The host end of the container's eth0."""
    result = container.exec_run(["cat", "/sys/class/net/eth0/iflink"])
    if result.exit_code != 0:
        return None
    index = int(result.output.decode().strip())
    return next((link for link in links().values() if link.get("ifindex") == index), None)


def ensure_attached(container, host: str) -> bool:
    """The container's veth is a port of its network's bridge (see _ensure_bridge_link)."""
    bridge = network_of(host).bridge
    link = _host_veth(container)
    if link is None:
        raise UserError(f"lab: cannot find the host end of {host}'s network interface",
                        hint="run `picacheck lab reset`")
    if link.get("master") == bridge:
        return False
    veth = link["ifname"]
    engine.run(["ip", "link", "set", veth, "master", bridge], what=f"re-attaching {host} to the bridge")
    engine.run(["ip", "link", "set", veth, "up"], what=f"re-attaching {host} to the bridge")
    say(f"{host}: its interface {veth} was not on {bridge} any more: re-attached")
    return True


# --- disks -----------------------------------------------------------------------------


def disk_image(host: str) -> Path:
    return T.DISKS_DIR / f"{host}-vg01-data.img"


def loop_device(image: Path) -> str | None:
    """The loop device that backs `image`, if one does."""
    if not image.exists():
        return None
    done = subprocess.run(["losetup", "-j", str(image)], capture_output=True, text=True, timeout=20)
    for line in done.stdout.splitlines():
        match = re.match(r"(/dev/loop\d+):", line)
        if match:
            return match.group(1)
    return None


def ensure_disk(host: str) -> tuple[str, bool]:
    """The host's brick disk (an ext4 image) on a loop device: (device, changed)."""
    image = disk_image(host)
    changed = False
    if not image.exists():
        with step(f"Making {host}'s brick disk ({T.BRICK_SIZE_MB} MB sparse ext4 image)"):
            image.parent.mkdir(parents=True, exist_ok=True)
            partial = image.with_suffix(".partial")
            with open(partial, "wb") as handle:
                handle.truncate(T.BRICK_SIZE_MB * 2**20)
            engine.run(["mkfs.ext4", "-q", "-F", "-L", "vg01-data", "-E", "lazy_itable_init=1", str(partial)],
                       what=f"formatting {host}'s brick disk")
            partial.rename(image)
        changed = True
    device = loop_device(image)
    if device is None:
        device = engine.run(["losetup", "--find", "--show", str(image)], what=f"attaching {host}'s brick disk",
                            timeout=30).strip()
        say(f"{host}: vg01/data = {device} ({image})")
        changed = True
    return device, changed


def release_disks() -> bool:
    changed = False
    for host in T.GLUSTER_NODES:
        image = disk_image(host)
        while (device := loop_device(image)) is not None:
            engine.run(["losetup", "-d", device], what=f"detaching {device}", timeout=30)
            say(f"detached {device} ({host}'s brick disk)")
            changed = True
            time.sleep(0.2)
    return changed


# --- containers ------------------------------------------------------------------------


def get(client: docker.DockerClient, host: str):
    try:
        return client.containers.get(T.container_name(host))
    except docker.errors.NotFound:
        return None


def _wanted_devices(host: str, loop: str | None) -> list[str]:
    devices = ["/dev/fuse:/dev/fuse:rwm"]
    if loop:
        devices.append(f"{loop}:{T.BRICK_DEVICE}:rwm")
    return devices


def _current_devices(container) -> list[str]:
    devices = container.attrs["HostConfig"].get("Devices") or []
    return [f"{d['PathOnHost']}:{d['PathInContainer']}:{d['CgroupPermissions']}" for d in devices]


def _open_files_limit() -> docker.types.Ulimit:
    """As many open files as this machine lets the lab's engine give (at most 65536): with
    Docker's default soft limit of 1024, pica02's GlusterFS brick hit "Too many open files"
    under the load tests, failed its health check and stopped itself."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    return docker.types.Ulimit(name="nofile", soft=limit, hard=limit)


def _create(client: docker.DockerClient, host: str, loop: str | None):
    api = client.api
    name = T.container_name(host)
    binds = {volume: {"bind": mountpoint, "mode": "rw"} for mountpoint, volume in volume_names(host).items()}
    if host == T.REGISTRY_HOST:  # admin loads the images the lab built (lab/images.py) from here
        images.CACHE.mkdir(parents=True, exist_ok=True)
        binds[str(T.CACHE_DIR)] = {"bind": CACHE_MOUNT, "mode": "ro"}
    for volume in volume_names(host).values():
        try:
            client.volumes.get(volume)
        except docker.errors.NotFound:
            client.volumes.create(volume, labels={T.LABEL: "1", HOST_LABEL: host})
    host_config = api.create_host_config(
        binds=binds,
        cap_add=CAPABILITIES,
        ulimits=[_open_files_limit()],
        security_opt=["seccomp=unconfined", "apparmor=unconfined"],
        device_cgroup_rules=["a *:* rwm"],
        devices=_wanted_devices(host, loop),
        tmpfs={"/run": "rw,exec,mode=755", "/tmp": "rw,exec,mode=1777"},
        extra_hosts=T.host_aliases(host),
        init=False,
        network_mode=network_of(host).name,
    )
    networking = api.create_networking_config({
        network_of(host).name: api.create_endpoint_config(ipv4_address=T.HOSTS[host].address, aliases=[host]),
    })
    try:
        created = api.create_container(
            T.NODE_IMAGE, name=name, hostname=host, domainname=T.DOMAIN, host_config=host_config,
            networking_config=networking, environment={"PICALAB_SERVICES": SERVICES[host]},
            labels={T.LABEL: "1", HOST_LABEL: host}, detach=True, stop_signal="SIGTERM",
        )
    except docker.errors.APIError as error:
        raise UserError(f"lab: creating container {name} failed: {error.explanation or error}") from None
    container = client.containers.get(created["Id"])
    # Files the node must have before it boots: the lab's key for root, the inner Docker
    # engine's configuration and trust in the lab CA, the brick line of /etc/fstab.
    container.put_archive("/", _tar(preboot_files(host)))
    return container


def inner_daemon_json() -> str:
    return json.dumps({
        "dns": [T.INNER_DNS],
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "2"},
    }, indent=2) + "\n"


def brick_fstab_line() -> str:
    # As in the report: /dev/mapper/vg01-data /gluster-data ext4 defaults 0 2
    return f"{T.BRICK_DEVICE} {T.GLUSTER_BRICK} ext4    defaults      0       2\n"


def preboot_files(host: str) -> dict[str, tuple[bytes | None, int]]:
    """path → (content, mode) of the files written into a node before its first boot
    (content None: a directory)."""
    home = f"home/{T.CI_USER}"
    files = {
        "root/.ssh/authorized_keys": ((keys.ssh_public_key() + "\n").encode(), 0o600),
        f"{home}/.ssh/authorized_keys": ((keys.ssh_public_key() + "\n").encode(), 0o600),  # the CI user's
        "etc/docker/daemon.json": (inner_daemon_json().encode(), 0o644),
        f"etc/docker/certs.d/{T.REGISTRY}/ca.crt": (keys.CA_CERT.read_bytes(), 0o644),
    }
    private, public = keys.host_key_paths(host)
    files["etc/ssh/ssh_host_ed25519_key"] = (private.read_bytes(), 0o600)
    files["etc/ssh/ssh_host_ed25519_key.pub"] = (public.read_bytes(), 0o644)
    if host in T.GLUSTER_NODES:
        files["etc/fstab"] = (("# /etc/fstab of the lab node " + host + "\n" + brick_fstab_line()).encode(), 0o644)
        files[T.GLUSTER_BRICK.strip("/")] = (None, 0o755)  # mount points (the report: mkdir)
        files[T.GLUSTER_MOUNT.strip("/")] = (None, 0o755)
    return files


def _tar(files: dict[str, tuple[bytes | None, int]]) -> bytes:
    buffer = io.BytesIO()
    now = int(time.time())
    directories = sorted({str(Path(path).parent) for path in files} - {"."})
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory in directories:
            parts = Path(directory).parts
            for i in range(1, len(parts) + 1):
                name = "/".join(parts[:i])
                if name in tar.getnames():
                    continue
                info = _owned(tarfile.TarInfo(name))
                info.type, info.mtime = tarfile.DIRTYPE, now
                info.mode = 0o700 if name.endswith("/.ssh") or name == f"home/{T.CI_USER}" else 0o755
                tar.addfile(info)
        for path, (data, mode) in files.items():
            info = _owned(tarfile.TarInfo(path))
            if data is None:
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, now
                tar.addfile(info)
                continue
            info.size, info.mode, info.mtime = len(data), mode, now
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """The CI user's home belongs to it (uid topology.CI_UID, made in the node image)."""
    if info.name == f"home/{T.CI_USER}" or info.name.startswith(f"home/{T.CI_USER}/"):
        info.uid = info.gid = T.CI_UID
    return info


def ensure_container(client: docker.DockerClient, host: str, loop: str | None, recreate: bool = False) -> bool:
    """The node's container exists and runs. Returns whether anything changed.

    A running node made from an older node image is kept (other parts of the lab keep
    state in it) unless `recreate`; a stopped one, or one whose brick device changed, is
    made again. Its volumes (/var/lib/docker, /var/lib/glusterd, /DOCKER) are kept.
    """
    container = get(client, host)
    node_image = client.images.get(T.NODE_IMAGE)
    if container is not None:
        stale = []
        if container.image.id != node_image.id:
            if recreate or container.status != "running":
                stale.append("a newer node image")
            else:
                say(f"{host} runs an older {T.NODE_IMAGE}: `picacheck lab reset` (or up(recreate=True)) "
                    "makes it again from the new one")
        if sorted(_current_devices(container)) != sorted(_wanted_devices(host, loop)):
            stale.append("another loop device")
        if stale:
            with step(f"Recreating {host} ({', '.join(stale)}; its volumes are kept)"):
                container.remove(force=True)
            container = None
    if container is None:
        with step(f"Creating {host} ({T.HOSTS[host].address})"):
            container = _create(client, host, loop)
            container.start()
        return True
    if container.status != "running":
        with step(f"Starting {host} (was {container.status})"):
            container.start()
        return True
    return ensure_attached(container, host)


def remove_containers(client: docker.DockerClient) -> bool:
    changed = False
    for container in client.containers.list(all=True, filters={"label": T.LABEL}):
        with step(f"Removing container {container.name}"):
            container.remove(force=True, v=False)
        changed = True
    return changed


def remove_volumes(client: docker.DockerClient) -> bool:
    changed = False
    for volume in client.volumes.list(filters={"label": T.LABEL}):
        volume.remove(force=True)
        say(f"removed volume {volume.name}")
        changed = True
    return changed


def remove_networks(client: docker.DockerClient) -> bool:
    changed = False
    for name in (T.PRIVATE_NETWORK_NAME, T.NETWORK_NAME):
        try:
            network = client.networks.get(name)
        except docker.errors.NotFound:
            continue
        with step(f"Removing network {name}"):
            network.remove()
        changed = True
    return changed
