"""Traefik in front of every service: global on the Swarm, HTTP→HTTPS, valid certificates,
round-robin DNS served by every node, the dashboard (S1–S5)."""

import pytest

from picacheck.findings import FindingKind, Severity
from picacheck.kit.applicability import not_applicable
from picacheck.probes import cluster, web


@pytest.mark.claim("S1")
def test_traefik_is_global_with_one_task_per_node(hosts, inventory, traefik):
    service = cluster.swarm_service(hosts[inventory.swarm.managers[0]], traefik.service)
    assert service is not None, f"no Swarm service named {traefik.service}"
    assert service.mode == traefik.mode, f"{traefik.service} runs in {service.mode} mode"
    running = sorted(task.node for task in service.tasks if task.running)
    nodes = sorted(inventory.swarm.managers + inventory.swarm.workers)
    assert running == nodes, f"{traefik.service} runs on {running}, expected one task on each of {nodes}"
    assert traefik.network in service.networks, f"{traefik.service} is on {service.networks}, not {traefik.network}"
    missing = set(traefik.ports) - set(service.published_ports)
    assert not missing, f"{traefik.service} does not publish {sorted(missing)} (publishes {service.published_ports})"


@pytest.mark.claim("S1")
def test_services_are_routed_by_docker_labels(hosts, inventory, traefik, service):
    routing = cluster.router_labels(hosts[inventory.swarm.managers[0]], service.name)
    assert routing is not None, f"no Swarm service named {service.name}"
    assert routing.enabled is not False, f"{service.name}'s labels turn Traefik off for it (traefik.enable=false)"
    assert routing.routes(service.domain), (
        f"{service.name} has no Traefik rule for {service.domain} in its labels "
        f"(its rules: {[router.rule for router in routing.routers] or 'none'})"
    )


@pytest.mark.claim("S2")
def test_plain_http_redirects_permanently_to_https(inventory, traefik, service):
    path = service.health_path
    for node, address in inventory.round_robin_addresses().items():
        response = web.request("http", service.domain, address, path, via=node)
        assert response.status in traefik.redirect_status, (
            f"http://{service.domain}{path} via {node} answered {response.status}, not a permanent redirect"
        )
        location = response.headers.get("location", "")
        assert location == f"https://{service.domain}{path}", f"via {node} the redirect goes to {location!r}"


@pytest.mark.claim("S3")
def test_certificate_is_valid_for_the_domain(inventory, traefik, service, evidence_note):
    for node, address in inventory.round_robin_addresses().items():
        certificate = web.peer_certificate(service.domain, address, ca_file=inventory.tls.ca_file, via=node)
        assert service.domain in certificate.names, f"via {node}: the certificate names {certificate.names}"
        if inventory.tls.acme_ca_name:
            assert inventory.tls.acme_ca_name in certificate.issuer, f"via {node}: issued by {certificate.issuer}"
        days = certificate.days_left()
        evidence_note(f"{service.domain} via {node}: {days:.0f} days left, issuer {certificate.issuer}")
        assert days > traefik.cert_warning_days, (
            f"via {node}: the certificate of {service.domain} expires in {days:.1f} days "
            f"(warning window {traefik.cert_warning_days} days)"
        )


@pytest.mark.claim("S3")
def test_certificates_renew_through_a_challenge_the_ca_offers(hosts, inventory, traefik, evidence_note, finding):
    found = cluster.traefik_static_config(hosts[inventory.swarm.managers[0]], traefik.service)
    if found is None:
        pytest.skip(f"not checked: {traefik.service} binds no static configuration file (its settings are flags)")
    path, static = found
    if not static.acme_enabled:
        finding(FindingKind.procedure, Severity.medium,
                f"{path} configures no ACME: Traefik does not renew the certificates, someone must")
        return
    for acme in static.acme_resolvers:
        name = f"ACME resolver {acme.resolver}" if acme.resolver else "[acme]"
        if acme.challenge is None:
            finding(FindingKind.procedure, Severity.high,
                    f"{path}: {name} sets no challenge: Traefik up to 1.6 then used TLS-SNI-01, which Let's Encrypt "
                    "switched off in 2019, and later versions obtain nothing: the certificates will not renew")
        else:
            evidence_note(f"{path}: {name} renews through the {acme.challenge} challenge"
                          + (f" on entry point {acme.challenge_entrypoint}" if acme.challenge_entrypoint else ""))


@pytest.mark.claim("S4")
def test_dashboard_is_published_and_exposure_is_reported(inventory, traefik, evidence_note, finding):
    if traefik.dashboard_port is None:
        not_applicable("the inventory documents no dashboard")
    reachable = {node: web.port_open(address, traefik.dashboard_port) for node, address in inventory.round_robin_addresses().items()}
    assert all(reachable.values()), f"the dashboard port {traefik.dashboard_port} does not answer on {reachable}"
    # This run is outside the cluster: an answer here means anyone can reach the dashboard.
    where = ", ".join(f"{node} ({address})" for node, address in inventory.round_robin_addresses().items())
    if traefik.dashboard_public_ok:
        evidence_note(f"the dashboard answers on port {traefik.dashboard_port} through {where} (accepted by the inventory)")
    else:
        finding(FindingKind.security, Severity.high,
                f"the Traefik dashboard answers from outside the cluster on port {traefik.dashboard_port} through {where}")


@pytest.mark.claim("S5")
def test_domain_resolves_to_every_node_and_each_serves_it(inventory, service):
    nodes = inventory.round_robin_addresses()
    resolved = web.resolve(service.domain, inventory.dns.servers)
    assert sorted(resolved) == sorted(nodes.values()), (
        f"{service.domain} resolves to {resolved}, expected every node {sorted(nodes.values())}"
    )
    for node, address in nodes.items():
        response = web.request("https", service.domain, address, service.health_path, ca_file=inventory.tls.ca_file, via=node)
        assert response.status < 500, f"{service.domain} via {node} answered {response.status}"
