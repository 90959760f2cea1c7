"""Traefik static configuration (TOML or YAML) → `TraefikStatic`.

Reads the file with tomllib / PyYAML and looks up the settings the checks need, in the
shapes of Traefik 1.x and 2.x/3.x (keys are matched case-insensitively, as Traefik does):

- entry points and their addresses;
- the HTTP → HTTPS redirect: v1 `[entryPoints.http.redirect] entryPoint = "https"` (or a
  regex/replacement to https://), v2/v3 `entryPoints.web.http.redirections.entryPoint.to`
  (scheme defaults to https). A commented-out redirect is not a redirect (the TOML/YAML
  reader drops comments);
- ACME: v1 `[acme]`, v2/v3 each `certificatesResolvers.<name>.acme`; the challenge is
  "http", "tls" or "dns" from the table present, None when there is none (Traefik ≤ 1.6
  then fell back to TLS-SNI-01, which Let's Encrypt switched off in 2019);
- the dashboard/API: v1 `[web]` (address, default ":8080") or `[api]` (entry point
  "traefik"), v2/v3 `[api]` (`insecure = true` publishes it on the "traefik" entry point,
  ":8080" by default).

`version` is guessed from the keys; `compatible_versions` says which majors the keys
fit (a v3 file that uses no v3-only key reads as (2, 3)), and `version` is the lowest.

Templated files: placeholders such as `{{DOMAIN}}`, `{{.Env.X}}`, `${email}` or `%%EMAIL%%`
inside strings are valid TOML/YAML and are listed in `placeholders` (those of the values and
keys Traefik reads: one in a comment is not a setting). A template that is not
valid TOML/YAML as it stands (a placeholder in place of a number or a table name) raises
`ParseError` naming the placeholders; `fill_placeholders` substitutes them first.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

import yaml

from .errors import ParseError

PARSER = "traefik static config"
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\$\{[^{}]*\}|%%[A-Za-z_][A-Za-z0-9_]*%%")
_V1_TOP_KEYS = {
    "defaultentrypoints", "acme", "web", "docker", "file", "loglevel", "debug", "retry", "frontends",
    "backends", "traefiklog", "accesslogsfile", "consulcatalog", "marathon", "rancher", "ecs", "boltdb",
    "etcd", "consul", "zookeeper", "eureka", "servicefabric", "gracetimeout", "insecureskipverify", "rootcas",
}
_V1_ENTRYPOINT_KEYS = {"redirect", "tls", "auth", "whitelist", "whitelistsourcerange", "compress"}
_V2_TOP_KEYS = {"certificatesresolvers", "providers", "global", "serverstransport", "pilot", "experimental", "log", "tracing"}
_V3_MARKERS = (("providers", "swarm"), ("core",), ("tracing", "otlp"), ("metrics", "otlp"), ("experimental", "otlplogs"), ("ocsp",), ("spiffe",))


@dataclass(frozen=True)
class AcmeConfig:
    resolver: str | None  # the certificatesResolvers name (v2/v3), None for v1 [acme]
    email: str | None = None
    storage: str | None = None
    ca_server: str | None = None
    challenge: str | None = None  # "http", "tls", "dns" or None
    challenge_entrypoint: str | None = None
    dns_provider: str | None = None
    entrypoint: str | None = None  # v1 acme.entryPoint
    on_demand: bool | None = None
    on_host_rule: bool | None = None
    domains: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (main, sans)

    @property
    def uses_staging_ca(self) -> bool:
        return "staging" in (self.ca_server or "")


@dataclass(frozen=True)
class DashboardConfig:
    enabled: bool
    address: str | None = None  # where it listens, None when only routed (v2 without insecure)
    source: str | None = None  # "web" (v1 [web]) or "api"
    insecure: bool = False


@dataclass(frozen=True)
class TraefikStatic:
    version: int
    compatible_versions: tuple[int, ...]
    entrypoints: dict[str, str | None]
    redirects: tuple[tuple[str, str], ...] = ()  # (from entry point, to entry point or URL)
    http_to_https_redirect: bool = False
    acme_resolvers: tuple[AcmeConfig, ...] = ()
    dashboard: DashboardConfig = DashboardConfig(enabled=False)
    placeholders: tuple[str, ...] = ()
    document: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def acme(self) -> AcmeConfig | None:
        """The ACME settings (the first resolver when there are several)."""
        return self.acme_resolvers[0] if self.acme_resolvers else None

    @property
    def acme_enabled(self) -> bool:
        return bool(self.acme_resolvers)


def parse_traefik_static(text: str, fmt: str = "toml") -> TraefikStatic:
    """Parse traefik.toml (fmt="toml") or traefik.yml (fmt="yaml")."""
    document = _load(text, fmt)
    versions = _compatible_versions(document)
    entrypoints = _entrypoints(document)
    redirects = _redirects(document, versions[0])
    return TraefikStatic(
        version=versions[0], compatible_versions=versions,
        entrypoints={name: _text(_get(ep, "address")) for name, ep in entrypoints.items()},
        redirects=tuple(r[:2] for r in redirects), http_to_https_redirect=any(r[2] for r in redirects),
        acme_resolvers=_acme(document, versions[0]), dashboard=_dashboard(document, versions[0], entrypoints),
        placeholders=tuple(dict.fromkeys(_placeholders(document))), document=document,
    )


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace `{{KEY}}`, `{{ .Env.KEY }}` and `${KEY}` by values[KEY] (others are left alone)."""
    def replace(match: re.Match[str]) -> str:
        key = re.sub(r"^\{\{\s*(?:\.Env\.)?|\s*\}\}$|^\$\{|\}$|^%%|%%$", "", match.group())
        return values.get(key, match.group())

    return _PLACEHOLDER.sub(replace, text)


