"""parse_traefik_static on the Traefik configs of ../shared/fixtures/traefik (read in place), ours in
selftests/data/traefik, and the report's traefik.toml."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, fill_placeholders, parse_traefik_static
from picacheck.facts.traefik import parse_router_labels

from .datafiles import TRAEFIK, own_traefik_files, read, read_traefik, traefik_files

# file → (version, compatible, entry points, redirect, acme: (challenge, email, storage, ca_server, domains) | None,
#         dashboard (enabled, address), placeholders)
EXPECTED = {
    "v1-adrian-hirt-tabs-empty-email.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True, ("http", "", "acme.json", None, 0), (True, ":8080"), ()),
    "v1-bytemark-wordpress-redirect-commented-out.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, False, ("http", None, "acme.json", None, 0), (False, None), ()),
    "v1-coffee2code-dokku-redirect-acme-basicauth.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443", "traefik": ":8080"}, True,
        ("http", "postmaster@{{DOMAIN}}", "/etc/traefik/acme/acme.json", None, 0), (True, ":8080"), ("{{DOMAIN}}",)),
    "v1-cultclassik-tlschallenge-no-redirect.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, False, ("tls", "cultclassik@gmail.com", "/acme.json", None, 1), (True, ":8080"), ()),
    "v1-dacrepair-armhf-redirect-acme-no-challenge.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True, (None, "test@traefik.io", "acme.json", None, 0), (True, ":8080"), ()),
    "v1-darcade-tlschallenge-acme-domains.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True,
        ("tls", "example@example.de", "/etc/traefik/acme/acme.json", None, 4), (True, ":8080"), ()),
    "v1-traefik-docs-acme-domains-no-redirect.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, False,
        ("http", "test@traefik.io", "acme.json", "https://acme-staging-v02.api.letsencrypt.org/directory", 4), (False, None), ()),
    "v1-traefik-docs-docker-and-lets-encrypt.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True,
        ("http", "your-email-here@my-awesome-app.org", "acme.json", None, 0), (False, None), ()),
    "v1-traefik-docs-redirect-static-certs-no-acme.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True, None, (False, None), ()),
    "v1-traefik-repo-examples-acme.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True,
        ("http", "test@traefik.io", "/etc/traefik/conf/acme.json", "http://traefik.boulder.com:4001/directory", 0), (True, ":8080"), ()),
    "v1-traefik-repo-fixture-https-redirect-no-acme.toml.txt": (
        1, (1,), {"http": ":8888", "https": ":8443"}, True, None, (True, ":8080"), ()),
    "v2-bytespeicher-toml-tlschallenge-no-redirect.toml.txt": (
        2, (2, 3), {"http": ":80", "https": ":443"}, False,
        ("tls", "hostmaster@bytespeicher.org", "/etc/traefik/acme/acme.json", None, 0), (True, None), ()),
    "v2-charckle-yaml-redirections-tlschallenge.yml.txt": (
        2, (2, 3), {"web": ":80", "websecure": ":443"}, True, ("tls", "andrej.zubin@email.com", "acme.json", None, 0), (False, None), ()),
    "v2-guiterence-yaml-redirections-httpchallenge-templated.yml.txt": (
        2, (2, 3), {"web": ":80", "websecure": ":443"}, True, ("http", "${email}", "/acme/acme.json", None, 0), (True, ":8080"), ("${email}",)),
    "v2-pvarki-toml-redirections-httpchallenge-templated.toml.txt": (
        2, (2, 3), {"web": ":80", "websecure": ":443"}, True,
        ("http", "{{.Env.CERTBOT_EMAIL}}", "/etc/traefik/acme/acme.json", None, 0), (False, None), ("{{.Env.CERTBOT_EMAIL}}",)),
    "v3-traefik-docs-ref-acme-reference.toml.txt": (
        2, (2, 3), {}, False, ("tls", "test@example.com", "acme.json", None, 0), (False, None), ()),
}


# Ours (selftests/data/traefik), same fields. Templates that are not TOML/YAML as they stand are
# read after fill_placeholders(text, FILLED[name]).
OWN = {
    "v1-agaveplatform-swarmmode-template-placeholder-key.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True, ("http", None, "/ssl/acme.json", None, 1), (True, ":28443"),
        ("${WILDCARD_DOMAIN_NAME}", "${ACME_EMAIL}")),  # the email sits in [acme.httpChallenge]; ${SUBDOMAINS} only in a comment
    "v1-starttoaster-percent-placeholders-redirect-acme.toml.txt": (
        1, (1,), {"http": ":80", "https": ":443"}, True, ("http", "%%EMAIL%%", "acme.json", None, 0), (False, None),
        ("%%DOMAIN%%", "%%EMAIL%%")),
    "v1-traefik-fixture-no-challenge-acme-api.toml.txt": (
        1, (1,), {"http": ":8081", "https": ":5001"}, False,
        (None, "test@traefik.io", "/tmp/acme.json", "http://{{.BoulderHost}}:4001/directory", 0), (True, ":8080"),
        ("{{.BoulderHost}}",)),
    "v2-planetary-social-yaml-jinja-dnschallenge.yml.txt": (
        2, (2, 3), {"web": ":80", "websecure": ":443", "tcp-3000": ":3000", "tcp-3001": ":3001", "tcp-7687": ":7687",
                    "tcp-7474": ":7474", "tcp-6362": ":6362"}, True, ("dns", "ops@example.org", "acme.json", None, 0),
        (True, None), ("{{ domain }}", "{{ '*.' + domain }}")),
    "v2-somenoodleshop-yaml-insecure-redirections-httpchallenge.yml.txt": (
        2, (2, 3), {"web": ":80", "websecure": ":443"}, True, ("http", "admin@${vars.domain_name}", "/letsencrypt/acme.json", None, 0),
        (True, ":8080"), ("${vars.domain_name}",)),
}
FILLED = {
    "v1-agaveplatform-swarmmode-template-placeholder-key.toml.txt": {"COMMENT_OUT_STAGING_SERVER": "#"},
    "v2-planetary-social-yaml-jinja-dnschallenge.yml.txt": {"traefik_dashboard_enabled": "true", "cert_email": "ops@example.org"},
}


def _fmt(name: str) -> str:
    return "yaml" if ".yml" in name else "toml"


def test_every_traefik_file_has_expectations():
    assert own_traefik_files() == sorted(OWN)
    if not TRAEFIK.is_dir():
        pytest.skip("../shared is absent")
    assert traefik_files() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED) + sorted(OWN))
def test_traefik_file(name):
    version, compatible, entrypoints, redirect, acme, dashboard, placeholders = {**EXPECTED, **OWN}[name]
    text = read_traefik(name)
    if name in FILLED:
        with pytest.raises(ParseError, match="fill them first"):
            parse_traefik_static(text, fmt=_fmt(name))
        text = fill_placeholders(text, FILLED[name])
    config = parse_traefik_static(text, fmt=_fmt(name))
    assert (config.version, config.compatible_versions) == (version, compatible)
    assert config.entrypoints == entrypoints and config.http_to_https_redirect is redirect
    if acme is None:
        assert config.acme is None and not config.acme_enabled
    else:
        got = (config.acme.challenge, config.acme.email, config.acme.storage, config.acme.ca_server, len(config.acme.domains))
        assert got == acme
    assert (config.dashboard.enabled, config.dashboard.address) == dashboard
    assert config.placeholders == placeholders


def test_commented_out_redirect_does_not_count():
    config = parse_traefik_static(read_traefik("v1-bytemark-wordpress-redirect-commented-out.toml.txt"))
    assert config.redirects == () and not config.http_to_https_redirect


def test_crlf_tabs_and_details():
    darcade = parse_traefik_static(read_traefik("v1-darcade-tlschallenge-acme-domains.toml.txt"))
    assert "\r\n" in read_traefik("v1-darcade-tlschallenge-acme-domains.toml.txt")
    assert darcade.acme.domains[0][0] == "example.de" and len(darcade.acme.domains[0][1]) == 7
    assert darcade.acme.on_demand is None  # written after [acme.tlsChallenge]: it belongs to that table
    tabs = parse_traefik_static(read_traefik("v1-adrian-hirt-tabs-empty-email.toml.txt"))
    assert tabs.redirects == (("http", "https"),) and tabs.acme.on_host_rule is True and tabs.acme.challenge_entrypoint == "http"
    v2 = parse_traefik_static(read_traefik("v2-charckle-yaml-redirections-tlschallenge.yml.txt"), fmt="yaml")
    assert v2.redirects == (("web", "websecure"),) and v2.acme.resolver == "myresolver"
    insecure = parse_traefik_static(read_traefik("v2-guiterence-yaml-redirections-httpchallenge-templated.yml.txt"), fmt="yaml")
    assert insecure.dashboard.insecure and insecure.acme.challenge_entrypoint == "web"
    staging = parse_traefik_static(read_traefik("v1-traefik-docs-acme-domains-no-redirect.toml.txt"))
    assert staging.acme.uses_staging_ca


def test_placeholders_in_comments_are_not_settings():
    text = read_traefik("v1-agaveplatform-swarmmode-template-placeholder-key.toml.txt")
    assert "#sans = [${SUBDOMAINS}]" in text
    config = parse_traefik_static(fill_placeholders(text, {"COMMENT_OUT_STAGING_SERVER": "#"}))
    assert "${SUBDOMAINS}" not in config.placeholders and config.acme.ca_server is None  # caServer commented out
    assert config.acme.on_demand is True and config.acme.domains == (("*.${WILDCARD_DOMAIN_NAME}", ()),)
    with pytest.raises(ParseError) as caught:
        parse_traefik_static(text)
    assert "${COMMENT_OUT_STAGING_SERVER}" in str(caught.value)


def test_own_samples_details():
    jinja = parse_traefik_static(fill_placeholders(read_traefik("v2-planetary-social-yaml-jinja-dnschallenge.yml.txt"),
                                                   FILLED["v2-planetary-social-yaml-jinja-dnschallenge.yml.txt"]), fmt="yaml")
    assert jinja.acme.dns_provider == "cloudflare" and jinja.redirects == (("web", "websecure"),)  # lower-case "dnschallenge"
    no_challenge = parse_traefik_static(read_traefik("v1-traefik-fixture-no-challenge-acme-api.toml.txt"))
    assert no_challenge.acme.on_host_rule is True and no_challenge.dashboard.source == "api"
    percent = read_traefik("v1-starttoaster-percent-placeholders-redirect-acme.toml.txt")
    filled = parse_traefik_static(fill_placeholders(percent, {"EMAIL": "ops@example.org", "DOMAIN": "example.org"}))
    assert filled.acme.email == "ops@example.org" and filled.placeholders == ()


def test_report_traefik_toml():
    config = parse_traefik_static(read("report", "traefik.toml"))
    assert config.version == 1 and config.entrypoints == {"http": ":80", "https": ":443"}
    assert config.http_to_https_redirect and config.redirects == (("http", "https"),)
    acme = config.acme
    assert (acme.email, acme.storage, acme.entrypoint, acme.on_demand) == ("picasoft@assos.utc.fr", "/certs/acme.json", "https", True)
    assert acme.domains == (("swarm.picasoft.net", ()),)
    assert acme.challenge is None  # no challenge table: Traefik 1.x fell back to TLS-SNI-01
    assert (config.dashboard.enabled, config.dashboard.address, config.dashboard.source) == (True, ":8080", "web")


# A template that is not TOML as it stands: the placeholder replaces a value, unquoted.
TEMPLATE = """\
[entryPoints]
  [entryPoints.http]
  address = ":{{HTTP_PORT}}"
  [entryPoints.https]
  address = :{{HTTPS_PORT}}
