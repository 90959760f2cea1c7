"""The private registry on the admin VM: TLS, no anonymous access, the htpasswd user sees the
project images, reached through alice's port forward (S9, S10)."""

import pytest

from picacheck.facts.sockets import parse_endpoint
from picacheck.kit.applicability import not_applicable
from picacheck.probes import registry as registry_probe
from picacheck.probes import system


@pytest.mark.claim("S9")
def test_anonymous_access_is_refused(inventory, registry):
    answer = registry_probe.catalog(inventory, registry, authorised=False)
    assert answer.status == 401, f"anonymous GET /v2/_catalog answered {answer.status}: the registry is open"


@pytest.mark.claim("S9")
def test_the_user_lists_the_project_images(inventory, registry):
    answer = registry_probe.catalog(inventory, registry, authorised=True)
    assert answer.status == 200, f"{registry.user} got {answer.status} on /v2/_catalog"
    missing = set(registry.expected_images) - set(answer.repositories)
    assert not missing, f"images missing from the registry: {sorted(missing)} (it lists {sorted(answer.repositories)})"


@pytest.mark.claim("S10")
def test_registry_is_reached_through_the_forward_and_admin_has_no_public_address(hosts, inventory, registry):
    if registry.forwarded_by is None:
        not_applicable("the inventory documents no port forward for the registry")
    hostname, port = registry_probe.endpoint(registry)
    forwarder = inventory.hosts[registry.forwarded_by]
    addresses = registry_probe.resolved_addresses(inventory, registry)
    public = forwarder.public_ipv4 or forwarder.ssh.address
    assert not addresses or addresses == [public], f"{hostname} resolves to {addresses}, not {registry.forwarded_by} ({public})"
    forwards = [f for f in (forwarder.network.port_forwards if forwarder.network else ()) if f.port == port]
    assert forwards, f"{registry.forwarded_by} documents no forward of port {port}"
    admin_addresses = system.held_addresses(hosts[registry.host])
    assert parse_endpoint(forwards[0].to).address in admin_addresses, f"{registry.host} does not hold {forwards[0].to}"
    if not registry.public_ip:
        exposed = [a for a in admin_addresses if a == public or a in {h.public_ipv4 for h in inventory.hosts.values()}]
        assert not exposed, f"{registry.host} holds public addresses {exposed}"
