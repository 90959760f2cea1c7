"""One discovery: ask the hosts of a minimal inventory, section by section, and assemble the
inventory they show (a `tree` for the writer).

As in a verification run: one SSH connection per host through the host pool, whose
pre-flight names the unreachable hosts at once; every command has its timeout. A host that
cannot be reached, before or during the run, is named once; its sections, and those that
only it could show, are left as placeholders with the reason, and the rest goes on. A section
that cannot be read (a tool's error, a timeout) is a placeholder with its reason too.
Nothing here changes a host: every command only reads.
"""

from __future__ import annotations

import datetime
import ipaddress
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, get_args, get_origin

import docker.errors
import requests
from pydantic import BaseModel, ValidationError

from picacheck.discover import backups, cluster, hosts, services, undiscoverable
from picacheck.discover import probes as more
from picacheck.discover.tree import Noted, Unknown, not_known, plain
from picacheck.errors import UserError
from picacheck.facts.errors import ParseError
from picacheck.inventory.loader import describe_validation_error
from picacheck.inventory.model import InconsistentInventory, Inventory
from picacheck.probes.remote import HostPool, RemoteHost
from picacheck.probes.ssh import HostUnreachable

ROLE_SIGNS = (("hypervisor", "test -e /etc/corosync/corosync.conf -o -d /etc/pve"), ("gluster", "pgrep -x glusterd"),
              ("swarm", "docker info --format '{{.Swarm.ControlAvailable}} {{.Swarm.LocalNodeState}}' | grep -q active"),
              ("registry", "pgrep -x registry || pgrep -x docker-registry"))
READ_ERRORS = (AssertionError, UserError, ParseError, docker.errors.DockerException, requests.RequestException, OSError)


@dataclass
class Discovery:
    tree: dict  # the inventory found, with the writer's marks
    unreachable: dict[str, str] = field(default_factory=dict)  # host → why
    problems: list[str] = field(default_factory=list)  # "corosync: could not be read: …"
    not_discovered: dict[str, str] = field(default_factory=dict)  # dotted key → why (an unreachable host)
    valid: str | None = None  # None: the found inventory validates; else why not

    @property
    def complete(self) -> bool:
        return not self.unreachable and not self.problems and self.valid is None


class Session:
    """The state of one discovery: the pool, what was found of each host, what went wrong."""

    def __init__(self, minimal: Inventory, pool: HostPool, selected: list[str], say: Callable[[str], None]):
        self.minimal, self.pool, self.selected, self.say = minimal, pool, selected, say
        self.found = Discovery(tree={})
        self.addresses: dict[str, hosts.Addresses] = {}
        self.networks: dict[str, dict] = {}
        self.roles: dict[str, tuple[str, ...]] = {name: minimal.hosts[name].roles for name in minimal.hosts}
        self.swarm: dict | None = None  # the Swarm as its first answering manager sees it
        self._lock = threading.Lock()

    # --- reaching hosts -----------------------------------------------------------------

    def unreachable(self, name: str, reason: str) -> None:
        with self._lock:  # hosts are asked in parallel: each is named once
            if name in self.found.unreachable:
                return
            self.found.unreachable[name] = reason
        self.say(f"{name} is unreachable: {reason}; what only it shows is left as placeholders")

    def host(self, name: str) -> RemoteHost | None:
        if name not in self.selected or name in self.found.unreachable:
            return None
        return self.pool[name]

    def attempt(self, where: str, read: Callable, *args):
        """`read(*args)`, or None when it could not be read (the reason is kept for `where`)."""
        try:
            return read(*args)
        except HostUnreachable as error:
            self.unreachable(error.host, error.reason)
            self.found.problems.append(f"{where}: {error}")
        except READ_ERRORS as error:
            self.found.problems.append(f"{where}: could not be read: {str(error)[:300]}")
        return None

    def why_not(self, where: str, role: str) -> Unknown:
        """The placeholder of a section that no reachable host with `role` could show."""
        problem = next((p for p in self.found.problems if p.startswith(where + ":")), None)
        if problem:
            return Unknown(problem.split(": ", 1)[1])
        members = [n for n in self.minimal.hosts if role in self.roles[n]]
        if any(n in self.found.unreachable for n in members):
            return Unknown(f"not discovered: {', '.join(n for n in members if n in self.found.unreachable)} unreachable")
        return Unknown(f"not discovered: no {role} host among the hosts asked")

    def with_role(self, role: str) -> dict[str, RemoteHost]:
        return {name: self.pool[name] for name in self.minimal.hosts
                if role in self.roles[name] and self.host(name) is not None}

    def names(self) -> cluster.Names:
        known = {}
        for name, host in self.minimal.hosts.items():
            aliases = {host.ssh.address, *filter(None, (host.public_ipv4, host.private_address))}
            if name in self.addresses:
                aliases |= {cidr.split("/")[0] for cidrs in self.addresses[name].interfaces.values() for cidr in cidrs}
            known[name] = aliases - {"127.0.0.1", "::1"}
        return cluster.Names(known)


