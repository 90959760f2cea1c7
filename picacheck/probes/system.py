"""Host probes: storage (md, LVM, mounts, swap), network (addresses, routes, sysctl, NAT),
and configuration files, read on a host and returned as facts."""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass

from picacheck.facts import crontab as crontab_facts
from picacheck.facts import curator, grub, hosts, interfaces, iproute, iptables, lvm, mdadm, mdstat, mounts, netscript
from picacheck.facts import fstab as fstab_facts
from picacheck.facts import resolv, sockets
from picacheck.facts.errors import ParseError
from picacheck.probes.remote import RemoteHost

# --- storage -----------------------------------------------------------------------------


def read_mdstat(host: RemoteHost) -> mdstat.Mdstat:
    return host.parsed("cat /proc/mdstat", mdstat.parse_mdstat)


def mdadm_detail(host: RemoteHost, array: str) -> mdadm.MdadmDetail:
    return host.parsed(f"mdadm --detail /dev/{array}", mdadm.parse_mdadm_detail)


def mdadm_conf(host: RemoteHost, path: str) -> mdadm.MdadmConf:
    return host.parsed(f"cat {path}", mdadm.parse_mdadm_conf)


@dataclass(frozen=True)
class LogicalVolume:
    vg: str
    lv: str
    device: str  # the device-mapper node it resolves to (/dev/dm-N)


def logical_volumes(host: RemoteHost) -> list[LogicalVolume]:
    volumes = host.parsed("lvs --reportformat json -o vg_name,lv_name,lv_dm_path", lvm.parse_lvs_report)
    resolved = resolve_paths(host, [f"/dev/{v.vg}/{v.lv}" for v in volumes])
    return [LogicalVolume(v.vg, v.lv, resolved[f"/dev/{v.vg}/{v.lv}"]) for v in volumes]


def physical_volumes(host: RemoteHost) -> dict[str, str | None]:
    """Physical volume device → its volume group."""
    return {pv.device: pv.vg for pv in host.parsed("pvs --reportformat json -o pv_name,vg_name", lvm.parse_pvs_report)}


def active_swaps(host: RemoteHost) -> set[str]:
    """Active swap devices, resolved to their /dev/dm-N or /dev/… node."""
    return set(resolve_paths(host, list(host.parsed("cat /proc/swaps", mounts.parse_proc_swaps))).values())


def resolve_paths(host: RemoteHost, paths: list[str]) -> dict[str, str]:
    """Each path with its symbolic links resolved on the host (`readlink -f`)."""
    if not paths:
        return {}
    lines = host.check_output("readlink -f " + " ".join(shlex.quote(p) for p in paths)).splitlines()
    if len(lines) != len(paths):
        raise AssertionError(f"{host.name}: `readlink -f` resolved {len(lines)} of {len(paths)} paths: {paths}")
    return dict(zip(paths, lines))


MountedFilesystem = mounts.MountedFilesystem


def mounted(host: RemoteHost, path: str) -> MountedFilesystem | None:
    """What is mounted exactly on `path` (None: nothing, the path lives on its parent's filesystem)."""
    # findmnt prints nothing and exits 1 when nothing is mounted there.
    found = host.parsed(f"findmnt --json --bytes --output TARGET,SOURCE,FSTYPE,SIZE --mountpoint {shlex.quote(path)}",
                        mounts.parse_findmnt, any_status=True)
    return found[0] if found else None


def fstab(host: RemoteHost) -> fstab_facts.Fstab:
    return host.parsed("cat /etc/fstab", fstab_facts.parse_fstab)


def grub_defaults(host: RemoteHost) -> grub.GrubDefaults:
    """/etc/default/grub, then /etc/default/grub.d/*.cfg, in the order grub-mkconfig sources them."""
    return host.parsed("cat /etc/default/grub && for f in /etc/default/grub.d/*.cfg; do "
                       "if [ -f \"$f\" ]; then cat \"$f\"; fi; done", grub.parse_default_grub)


def disk_boot_sector_has_grub(host: RemoteHost, disk: str) -> bool:
    """GRUB's boot.img carries the string "GRUB" in the first sector of the disk."""
    return "GRUB" in host.check_output(f"dd if=/dev/{disk} bs=512 count=1 2>/dev/null | strings")


# --- network -----------------------------------------------------------------------------


