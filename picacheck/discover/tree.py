"""The discovered inventory as plain data (dicts, lists, scalars: what YAML holds), with two
marks that the writer turns into comments:

- `Unknown(reason)`: a key that is not written, only shown as a comment
  (`# slo: {p95_ms: …}  # not discoverable: the documented objectives`);
- `Noted(value, note)`: a value written with a comment after it (`kind: chat  # from the image tx-synapse`).

Either may stand for what discovery does not know (`known=False`, an unreachable host's
sections, a value written only because the model needs one): `not_known(tree)` lists those,
so that the file says which parts `inventory diff` must not compare. An `Unknown` that is
`known` is a key that is really absent (a unit setting that systemd rejects): that is drift.
`plain(tree)` is the data that the YAML holds once loaded: marks resolved, Unknown keys gone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unknown:
    reason: str  # "not discoverable: the documented objectives", "bob is unreachable: …"
    example: str = "…"  # what the commented key shows as its value
    known: bool = False  # True: discovery knows the key is absent


@dataclass(frozen=True)
class Noted:
    value: object
    note: str
    known: bool = True  # False: the value is a placeholder, not what was found


def item_id(item) -> str | None:
    """How an item of a list is known: its name, else its database, host or path."""
    if isinstance(item, Noted):
        item = item.value
    if isinstance(item, dict):
        for key in ("name", "database", "host", "path"):
            value = item.get(key)
            value = value.value if isinstance(value, Noted) else value
            if isinstance(value, (str, int)):
                return str(value)
    return None


def not_known(node, path: tuple[str, ...] = ()) -> dict[str, str]:
    """Dotted path → reason of every mark that stands for something discovery does not know."""
    found: dict[str, str] = {}
    if isinstance(node, Unknown):
        return {} if node.known else {".".join(path): node.reason}
    if isinstance(node, Noted):
        if not node.known:
            return {".".join(path): node.note}
        node = node.value
    if isinstance(node, dict):
        for key, value in node.items():
            found |= not_known(value, path + (str(key),))
    elif isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            found |= not_known(item, path + (item_id(item) or str(index),))
    return found


def plain(node):
    """`node` without its marks: what loading the written YAML gives back."""
    if isinstance(node, Noted):
        return plain(node.value)
    if isinstance(node, dict):
        return {key: plain(value) for key, value in node.items() if not isinstance(value, Unknown)}
    if isinstance(node, (list, tuple)):
        return [plain(item) for item in node]
    return node