# --- hosts ----------------------------------------------------------------------------------


def _read_roles(host: RemoteHost) -> tuple[str, ...]:
    return tuple(role for role, sign in ROLE_SIGNS if host.run(sign).rc == 0)


def _host(session: Session, name: str) -> dict:
    given = session.minimal.hosts[name]
    entry: dict = {"roles": list(given.roles), "ssh": given.ssh.model_dump(mode="json", exclude_defaults=True)}
    remote = session.host(name)
    if remote is None:
        reason = session.found.unreachable.get(name)
        why = f"{name} is unreachable: {reason}" if reason else "not discovered: not among the hosts asked"
        session.found.not_discovered[f"hosts.{name}"] = why  # nothing of it is compared
        keys = ("public_ipv4", "raid", "volume_groups", "network", "daemons") if "hypervisor" in given.roles \
            else ("public_ipv4", "daemons")
        for key in keys:
            entry[key] = Unknown(why, known=True)  # said once, in not_discovered
        return entry
    if not given.roles:
        roles = session.attempt(f"hosts.{name}.roles", _read_roles, remote) or ()
        session.roles[name] = roles
        entry["roles"] = Noted(list(roles), "roles inferred from what runs there: check them")
    roles = session.roles[name]
    addresses = session.attempt(f"hosts.{name}.addresses", hosts.read_addresses, remote)
    if addresses is not None:
        session.addresses[name] = addresses
        entry |= hosts.describe_addresses(name, addresses, behind_jump=given.ssh.jump is not None)
    if "hypervisor" in roles:
        storage = session.attempt(f"hosts.{name}.storage", hosts.read_storage, remote)
        if storage is not None:
            entry |= hosts.describe_storage(storage)
        if addresses is not None:
            facts = session.attempt(f"hosts.{name}.network", hosts.read_network, remote, addresses,
                                    tuple(session.minimal.hosts))
            if facts is not None:
                entry["network"] = session.networks[name] = hosts.describe_network(facts)
    running = session.attempt(f"hosts.{name}.daemons", hosts.read_daemons, remote, roles)
    if running is not None:
        entry["daemons"] = hosts.describe_daemons(running)
    return entry


def _place_vms(session: Session, found: dict[str, dict]) -> None:
    """Each VM's hypervisor and id, from the hypervisors' VM lists (B6)."""
    for name in session.with_role("hypervisor"):
        vms = session.attempt(f"hosts.{name}.vms", hosts.read_vms, session.pool[name])
        for vm, vmid in (vms or {}).items():
            if vm in found and vm != name:
                found[vm]["hypervisor"], found[vm]["vmid"] = name, vmid
    unasked = [n for n in session.minimal.hosts if "hypervisor" in session.roles[n] and session.host(n) is None]
    for name, given in session.minimal.hosts.items():
        if "hypervisor" in found[name] or "hypervisor" in session.roles[name]:
            continue
        if given.hypervisor:
            found[name]["hypervisor"] = Noted(given.hypervisor, "from the minimal inventory", known=False)
            if given.vmid:
                found[name]["vmid"] = Noted(given.vmid, "from the minimal inventory", known=False)
        elif unasked:
            why = f"not discovered: the VM lists of {', '.join(unasked)} were not read"
            found[name]["hypervisor"] = Unknown(why)
            found[name]["vmid"] = Unknown(why)


def _ordered(entry: dict, model) -> dict:
    """The keys of `entry` in the order of the model's fields (as the documentation reads),
    in its nested sections and items too."""
    fields = model.model_fields
    order = list(fields)
    ordered = {}
    for key, value in sorted(entry.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)):
        ordered[key] = _ordered_value(value, fields[key].annotation) if key in fields else value
    return ordered


