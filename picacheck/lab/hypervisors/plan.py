"""The hypervisors' part of the lab plan: every name, address, path and size that the
user-mode-linux machines alice and bob use, in one place.

`LAB_VALUES` is the documented state of the lab hypervisors as data (the report's values
transposed to the lab), for the lab inventory; everything else here is plumbing.
Extends `picacheck.lab.topology` (which stays the shared plan) without changing it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from picacheck.lab import topology as T

# --- where things live ------------------------------------------------------------------

HV_DIR = T.LAB_DIR / "hypervisors"  # one folder per machine: disks, COW root, seed, console log
CACHE_DIR = T.CACHE_DIR / "hypervisors"  # the root filesystem image (kept by down())
SHARED_DIR = HV_DIR / "shared"  # cluster secrets shared by alice and bob (corosync authkey, ssh key)
RUN_HV_DIR = T.RUN_DIR / "hypervisors"  # UML's uml_dir (mconsole sockets), markers
UML_DIR = RUN_HV_DIR / "uml"
CREATED_BRIDGES_FILE = RUN_HV_DIR / "created-bridges"  # bridges that this module made (down() removes)

DEBIAN_SUITE = T.DEBIAN_SUITE
DEBIAN_MIRROR = T.DEBIAN_MIRROR

# Packages of the hypervisors' root filesystem (debootstrap minbase + these, no recommends).
GUEST_PACKAGES = (
    "systemd-sysv", "udev", "dbus", "kmod",
    "openssh-server", "mdadm", "lvm2", "corosync", "rsync", "cron", "zstd",
    "iproute2", "iptables", "bridge-utils", "iputils-ping",
    "python3", "procps", "e2fsprogs", "fdisk", "sudo",
)

ROOTFS_SIZE = "2G"  # sparse ext4 image; about 450 MB used
MEMORY = "512M"  # per machine (UML maps it from /dev/shm)
BOOT_TIMEOUT = 120.0  # seconds, per machine, until SSH answers and provisioning is done
READY_TIMEOUT = 90.0  # after boot: arrays in sync, corosync quorate

# --- the hypervisors' own networks ----------------------------------------------------

PUBLIC_BRIDGE = T.BRIDGE_NAME  # picalab0: Docker's network `picalab` (made here if absent)
CLUSTER_BRIDGE = "picalab2"  # host-only, no address on the host: corosync and rsync (made here)
VMBR1_UPLINK_BRIDGE = T.PRIVATE_BRIDGE_NAME  # picalab1: alice's vmbr1 joins it when it exists
CLUSTER_SUBNET = "172.30.44.0/24"  # topology.HYPERVISOR_PRIVATE lives here
VMBR1_ADDRESS = T.VMBR1_ADDRESS
ADMIN_PRIVATE_ADDRESS = T.HOSTS["admin"].address  # the report's 10.0.42.2 (admin VM)
LAB_SUBNETS = (T.SUBNET, T.PRIVATE_SUBNET, CLUSTER_SUBNET)
NAMESERVERS = (T.DNS_ADDRESS, T.GATEWAY)  # the report's 91.224.148.10, 91.224.149.254
IPV6_GATEWAY = "fe80::31"  # as in the report: link-local, nothing answers it in the lab
DNAT_PORTS = (80, 443, 5000)
GUARD_CHAIN = "PICALAB-HV"  # host iptables chain: hypervisor traffic stays inside the lab

# --- disks: the report's names and the lab's ---------------------------------------------
# UML's block driver names its disks ubda, ubdb, …; the kernel (so /proc/mdstat) uses those
# names. Letters match the report: sda→ubda, sdb→ubdb, sdc→ubdc, sdd→ubdd.
DISKS = (  # (report name, lab name, size, role)
    ("sda", "ubda", "256M", "SSD1"),
    ("sdb", "ubdb", "256M", "SSD2"),
    ("sdc", "ubdc", "64M", "HDD1"),
    ("sdd", "ubdd", "64M", "HDD2"),
)
SAVE_DISK = ("ubde", "64M")  # /SAVE on its own disk (partition ubde1), the report's 200 GB partition
ROOT_DISK = "ubdf"  # the machine's own root: copy-on-write file over the shared image
CONFIG_VERSION = 2016120703  # corosync.conf config_version (the report's value)


@dataclass(frozen=True)
class Machine:
    name: str
    nodeid: int
    public_address: str
    cluster_address: str
    ipv6: str
    link_local: str
    uplink: bool  # whether vmbr1 gets a port on the host's private bridge (alice: admin's network)

    @property
    def dir(self) -> Path:
        return HV_DIR / self.name

    @property
    def seed_dir(self) -> Path:
        return self.dir / "seed"

    @property
    def console_log(self) -> Path:
        return self.dir / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / "uml.pid"

    @property
    def umid(self) -> str:
        return f"picalab-{self.name}"

    @property
    def mconsole(self) -> Path:
        return UML_DIR / self.umid / "mconsole"

    @property
    def cow(self) -> Path:
        return self.dir / "root.cow"

    @property
    def backing_record(self) -> Path:
        return self.dir / "root.backing"

    def disk_file(self, lab_name: str) -> Path:
        return self.dir / f"{lab_name}.img"

    def nics(self) -> list[tuple[str, str, str | None, str]]:
        """(interface inside, tap on the host, host bridge or None, MAC), in UML's order."""
        nics = [
            ("eth0", f"hv-{self.name}-clu", CLUSTER_BRIDGE, _mac(self.cluster_address)),
            ("eth1", f"hv-{self.name}-pub", PUBLIC_BRIDGE, _mac(self.public_address)),
        ]
        if self.uplink:
            nics.append(("eth2", f"hv-{self.name}-vm", VMBR1_UPLINK_BRIDGE, _mac(VMBR1_ADDRESS)))
        return nics

    def taps(self) -> list[str]:
        return [tap for _, tap, _, _ in self.nics()]


