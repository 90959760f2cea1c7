"""Host probes: storage (md, LVM, mounts, swap), network (addresses, routes, sysctl, NAT),
and configuration files, read on a host and returned as facts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from picacheck.facts import fstab as fstab_facts
from picacheck.facts import hosts, iptables, mdadm, mdstat, resolv
from picacheck.probes.remote import RemoteHost

# --- storage -----------------------------------------------------------------------------


def read_mdstat(host: RemoteHost) -> mdstat.Mdstat:
    return mdstat.parse_mdstat(host.check_output("cat /proc/mdstat"))


def mdadm_detail(host: RemoteHost, array: str) -> mdadm.MdadmDetail:
    return mdadm.parse_mdadm_detail(host.check_output(f"mdadm --detail /dev/{array}"))


def mdadm_conf(host: RemoteHost, path: str) -> mdadm.MdadmConf:
    return mdadm.parse_mdadm_conf(host.check_output(f"cat {path}"))


@dataclass(frozen=True)
class LogicalVolume:
    vg: str
    lv: str
    device: str  # the device-mapper node it resolves to (/dev/dm-N)


def logical_volumes(host: RemoteHost) -> list[LogicalVolume]:
    report = json.loads(host.check_output("lvs --reportformat json -o vg_name,lv_name,lv_dm_path"))
    volumes = report["report"][0]["lv"]
    resolved = host.check_output(
        "readlink -f " + " ".join(f"/dev/{v['vg_name']}/{v['lv_name']}" for v in volumes)
    ).split() if volumes else []
    return [LogicalVolume(v["vg_name"], v["lv_name"], device) for v, device in zip(volumes, resolved)]


def physical_volumes(host: RemoteHost) -> dict[str, str]:
    """Physical volume device → its volume group."""
    report = json.loads(host.check_output("pvs --reportformat json -o pv_name,vg_name"))
    return {pv["pv_name"]: pv["vg_name"] for pv in report["report"][0]["pv"]}


def active_swaps(host: RemoteHost) -> set[str]:
    """Active swap devices, resolved to their /dev/dm-N or /dev/… node."""
    lines = host.check_output("cat /proc/swaps").splitlines()[1:]
    devices = [line.split()[0] for line in lines if line.strip()]
    return set(host.check_output("readlink -f " + " ".join(devices)).split()) if devices else set()


@dataclass(frozen=True)
class MountedFilesystem:
    path: str
    source: str
    fstype: str
    size_bytes: int


def mounted(host: RemoteHost, path: str) -> MountedFilesystem | None:
    """What is mounted exactly on `path` (None: nothing, the path lives on its parent's filesystem)."""
    result = host.run(f"findmnt --json --bytes --output TARGET,SOURCE,FSTYPE,SIZE --mountpoint {path}")
    if result.rc != 0 or not result.stdout.strip():
        return None
    entry = json.loads(result.stdout)["filesystems"][0]
    return MountedFilesystem(entry["target"], entry["source"], entry["fstype"], int(entry.get("size") or 0))


def fstab(host: RemoteHost) -> fstab_facts.Fstab:
    return fstab_facts.parse_fstab(host.check_output("cat /etc/fstab"))


def disk_boot_sector_has_grub(host: RemoteHost, disk: str) -> bool:
    """GRUB's boot.img carries the string "GRUB" in the first sector of the disk."""
    return "GRUB" in host.check_output(f"dd if=/dev/{disk} bs=512 count=1 2>/dev/null | strings")


# --- network -----------------------------------------------------------------------------


def addresses(host: RemoteHost) -> dict[str, list[str]]:
    """Interface → its addresses in CIDR form."""
    links = json.loads(host.check_output("ip -j addr show"))
    return {
        link["ifname"]: [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])] for link in links
    }


def routes(host: RemoteHost, family: str = "-4") -> list[dict]:
    return json.loads(host.check_output(f"ip -j {family} route show"))


def sysctl_values(host: RemoteHost, pattern: str) -> dict[str, str]:
    """Values of /proc/sys files matching a glob, e.g. net/ipv6/conf/*/autoconf."""
    output = host.check_output(f"grep -H . /proc/sys/{pattern} 2>/dev/null || true")
    values = {}
    for line in output.splitlines():
        path, _, value = line.partition(":")
        values[path.removeprefix("/proc/sys/")] = value.strip()
    return values


def iptables_save(host: RemoteHost, table: str = "nat") -> iptables.IptablesSave:
    return iptables.parse_iptables_save(host.check_output(f"iptables-save -t {table}"))


def resolv_conf(host: RemoteHost) -> resolv.ResolvConf:
    return resolv.parse_resolv_conf(host.check_output("cat /etc/resolv.conf"))


def etc_hosts(host: RemoteHost) -> hosts.EtcHosts:
    return hosts.parse_etc_hosts(host.check_output("cat /etc/hosts"))


def file_text(host: RemoteHost, path: str) -> str | None:
    result = host.run(f"cat {path}")
    return result.stdout if result.rc == 0 else None


def process_running(host: RemoteHost, name: str) -> bool:
    return host.run(f"pgrep -x {name}").rc == 0
