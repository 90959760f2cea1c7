"""The documented state of an environment, as a typed model.

An inventory is one YAML file per environment (production, staging, lab). Every expected
value a check compares against comes from here, never from a literal in a test. Unknown
keys are errors (`extra="forbid"`), so a typo in the YAML is caught instead of silently
ignored. Each value has the kind it must be (`values.py`: names, addresses, paths,
schedules…), and `Inventory` checks that every name that refers to another part names one
that exists, and that names that must be unique are.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from picacheck.inventory.consistency import problems
from picacheck.inventory.values import (Brick, Endpoint, EnvVar, HostAddress, HostName, Int, IPAddress,
                                        IPInterface, IPNetwork, IPv4Address, IPv4Interface, IPv6Address,
                                        IPv6Interface, LocalPath, Name, Number, Port, RemotePath, Schedule, Text,
                                        TimeZone, Url, UrlPath, Word)


class Strict(BaseModel):
    # allow_inf_nan=False: `.inf` or `.nan` is never a period, a size or a ratio.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EnvironmentKind(str, Enum):
    production = "production"
    staging = "staging"
    lab = "lab"


class Environment(Strict):
    name: Name  # typed back to confirm a change on production: never empty
    kind: EnvironmentKind
    description: str = ""


# --- how to reach a host -------------------------------------------------------------


class Connection(Strict):
    """How the suite reaches a host over SSH (an ssh_config entry is generated from it)."""

    address: HostAddress  # ssh's HostName: an IP address or a DNS name
    port: Port = 22
    user: Name = "root"
    sudo: bool = False  # the user runs the privileged commands through `sudo -n` (a CI user, not root)
    key_file: LocalPath | None = None
    jump: Name | None = None  # name of another host of the inventory (ProxyJump)
    connect_timeout: Int = Field(10, ge=1, le=300)
    command_timeout: Int = Field(60, ge=1, le=3600)


# --- storage ---------------------------------------------------------------------------


class RaidArray(Strict):
    name: Name  # md0
    level: Name = "raid1"
    members: tuple[Name, ...] = Field(min_length=1)  # partition names as /proc/mdstat shows them (sda1, sdb1)
    size_mb: Int | None = Field(None, ge=1, le=10**9)  # approximate documented size
    filesystem: Name | None = None
    mountpoint: RemotePath | None = None
    lvm_vg: Name | None = None  # the array is the physical volume of this VG (one of the host's volume_groups)
    claim: Name | None = None  # the claim (CLAIMS.md) that documents this array


class LogicalVolume(Strict):
    name: Name
    filesystem: Name | None = None
    mountpoint: RemotePath | None = None
    swap: bool = False


class VolumeGroup(Strict):
    name: Name
    lvs: tuple[LogicalVolume, ...]


class Mount(Strict):
    path: RemotePath
    size_gb: Number | None = Field(None, gt=0)  # approximate documented size
    filesystem: Name | None = None


class Grub(Strict):
    install_disks: tuple[Name, ...] = ()
    cmdline_default_contains: tuple[Word, ...] = ()


# --- network ---------------------------------------------------------------------------


class Route(Strict):
    via: IPAddress  # gateway4: an IPv4 address, gateway6: an IPv6 one
    onlink: bool = False


class Bridge(Strict):
    name: Name
    address: IPInterface  # 10.0.42.1/24
    proxy_arp: bool = False
    masquerade_source: IPNetwork | None = None  # 10.0.42.0/24
    masquerade_out_interface: Name | None = None


class PortForward(Strict):
    port: Port
    protocol: Literal["tcp", "udp"] = "tcp"
    to: Endpoint  # address:port, as iptables-save shows the DNAT target


class Network(Strict):
    configured_by: RemotePath | None = None  # e.g. /etc/rc.local
    public_interface: Name | None = None
    ipv4: IPv4Interface | None = None  # 91.224.148.84/32
    ipv6: IPv6Interface | None = None  # 2a03:7220:8080:5400::1/56
    gateway4: Route | None = None
    gateway6: Route | None = None
    ipv6_autoconf: bool | None = None  # False: autoconf and accept_ra are 0 everywhere
    nameservers: tuple[IPAddress, ...] = ()
    etc_hosts: dict[HostName, IPAddress] = {}  # name -> address
    bridge: Bridge | None = None
    port_forwards: tuple[PortForward, ...] = ()


# --- hosts -----------------------------------------------------------------------------

Role = Literal["hypervisor", "swarm", "gluster", "registry", "monitoring", "dns"]


class Host(Strict):
    roles: tuple[Role, ...]
    ssh: Connection
    public_ipv4: IPv4Address | None = None
    public_ipv6: IPv6Address | None = None
    private_address: IPAddress | None = None
    hypervisor: Name | None = None  # for a VM: the host it runs on (a host with the role hypervisor)
    # For a VM: its id on the hypervisor (qm, vzdump archive names); Proxmox ids are 100…999999999.
    vmid: Int | None = Field(None, ge=100, le=999_999_999)
    raid: tuple[RaidArray, ...] = ()
    mdadm_conf: RemotePath | None = None
    volume_groups: tuple[VolumeGroup, ...] = ()
    mounts: tuple[Mount, ...] = ()
    grub: Grub | None = None
    network: Network | None = None
    daemons: tuple[Name, ...] = ()  # services that must run (sshd, dockerd, …)


# --- cluster ---------------------------------------------------------------------------


class CorosyncNode(Strict):
    name: Name  # a host with the role hypervisor
    nodeid: Int = Field(ge=1, le=2**32 - 1)


class Corosync(Strict):
    cluster_name: Name
    nodes: tuple[CorosyncNode, ...] = Field(min_length=1)
    two_node: bool
    authenticated: bool = True
    expected_votes: Int = Field(ge=1, le=2**32 - 1)
    flags: tuple[Name, ...]
    conf_path: RemotePath = "/etc/corosync/corosync.conf"
    unit_restart: Word | None = None  # Restart= of the corosync unit
    unit_restart_sec: Word | None = None  # RestartSec=


class BrickFilesystem(Strict):
    device: RemotePath | None = None  # None: any device (the lab's loop device varies)
    filesystem: Name
    mountpoint: RemotePath


class VolumeMount(Strict):
    path: RemotePath
    hosts: tuple[Name, ...] = Field(min_length=1)
    fstab_options: tuple[Word, ...] = ()


class GlusterVolume(Strict):
    name: Name
    type: Name  # Replicate
    replica: Int = Field(ge=1, le=64)
    bricks: tuple[Brick, ...] = Field(min_length=1)  # host:/path, the host one of gluster.peers
    auth_allow_required: bool = True
    brick_filesystem: BrickFilesystem | None = None
    mount: VolumeMount | None = None

    @property
    def brick_places(self) -> tuple[tuple[str, str], ...]:
        """(host, path) of each brick, in the inventory's order."""
        return tuple((host, "/" + path) for host, _, path in (brick.partition(":/") for brick in self.bricks))