def _ordered_value(value, annotation):
    """`value` ordered as the annotation's model says: a model, a tuple of them, a dict of them."""
    if isinstance(value, Noted):
        return Noted(_ordered_value(value.value, annotation), value.note, value.known)
    model = _model_in(annotation)
    if model is None:
        return value
    if isinstance(value, dict) and _holds_dict(annotation):
        return {key: _ordered_value(item, model) for key, item in value.items()}  # hosts: name → host
    if isinstance(value, dict):
        return _ordered(value, model)
    if isinstance(value, list):
        return [_ordered_value(item, model) for item in value]
    return value


def _model_in(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for arg in get_args(annotation) if (found := _model_in(arg))), None)


def _holds_dict(annotation) -> bool:
    return get_origin(annotation) is dict or any(_holds_dict(arg) for arg in get_args(annotation)
                                                  if get_origin(arg) is not None)


# --- cluster, services, backups ----------------------------------------------------------------


def _first(session: Session, role: str, where: str, read: Callable, *args):
    """What the first reachable host with `role` shows (the next one if it cannot)."""
    for name, remote in session.with_role(role).items():
        found = session.attempt(where, read, remote, *args)
        if found is not None:
            return found
    return None


def _manager(session: Session) -> RemoteHost | None:
    """The first Swarm node that answers as a manager (a worker refuses the Swarm's API)."""
    refusals = []
    for name, remote in session.with_role("swarm").items():
        try:
            session.swarm = cluster.read_swarm(remote, session.names())
            return remote
        except HostUnreachable as error:
            session.unreachable(error.host, error.reason)
        except READ_ERRORS as error:
            refusals.append(f"{name}: {str(error)[:200]}")
    if refusals:
        session.found.problems.append(f"swarm: could not be read: no node answered as a manager ({'; '.join(refusals)})")
    return None


def _sections(session: Session) -> dict:
    tree: dict = {}
    names = session.names()
    hypervisors = [n for n in session.minimal.hosts if "hypervisor" in session.roles[n]]
    if hypervisors:
        corosync = _first(session, "hypervisor", "corosync", cluster.read_corosync, names)
        if corosync is None:
            tree["corosync"] = session.why_not("corosync", "hypervisor")
        elif corosync:  # {}: the hypervisors asked have no corosync.conf
            tree["corosync"] = corosync
    gluster_hosts = session.with_role("gluster")
    if gluster_hosts:
        tree["gluster"] = session.attempt("gluster", cluster.read_gluster, gluster_hosts, names) \
            or session.why_not("gluster", "gluster")
    elif any("gluster" in session.roles[n] for n in session.minimal.hosts):
        tree["gluster"] = session.why_not("gluster", "gluster")
    swarm_nodes = [n for n in session.minimal.hosts if "swarm" in session.roles[n]]
    manager = _manager(session) if swarm_nodes else None
    found_services = session.attempt("services", services.read_services, manager) if manager else None
    if swarm_nodes:
        tree["swarm"] = session.swarm if manager else session.why_not("swarm", "swarm")
    if found_services is not None:
        specs = list(found_services.specs.values())
        traefik = services.traefik_service(found_services)
        networks = [n["name"] for n in session.swarm["networks"]]
        if traefik is not None:
            tree["traefik"] = services.describe_traefik(traefik, found_services.traefik_static, networks)
        tree["services"] = services.describe_services(found_services.services, found_services.specs)
        tree["databases"] = services.describe_databases(specs)
        registry = _registry(session, specs)
        if registry:
            tree["registry"] = registry
        tree["backups"] = {"dumps": backups.describe_dumps(specs, services.database_names(specs),
                                                           lambda path: _readable_on(session, path))}
    elif swarm_nodes:
        why = session.why_not("services" if manager else "swarm", "swarm")
        for key in ("traefik", "services", "databases", "registry"):
            tree[key] = why
        tree["backups"] = {"dumps": why}
    if hypervisors:
        tree.setdefault("backups", {}).update(_hypervisor_backups(session, names))
    return tree


def _readable_on(session: Session, directory: str) -> str | None:
    for name, remote in session.with_role("swarm").items():
        if session.attempt(f"backups.dumps {directory}", more.exists, remote, directory, "-d"):
            return name
    return None


