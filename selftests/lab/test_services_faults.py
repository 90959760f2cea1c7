"""The services layer against the lab: each fault breaks the claims it should, naming what
broke, and the layer is green again after the repair (issue: lab part 3)."""

import pytest

from picacheck.wait import eventually

pytestmark = pytest.mark.lab

TRAEFIK_TOML = "/DATA/WEB/traefik/traefik.toml"
REDIRECT_BLOCK = "[entryPoints.web.http.redirections.entryPoint]"
REGISTRY_CONFIG = "/etc/docker/registry/config.yml"


def services_green(run_layer) -> None:
    def green():
        run = run_layer("services")
        broken = run.broken()
        assert not broken, f"still broken: {[(c, run.evidence(c)[:300]) for c in broken]}"
        return run

    eventually(green, timeout=300, interval=10, what="the services layer green again")


def test_services_layer_is_green_on_the_lab(run_layer):
    run = run_layer("services")
    assert run.broken() == [], run.output[-3000:]
    for claim in ("S1", "S2", "S3", "S5", "S6", "S7", "S9"):
        assert run.verdict(claim) == "holds", (claim, run.evidence(claim))
    # The lab's dashboard answers from outside the cluster, as the report's Traefik does: a
    # security finding on S4, never shown as a plain green.
    assert run.status("S4") == "holds, with a finding", run.findings("S4")
    finding = run.claims["S4"]["findings"][0]
    assert (finding["kind"], finding["severity"]) == ("security", "high"), finding


def test_redirect_removed_breaks_s2(run_layer, ssh):
    # Drop the redirection block (its header and the 3 lines under it) and restart Traefik.
    ssh("pica01", f"cp {TRAEFIK_TOML} {TRAEFIK_TOML}.picacheck-saved && "
                  f"sed -i '/redirections.entryPoint\\]/,+3d' {TRAEFIK_TOML} && ! grep -q redirections {TRAEFIK_TOML}")
    ssh("pica01", "docker service update --detach=false --force traefik >/dev/null", timeout=300)
    try:
        run = eventually(lambda: (lambda r: r if r.verdict("S2") == "broken" else None)(run_layer("services", "-k", "redirect")),
                         timeout=120, interval=5, what="S2 broken")
        assert "not a permanent redirect" in run.evidence("S2")
    finally:
        ssh("pica01", f"mv {TRAEFIK_TOML}.picacheck-saved {TRAEFIK_TOML}")
        ssh("pica01", "docker service update --detach=false --force traefik >/dev/null", timeout=300)
    services_green(run_layer)


def test_traefik_stopped_on_one_node_breaks_s1_and_s5_naming_it(run_layer, ssh):
    ssh("pica01", "docker service update --detach=false --constraint-add node.hostname!=pica02 traefik >/dev/null",
        timeout=300)
    try:
        run = run_layer("services", "-k", "traefik or resolves")
        assert run.verdict("S1") == "broken" and "pica02" in run.evidence("S1"), run.evidence("S1")
        assert run.verdict("S5") == "broken" and "via pica02" in run.evidence("S5"), run.evidence("S5")
    finally:
        ssh("pica01", "docker service update --detach=false --constraint-rm node.hostname!=pica02 traefik >/dev/null",
            timeout=300)
    services_green(run_layer)


def test_application_scaled_to_zero_fails_its_health_check(run_layer, ssh):
    replicas = ssh("pica01", "docker service inspect dokuwiki --format '{{.Spec.Mode.Replicated.Replicas}}'").strip()
    ssh("pica01", "docker service scale --detach=false dokuwiki=0 >/dev/null", timeout=300)
    try:
        run = run_layer("services", "-k", "health_path")
        failed = run.output
        assert "test_application_answers_its_health_path_through_every_node[dokuwiki]" in failed, failed[-2000:]
        assert "wiki.picasoft.test" in failed
    finally:
        ssh("pica01", f"docker service scale --detach=false dokuwiki={replicas} >/dev/null", timeout=300)
    services_green(run_layer)


def test_anonymous_registry_breaks_s9(run_layer, ssh):
    ssh("admin", f"cp {REGISTRY_CONFIG} {REGISTRY_CONFIG}.picacheck-saved && "
                 f"sed -i '/^auth:/,/^    path:/d' {REGISTRY_CONFIG} && ! grep -q '^auth:' {REGISTRY_CONFIG} && "
                 "service docker-registry restart >/dev/null")
    try:
        run = eventually(lambda: (lambda r: r if r.verdict("S9") == "broken" else None)(run_layer("services", "-k", "registry")),
                         timeout=60, interval=3, what="S9 broken")
        assert "the registry is open" in run.evidence("S9")
    finally:
        ssh("admin", f"mv {REGISTRY_CONFIG}.picacheck-saved {REGISTRY_CONFIG} && service docker-registry restart >/dev/null")
    services_green(run_layer)