class Gluster(Strict):
    peers: tuple[Name, ...] = Field(min_length=1)
    volumes: tuple[GlusterVolume, ...]


class SwarmNetwork(Strict):
    name: Name
    driver: Name = "overlay"


class Swarm(Strict):
    managers: tuple[Name, ...] = Field(min_length=1)  # checks ask managers[0]
    workers: tuple[Name, ...] = ()
    networks: tuple[SwarmNetwork, ...] = ()
    images_on_every_node: bool = True


# --- services --------------------------------------------------------------------------


class Slo(Strict):
    p95_ms: Number = Field(gt=0)
    max_failure_ratio: Number = Field(ge=0, le=1)
    min_rps: Number = Field(ge=0)
    users: Int = Field(10, ge=1, le=100_000)
    duration_s: Int = Field(30, ge=1, le=3600)
    # How long the users may see failing requests while a service node fails (X8); None: not
    # documented (the users' view is then measured and reported, the claim not checked).
    max_outage_s: Number | None = Field(None, ge=0, le=86400)


class Service(Strict):
    name: Name
    kind: Literal["etherpad", "chat", "wiki", "kanban", "static", "other"]
    domain: HostName
    database: Name | None = None  # name of an entry of `databases`
    health_path: UrlPath = "/"
    requires_login: bool = False
    slo: Slo | None = None