def _mac(address: str) -> str:
    """A locally administered MAC derived from an IPv4 address (stable, unique in the lab)."""
    return "02:4c:" + ":".join(f"{int(part):02x}" for part in address.split("."))


MACHINES = {
    "alice": Machine("alice", 1, T.HOSTS["alice"].address, T.HYPERVISOR_PRIVATE["alice"],
                     "fd30:42:0:5400::1/56", "fe80::80:54/64", uplink=True),
    "bob": Machine("bob", 2, T.HOSTS["bob"].address, T.HYPERVISOR_PRIVATE["bob"],
                   "fd30:42:0:5500::1/56", "fe80::80:55/64", uplink=False),
}
assert tuple(MACHINES) == tuple(T.HYPERVISORS)


def _host_values(m: Machine) -> dict:
    values = {
        "kind": "uml",
        "ssh": {"address": m.public_address, "user": "root", "port": 22, "key": str(T.SSH_KEY)},
        "init": "systemd",
        "root_filesystem": {"device": f"/dev/{ROOT_DISK}", "fstype": "ext4",
                            "note": "the UML root image (copy-on-write); pve/root exists (ext4) but is not /"},
        "public_interface": "eth1",
        "public_ipv4": f"{m.public_address}/32",
        "public_ipv6": m.ipv6,
        "link_local_ipv6": m.link_local,
        "default_route_v4": {"via": T.GATEWAY, "dev": "eth1", "onlink": True},
        "default_route_v6": {"via": IPV6_GATEWAY, "dev": "eth1"},
        "ipv6_autoconf": 0,
        "ipv6_accept_ra": 0,
        "private_interface": "eth0",
        "private_ipv4": f"{m.cluster_address}/24",
        "nameservers": list(NAMESERVERS),
        "etc_hosts": {name: other.cluster_address for name, other in MACHINES.items()},
        "network_config": "/etc/rc.local",
        "vmbr1": {"address": f"{VMBR1_ADDRESS}/24", "proxy_arp": 1,
                  "ports": ["eth2"] if m.uplink else []},
        "masquerade": {"source": T.PRIVATE_SUBNET, "out_interface": "eth1"},
        "ip_forward": 1,
        "dnat": ([{"in_interface": "eth1", "protocol": "tcp", "port": port,
                   "to": f"{ADMIN_PRIVATE_ADDRESS}:{port}"} for port in DNAT_PORTS] if m.uplink else []),
        "disks": {report: {"lab_name": lab, "size": size, "role": role}
                  for report, lab, size, role in DISKS},
        "arrays": {
            "md0": {"level": "raid1", "members": ["ubda1", "ubdb1"], "report_members": ["sda1", "sdb1"],
                    "fstype": "ext2", "mountpoint": "/boot"},
            "md1": {"level": "raid1", "members": ["ubda2", "ubdb2"], "report_members": ["sda2", "sdb2"],
                    "lvm_vg": "pve"},
            "md2": {"level": "raid1", "members": ["ubdc1", "ubdd1"], "report_members": ["sdc1", "sdd1"]},
        },
        "mdadm_conf": "/etc/mdadm/mdadm.conf",
        "lvm": {"vg": "pve", "pv": "/dev/md1", "lvs": {
            "root": {"fstype": "ext4", "mountpoint": None},
            "data": {"fstype": "ext4", "mountpoint": "/var/lib/vz"},
            "swap": {"swap": True},
        }},
        "save": {"device": f"/dev/{SAVE_DISK[0]}1", "fstype": "ext4", "mountpoint": "/SAVE",
                 "dump_dir": "/SAVE/dump", "size": SAVE_DISK[1]},
        "services": ["ssh", "corosync", "cron"],
        "grub": None,  # no bootloader under UML: H7, H8 are not applicable in the lab
    }
    return values


