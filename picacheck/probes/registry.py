"""The private registry as its users meet it: over TLS, with and without the htpasswd user."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from picacheck import secrets
from picacheck.facts.errors import ParseError
from picacheck.facts.registry import parse_catalog
from picacheck.inventory.model import Inventory, Registry
from picacheck.probes import web


@dataclass(frozen=True)
class CatalogAnswer:
    status: int
    repositories: tuple[str, ...] | None  # None: the answer was not a catalog (a 401, say)


def password(registry: Registry) -> secrets.Secret:
    return secrets.from_inventory("registry", registry.password_file, registry.password_env)


def catalog(inventory: Inventory, registry: Registry, authorised: bool) -> CatalogAnswer:
    """`GET /v2/_catalog`, anonymously or as the inventory's user (its password travels as a
    Secret up to the request, so that no message or traceback can show it)."""
    url = urlsplit(registry.url)
    addresses = web.resolve(url.hostname, inventory.dns.servers) if inventory.dns.servers else []
    auth = (registry.user, password(registry)) if authorised else None
    response = web.request("https", url.hostname, addresses[0] if addresses else url.hostname, "/v2/_catalog",
                           port=url.port or 443, ca_file=registry.ca_file or inventory.tls.ca_file, auth=auth)
    if response.status != 200:
        return CatalogAnswer(response.status, None)
    try:
        return CatalogAnswer(response.status, parse_catalog(response.body))
    except ParseError as error:
        raise AssertionError(f"{registry.url}/v2/_catalog answered 200 with something else: {error}") from None


def endpoint(registry: Registry) -> tuple[str, int]:
    """The registry's (host name, port), from its URL (https: 443 where the URL names none)."""
    url = urlsplit(registry.url)
    return url.hostname or "", url.port or 443


def resolved_addresses(inventory: Inventory, registry: Registry) -> list[str]:
    hostname = urlsplit(registry.url).hostname
    return web.resolve(hostname, inventory.dns.servers) if inventory.dns.servers else []
