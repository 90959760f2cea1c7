"""The private registry on the admin VM: TLS, no anonymous access, the htpasswd user sees the
project images, reached through alice's port forward (S9, S10)."""

import base64
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from picacheck.probes import system, web


def _password(registry) -> str:
    if registry.password_file:
        return Path(registry.password_file).read_text().strip()
    if registry.password_env and os.environ.get(registry.password_env):
        return os.environ[registry.password_env]
    pytest.fail(f"no registry password: set {registry.password_env} or registry.password_file in the inventory")


def _get(registry, inventory, path, authorised):
    url = urlsplit(registry.url)
    address = web.resolve(url.hostname, inventory.dns.servers)[:1] if inventory.dns.servers else []
    headers = {}
    if authorised:
        token = base64.b64encode(f"{registry.user}:{_password(registry)}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return web.request("https", url.hostname, address[0] if address else url.hostname, path,
                       port=url.port or 443, ca_file=registry.ca_file or inventory.tls.ca_file, headers=headers)


@pytest.mark.claim("S9")
def test_anonymous_access_is_refused(inventory, registry):
    response = _get(registry, inventory, "/v2/_catalog", authorised=False)
    assert response.status == 401, f"anonymous GET /v2/_catalog answered {response.status}: the registry is open"


@pytest.mark.claim("S9")
def test_the_user_lists_the_project_images(inventory, registry):
    response = _get(registry, inventory, "/v2/_catalog", authorised=True)
    assert response.status == 200, f"{registry.user} got {response.status} on /v2/_catalog"
    import json

    listed = set(json.loads(response.body)["repositories"])
    missing = set(registry.expected_images) - listed
    assert not missing, f"images missing from the registry: {sorted(missing)} (it lists {sorted(listed)})"


@pytest.mark.claim("S10")
def test_registry_is_reached_through_the_forward_and_admin_has_no_public_address(hosts, inventory, registry):
    if registry.forwarded_by is None:
        pytest.skip("not applicable here: the inventory documents no port forward for the registry")
    url = urlsplit(registry.url)
    forwarder = inventory.hosts[registry.forwarded_by]
    addresses = web.resolve(url.hostname, inventory.dns.servers) if inventory.dns.servers else []
    public = forwarder.public_ipv4 or forwarder.ssh.address
    assert not addresses or addresses == [public], f"{url.hostname} resolves to {addresses}, not {registry.forwarded_by} ({public})"
    forwards = [f for f in (forwarder.network.port_forwards if forwarder.network else ()) if f.port == (url.port or 443)]
    assert forwards, f"{registry.forwarded_by} documents no forward of port {url.port}"
    admin_addresses = [a.split("/")[0] for addrs in system.addresses(hosts[registry.host]).values() for a in addrs]
    assert forwards[0].to.split(":")[0] in admin_addresses, f"{registry.host} does not hold {forwards[0].to}"
    if not registry.public_ip:
        exposed = [a for a in admin_addresses if a == public or a in {h.public_ipv4 for h in inventory.hosts.values()}]
        assert not exposed, f"{registry.host} holds public addresses {exposed}"