class Traefik(Strict):
    service: Name = "traefik"  # the Swarm service name
    mode: Literal["global", "replicated"] = "global"
    network: Name  # one of swarm.networks
    ports: tuple[Port, ...] = (80, 443)
    dashboard_port: Port | None = 8080
    dashboard_public_ok: bool = False  # False: a public dashboard is a finding
    redirect_status: tuple[Annotated[Int, Field(ge=300, le=399)], ...] = (301, 308)
    cert_warning_days: Int = Field(14, ge=0, le=3650)


class Dns(Strict):
    servers: tuple[IPAddress, ...] = ()  # empty: the system resolver
    round_robin_hosts: tuple[Name, ...] = ()  # every domain resolves to these hosts


class Tls(Strict):
    ca_file: LocalPath | None = None  # trust anchor for the certificates (None: system store)
    acme_ca_name: Text | None = None  # expected issuer organisation/common name fragment


class Database(Strict):
    name: Name
    engine: Literal["mysql", "postgresql"]
    host: Name | None = None  # swarm service / container name
    port: Port | None = None
    user: Word | None = None
    password_file: LocalPath | None = None
    password_env: EnvVar | None = None
    database: Word | None = None


class Registry(Strict):
    host: Name
    url: Url
    user: Word
    password_file: LocalPath | None = None
    password_env: EnvVar | None = None
    ca_file: LocalPath | None = None
    expected_images: tuple[Word, ...] = ()
    forwarded_by: Name | None = None  # the hypervisor whose DNAT exposes it
    public_ip: bool = False


# --- backups ---------------------------------------------------------------------------


class DumpPolicy(Strict):
    database: Name  # name of an entry of `databases`
    directory: RemotePath
    host: Name  # where the directory can be read
    period_hours: Number = Field(gt=0)
    grace_minutes: Number = Field(30, ge=0)
    max_backups: Int = Field(ge=1, le=1_000_000)
    name_format: Text = "%Y.%m.%d.%H%M%S.sql"
    name_timezone: TimeZone = "UTC"  # the zone the dump job names its files in (its container's: UTC unless TZ)
    cron_time: Schedule | None = None


class Vzdump(Strict):
    hosts: tuple[Name, ...] = Field(min_length=1)  # hosts with the role hypervisor
    directory: RemotePath = "/SAVE/dump"
    schedule: Schedule = "0 3 * * *"
    cron_file: RemotePath = "/etc/cron.d/vzdump"  # Proxmox: /etc/pve/vzdump.cron, linked there
    max_age_hours: Number = Field(26, gt=0)  # "every night": the newest archive is at most this old


class RsyncMirror(Strict):
    host: Name  # the host that pulls (runs rsync)
    source_host: Name
    source_address: IPAddress
    path: RemotePath = "/SAVE/dump"
    schedule: Schedule
    cron_file: RemotePath = "/etc/crontab"


class Backups(Strict):
    dumps: tuple[DumpPolicy, ...] = ()
    vzdump: Vzdump | None = None
    rsync: tuple[RsyncMirror, ...] = ()
    documented_loss_hours: tuple[Annotated[Number, Field(gt=0)], ...] = ()  # the report says both 6 and 24


class Monitoring(Strict):
    host: Name
    elasticsearch_listen: tuple[Endpoint, ...] = ("127.0.0.1:9200", "127.0.0.1:9300")
    kibana_port: Port = 5601
    shippers: tuple[Name, ...] = ()
    index_retention_days: Int = Field(3, ge=1, le=36500)


# --- the whole environment ------------------------------------------------------------


class InconsistentInventory(ValueError):
    """Names that refer to nothing, or that are used twice: one message per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


class Inventory(Strict):
    environment: Environment
    hosts: dict[Name, Host] = Field(min_length=1)
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
    not_applicable: dict[Name, Text] = {}  # claim ID -> why this environment cannot show it

    @model_validator(mode="after")
    def _consistent(self) -> "Inventory":
        """Every reference names something of the inventory; see consistency.py for the rules."""
        found = problems(self)
        if found:
            raise InconsistentInventory(found)
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