[acme]
email = "${email}"
"""


def test_invalid_template_raises_a_clear_parse_error():
    with pytest.raises(ParseError) as caught:
        parse_traefik_static(TEMPLATE)
    message = str(caught.value)
    assert message.startswith("traefik static config") and "not valid TOML" in message
    assert "{{HTTPS_PORT}}" in message and "fill them first" in message


def test_filled_template_parses():
    filled = fill_placeholders(TEMPLATE, {"HTTP_PORT": "80", "HTTPS_PORT": '"443"'}).replace(':"443"', '":443"')
    config = parse_traefik_static(filled)
    assert config.entrypoints == {"http": ":80", "https": ":443"} and config.acme.email == "${email}"
    assert config.placeholders == ("${email}",)
    assert fill_placeholders("{{ .Env.CERTBOT_EMAIL }} ${email}", {"CERTBOT_EMAIL": "a@b", "email": "c@d"}) == "a@b c@d"


@pytest.mark.parametrize("text, fmt, fragment", [
    ("[entryPoints\n", "toml", "not valid TOML"),
    ("- a\n- b\n", "yaml", "top level must be"),
    ("a: [\n", "yaml", "not valid YAML"),
    ("a = 1\n", "json", "fmt must be"),
])
def test_traefik_garbage(text, fmt, fragment):
    with pytest.raises(ParseError) as caught:
        parse_traefik_static(text, fmt=fmt)
    assert fragment in str(caught.value)


def test_v3_only_keys_and_empty_file():
    assert parse_traefik_static("[providers.swarm]\nendpoint = \"unix:///var/run/docker.sock\"\n").compatible_versions == (3,)
    empty = parse_traefik_static("", fmt="yaml")
    assert empty.entrypoints == {} and not empty.acme_enabled and not empty.dashboard.enabled


# ---------------------------------------------------------------------------- router labels


def test_v1_frontend_rules_as_in_the_report():
    routing = parse_router_labels({"traefik.frontend.rule": "Host:pad.picasoft.net,www.pad.picasoft.net",
                                   "traefik.port": "9001", "traefik.enable": "true"})
    assert routing.hosts == ("pad.picasoft.net", "www.pad.picasoft.net") and routing.enabled is True
    assert routing.routes("Pad.Picasoft.net") and not routing.routes("picasoft.net")
    named = parse_router_labels({"traefik.api.frontend.rule": "Host:team.picasoft.net;PathPrefix:/api"})
    assert [(r.name, r.hosts) for r in named.routers] == [("api", ("team.picasoft.net",))]


def test_v2_and_v3_routers():
    routing = parse_router_labels({
        "traefik.http.routers.pad.rule": "Host(`pad.picasoft.test`) && PathPrefix(`/p`)",
        "traefik.http.routers.pad.entrypoints": "websecure, web",
        "traefik.http.routers.pad.tls": "true",
        "traefik.http.routers.old.rule": "Host(`a.test`, `b.test`) || HostRegexp(`{sub:[a-z]+}.c.test`)",
        "traefik.http.services.pad.loadbalancer.server.port": "9001",
        "traefik.enable": "false",
    })
    pad, old = routing.routers
    assert (pad.name, pad.hosts, pad.entrypoints, pad.tls) == ("pad", ("pad.picasoft.test",), ("websecure", "web"), True)
    assert old.hosts == ("a.test", "b.test") and routing.enabled is False


def test_a_domain_that_only_contains_the_documented_one_is_not_a_route():
    routing = parse_router_labels({"traefik.http.routers.x.rule": "Host(`notpad.picasoft.test`)"})
    assert routing.routes("pad.picasoft.test") == ()
    assert parse_router_labels({}).routers == () and parse_router_labels({}).enabled is None
