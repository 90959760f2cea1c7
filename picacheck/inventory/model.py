"""The documented state of an environment, as a typed model.

An inventory is one YAML file per environment (production, staging, lab). Every expected
value a check compares against comes from here, never from a literal in a test. Unknown
keys are errors (`extra="forbid"`), so a typo in the YAML is caught instead of silently
ignored.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvironmentKind(str, Enum):
    production = "production"
    staging = "staging"
    lab = "lab"


class Environment(Strict):
    name: str
    kind: EnvironmentKind
    description: str = ""


# --- how to reach a host -------------------------------------------------------------


class Connection(Strict):
    """How the suite reaches a host over SSH (an ssh_config entry is generated from it)."""

    address: str
    port: int = Field(22, ge=1, le=65535)
    user: str = "root"
    sudo: bool = False  # the user runs the privileged commands through `sudo -n` (a CI user, not root)
    key_file: str | None = None
    jump: str | None = None  # name of another host of the inventory (ProxyJump)
    connect_timeout: int = Field(10, ge=1, le=300)
    command_timeout: int = Field(60, ge=1, le=3600)


# --- storage ---------------------------------------------------------------------------


class RaidArray(Strict):
    name: str  # md0
    level: str = "raid1"
    members: tuple[str, ...]  # partition names as /proc/mdstat shows them (sda1, sdb1)
    size_mb: int | None = None  # approximate documented size
    filesystem: str | None = None
    mountpoint: str | None = None
    lvm_vg: str | None = None  # the array is the physical volume of this VG
    claim: str | None = None  # the claim (CLAIMS.md) that documents this array


class LogicalVolume(Strict):
    name: str
    filesystem: str | None = None
    mountpoint: str | None = None
    swap: bool = False


class VolumeGroup(Strict):
    name: str
    lvs: tuple[LogicalVolume, ...]


class Mount(Strict):
    path: str
    size_gb: float | None = None  # approximate documented size
    filesystem: str | None = None


class Grub(Strict):
    install_disks: tuple[str, ...] = ()
    cmdline_default_contains: tuple[str, ...] = ()


# --- network ---------------------------------------------------------------------------


class Route(Strict):
    via: str
    onlink: bool = False


class Bridge(Strict):
    name: str
    address: str  # CIDR
    proxy_arp: bool = False
    masquerade_source: str | None = None
    masquerade_out_interface: str | None = None


class PortForward(Strict):
    port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    to: str  # address:port


class Network(Strict):
    configured_by: str | None = None  # e.g. /etc/rc.local
    public_interface: str | None = None
    ipv4: str | None = None  # CIDR
    ipv6: str | None = None  # CIDR
    gateway4: Route | None = None
    gateway6: Route | None = None
    ipv6_autoconf: bool | None = None  # False: autoconf and accept_ra are 0 everywhere
    nameservers: tuple[str, ...] = ()
    etc_hosts: dict[str, str] = {}  # name -> address
    bridge: Bridge | None = None
    port_forwards: tuple[PortForward, ...] = ()


# --- hosts -----------------------------------------------------------------------------

Role = Literal["hypervisor", "swarm", "gluster", "registry", "monitoring", "dns"]


class Host(Strict):
    roles: tuple[Role, ...]
    ssh: Connection
    public_ipv4: str | None = None
    public_ipv6: str | None = None
    private_address: str | None = None
    hypervisor: str | None = None  # for a VM: the host it runs on
    vmid: int | None = None  # for a VM: its id on the hypervisor (qm, vzdump archive names)
    raid: tuple[RaidArray, ...] = ()
    mdadm_conf: str | None = None
    volume_groups: tuple[VolumeGroup, ...] = ()
    mounts: tuple[Mount, ...] = ()
    grub: Grub | None = None
    network: Network | None = None
    daemons: tuple[str, ...] = ()  # services that must run (sshd, dockerd, …)


# --- cluster ---------------------------------------------------------------------------


class CorosyncNode(Strict):
    name: str
    nodeid: int


class Corosync(Strict):
    cluster_name: str
    nodes: tuple[CorosyncNode, ...]
    two_node: bool
    authenticated: bool = True
    expected_votes: int
    flags: tuple[str, ...]
    conf_path: str = "/etc/corosync/corosync.conf"
    unit_restart: str | None = None  # Restart= of the corosync unit
    unit_restart_sec: str | None = None  # RestartSec=


class BrickFilesystem(Strict):
    device: str | None = None  # None: any device (the lab's loop device varies)
    filesystem: str
    mountpoint: str


class VolumeMount(Strict):
    path: str
    hosts: tuple[str, ...]
    fstab_options: tuple[str, ...] = ()


class GlusterVolume(Strict):
    name: str
    type: str  # Replicate
    replica: int
    bricks: tuple[str, ...]  # host:/path
    auth_allow_required: bool = True
    brick_filesystem: BrickFilesystem | None = None
    mount: VolumeMount | None = None


class Gluster(Strict):
    peers: tuple[str, ...]
    volumes: tuple[GlusterVolume, ...]


class SwarmNetwork(Strict):
    name: str
    driver: str = "overlay"


class Swarm(Strict):
    managers: tuple[str, ...]
    workers: tuple[str, ...] = ()
    networks: tuple[SwarmNetwork, ...] = ()
    images_on_every_node: bool = True


# --- services --------------------------------------------------------------------------


class Slo(Strict):
    p95_ms: float = Field(gt=0)
    max_failure_ratio: float = Field(ge=0, le=1)
    min_rps: float = Field(ge=0)
    users: int = Field(10, ge=1)
    duration_s: int = Field(30, ge=1, le=3600)


class Service(Strict):
    name: str
    kind: Literal["etherpad", "chat", "wiki", "kanban", "static", "other"]
    domain: str
    database: str | None = None  # name of an entry of `databases`
    health_path: str = "/"
    requires_login: bool = False
    slo: Slo | None = None


class Traefik(Strict):
    service: str = "traefik"  # the Swarm service name
    mode: Literal["global", "replicated"] = "global"
    network: str
    ports: tuple[int, ...] = (80, 443)
    dashboard_port: int | None = 8080
    dashboard_public_ok: bool = False  # False: a public dashboard is a finding
    redirect_status: tuple[int, ...] = (301, 308)
    cert_warning_days: int = 14


class Dns(Strict):
    servers: tuple[str, ...] = ()  # empty: the system resolver
    round_robin_hosts: tuple[str, ...] = ()  # every domain resolves to these hosts


class Tls(Strict):
    ca_file: str | None = None  # trust anchor for the certificates (None: system store)
    acme_ca_name: str | None = None  # expected issuer organisation/common name fragment


class Database(Strict):
    name: str
    engine: Literal["mysql", "postgresql"]
    host: str | None = None  # swarm service / container name
    port: int | None = None
    user: str | None = None
    password_file: str | None = None
    password_env: str | None = None
    database: str | None = None


class Registry(Strict):
    host: str
    url: str
    user: str
    password_file: str | None = None
    password_env: str | None = None
    ca_file: str | None = None
    expected_images: tuple[str, ...] = ()
    forwarded_by: str | None = None  # the hypervisor whose DNAT exposes it
    public_ip: bool = False


# --- backups ---------------------------------------------------------------------------


class DumpPolicy(Strict):
    database: str  # name of an entry of `databases`
    directory: str
    host: str  # where the directory can be read
    period_hours: float = Field(gt=0)
    grace_minutes: float = Field(30, ge=0)
    max_backups: int = Field(ge=1)
    name_format: str = "%Y.%m.%d.%H%M%S.sql"
    cron_time: str | None = None


class Vzdump(Strict):
    hosts: tuple[str, ...]
    directory: str = "/SAVE/dump"
    schedule: str = "0 3 * * *"
    cron_file: str = "/etc/cron.d/vzdump"  # Proxmox: /etc/pve/vzdump.cron, linked there
    max_age_hours: float = Field(26, gt=0)  # "every night": the newest archive is at most this old


class RsyncMirror(Strict):
    host: str  # the host that pulls (runs rsync)
    source_host: str
    source_address: str
    path: str = "/SAVE/dump"
    schedule: str
    cron_file: str = "/etc/crontab"


class Backups(Strict):
    dumps: tuple[DumpPolicy, ...] = ()
    vzdump: Vzdump | None = None
    rsync: tuple[RsyncMirror, ...] = ()
    documented_loss_hours: tuple[float, ...] = ()  # the report says both 6 and 24


class Monitoring(Strict):
    host: str
    elasticsearch_listen: tuple[str, ...] = ("127.0.0.1:9200", "127.0.0.1:9300")
    kibana_port: int = 5601
    shippers: tuple[str, ...] = ()
    index_retention_days: int = 3


# --- claims that an environment cannot show ---------------------------------------------


class Inventory(Strict):
    environment: Environment
    hosts: dict[str, Host]
    corosync: Corosync | None = None
    gluster: Gluster | None = None
    swarm: Swarm | None = None
    traefik: Traefik | None = None
    dns: Dns = Dns()
    tls: Tls = Tls()
    services: tuple[Service, ...] = ()
    databases: tuple[Database, ...] = ()
    registry: Registry | None = None
    backups: Backups = Backups()
    monitoring: Monitoring | None = None
    not_applicable: dict[str, str] = {}  # claim ID -> why this environment cannot show it

    @model_validator(mode="after")
    def _references_exist(self) -> "Inventory":
        """Every host name used elsewhere must be a host of the inventory."""
        for name, host in self.hosts.items():
            _require_host(self, host.ssh.jump, f"hosts.{name}.ssh.jump")
            _require_host(self, host.hypervisor, f"hosts.{name}.hypervisor")
        if self.corosync:
            for i, node in enumerate(self.corosync.nodes):
                _require_host(self, node.name, f"corosync.nodes.{i}.name")
        if self.gluster:
            for i, peer in enumerate(self.gluster.peers):
                _require_host(self, peer, f"gluster.peers.{i}")
        if self.swarm:
            for i, node in enumerate(self.swarm.managers + self.swarm.workers):
                _require_host(self, node, f"swarm.nodes.{i}")
        if self.registry:
            _require_host(self, self.registry.host, "registry.host")
        database_names = {db.name for db in self.databases}
        for i, service in enumerate(self.services):
            if service.database and service.database not in database_names:
                raise ValueError(f"services.{i}.database: no database named {service.database!r}")
        for i, dump in enumerate(self.backups.dumps):
            _require_host(self, dump.host, f"backups.dumps.{i}.host")
            if dump.database not in database_names:
                raise ValueError(f"backups.dumps.{i}.database: no database named {dump.database!r}")
        return self

    # Convenience look-ups used by checks.
    def hosts_with_role(self, role: str) -> list[str]:
        return [name for name, host in self.hosts.items() if role in host.roles]

    def vms_of(self, hypervisor: str) -> dict[str, int]:
        """The VMs a hypervisor runs: name → VM id."""
        return {name: host.vmid for name, host in self.hosts.items() if host.hypervisor == hypervisor and host.vmid}

    def round_robin_addresses(self) -> dict[str, str]:
        """The nodes DNS round robin sends users to: name → address."""
        swarm_nodes = (self.swarm.managers + self.swarm.workers) if self.swarm else ()
        names = self.dns.round_robin_hosts or swarm_nodes
        return {name: self.hosts[name].public_ipv4 or self.hosts[name].ssh.address for name in names}

    def database(self, name: str) -> Database:
        return next(db for db in self.databases if db.name == name)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)


def _require_host(inventory: Inventory, name: str | None, where: str) -> None:
    if name is not None and name not in inventory.hosts:
        raise ValueError(f"{where}: no host named {name!r} in hosts")