def addresses(host: RemoteHost) -> dict[str, tuple[str, ...]]:
    """Interface → its addresses in CIDR form."""
    return host.parsed("ip -j addr show", iproute.parse_ip_addr)


def held_addresses(host: RemoteHost) -> set[str]:
    """Every address the host holds, on any interface, without its prefix length."""
    return {str(ipaddress.ip_interface(cidr).ip) for cidrs in addresses(host).values() for cidr in cidrs}


def network_script(host: RemoteHost, path: str) -> netscript.NetworkScript | None:
    """The addresses and routes a network script (/etc/rc.local) adds (None: no such file)."""
    text = file_text(host, path)
    return None if text is None else _parsed_text(host, path, text, netscript.parse_network_script)


def interfaces_config(host: RemoteHost) -> interfaces.Interfaces:
    """/etc/network/interfaces with the files its `source` lines name (absent: nothing configured)."""
    main = interfaces.parse_interfaces(file_text(host, "/etc/network/interfaces") or "")
    # The patterns are globs, relative to /etc/network: the host's shell expands them (only
    # patterns of path and glob characters: a pattern is never run as a command).
    patterns = [pattern for pattern in main.sources if _GLOB.fullmatch(pattern)]
    if not patterns:
        return main
    included = host.run("cd /etc/network && for f in " + " ".join(patterns) + "; do "
                        "if [ -f \"$f\" ]; then cat \"$f\"; elif [ -d \"$f\" ]; then cat \"$f\"/* 2>/dev/null; fi; done").stdout
    more = interfaces.parse_interfaces(included)
    return interfaces.Interfaces(main.stanzas + more.stanzas, main.auto + more.auto, main.sources + more.sources,
                                 main.unknown + more.unknown)


_GLOB = re.compile(r"[A-Za-z0-9_./*?\[\]-]+")


def listening_tcp(host: RemoteHost) -> tuple[sockets.ListeningSocket, ...]:
    return host.parsed("ss -Hltn", sockets.parse_ss_listening)


def routes(host: RemoteHost, family: str = "-4") -> tuple[iproute.Route, ...]:
    return host.parsed(f"ip -j {family} route show", iproute.parse_ip_route)


def sysctl_values(host: RemoteHost, pattern: str) -> dict[str, str]:
    """Values of /proc/sys files matching a glob, e.g. net/ipv6/conf/*/autoconf."""
    return host.parsed(f"grep -H . /proc/sys/{pattern} 2>/dev/null || true", iproute.parse_sysctl_grep)


def iptables_save(host: RemoteHost, table: str = "nat") -> iptables.IptablesSave:
    return host.parsed(f"iptables-save -t {table}", iptables.parse_iptables_save)


def resolv_conf(host: RemoteHost) -> resolv.ResolvConf:
    return host.parsed("cat /etc/resolv.conf", resolv.parse_resolv_conf)


def etc_hosts(host: RemoteHost) -> hosts.EtcHosts:
    return host.parsed("cat /etc/hosts", hosts.parse_etc_hosts)


def crontab(host: RemoteHost, path: str, system: bool = True) -> crontab_facts.Crontab | None:
    """A crontab file (`system`: /etc/crontab and /etc/cron.d/*, with a user field); None: no such file."""
    text = file_text(host, path)
    return None if text is None else _parsed_text(host, path, text, lambda t: crontab_facts.parse_crontab(t, system=system))


def curator_jobs(host: RemoteHost, path: str) -> tuple[curator.CuratorCommand, ...] | None:
    """The Elasticsearch Curator commands of a job script (None: no such file)."""
    text = file_text(host, path)
    return None if text is None else _parsed_text(host, path, text, curator.parse_curator_script)


def file_text(host: RemoteHost, path: str) -> str | None:
    result = host.run(f"cat {shlex.quote(path)}")
    return result.stdout if result.rc == 0 else None


def is_executable(host: RemoteHost, path: str) -> bool:
    return host.run(f"test -x {shlex.quote(path)}").rc == 0


def process_running(host: RemoteHost, name: str) -> bool:
    return host.run(f"pgrep -x {shlex.quote(name)}").rc == 0


def _parsed_text(host: RemoteHost, path: str, text: str, parse):
    try:
        return parse(text)
    except ParseError as error:
        raise AssertionError(f"{host.name}: {path} cannot be read: {error}") from None