LAB_VALUES: dict = {
    "hosts": {name: _host_values(m) for name, m in MACHINES.items()},
    "corosync": {
        "cluster_name": "picasoft",
        "nodes": {name: {"nodeid": m.nodeid, "ring0_addr": name, "address": m.cluster_address}
                  for name, m in MACHINES.items()},
        "two_node": 1,
        "transport": "knet",
        "crypto_cipher": "aes256",
        "crypto_hash": "sha256",
        "config_version": CONFIG_VERSION,
        "unit": {"Restart": "on-failure", "RestartSec": "5s",
                 "drop_in": "/etc/systemd/system/corosync.service.d/restart.conf"},
        "expected_votes": 2,
        "quorum_flags": ["2Node", "Quorate", "WaitForAll"],
    },
    "backup": {
        "rsync": {"pulls": {"alice": {"from": "bob", "hour": 5, "address": T.HYPERVISOR_PRIVATE["bob"]},
                            "bob": {"from": "alice", "hour": 6, "address": T.HYPERVISOR_PRIVATE["alice"]}},
                  "path": "/SAVE/dump/", "cron_file": "/etc/cron.d/picasoft-save"},
        # No Proxmox in the lab: /usr/local/sbin/vzdump stands in for it (see vzdump.py).
        "vzdump": {"schedule": "0 3 * * *", "dump_dir": "/SAVE/dump", "cron_file": "/etc/cron.d/vzdump",
                   "script": "/usr/local/sbin/vzdump", "conf": "/etc/picalab/vzdump.conf", "max_age_hours": 26.0,
                   "archive": "vzdump-qemu-<VMID>-<YYYY_MM_DD-HH_MM_SS>.vma.zst (tar of the VM's data, zstd)"},
    },
    "networks": {
        "public_bridge": PUBLIC_BRIDGE,
        "cluster_bridge": CLUSTER_BRIDGE,
        "vmbr1_uplink_bridge": VMBR1_UPLINK_BRIDGE,
        "cluster_subnet": CLUSTER_SUBNET,
        "private_subnet": T.PRIVATE_SUBNET,
        "admin_private_address": ADMIN_PRIVATE_ADDRESS,
    },
}


def lab_values() -> dict:
    """A copy of LAB_VALUES (safe to modify)."""
    return copy.deepcopy(LAB_VALUES)
