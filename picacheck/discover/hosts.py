"""A host as the inventory documents it, from what it shows: its addresses, and for a
hypervisor its arrays, volumes, mounts, GRUB and network (H1–H14); the VMs each hypervisor
runs. `describe_*` are pure (facts in, inventory data out); `read_*` ask the host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from picacheck.discover import probes as more
from picacheck.discover.tree import Noted
from picacheck.facts.blockdevices import BlockDevice
from picacheck.facts.grub import GrubDefaults
from picacheck.facts.hosts import EtcHosts
from picacheck.facts.iproute import Route
from picacheck.facts.iptables import IptablesSave
from picacheck.facts.mdstat import Mdstat
from picacheck.facts.mounts import MountedFilesystem
from picacheck.facts.resolv import ResolvConf
from picacheck.probes import system
from picacheck.probes.remote import RemoteHost

MDADM_CONFS = ("/etc/mdadm/mdadm.conf", "/etc/mdadm.conf")
SWAP_MOUNTPOINT = "[SWAP]"  # how lsblk shows an active swap
NOT_FILESYSTEMS = {"linux_raid_member", "LVM2_member", "swap"}
DAEMONS_OF_ROLE = {"hypervisor": ("corosync",), "swarm": ("dockerd",), "gluster": ("glusterd",),
                   "registry": ("dockerd",), "monitoring": ("dockerd",)}


# --- addresses (every host) -------------------------------------------------------------


def _ip(cidr: str):
    return ipaddress.ip_interface(cidr)


def public_interface(routes4: tuple[Route, ...]) -> str | None:
    """The interface of the IPv4 default route: where the host meets the outside."""
    return next((route.dev for route in routes4 if route.dst == "default" and route.dev), None)


def first_address(cidrs: tuple[str, ...], version: int) -> str | None:
    """The first address of that IP version that is neither loopback nor link-local (CIDR)."""
    for cidr in cidrs:
        address = _ip(cidr).ip
        if address.version == version and not (address.is_loopback or address.is_link_local):
            return cidr
    return None


@dataclass(frozen=True)
class Addresses:
    interfaces: dict[str, tuple[str, ...]]  # interface → CIDRs
    routes4: tuple[Route, ...]
    routes6: tuple[Route, ...]
    etc_hosts: EtcHosts

    @property
    def public_interface(self) -> str | None:
        return public_interface(self.routes4)

    def public(self, version: int) -> str | None:
        interface = self.public_interface
        return first_address(self.interfaces.get(interface, ()), version) if interface else None

    def holds(self, address: str) -> bool:
        return any(_ip(cidr).ip == ipaddress.ip_address(address) for cidrs in self.interfaces.values() for cidr in cidrs)


def describe_addresses(name: str, facts: Addresses, behind_jump: bool) -> dict:
    """public_ipv4/6: the addresses of the default route's interface, unless the suite reaches
    the host through a jump host (then it has no public address: the admin VM, S10);
    private_address: what /etc/hosts maps the host's own name to, when it holds it."""
    found: dict = {}
    if not behind_jump:
        for key, version in (("public_ipv4", 4), ("public_ipv6", 6)):
            cidr = facts.public(version)
            if cidr:
                found[key] = str(_ip(cidr).ip)
    own = next((a for a in facts.etc_hosts.addresses_for(name) if not ipaddress.ip_address(a).is_loopback), None)
    if own and facts.holds(own) and own != found.get("public_ipv4"):
        found["private_address"] = own
    return found


def read_addresses(host: RemoteHost) -> Addresses:
    return Addresses(system.addresses(host), system.routes(host, "-4"), system.routes(host, "-6"),
                     system.etc_hosts(host))


def daemons_for(roles: tuple[str, ...]) -> tuple[str, ...]:
    """sshd, and the daemons that the host's roles need (H14)."""
    names = ["sshd"] + [daemon for role in roles for daemon in DAEMONS_OF_ROLE.get(role, ())]
    return tuple(dict.fromkeys(names))


def describe_daemons(running: dict[str, bool]) -> list | Noted:
    """Those that run; one that does not is left out, and said (documenting it would hide it)."""
    up = [name for name, runs in running.items() if runs]
    down = [name for name, runs in running.items() if not runs]
    return Noted(up, f"not running: {', '.join(down)}") if down else up


def read_daemons(host: RemoteHost, roles: tuple[str, ...]) -> dict[str, bool]:
    return {name: system.process_running(host, name) for name in daemons_for(roles)}


# --- storage (hypervisors) ---------------------------------------------------------------


