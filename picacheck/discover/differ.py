"""The drift between a documented inventory and a discovered one, in the claims' terms:
`C10: documented managers pica01, pica02; found pica01 only`.

`differences()` returns one `Difference` per field that differs (its claim, section, where,
what is documented, what was found), for the printer here and for the report. A field is
compared only when discovery can know it: never what `undiscoverable` lists (objectives,
the claims items carry, secrets), nor what the minimal inventory gave (how to reach the
hosts), nor what the discovered file lists under x-discovered.not_discovered (an
unreachable host's sections, a value the model needed but discovery did not know).
Values are compared the way the checks compare them: a documented flag or fstab option must
be there (more is not drift), sizes within 25 % (the inventory documents approximate sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from picacheck.discover.undiscoverable import given, undiscoverable
from picacheck.errors import UserError
from picacheck.inventory import load_inventory
from picacheck.inventory.model import Inventory

SECTION_ORDER = ("hosts", "corosync", "gluster", "swarm", "traefik", "services", "databases", "registry", "backups")
CLAIM_OF_KIND = {"etherpad": "S6", "chat": "S7", "kanban": "S8"}
CLAIM_OF_DATABASE = {"mysql": "S6", "postgresql": "S7"}  # the application it backs
CLAIM_OF_DUMPS = {"mysql": "B1", "postgresql": "B2"}


@dataclass(frozen=True)
class Difference:
    claim: str | None  # the claim (CLAIMS.md) the field documents
    section: str  # the inventory's section: hosts, corosync, …, backups
    where: str  # the field: hosts.alice.raid.md2.members
    what: str  # "members", "array md3"
    documented: object  # None / () / …: not documented
    found: object  # None / () / …: not found

    def line(self, subject: str = "") -> str:
        documented, found = shown(self.documented), shown(self.found)
        only = ""
        if isinstance(self.documented, (list, tuple, set)) and isinstance(self.found, (list, tuple, set)):
            if self.found and set(self.found) < set(self.documented):
                only = " only"
        prefix = f"{self.claim}: " if self.claim else ""
        return f"{prefix}{subject}documented {self.what} {documented}; found {found}{only}"

    @property
    def subject(self) -> str:
        """The host or item the field belongs to, as the printer names it ("alice md2: ")."""
        parts = self.where.split(".")
        if parts[0] == "hosts" and len(parts) > 2:
            item = f" {parts[3]}" if len(parts) > 4 and parts[2] in ("raid", "volume_groups", "mounts") else ""
            return f"{parts[1]}{item}: "
        if parts[0] in ("services", "databases") and len(parts) > 2:
            return f"{parts[1]}: "
        if parts[0] == "backups" and parts[1] in ("dumps", "rsync") and len(parts) > 3:
            return f"{parts[1][:-1] if parts[1] == 'dumps' else 'rsync'} {parts[2]}: "
        if parts[0] == "gluster" and parts[1] == "volumes" and len(parts) > 3:
            return f"{parts[2]}: "
        return ""


def shown(value) -> str:
    if value is None or value == () or value == [] or value == {}:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {shown(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(shown(v) for v in value)
    if hasattr(value, "model_dump"):
        return shown({k: v for k, v in value.model_dump(mode="json", exclude_defaults=True).items()})
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- how values are compared ---------------------------------------------------------------------


def equal(documented, found) -> bool:
    return _plain(documented) == _plain(found)


def same_set(documented, found) -> bool:
    return set(_plain(documented) or ()) == set(_plain(found) or ())


def documented_present(documented, found) -> bool:
    """Every documented entry is found (the checks ask no more)."""
    return set(documented or ()) <= set(found or ())


def found_documented(documented, found) -> bool:
    """Every entry found is documented (a registry may hold more images than the Swarm runs)."""
    return set(found or ()) <= set(documented or ())


def about(documented, found, tolerance: float = 0.25) -> bool:
    if documented is None or found is None:
        return documented is None and found is None
    return abs(found - documented) <= tolerance * documented


def close(documented, found) -> bool:
    if documented is None or found is None:
        return documented is None and found is None
    return math.isclose(documented, found, rel_tol=1e-6)


def any_if_undocumented(documented, found) -> bool:
    return documented is None or documented == found


def _plain(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# --- comparing -------------------------------------------------------------------------------------


class _Comparison:
    def __init__(self, not_discovered: dict[str, str]):
        self.not_discovered = not_discovered
        self.differences: list[Difference] = []

    def skipped(self, path: tuple[str, ...]) -> bool:
        dotted = ".".join(path)
        return (undiscoverable(path) is not None or given(path)
                or any(dotted == p or dotted.startswith(p + ".") for p in self.not_discovered))

    def field(self, claim: str | None, path: tuple[str, ...], what: str, documented, found,
              how: Callable = equal) -> None:
        if not self.skipped(path) and not how(documented, found):
            self.differences.append(Difference(claim, path[0], ".".join(path), what, documented, found))

    def fields(self, claim: str | None, path: tuple[str, ...], documented, found, names: dict[str, str | tuple]) -> None:
        """Several fields of two models: key → what it is called (or (called, how))."""
        for key, called in names.items():
            what, how = called if isinstance(called, tuple) else (called, equal)
            self.field(claim, path + (key,), what, getattr(documented, key), getattr(found, key), how)

    def items(self, claim: str | None, path: tuple[str, ...], what: str, documented: dict, found: dict,
              each: Callable | None = None, claim_of: Callable | None = None) -> None:
        """Two collections of items known by their ids: those missing, those not documented, then
        `each` (`claim_of(item)`: the claim of a documented item, when items carry theirs)."""
        if self.skipped(path):
            return
        for key in (k for k in documented if k not in found):
            self.field(claim_of(documented[key]) if claim_of else claim, path + (key,), what, key, None,
                       lambda d, f: False)
        for key in (k for k in found if k not in documented):
            self.field(claim, path + (key,), what, None, key, lambda d, f: False)
        if each:
            for key in (k for k in documented if k in found):
                each(path + (key,), documented[key], found[key])

    def section(self, claim: str | None, path: tuple[str, ...], what: str, documented, found,
                name: Callable = lambda section: "") -> bool:
        """Both have the section (True: compare inside), or the difference of one missing
        (`name(section)`: how the line names the one there)."""
        if documented is None and found is None:
            return False
        if documented is None or found is None:
            self.field(claim, path, what, None if documented is None else name(documented) or "one",
                       None if found is None else name(found) or "one", lambda d, f: False)
            return False
        return not self.skipped(path)


def differences(documented: Inventory, found: Inventory, not_discovered: dict[str, str] | None = None) -> list[Difference]:
    comparison = _Comparison(not_discovered or {})
    _hosts(comparison, documented, found)
    _cluster(comparison, documented, found)
    _services(comparison, documented, found)
    _backups(comparison, documented, found)
    order = {name: i for i, name in enumerate(SECTION_ORDER)}
    return sorted(comparison.differences, key=lambda d: order.get(d.section, len(order)))


# --- hosts -----------------------------------------------------------------------------------------


def _hosts(c: _Comparison, documented: Inventory, found: Inventory) -> None:
    def host(path, doc, got):
        # A hypervisor's addresses are H1's; a Swarm node's public one is where round robin sends users (S5),
        # the registry host's says whether it is reached directly (S10).
        address_claim = next((claim for role, claim in (("hypervisor", "H1"), ("swarm", "S5"), ("registry", "S10"))
                              if role in doc.roles), None)
        c.fields(address_claim, path, doc, got, {"public_ipv4": "public IPv4", "public_ipv6": "public IPv6",
                                                 "private_address": "private address"})
        c.fields("B6", path, doc, got, {"hypervisor": "hypervisor", "vmid": "VM id"})
        c.items("H2", path + ("raid",), "array", {a.name: a for a in doc.raid}, {a.name: a for a in got.raid},
                lambda p, d, g: c.fields(d.claim or "H2", p, d, g, {
                    "level": "level", "members": ("members", same_set), "size_mb": ("size (MB)", about),
                    "filesystem": "filesystem", "mountpoint": "mountpoint", "lvm_vg": "volume group"}),
                claim_of=lambda array: array.claim or "H2")
        if doc.raid:
            c.field("H5", path + ("mdadm_conf",), "mdadm.conf", doc.mdadm_conf, got.mdadm_conf)
        c.items("H6", path + ("volume_groups",), "volume group", {g.name: g for g in doc.volume_groups},
                {g.name: g for g in got.volume_groups}, lambda p, d, g: c.items(
                    "H6", p + ("lvs",), "logical volume", {v.name: v for v in d.lvs}, {v.name: v for v in g.lvs},
                    lambda q, dv, gv: c.fields("H6", q, dv, gv, {"filesystem": "filesystem",
                                                                  "mountpoint": "mountpoint", "swap": "swap"})))
        c.items("H13", path + ("mounts",), "mount", {m.path: m for m in doc.mounts}, {m.path: m for m in got.mounts},
                lambda p, d, g: c.fields("H13", p, d, g, {"size_gb": ("size (GB)", about), "filesystem": "filesystem"}))
        grub_doc, grub_got = doc.grub, got.grub
        c.field("H7", path + ("grub", "install_disks"), "GRUB disks", grub_doc.install_disks if grub_doc else (),
                grub_got.install_disks if grub_got else (), same_set)
        c.field("H8", path + ("grub", "cmdline_default_contains"), "GRUB_CMDLINE_LINUX_DEFAULT options",
                grub_doc.cmdline_default_contains if grub_doc else (),
                grub_got.cmdline_default_contains if grub_got else (), documented_present)
        if c.section("H9", path + ("network",), "network on", doc.network, got.network,
                     lambda n: n.public_interface or "an interface"):
            _network(c, path + ("network",), doc.network, got.network)
        c.field("H14", path + ("daemons",), "daemons", doc.daemons, got.daemons, same_set)

    c.items(None, ("hosts",), "host", documented.hosts, found.hosts, host)


def _network(c: _Comparison, path, doc, got) -> None:
    c.fields("H9", path, doc, got, {"configured_by": "configured by", "public_interface": "public interface",
                                    "ipv4": "IPv4", "ipv6": "IPv6", "gateway4": "IPv4 gateway",
                                    "gateway6": "IPv6 gateway", "ipv6_autoconf": "IPv6 autoconf"})
    c.field("H10", path + ("nameservers",), "resolvers", doc.nameservers, got.nameservers)
    c.field("H1", path + ("etc_hosts",), "/etc/hosts names", doc.etc_hosts, got.etc_hosts)
    if c.section("H11", path + ("bridge",), "VM bridge", doc.bridge, got.bridge, lambda b: b.name):
        c.fields("H11", path + ("bridge",), doc.bridge, got.bridge, {
            "name": "bridge", "address": "bridge address", "proxy_arp": "proxy_arp",
            "masquerade_source": "masqueraded network", "masquerade_out_interface": "masquerade out of"})
    c.field("H12", path + ("port_forwards",), "port forwards",
            sorted(f"{f.protocol}/{f.port} to {f.to}" for f in doc.port_forwards),
            sorted(f"{f.protocol}/{f.port} to {f.to}" for f in got.port_forwards), same_set)


# --- cluster -----------------------------------------------------------------------------------------


def _cluster(c: _Comparison, documented: Inventory, found: Inventory) -> None:
    doc, got = documented.corosync, found.corosync
    if c.section("C1", ("corosync",), "corosync cluster", doc, got, lambda s: s.cluster_name):
        c.fields("C1", ("corosync",), doc, got, {"cluster_name": "cluster name", "two_node": "two_node",
                                                "authenticated": "authenticated traffic", "conf_path": "corosync.conf"})
        c.field("C1", ("corosync", "nodes"), "nodes", [f"{n.name} (id {n.nodeid})" for n in doc.nodes],
                [f"{n.name} (id {n.nodeid})" for n in got.nodes], same_set)
        c.field("C2", ("corosync", "expected_votes"), "expected votes", doc.expected_votes, got.expected_votes)
        c.field("C2", ("corosync", "flags"), "flags", doc.flags, got.flags, documented_present)
        c.fields("C3", ("corosync",), doc, got, {"unit_restart": "Restart=", "unit_restart_sec": "RestartSec="})
    doc, got = documented.gluster, found.gluster
    if c.section("C4", ("gluster",), "gluster pool of", doc, got, lambda s: s.peers):
        c.field("C4", ("gluster", "peers"), "peers", doc.peers, got.peers, same_set)
        c.items("C5", ("gluster", "volumes"), "volume", {v.name: v for v in doc.volumes},
                {v.name: v for v in got.volumes}, lambda p, d, g: _volume(c, p, d, g))
    doc, got = documented.swarm, found.swarm
    if c.section("C10", ("swarm",), "Swarm with managers", doc, got, lambda s: s.managers):
        c.field("C10", ("swarm", "managers"), "managers", doc.managers, got.managers, same_set)
        c.field("C10", ("swarm", "workers"), "workers", doc.workers, got.workers, same_set)
        c.field("C11", ("swarm", "networks"), "networks", [f"{n.name} ({n.driver})" for n in doc.networks],
                [f"{n.name} ({n.driver})" for n in got.networks], same_set)


def _volume(c: _Comparison, path, doc, got) -> None:
    c.fields("C5", path, doc, got, {"type": "type", "replica": "replica", "bricks": "bricks"})
    c.field("C6", path + ("auth_allow_required",), "auth.allow set", doc.auth_allow_required, got.auth_allow_required)
    if c.section("C7", path + ("brick_filesystem",), "brick filesystem on", doc.brick_filesystem, got.brick_filesystem,
                 lambda b: b.mountpoint):
        c.fields("C7", path + ("brick_filesystem",), doc.brick_filesystem, got.brick_filesystem, {
            "device": ("brick device", any_if_undocumented), "filesystem": "brick filesystem",
            "mountpoint": "brick mount point"})
    if c.section("C8", path + ("mount",), "volume mounted on", doc.mount, got.mount, lambda m: m.path):
        c.fields("C8", path + ("mount",), doc.mount, got.mount, {
            "path": "mount point", "hosts": ("mounted on", same_set), "fstab_options": ("fstab options",
                                                                                      documented_present)})


# --- services ----------------------------------------------------------------------------------------


def _services(c: _Comparison, documented: Inventory, found: Inventory) -> None:
    doc, got = documented.traefik, found.traefik
    if c.section("S1", ("traefik",), "Traefik service", doc, got, lambda t: t.service):
        c.fields("S1", ("traefik",), doc, got, {"service": "service", "mode": "mode", "network": "network",
                                               "ports": ("published ports", same_set)})
        c.field("S4", ("traefik", "dashboard_port"), "dashboard port", doc.dashboard_port, got.dashboard_port)

    def service(path, d, g):
        c.field("S1", path + ("domain",), "domain", d.domain, g.domain)
        c.field(CLAIM_OF_KIND.get(d.kind, "S1"), path + ("kind",), "kind", d.kind, g.kind)

    c.items("S1", ("services",), "service", {s.name: s for s in documented.services},
            {s.name: s for s in found.services}, service)
    c.items(None, ("databases",), "database", {d.name: d for d in documented.databases},
            {d.name: d for d in found.databases},
            lambda p, d, g: c.fields(CLAIM_OF_DATABASE[d.engine], p, d, g, {
                "engine": "engine", "host": "service", "port": "port", "user": "user", "database": "database"}))
    doc, got = documented.registry, found.registry
    if c.section("S9", ("registry",), "registry", doc, got, lambda r: r.url):
        c.fields("S9", ("registry",), doc, got, {"host": "host", "url": "URL",
                                                "expected_images": ("images", found_documented)})
        c.field("S10", ("registry", "forwarded_by"), "port forward by", doc.forwarded_by, got.forwarded_by)


# --- backups -----------------------------------------------------------------------------------------


def _backups(c: _Comparison, documented: Inventory, found: Inventory) -> None:
    engines = {d.name: d.engine for d in documented.databases}

    def dump(path, d, g):
        claim = CLAIM_OF_DUMPS.get(engines.get(d.database, ""), "B1")
        c.fields(claim, path, d, g, {"directory": "directory", "host": "host", "period_hours": ("period (h)", close),
                                     "cron_time": "CRON_TIME", "name_timezone": "time zone of the names"})
        c.field("B3", path + ("max_backups",), "MAX_BACKUPS", d.max_backups, g.max_backups)

    c.items("B1", ("backups", "dumps"), "dump job of", {d.database: d for d in documented.backups.dumps},
            {d.database: d for d in found.backups.dumps}, dump)
    doc, got = documented.backups.vzdump, found.backups.vzdump
    if c.section("B6", ("backups", "vzdump"), "vzdump job on", doc, got, lambda v: v.hosts):
        c.fields("B6", ("backups", "vzdump"), doc, got, {"hosts": ("hosts", same_set), "directory": "directory",
                                                         "schedule": "schedule", "cron_file": "cron file"})
    c.items("B7", ("backups", "rsync"), "rsync pull by", {m.host: m for m in documented.backups.rsync},
            {m.host: m for m in found.backups.rsync},
            lambda p, d, g: c.fields("B7", p, d, g, {"source_host": "source", "source_address": "source address",
                                                     "path": "path", "schedule": "schedule", "cron_file": "cron file"}))


# --- files and the printer -----------------------------------------------------------------------------


def not_discovered_of(path: str | Path) -> dict[str, str]:
    """What a discovered file says it did not discover (x-discovered.not_discovered)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return {}  # load_inventory has said what is wrong with the file
    meta = data.get("x-discovered") if isinstance(data, dict) else None
    listed = meta.get("not_discovered") if isinstance(meta, dict) else None
    if listed is not None and not isinstance(listed, dict):
        raise UserError(f"{path}: x-discovered.not_discovered: expected a mapping of keys to reasons")
    return {str(k): str(v) for k, v in (listed or {}).items()}


def compare_files(documented: str | Path, discovered: str | Path) -> tuple[list[Difference], dict[str, str]]:
    """The differences, and what was not compared because discovery did not know it."""
    documented_inventory, found = load_inventory(documented), load_inventory(discovered)
    not_discovered = not_discovered_of(discovered)
    return differences(documented_inventory, found, not_discovered), not_discovered


def render(found: list[Difference], not_compared: dict[str, str], documented: str = "documented",
           discovered: str = "discovered") -> str:
    lines = []
    section = None
    for difference in found:
        if difference.section != section:
            section = difference.section
            lines.append(section)
        lines.append(f"  {difference.line(difference.subject)}")
    if not_compared:
        lines.append("not compared (not discovered):")
        lines += [f"  {where}: {why}" for where, why in not_compared.items()]
    count = f"{len(found)} difference{'s' if len(found) != 1 else ''}" if found else "no drift"
    lines.append(f"{count} between {documented} and {discovered} (what cannot be discovered is not compared)")
    return "\n".join(lines) + "\n"
