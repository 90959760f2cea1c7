"""The domains a Traefik router rule routes, from a Swarm service's labels.

    v2/v3  traefik.http.routers.<name>.rule = Host(`pad.picasoft.net`) && PathPrefix(`/`)
           (v2 also: Host(`a`, `b`); several Host() joined by ||)
    v1     traefik.frontend.rule = Host:pad.picasoft.net,pad.example;PathPrefix:/

HostRegexp, HostSNI and the other matchers name no plain domain: they add none.
"""

from __future__ import annotations

import re

_HOST_CALL = re.compile(r"(?<![A-Za-z])Host\(([^)]*)\)")
_ARGUMENT = re.compile(r"`([^`]*)`|\"([^\"]*)\"")


def rule_domains(rule: str) -> tuple[str, ...]:
    """The domains of one rule, in order, each once (lower case)."""
    found: list[str] = []
    for call in _HOST_CALL.finditer(rule):
        found += [a or b for a, b in _ARGUMENT.findall(call.group(1))]
    if not found:
        for part in rule.split(";"):
            key, sep, value = part.strip().partition(":")
            if sep and key.strip() == "Host":
                found += value.split(",")
    return tuple(dict.fromkeys(d.strip().lower() for d in found if d.strip()))


def is_rule_label(key: str) -> bool:
    """A router's rule: v1's traefik[.<name>].frontend.rule, v2/v3's traefik.http.routers.<name>.rule."""
    return key.startswith("traefik.") and (key.endswith(".frontend.rule") or key == "traefik.frontend.rule"
                                           or (".http.routers." in key and key.endswith(".rule")))


def label_domains(labels: dict[str, str]) -> tuple[str, ...]:
    """Every domain the labels' HTTP routers route, in label order."""
    found: list[str] = []
    for key, value in labels.items():
        if is_rule_label(key):
            found += rule_domains(value)
    return tuple(dict.fromkeys(found))
