"""iproute2's JSON output (`ip -j addr show`, `ip -j route show`) and sysctl values read
with `grep -H . /proc/sys/...` → typed facts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ._text import numbered_lines
from .errors import ParseError


@dataclass(frozen=True)
class Route:
    dst: str  # "default" or a CIDR
    gateway: str | None
    dev: str | None
    flags: tuple[str, ...]  # e.g. ("onlink",)


def _json_list(parser: str, text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(parser, f"not JSON ({error.msg} at char {error.pos})") from None
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise ParseError(parser, "expected a JSON list of objects")
    return data


def parse_ip_addr(text: str) -> dict[str, tuple[str, ...]]:
    """Interface → its addresses in CIDR form (`ip -j addr show`)."""
    links = {}
    for link in _json_list("ip addr", text):
        name = link.get("ifname")
        if not isinstance(name, str):
            raise ParseError("ip addr", f"a link without ifname: {link!r}"[:200])
        addresses = []
        for info in link.get("addr_info", []):
            if "local" not in info or "prefixlen" not in info:
                raise ParseError("ip addr", f"{name}: an address without local/prefixlen: {info!r}"[:200])
            addresses.append(f"{info['local']}/{info['prefixlen']}")
        links[name] = tuple(addresses)
    return links


def parse_ip_route(text: str) -> tuple[Route, ...]:
    """`ip -j route show` (either family)."""
    routes = []
    for entry in _json_list("ip route", text):
        if "dst" not in entry:
            raise ParseError("ip route", f"a route without dst: {entry!r}"[:200])
        routes.append(Route(str(entry["dst"]), entry.get("gateway"), entry.get("dev"), tuple(entry.get("flags", ()))))
    return tuple(routes)


def parse_sysctl_grep(text: str) -> dict[str, str]:
    """`grep -H . /proc/sys/<glob>`: sysctl name (as a path under /proc/sys) → value."""
    values = {}
    for number, line in numbered_lines(text):
        if not line:
            continue
        path, sep, value = line.partition(":")
        if not sep or not path.startswith("/proc/sys/"):
            raise ParseError("sysctl", "expected /proc/sys/PATH:VALUE", line_no=number, line=line)
        values[path.removeprefix("/proc/sys/")] = value.strip()
    return values
