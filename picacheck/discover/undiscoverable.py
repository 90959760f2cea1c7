"""What discovery cannot find on the hosts, and why: one table, read by the writer (commented
placeholders), the differ (not drift) and `fill_from` (taken from a documented inventory).

A field is named by a pattern of keys, "*" standing for any host or any item of a list
(items are known by their name, or database, host or path: see `tree.item_id`). Three kinds:
- documented intentions: objectives, grace periods, the claim an array carries;
- secrets and the suite's own files (password files, CA files): they live where the suite runs;
- facts outside the hosts (which resolver the users ask, whether an address is public).
What the minimal inventory gives (how to reach the hosts, the environment) is copied, not
discovered: GIVEN, not compared either.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Iterable, Iterator

from picacheck.discover.tree import Noted, Unknown, item_id
from picacheck.inventory.model import Inventory

FILL_IN = "FILL-IN"  # the value of a required field that cannot be discovered (the file must load)


@dataclass(frozen=True)
class Field:
    pattern: str
    why: str
    example: str = "…"
    required: bool = False  # the model needs a value: FILL_IN is written, with the comment

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("."))


UNDISCOVERABLE: tuple[Field, ...] = (
    Field("hosts.*.raid.*.claim", "the claim (CLAIMS.md) that documents this array", "H…"),
    Field("swarm.images_on_every_node", "a documented requirement (C12), not a state", "true"),
    Field("traefik.dashboard_public_ok", "whether the documentation accepts a public dashboard (S4)", "false"),
    Field("traefik.redirect_status", "the redirect statuses the documentation accepts (S2)", "[301, 308]"),
    Field("traefik.cert_warning_days", "the documented warning window of the certificates (S3)", "14"),
    Field("dns", "which resolver the users ask, and which nodes it must answer (S5): outside the hosts",
          "{servers: […], round_robin_hosts: […]}"),
    Field("tls", "the suite's trust anchor (a file where it runs) and the CA the documentation names (S3)",
          "{ca_file: …, acme_ca_name: …}"),
    Field("services.*.health_path", "the path that answers when the service works, as documented", "/"),
    Field("services.*.requires_login", "the documented access policy (S8)", "false"),
    Field("services.*.slo", "the documented objectives (L1)", "{p95_ms: …, max_failure_ratio: …, min_rps: …}"),
    Field("services.*.database", "which database an application uses is in its own configuration, not in its "
                                 "Swarm service"),
    Field("databases.*.password_file", "a secret: a file where the suite runs"),
    Field("databases.*.password_env", "a secret: a variable of the environment the suite runs in"),
    Field("registry.user", "the registry's htpasswd user (its password is a secret)", required=True),
    Field("registry.password_file", "a secret: a file where the suite runs"),
    Field("registry.password_env", "a secret: a variable of the environment the suite runs in"),
    Field("registry.ca_file", "the suite's trust anchor for the registry, a file where it runs"),
    Field("registry.public_ip", "whether the registry's address is public is a fact of the network (S10)", "false"),
    Field("backups.dumps.*.grace_minutes", "the documented grace after the period (B1, B2)", "30"),
    Field("backups.dumps.*.name_format", "set in the dump job's script, not in its service", "'%Y.%m.%d.%H%M%S.sql'"),
    Field("backups.vzdump.max_age_hours", "how old \"every night\" may be, as documented (B6)", "26"),
    Field("backups.documented_loss_hours", "what the documentation says of the data loss (B8)", "[6, 24]"),
    Field("monitoring", "not discovered yet: metricbeat, its SSH tunnel and Elasticsearch (S11) are left to "
                        "a later version", "{host: …, shippers: […]}"),
    Field("not_applicable", "why this environment cannot show a claim is the documentation's word",
          "{H7: …}"),
)

GIVEN: tuple[str, ...] = ("environment", "hosts.*.ssh", "hosts.*.roles")  # copied from the minimal inventory


# --- matching ---------------------------------------------------------------------------


def matches(keys: tuple[str, ...], path: tuple[str, ...]) -> bool:
    """`path` is the field `keys` names, or inside it."""
    return len(path) >= len(keys) and all(k in ("*", p) for k, p in zip(keys, path))


def undiscoverable(path: tuple[str, ...]) -> Field | None:
    return next((field for field in UNDISCOVERABLE if matches(field.keys, path)), None)


def given(path: tuple[str, ...]) -> bool:
    return any(matches(tuple(pattern.split(".")), path) for pattern in GIVEN)


def places(data, keys: tuple[str, ...], path: tuple[str, ...] = ()) -> Iterator[tuple[dict, str, tuple[str, ...]]]:
    """(mapping, key, path of the key) of every mapping in `data` that the pattern's last key belongs to."""
    if isinstance(data, Noted):
        data = data.value
    if not keys or not isinstance(data, (dict, list)):
        return
    first, rest = keys[0], keys[1:]
    if isinstance(data, list):
        for item in data:
            name = item_id(item)
            if name is not None and first in ("*", name):
                yield from places(item, rest, path + (name,))
        return
    if not rest:
        yield data, first, path + (first,)
        return
    for key, value in data.items():
        if first in ("*", key):
            yield from places(value, rest, path + (key,))


def lookup(data, path: tuple[str, ...]):
    """The value at `path` (items of lists by `item_id`), or None."""
    for key in path:
        if isinstance(data, Noted):
            data = data.value
        if isinstance(data, dict):
            data = data.get(key)
        elif isinstance(data, list):
            data = next((item for item in data if item_id(item) == key), None)
        else:
            return None
    return data.value if isinstance(data, Noted) else data


# --- the writer's placeholders, and filling them --------------------------------------


def mark(tree: dict) -> dict:
    """`tree` with a placeholder for every undiscoverable field that it does not set."""
    for field in UNDISCOVERABLE:
        for mapping, key, _ in list(places(tree, field.keys)):
            if key in mapping and not isinstance(mapping[key], Unknown):
                continue
            reason = f"not discoverable: {field.why}"
            mapping[key] = Noted(FILL_IN, reason + ": fill it in") if field.required else Unknown(reason, field.example)
    return tree


def fill_from(discovered: dict, documented: Inventory, note: str | None = None,
              not_discovered: Iterable[str] = ()) -> dict:
    """The discovered inventory (its tree, or its YAML loaded) with every undiscoverable field
    that the documented inventory sets taken from it, and the fields `not_discovered` names
    (dotted keys, as x-discovered lists them), items matched by name (services, databases…);
    `note`: the comment each taken value carries in the written file."""
    filled = copy.deepcopy(discovered)
    source = documented.model_dump(mode="json", exclude_none=True)
    targets = [place for field in UNDISCOVERABLE for place in places(filled, field.keys)]
    for dotted in not_discovered:
        *parent, key = tuple(dotted.split("."))
        mapping = lookup(filled, tuple(parent))
        if isinstance(mapping, dict):
            targets.append((mapping, key, tuple(parent) + (key,)))
    for mapping, key, path in targets:
        value = lookup(source, path)
        if value is not None:
            mapping[key] = Noted(copy.deepcopy(value), note) if note else copy.deepcopy(value)
    return filled
