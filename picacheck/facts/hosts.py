"""/etc/hosts → `EtcHosts` (hosts(5)).

One line per address: the IP address, then the canonical name and aliases; "#" starts a
comment anywhere on a line. As the resolver does, a line whose address is not an IP
address, or that has no name, is skipped: it is kept in `EtcHosts.invalid`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ._text import numbered_lines


@dataclass(frozen=True)
class HostsEntry:
    address: str
    names: tuple[str, ...]
    line_no: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EtcHosts:
    entries: tuple[HostsEntry, ...] = ()
    invalid: tuple[tuple[int, str], ...] = field(default=(), compare=False)

    @property
    def mapping(self) -> dict[str, tuple[str, ...]]:
        """address → names, lines for the same address merged in order."""
        result: dict[str, tuple[str, ...]] = {}
        for entry in self.entries:
            known = result.get(entry.address, ())
            result[entry.address] = known + tuple(n for n in entry.names if n not in known)
        return result

    def names_for(self, address: str) -> tuple[str, ...]:
        return self.mapping.get(address, ())

    def addresses_for(self, name: str) -> tuple[str, ...]:
        """Addresses that `name` resolves to through this file, in file order (case-insensitive)."""
        wanted = name.lower()
        found = [e.address for e in self.entries if wanted in (n.lower() for n in e.names)]
        return tuple(dict.fromkeys(found))


def parse_etc_hosts(text: str) -> EtcHosts:
    entries: list[HostsEntry] = []
    invalid: list[tuple[int, str]] = []
    for number, raw in numbered_lines(text):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2 or not _is_ip(words[0]):
            invalid.append((number, raw))
            continue
        entries.append(HostsEntry(address=words[0], names=tuple(words[1:]), line_no=number))
    return EtcHosts(entries=tuple(entries), invalid=tuple(invalid))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
