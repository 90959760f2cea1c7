"""/etc/network/interfaces (ifupdown, interfaces(5)) → `Interfaces`.

Stanzas start with a keyword at the start of a line: `iface NAME FAMILY METHOD` (its option
lines follow, indented or not), `auto` / `allow-…` (interfaces brought up), `mapping`,
`source` / `source-directory` (more files, read by ifupdown where they are named: their
patterns are in `sources`, for the probe to read them too). `#` lines are comments, `\\`
continues a line. Like ifup, an unknown keyword is not fatal: it is kept in `unknown`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._text import numbered_lines

_STANZAS = ("iface", "auto", "mapping", "source", "source-directory", "no-auto-down", "no-scripts", "rename")


@dataclass(frozen=True)
class IfaceStanza:
    name: str
    family: str | None  # inet, inet6, can, ipx
    method: str | None  # static, dhcp, manual, loopback…
    options: tuple[tuple[str, str], ...] = ()
    line_no: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Interfaces:
    stanzas: tuple[IfaceStanza, ...] = ()
    auto: tuple[str, ...] = ()  # `auto` and `allow-*` names
    sources: tuple[str, ...] = ()  # `source` patterns and `source-directory` folders
    unknown: tuple[str, ...] = field(default=(), compare=False)

    def configures(self, interface: str) -> tuple[IfaceStanza, ...]:
        """The stanzas that configure `interface` (empty: ifupdown leaves it alone)."""
        return tuple(stanza for stanza in self.stanzas if stanza.name == interface)


def parse_interfaces(text: str) -> Interfaces:
    stanzas: list[IfaceStanza] = []
    auto, sources, unknown = [], [], []
    current: dict | None = None
    for line_no, line in _logical_lines(text):
        keyword, *args = line.split()
        if keyword in _STANZAS or keyword.startswith("allow-"):
            current = _close(current, stanzas)
        if keyword == "iface" and args:
            current = {"name": args[0], "family": _at(args, 1), "method": _at(args, 2), "options": [], "line_no": line_no}
        elif keyword == "auto" or keyword.startswith("allow-"):
            auto += args
        elif keyword in ("source", "source-directory"):
            sources += args
        elif current is not None and keyword not in _STANZAS:
            current["options"].append((keyword, " ".join(args)))
        elif keyword not in _STANZAS:
            unknown.append(line)
    _close(current, stanzas)
    return Interfaces(tuple(stanzas), tuple(auto), tuple(sources), tuple(unknown))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines, pending, start = [], "", None
    for line_no, raw in numbered_lines(text):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        start = start or line_no
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append((start, (pending + stripped).strip()))
        pending, start = "", None
    if pending.strip():
        lines.append((start, pending.strip()))
    return [(n, line) for n, line in lines if line]


def _close(current: dict | None, stanzas: list[IfaceStanza]) -> None:
    if current is not None:
        stanzas.append(IfaceStanza(current["name"], current["family"], current["method"], tuple(current["options"]),
                                   current["line_no"]))
    return None


def _at(values: list[str], index: int) -> str | None:
    return values[index] if len(values) > index else None