@dataclass(frozen=True)
class Storage:
    mdstat: Mdstat
    devices: tuple[BlockDevice, ...]  # lsblk
    volumes: tuple[system.LogicalVolume, ...]  # lvs, each with its /dev/dm-N
    physical_volumes: dict[str, str | None]  # pvs: device → VG
    mounts: tuple[MountedFilesystem, ...]  # findmnt --list
    mdadm_conf: str | None  # the path of mdadm.conf, when there is one
    grub: GrubDefaults | None
    grub_disks: tuple[str, ...]  # disks whose first sector holds GRUB's boot code


def _size(value: float) -> float | int:
    """Two significant digits: the inventory documents approximate sizes."""
    if value <= 0:
        return value
    rounded = float(f"{value:.2g}")
    return int(rounded) if rounded >= 10 else rounded


def describe_storage(facts: Storage) -> dict:
    device = {d.kernel_path: d for d in facts.devices}
    found: dict = {}
    arrays = []
    for array in sorted(facts.mdstat.arrays, key=lambda a: a.name):
        path = f"/dev/{array.name}"
        healthy = [m for m in sorted(array.members, key=lambda m: (m.slot is None, m.slot or 0))
                   if not (m.faulty or m.spare)]
        others = [f"{m.name} {'faulty' if m.faulty else 'spare'}" for m in array.members if m.faulty or m.spare]
        entry: dict = {"name": array.name}
        if array.level:
            entry["level"] = array.level
        entry["members"] = Noted([m.name for m in healthy], ", ".join(others)) if others else [m.name for m in healthy]
        if array.blocks:
            entry["size_mb"] = max(1, round(array.blocks / 1024))
        block = device.get(path)
        if block and block.fstype and block.fstype not in NOT_FILESYSTEMS:
            entry["filesystem"] = block.fstype
        if block and block.mountpoint and block.mountpoint != SWAP_MOUNTPOINT:
            entry["mountpoint"] = block.mountpoint
        if facts.physical_volumes.get(path):
            entry["lvm_vg"] = facts.physical_volumes[path]
        arrays.append(entry)
    if arrays:
        found["raid"] = arrays
        if facts.mdadm_conf:
            found["mdadm_conf"] = facts.mdadm_conf
    groups: dict[str, list] = {}
    for volume in facts.volumes:
        block = device.get(volume.device)
        lv: dict = {"name": volume.lv}
        if block and block.fstype == "swap":
            lv["swap"] = block.mountpoint == SWAP_MOUNTPOINT
        elif block and block.fstype and block.fstype not in NOT_FILESYSTEMS:
            lv["filesystem"] = block.fstype
        if block and block.mountpoint and block.mountpoint != SWAP_MOUNTPOINT:
            lv["mountpoint"] = block.mountpoint
        groups.setdefault(volume.vg, []).append(lv)
    if groups:
        found["volume_groups"] = [{"name": vg, "lvs": lvs} for vg, lvs in groups.items()]
    documented_elsewhere = {"/"} | {e["mountpoint"] for e in arrays if "mountpoint" in e}
    documented_elsewhere |= {lv["mountpoint"] for lvs in groups.values() for lv in lvs if "mountpoint" in lv}
    mounts = []
    for mount in facts.mounts:
        # A filesystem of its own on a block device: not a bind mount ("/dev/vda[/path]"), not the root.
        if mount.source.startswith("/dev/") and "[" not in mount.source and mount.path not in documented_elsewhere:
            entry = {"path": mount.path}
            if mount.size_bytes:
                entry["size_gb"] = _size(mount.size_bytes / 1e9)
            entry["filesystem"] = mount.fstype
            mounts.append(entry)
            documented_elsewhere.add(mount.path)
    if mounts:
        found["mounts"] = mounts
    if facts.grub_disks or (facts.grub and facts.grub.cmdline_linux_default):
        found["grub"] = {"install_disks": list(facts.grub_disks),
                         "cmdline_default_contains": list((facts.grub.cmdline_linux_default or ()) if facts.grub else ())}
    return found


def read_storage(host: RemoteHost) -> Storage:
    devices = more.block_devices(host)
    volumes = tuple(system.logical_volumes(host))
    mdstat = system.read_mdstat(host)
    conf = next((path for path in MDADM_CONFS if more.exists(host, path, "-f")), None) if mdstat.arrays else None
    grub = more.grub_default(host)
    # Boot sectors are read only where GRUB is configured (the lab's hypervisors boot without it).
    disks = tuple(d.path.removeprefix("/dev/") for d in devices if d.type == "disk") if grub else ()
    return Storage(
        mdstat=mdstat, devices=devices, volumes=volumes,
        physical_volumes=system.physical_volumes(host) if volumes else {},
        mounts=more.all_mounts(host), mdadm_conf=conf, grub=grub,
        grub_disks=tuple(disk for disk in disks if system.disk_boot_sector_has_grub(host, disk)),
    )


# --- network (hypervisors) ----------------------------------------------------------------


