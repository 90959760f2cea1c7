"""The options an experiment declares (`--option KEY=VALUE`), checked before anything is
touched (also in --dry-run): known keys, the right type, hosts that exist and have the right
role, databases that exist. Defaults come from the inventory (its roles), never from lab
host names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from picacheck.errors import UserError
from picacheck.inventory import Inventory

Default = Callable[[Inventory, dict], Any]  # (the inventory, the options chosen before) → the default


@dataclass(frozen=True)
class Option:
    name: str
    kind: str  # "host", "database", "seconds", "array"
    help: str
    default: Default | None = None  # None: the option must be given
    role: str | None = None  # for "host": the role the host must have
    maximum: float = 3600.0  # for "seconds"
    optional: bool = False  # may stay unset (None) when the inventory gives no default

    def parse(self, text: str, inventory: Inventory, chosen: dict) -> Any:
        parse = _PARSERS[self.kind]
        return parse(self, text, inventory, chosen)


def host(name: str, role: str, default: Default, help: str) -> Option:
    return Option(name, "host", help, default, role=role)


def database(name: str, default: Default, help: str) -> Option:
    return Option(name, "database", help, default)


def seconds(name: str, default: float | None, help: str, maximum: float = 3600.0, optional: bool = False) -> Option:
    return Option(name, "seconds", help, (lambda inventory, chosen: default), maximum=maximum, optional=optional)


def array(name: str, help: str, default: Default) -> Option:
    """An md array of the host option chosen before it (named `host`)."""
    return Option(name, "array", help, default)


def _parse_host(option: Option, text: str, inventory: Inventory, chosen: dict) -> str:
    if text not in inventory.hosts:
        raise UserError(f"--option {option.name}={text}: no host {text!r} in the inventory "
                        f"(hosts: {', '.join(inventory.hosts)})")
    if option.role and option.role not in _roles(inventory, text):
        candidates = ", ".join(_with_role(inventory, option.role)) or "none"
        raise UserError(f"--option {option.name}={text}: {text} is not a {option.role} host "
                        f"({option.role} hosts: {candidates})")
    return text


def _parse_database(option: Option, text: str, inventory: Inventory, chosen: dict) -> str:
    known = [db.name for db in inventory.databases]
    if text not in known:
        raise UserError(f"--option {option.name}={text}: no database {text!r} in the inventory "
                        f"(databases: {', '.join(known) or 'none'})")
    return text


def _parse_seconds(option: Option, text: str, inventory: Inventory, chosen: dict) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--option {option.name}={text}: expected a number of seconds") from None
    if not math.isfinite(value) or value < 0 or value > option.maximum:
        raise UserError(f"--option {option.name}={text}: expected seconds between 0 and {option.maximum:g}")
    return value


def _parse_array(option: Option, text: str, inventory: Inventory, chosen: dict) -> str:
    host_name = chosen.get("host")
    arrays = [a.name for a in inventory.hosts[host_name].raid] if host_name else []
    if text not in arrays:
        raise UserError(f"--option {option.name}={text}: {host_name} has no documented array {text!r} "
                        f"(arrays: {', '.join(arrays) or 'none'})")
    return text


_PARSERS = {"host": _parse_host, "database": _parse_database, "seconds": _parse_seconds, "array": _parse_array}


def _roles(inventory: Inventory, host_name: str) -> tuple[str, ...]:
    host_entry = inventory.hosts[host_name]
    roles = set(host_entry.roles)
    if inventory.swarm and host_name in inventory.swarm.managers + inventory.swarm.workers:
        roles.add("swarm")
    if inventory.corosync and host_name in {node.name for node in inventory.corosync.nodes}:
        roles.add("corosync")
    return tuple(sorted(roles))


def _with_role(inventory: Inventory, role: str) -> list[str]:
    return [name for name in inventory.hosts if role in _roles(inventory, name)]


def hosts_with_role(inventory: Inventory, role: str) -> list[str]:
    """The inventory's hosts that can play `role` for an experiment (swarm, corosync, or a
    host role such as hypervisor), in the inventory's order."""
    return _with_role(inventory, role)


def resolve(declared: tuple[Option, ...], given: dict[str, str], inventory: Inventory, experiment: str) -> dict:
    """The typed value of every declared option: what was given (checked), else its default."""
    known = {option.name: option for option in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        listing = ", ".join(f"{o.name} ({o.help})" for o in declared) or "none"
        raise UserError(f"{experiment}: unknown option {', '.join(unknown)} (its options: {listing})")
    chosen: dict = {}
    for option in declared:
        if option.name in given:
            chosen[option.name] = option.parse(given[option.name], inventory, chosen)
            continue
        value = option.default(inventory, chosen) if option.default else None
        if value is None and not option.optional:
            raise UserError(f"{experiment}: the inventory gives no default for {option.name} ({option.help}): "
                            f"give --option {option.name}=…")
        chosen[option.name] = option.parse(str(value), inventory, chosen) if value is not None else None
    return chosen


# --- defaults from the inventory's roles --------------------------------------------------------


def last_with_role(role: str) -> Default:
    """The last host of the role (the report's second node: pica02, bob), or None."""
    return lambda inventory, chosen: (hosts_with_role(inventory, role) or [None])[-1]


def first_with_role(role: str) -> Default:
    return lambda inventory, chosen: (hosts_with_role(inventory, role) or [None])[0]


def first_dumped_database(inventory: Inventory, chosen: dict) -> str | None:
    dumped = {policy.database for policy in inventory.backups.dumps}
    return next((db.name for db in inventory.databases if db.name in dumped), None)


def first_database(inventory: Inventory, chosen: dict) -> str | None:
    return inventory.databases[0].name if inventory.databases else None


# --- RUNS values: one run of `verify --chaos` per item of the inventory ----------------------------


def each_with_role(role: str):
    """One run per host of the role."""
    return lambda inventory: hosts_with_role(inventory, role)


def each_dumped_database(inventory: Inventory) -> list[str]:
    """One run per database that a dump policy backs up."""
    dumped = {policy.database for policy in inventory.backups.dumps}
    return [db.name for db in inventory.databases if db.name in dumped]


def each_database(inventory: Inventory) -> list[str]:
    return [db.name for db in inventory.databases]
