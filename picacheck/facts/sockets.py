"""Listening sockets (`ss -Hltn`, iproute2's ss without its header) → `ListeningSocket`s,
and documented endpoints ("127.0.0.1:9200") read the same way.

A line is "State Recv-Q Send-Q Local-Address:Port Peer-Address:Port [Process]"; the local
address is an IPv4 address, `[IPv6]`, `*` (every address, of either family), and may carry
`%interface` (`127.0.0.53%lo:53`). ss's own errors and a line of another shape raise
`ParseError`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ._text import numbered_lines, raise_if_tool_error
from .errors import ParseError

PARSER = "ss -Hltn"
_ENDPOINT = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<other>[^\s\[\]]*?))(?:%(?P<interface>[^:\s]+))?:(?P<port>\d{1,5}|\*)$")
_TOOL_ERRORS = (re.compile(r"^Cannot open netlink socket"), re.compile(r"^ss: "))


@dataclass(frozen=True)
class ListeningSocket:
    address: str  # "127.0.0.1", "::1", "*", "0.0.0.0", "::"
    port: int
    interface: str | None = None  # bound to a device ("lo")

    @property
    def loopback(self) -> bool:
        """Reachable from this host only (127.0.0.0/8, ::1, ::ffff:127.x, or bound to lo)."""
        if self.interface == "lo":
            return True
        try:
            address = ipaddress.ip_address(self.address)
        except ValueError:  # "*": every address
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        return address.is_loopback or bool(mapped and mapped.is_loopback)

    @property
    def endpoint(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


def parse_ss_listening(text: str) -> tuple[ListeningSocket, ...]:
    raise_if_tool_error(PARSER, text, _TOOL_ERRORS)
    sockets = []
    for number, line in numbered_lines(text):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 5 or not fields[1].isdigit() or not fields[2].isdigit():
            raise ParseError(PARSER, "expected 'State Recv-Q Send-Q Local:Port Peer:Port'", line_no=number, line=line)
        sockets.append(_socket(fields[3], number, line))
    return tuple(sockets)


def _socket(text: str, number: int, line: str) -> ListeningSocket:
    match = _ENDPOINT.match(text)
    if not match or match["port"] == "*":
        raise ParseError(PARSER, "expected a local address:port", line_no=number, line=line)
    address = match["v6"] or match["other"] or "*"
    return ListeningSocket(address, int(match["port"]), match["interface"])


def parse_endpoint(text: str) -> ListeningSocket:
    """A documented endpoint, "127.0.0.1:9200" or "[::1]:9200", as the socket it names."""
    match = _ENDPOINT.match(text.strip())
    if not match or match["port"] == "*" or not (match["v6"] or match["other"]):
        raise ParseError("endpoint", "expected address:port", line=text)
    return ListeningSocket(match["v6"] or match["other"], int(match["port"]), match["interface"])