def _placeholders(node: object) -> list[str]:
    """The placeholders in the document's keys and string values, in document order."""
    if isinstance(node, dict):
        return [found for key, value in node.items() for found in _placeholders(key) + _placeholders(value)]
    if isinstance(node, list):
        return [found for item in node for found in _placeholders(item)]
    return _PLACEHOLDER.findall(node) if isinstance(node, str) else []


def _load(text: str, fmt: str) -> dict:
    if fmt not in ("toml", "yaml"):
        raise ParseError(PARSER, f"fmt must be 'toml' or 'yaml', not {fmt!r}")
    try:
        document = tomllib.loads(text) if fmt == "toml" else yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError) as error:
        placeholders = sorted(set(_PLACEHOLDER.findall(text)))
        hint = f" (template placeholders {', '.join(placeholders)}: fill them first)" if placeholders else ""
        raise ParseError(PARSER, f"not valid {fmt.upper()}: {error}{hint}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ParseError(PARSER, f"the top level must be a table/mapping, got {type(document).__name__}")
    return document


def _get(node: object, *path: str) -> object:
    """node[path…] with case-insensitive keys, None when any step is missing."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = next((v for k, v in node.items() if isinstance(k, str) and k.lower() == key.lower()), None)
    return node


def _has(node: object, *path: str) -> bool:
    *parent, last = path
    holder = _get(node, *parent)
    return isinstance(holder, dict) and any(isinstance(k, str) and k.lower() == last.lower() for k in holder)


def _text(value: object) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _keys(node: object) -> set[str]:
    return {k.lower() for k in node if isinstance(k, str)} if isinstance(node, dict) else set()


def _entrypoints(document: dict) -> dict[str, dict]:
    entrypoints = _get(document, "entryPoints")
    if not isinstance(entrypoints, dict):
        return {}
    return {str(name): ep if isinstance(ep, dict) else {} for name, ep in entrypoints.items()}


def _compatible_versions(document: dict) -> tuple[int, ...]:
    top = _keys(document)
    entrypoint_keys = set().union(*(_keys(ep) for ep in _entrypoints(document).values()))
    if top & _V1_TOP_KEYS or entrypoint_keys & _V1_ENTRYPOINT_KEYS:
        return (1,)
    if any(_has(document, *marker) for marker in _V3_MARKERS):
        return (3,)
    if top & _V2_TOP_KEYS or "http" in entrypoint_keys or _has(document, "api", "insecure"):
        return (2, 3)
    return (1, 2, 3)


def _redirects(document: dict, version: int) -> list[tuple[str, str, bool]]:
    """(from, to, goes to https) for each entry point that redirects."""
    entrypoints = _entrypoints(document)
    found = []
    for name, ep in entrypoints.items():
        if version == 1 and isinstance(_get(ep, "redirect"), dict):
            target = _text(_get(ep, "redirect", "entryPoint"))
            replacement = _text(_get(ep, "redirect", "replacement")) or ""
            if target:
                found.append((name, target, _is_tls_entrypoint(entrypoints.get(target), target)))
            elif replacement:
                found.append((name, replacement, replacement.startswith("https://")))
        redirection = _get(ep, "http", "redirections", "entryPoint")
        if isinstance(redirection, dict) and _text(_get(redirection, "to")):
            scheme = _text(_get(redirection, "scheme")) or "https"
            found.append((name, _text(_get(redirection, "to")) or "", scheme == "https"))
    return found


def _is_tls_entrypoint(ep: dict | None, name: str) -> bool:
    address = _text(_get(ep, "address")) or ""
    return _has(ep, "tls") or address.endswith(":443") or name.lower() == "https"


def _acme(document: dict, version: int) -> tuple[AcmeConfig, ...]:
    configs = []
    if version == 1 and isinstance(_get(document, "acme"), dict):
        configs.append(_acme_config(None, _get(document, "acme")))
    resolvers = _get(document, "certificatesResolvers")
    if isinstance(resolvers, dict):
        for name, resolver in resolvers.items():
            acme = _get(resolver, "acme")
            if isinstance(acme, dict):
                configs.append(_acme_config(str(name), acme))
    return tuple(configs)


def _acme_config(resolver: str | None, acme: dict) -> AcmeConfig:
    challenge = next((kind for kind, key in (("http", "httpChallenge"), ("tls", "tlsChallenge"), ("dns", "dnsChallenge"))
                      if _has(acme, key)), None)
    challenge_table = _get(acme, f"{challenge}Challenge") if challenge else None
    return AcmeConfig(
        resolver=resolver, email=_text(_get(acme, "email")),
        storage=_text(_get(acme, "storage")) or _text(_get(acme, "storageFile")),
        ca_server=_text(_get(acme, "caServer")), challenge=challenge,
        challenge_entrypoint=_text(_get(challenge_table, "entryPoint")),
        dns_provider=_text(_get(challenge_table, "provider")) if challenge == "dns" else None,
        entrypoint=_text(_get(acme, "entryPoint")),
        on_demand=_flag(_get(acme, "onDemand")), on_host_rule=_flag(_get(acme, "onHostRule")),
        domains=_acme_domains(_get(acme, "domains")),
    )


def _acme_domains(domains: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(domains, list):
        return ()
    result = []
    for domain in domains:
        main = _text(_get(domain, "main"))
        sans = _get(domain, "sans")
        if main:
            result.append((main, tuple(str(s) for s in sans) if isinstance(sans, list) else ()))
    return tuple(result)


def _dashboard(document: dict, version: int, entrypoints: dict[str, dict]) -> DashboardConfig:
    if version == 1 and _has(document, "web"):
        return DashboardConfig(enabled=True, address=_text(_get(document, "web", "address")) or ":8080", source="web")
    if not _has(document, "api"):
        return DashboardConfig(enabled=False)
    api = _get(document, "api")
    enabled = _flag(_get(api, "dashboard")) is not False
    if version == 1:
        entrypoint = _text(_get(api, "entryPoint")) or "traefik"
        address = _text(_get(entrypoints.get(entrypoint), "address")) or ":8080"
        return DashboardConfig(enabled=enabled, address=address, source="api")
    insecure = _flag(_get(api, "insecure")) is True
    address = (_text(_get(entrypoints.get("traefik"), "address")) or ":8080") if insecure else None
    return DashboardConfig(enabled=enabled, address=address, source="api", insecure=insecure)


# ---------------------------------------------------------------------------- router labels
#
# Traefik's dynamic configuration as a Docker (Swarm) service declares it in its labels:
# v1 `traefik.frontend.rule=Host:pad.picasoft.net` (or `traefik.<frontend>.frontend.rule`,
# rules joined by ";", hosts by ","), v2/v3 `traefik.http.routers.<name>.rule=Host(`pad…`)`
# (matchers joined by && / ||, several hosts in one Host() in v2). `hosts` are the names of
# a rule's Host matchers (HostRegexp, HostSNI and the others route by other means).

_V1_RULE = re.compile(r"^traefik\.(?:(?P<frontend>[^.]+)\.)?frontend\.rule$", re.IGNORECASE)
_V2_ROUTER = re.compile(r"^traefik\.http\.routers\.(?P<name>[^.]+)\.(?P<key>rule|entrypoints|tls)$", re.IGNORECASE)
_V2_HOST = re.compile(r"\bHost\(([^)]*)\)")
_QUOTED = re.compile(r"[`\"']([^`\"']+)[`\"']")


@dataclass(frozen=True)
class Router:
    name: str  # the router's (v2/v3) or frontend's (v1) name; "" for v1's unnamed frontend
    rule: str
    hosts: tuple[str, ...]
    entrypoints: tuple[str, ...] = ()
    tls: bool | None = None


@dataclass(frozen=True)
class TraefikRouting:
    routers: tuple[Router, ...] = ()
    enabled: bool | None = None  # traefik.enable; None: not said (Traefik's exposedByDefault decides)

    @property
    def hosts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(host for router in self.routers for host in router.hosts))

    def routes(self, domain: str) -> tuple[Router, ...]:
        """The routers whose Host rules name `domain` (domain names compare case-insensitively)."""
        return tuple(router for router in self.routers if domain.lower() in (h.lower() for h in router.hosts))


def parse_router_labels(labels: dict[str, str]) -> TraefikRouting:
    routers: dict[str, dict] = {}
    for key, value in labels.items():
        value = str(value)
        v1, v2 = _V1_RULE.match(key), _V2_ROUTER.match(key)
        if v1:
            name = v1["frontend"] or ""
            routers[f"v1:{name}"] = {"name": name, "rule": value, "hosts": _v1_hosts(value)}
        elif v2:
            router = routers.setdefault(f"v2:{v2['name']}", {"name": v2["name"], "rule": "", "hosts": ()})
            if v2["key"].lower() == "rule":
                router.update(rule=value, hosts=_v2_hosts(value))
            elif v2["key"].lower() == "entrypoints":
                router["entrypoints"] = tuple(part.strip() for part in value.split(",") if part.strip())
            else:
                router["tls"] = _flag(value)
    enabled = next((_flag(value) for key, value in labels.items() if key.lower() == "traefik.enable"), None)
    return TraefikRouting(tuple(Router(**router) for router in routers.values()), enabled)


def _v1_hosts(rule: str) -> tuple[str, ...]:
    hosts = []
    for matcher in rule.split(";"):
        name, _, values = matcher.partition(":")
        if name.strip().lower() == "host":
            hosts += [value.strip() for value in values.split(",") if value.strip()]
    return tuple(hosts)


def _v2_hosts(rule: str) -> tuple[str, ...]:
    return tuple(host for args in _V2_HOST.findall(rule) for host in _QUOTED.findall(args))