@dataclass(frozen=True)
class NetworkFacts:
    addresses: Addresses
    bridges: dict[str, tuple[str, ...]]
    ipv6_sysctls: dict[str, str]  # autoconf and accept_ra of every interface
    proxy_arp: dict[str, str]  # net/ipv4/conf/<bridge>/proxy_arp
    resolv: ResolvConf
    nat: IptablesSave
    rc_local: str | None
    interfaces_file: str | None
    inventory_hosts: tuple[str, ...]  # the names /etc/hosts is read for


def _gateway(routes: tuple[Route, ...]) -> dict | None:
    route = next((r for r in routes if r.dst == "default" and r.gateway), None)
    if route is None:
        return None
    return {"via": route.gateway, "onlink": True} if "onlink" in route.flags else {"via": route.gateway}


def _bridge(facts: NetworkFacts, public: str | None) -> dict | None:
    """The VM bridge: the one whose network is masqueraded (H11), else the first with an IPv4."""
    candidates = []
    for name, cidrs in facts.bridges.items():
        cidr = first_address(cidrs, 4)
        if cidr and name != public:
            candidates.append((name, cidr))
    chosen = None
    for name, cidr in candidates:
        network = _ip(cidr).network
        rule = next((r for r in facts.nat.masquerade_rules()
                     if r.source and ipaddress.ip_network(r.source, strict=False) == network), None)
        if rule:
            chosen = {"name": name, "address": cidr, "proxy_arp": False,
                      "masquerade_source": str(network), "masquerade_out_interface": rule.out_iface}
            break
    if chosen is None and candidates:
        chosen = {"name": candidates[0][0], "address": candidates[0][1], "proxy_arp": False}
    if chosen is None:
        return None
    chosen["proxy_arp"] = facts.proxy_arp.get(f"net/ipv4/conf/{chosen['name']}/proxy_arp") == "1"
    return {key: value for key, value in chosen.items() if value is not None}


def describe_network(facts: NetworkFacts) -> dict:
    addresses = facts.addresses
    public = addresses.public_interface
    found: dict = {}
    ipv4, ipv6 = addresses.public(4), addresses.public(6)
    if public and facts.interfaces_file and f"iface {public} inet" in facts.interfaces_file:
        found["configured_by"] = "/etc/network/interfaces"
    elif facts.rc_local and ipv4 and ipv4 in facts.rc_local:
        found["configured_by"] = "/etc/rc.local"
    if public:
        found["public_interface"] = public
    if ipv4:
        found["ipv4"] = ipv4
    if ipv6:
        found["ipv6"] = ipv6
    for key, routes in (("gateway4", addresses.routes4), ("gateway6", addresses.routes6)):
        gateway = _gateway(routes)
        if gateway:
            found[key] = gateway
    if facts.ipv6_sysctls:
        found["ipv6_autoconf"] = any(value != "0" for value in facts.ipv6_sysctls.values())
    found["nameservers"] = list(facts.resolv.nameservers)
    mapping = {}
    for name in facts.inventory_hosts:
        address = next((a for a in addresses.etc_hosts.addresses_for(name)
                        if not ipaddress.ip_address(a).is_loopback), None)
        if address:
            mapping[name] = address
    found["etc_hosts"] = mapping
    bridge = _bridge(facts, public)
    if bridge:
        found["bridge"] = bridge
    forwards = []
    for rule in facts.nat.dnat_rules():
        if rule.dport and rule.dport.isdigit() and rule.to_destination and ":" in rule.to_destination:
            forward = {"port": int(rule.dport), "protocol": rule.protocol or "tcp", "to": rule.to_destination}
            if forward not in forwards:
                forwards.append(forward)
    if forwards:
        found["port_forwards"] = forwards
    return found


def read_network(host: RemoteHost, addresses: Addresses, inventory_hosts: tuple[str, ...]) -> NetworkFacts:
    bridges = more.bridges(host)
    sysctls = system.sysctl_values(host, "net/ipv6/conf/*/autoconf") | system.sysctl_values(host, "net/ipv6/conf/*/accept_ra")
    proxy_arp = {}
    for name in bridges:
        proxy_arp |= system.sysctl_values(host, f"net/ipv4/conf/{name}/proxy_arp")
    return NetworkFacts(addresses, bridges, sysctls, proxy_arp, system.resolv_conf(host), system.iptables_save(host, "nat"),
                        system.file_text(host, "/etc/rc.local"), system.file_text(host, "/etc/network/interfaces"),
                        inventory_hosts)


# --- VMs (hypervisors) -----------------------------------------------------------------------


def read_vms(host: RemoteHost) -> dict[str, int] | None:
    """VM name → id on this hypervisor (None: it keeps no list discovery can read)."""
    found = more.vm_list(host)
    return None if found is None else {vm.name: vm.vmid for vm in found}