def _registry(session: Session, specs) -> dict | None:
    host = next((n for n in session.minimal.hosts if "registry" in session.roles[n]), None)
    if host is None:
        return None
    addresses = {session.minimal.hosts[host].ssh.address}
    if host in session.addresses:
        addresses |= {c.split("/")[0] for cidrs in session.addresses[host].interfaces.values() for c in cidrs}
    found = services.describe_registry(host, specs, None)
    if found is None:
        return None
    port = found["url"].rsplit(":", 1)[-1]
    found["forwarded_by"] = next(
        (hypervisor for hypervisor, network in session.networks.items()
         for forward in network.get("port_forwards", ())
         if str(forward["port"]) == port and forward["to"].rsplit(":", 1)[0] in addresses), None)
    hypervisors = [n for n in session.minimal.hosts if "hypervisor" in session.roles[n]]
    if found["forwarded_by"] is None and any(n not in session.networks for n in hypervisors):
        # A hypervisor whose rules were not read may be the one that forwards (S10): unknown, not "none".
        found["forwarded_by"] = session.why_not("registry.forwarded_by", "hypervisor")
    return found


def _hypervisor_backups(session: Session, names: cluster.Names) -> dict:
    reachable = session.with_role("hypervisor")
    vzdump_jobs, rsync_jobs = {}, {}
    for name, remote in reachable.items():
        vzdump_jobs[name] = session.attempt(f"backups.vzdump {name}", backups.read_cron_jobs, remote, "vzdump") or {}
        rsync_jobs[name] = session.attempt(f"backups.rsync {name}", backups.read_cron_jobs, remote, "rsync") or {}

    def addresses_of(puller: str, written: str) -> tuple[str | None, str | None]:
        """The inventory host and the address a job's source stands for (a name: as the puller resolves it)."""
        try:
            address = str(ipaddress.ip_address(written))
        except ValueError:
            known = session.addresses.get(puller)
            address = next(iter(known.etc_hosts.addresses_for(written)), None) if known else None
        return (names.of(address) if address else None) or names.of(written), address

    found: dict = {}
    missing = [n for n in session.minimal.hosts if "hypervisor" in session.roles[n] and n not in reachable]
    vzdump = backups.describe_vzdump(vzdump_jobs)
    found["vzdump"] = vzdump if vzdump and not missing else (
        Noted(vzdump, f"not asked: {', '.join(missing)}", known=False) if vzdump else
        session.why_not("backups.vzdump", "hypervisor"))
    rsync = backups.describe_rsync(rsync_jobs, addresses_of)
    found["rsync"] = Noted(rsync, f"not asked: {', '.join(missing)}", known=False) if missing else rsync
    return found


# --- the whole ------------------------------------------------------------------------------------


def discover(minimal: Inventory, pool: HostPool, selected: list[str] | None = None, *,
             say: Callable[[str], None] = lambda line: None, source: str = "") -> Discovery:
    """The inventory that the hosts of `minimal` show (`selected`: ask only these)."""
    selected = list(minimal.hosts) if selected is None else selected
    session = Session(minimal, pool, selected, say)
    for name, reason in pool.preflight().items():
        if name in selected:
            session.unreachable(name, reason)
    with ThreadPoolExecutor(max_workers=max(1, len(minimal.hosts))) as workers:
        found_hosts = dict(zip(minimal.hosts, workers.map(lambda name: _host(session, name), minimal.hosts)))
    _place_vms(session, found_hosts)
    tree: dict = {"environment": minimal.environment.model_dump(mode="json", exclude_defaults=True)}
    tree["hosts"] = found_hosts
    tree |= _sections(session)
    session.found.tree = assemble(tree, source, session.found.not_discovered)
    session.found.valid = _validation_problem(session.found.tree)
    return session.found


def assemble(tree: dict, source: str = "", not_discovered: dict[str, str] | None = None) -> dict:
    """The tree in the inventory's order, its unknowns listed under x-discovered, placeholders
    for what cannot be discovered."""
    # Before the placeholders of what is never discoverable: the differ knows those.
    unknown = {**(not_discovered or {}), **not_known(tree)}
    unknown = {key: why for key, why in unknown.items()  # a host not asked covers its own keys
               if not any(key.startswith(parent + ".") for parent in unknown)}
    undiscoverable.mark(tree)
    meta = {"from": source or "a minimal inventory",
            "at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    if unknown:
        meta["not_discovered"] = unknown
    return {"x-discovered": meta, **_ordered(tree, Inventory)}


def _validation_problem(tree: dict) -> str | None:
    data = {k: v for k, v in plain(tree).items() if not k.startswith("x-")}
    try:
        Inventory.model_validate(data)
    except ValidationError as error:
        return describe_validation_error(error)
    except InconsistentInventory as error:
        return str(error)
    return None
