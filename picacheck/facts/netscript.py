"""A shell script that sets up the network by hand (/etc/rc.local) → `NetworkScript`: the
addresses and routes its `ip` commands add.

Read as sh would split it (picacheck/facts/_shell.py: continuations, quotes, comments, and
`;` `&&` `||` between commands). Only `ip`'s own "add" commands are read (`ip [-4|-6]
addr|address|a add ADDR dev DEV`, `ip [-4|-6] route|r add DST [via GW] [dev DEV] [onlink]`);
what else the script does (sysctl echoes, iptables, brctl) is not a fact of this parser. Commands in functions, conditions or loops
are read like the others: the script's text says it adds them, not that every branch runs.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ._shell import shell_commands

_FAMILIES = {"-4": 4, "-6": 6, "-f": None}


@dataclass(frozen=True)
class ScriptAddress:
    address: str  # as written: "91.224.148.84/32"
    dev: str | None
    line_no: int


@dataclass(frozen=True)
class ScriptRoute:
    destination: str  # "default" or a prefix
    via: str | None
    dev: str | None
    onlink: bool
    family: int | None  # 6 for `ip -6 route`, 4 for `-4`, None when the command does not say
    line_no: int


@dataclass(frozen=True)
class NetworkScript:
    addresses: tuple[ScriptAddress, ...] = ()
    routes: tuple[ScriptRoute, ...] = ()

    def adds_address(self, address: str, dev: str | None = None) -> bool:
        """Whether an `ip addr add` of this address (same address and prefix, however
        written) is in the script, on `dev` where given."""
        wanted = _interface(address)
        return any(_interface(a.address) == wanted and (dev is None or a.dev == dev) for a in self.addresses)


def parse_network_script(text: str) -> NetworkScript:
    addresses, routes = [], []
    for line_no, words in shell_commands(text):
        if words[0] != "ip":
            continue
        family, words = _family(words[1:])
        if len(words) >= 3 and words[0] in ("addr", "address", "a") and words[1] == "add":
            addresses.append(ScriptAddress(words[2], _after(words, "dev"), line_no))
        elif len(words) >= 3 and words[0] in ("route", "r", "ro") and words[1] == "add":
            routes.append(ScriptRoute(words[2], _after(words, "via"), _after(words, "dev"), "onlink" in words[3:],
                                      family, line_no))
    return NetworkScript(tuple(addresses), tuple(routes))


def _family(words: list[str]) -> tuple[int | None, list[str]]:
    family = None
    while words and words[0].startswith("-"):
        option = words[0]
        if option == "-f" and len(words) > 1:
            family = {"inet": 4, "inet6": 6}.get(words[1])
            words = words[2:]
            continue
        family = _FAMILIES.get(option, family)
        words = words[1:]
    return family, words


def _after(words: list[str], keyword: str) -> str | None:
    return words[words.index(keyword) + 1] if keyword in words[:-1] else None


def _interface(text: str):
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        return text
