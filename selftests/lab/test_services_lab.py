"""The lab's services (issue 5): lab DNS with round robin, ACME CA, Traefik global with
HTTP→HTTPS and certificates from the CA, Etherpad on MariaDB, Synapse on PostgreSQL,
Dokuwiki, all answering through both nodes; `up` twice changes nothing; `down` removes it.

The first group needs nothing. The tests marked `lab` use the real lab (root, minutes
cold) and run only with PICACHECK_LAB_TESTS=1; they leave the services UP.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from picacheck.inventory import model
from picacheck.lab import topology as T
from picacheck.lab import engine
from picacheck.lab.services import build, plan, section, stand_ins, swarm
from picacheck.probes import web

needs_lab = [
    pytest.mark.lab,  # selftests/conftest.py runs it with PICACHECK_LAB_TESTS=1 or all
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root"),
]
NODES = {name: T.HOSTS[name].address for name in T.SWARM_NODES}


def lab_test(function):
    for mark in needs_lab:
        function = mark(function)
    return function


# --- no lab needed -------------------------------------------------------------------------


def test_every_routed_name_is_round_robin_over_both_nodes_in_the_zone():
    zone = stand_ins.zone_file()
    for domain in plan.ROUTED_DOMAINS:
        label = domain.removesuffix("." + T.DOMAIN)
        addresses = re.findall(rf"^{re.escape(label)}\s+IN A\s+(\S+)$", zone, re.MULTILINE)
        assert sorted(addresses) == sorted(NODES.values()), (domain, addresses)
    # The registry's name leads to alice, which forwards 5000 to admin (S10); admin has no public record.
    assert re.search(rf"^registry\s+IN A\s+{re.escape(T.HOSTS['alice'].address)}$", zone, re.MULTILINE)
    assert not re.search(r"^admin\s", zone, re.MULTILINE)


def test_the_ca_view_sends_service_names_to_the_issuer_node_only():
    zone = stand_ins.zone_file(acme_view=True)
    issuer = T.HOSTS[plan.ACME_ISSUER].address
    for domain in plan.ROUTED_DOMAINS:
        label = domain.removesuffix("." + T.DOMAIN)
        assert re.findall(rf"^{re.escape(label)}\s+IN A\s+(\S+)$", zone, re.MULTILINE) == [issuer]
    conf = stand_ins.named_conf()
    assert "recursion no;" in conf and "match-clients { acme_ca; }" in conf


def test_traefik_configuration_redirects_permanently_and_uses_the_lab_ca():
    toml = swarm.traefik_toml()
    assert 'to = "websecure"' in toml and "permanent = true" in toml
    assert "[providers.swarm]" in toml and f'network = "{T.SWARM_OVERLAY}"' in toml
    assert f'caServer = "{plan.ACME_DIRECTORY}"' in toml and "httpChallenge" in toml
    assert 'storage = "/certs/acme.json"' in toml


def test_services_are_dnsrr_on_pica_net_and_traefik_is_global_with_host_ports(monkeypatch):
    monkeypatch.setattr(swarm, "swarm_secret_name", lambda name: f"{name}-0123456789")
    specs = swarm.wanted_args()
    assert list(specs) == list(plan.SWARM_SERVICES)
    for name, args in specs.items():
        joined = " ".join(args)
        assert f"--network {T.SWARM_OVERLAY}" in joined and "--endpoint-mode dnsrr" in joined, name
    traefik = " ".join(specs[plan.TRAEFIK_SERVICE])
    assert "--mode global" in traefik and "node.hostname" not in traefik
    for port in (80, 443, plan.DASHBOARD_PORT):
        assert f"mode=host,target={port},published={port}" in traefik
    for app in plan.APPS.values():
        assert f"traefik.http.routers.{app.name}.rule=Host(`{app.domain}`)" in " ".join(specs[app.name])
    for db in plan.DATABASES.values():
        assert f"source={db.data_dir},target={db.mount_target}" in " ".join(specs[db.service])
        assert db.data_dir.startswith(T.GLUSTER_MOUNT + "/")
    issuing = " ".join(swarm.traefik_args(only_on="pica01"))
    assert "--constraint node.hostname==pica01" in issuing


def test_the_section_fits_the_inventory_model():
    inventory = section.inventory_section()
    model.Traefik(**inventory["traefik"])
    model.Dns(**inventory["dns"])
    model.Tls(**inventory["tls"])
    databases = [model.Database(**db) for db in inventory["databases"]]
    services = [model.Service(**service) for service in inventory["services"]]
    assert {db.engine for db in databases} == {"mysql", "postgresql"}
    assert {s.domain for s in services} == set(plan.ROUTED_DOMAINS)
    assert inventory["dns"]["servers"] == [plan.DNS_ADDRESS]
    assert inventory["tls"]["ca_file"] == str(plan.ACME_ROOTS_FILE)
    assert {n for n, i in plan.IMAGES.items() if i.swarm} == set(inventory["registry"]["expected_images"])
    for db in inventory["databases"]:
        assert db["password_file"].startswith(str(T.SECRETS_DIR))


def test_recipes_are_stable_and_differ_per_image():
    recipes = {name: build.recipe(image) for name, image in plan.IMAGES.items()}
    assert recipes == {name: build.recipe(image) for name, image in plan.IMAGES.items()}
    assert len(set(recipes.values())) == len(recipes)


# --- with the lab (PICACHECK_LAB_TESTS=1) ----------------------------------------------------


@pytest.fixture(scope="module")
def services_up(lab):
    """The lab (conftest's `lab`: `picacheck lab up`) with its services up; the steps changed."""
    from picacheck.lab import services

    return services.up()


def _curl(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-s", "--max-time", "20", *args], capture_output=True, text=True, timeout=timeout)


def _ssh(host: str, command: str, timeout: float = 120) -> str:
    from picacheck.lab.ssh import Node

    node = Node(host)
    try:
        return node.out(command, timeout=timeout)
    finally:
        node.close()


def _container(service: str) -> tuple[str, str]:
    """(node, container id) of the running task of a service."""
    for host in T.SWARM_NODES:
        cid = _ssh(host, f"docker ps -q --filter label=com.docker.swarm.service.name={service}").split()
        if cid:
            return host, cid[0]
    raise AssertionError(f"no running container of {service}")


@lab_test
@pytest.mark.parametrize("domain", plan.ROUTED_DOMAINS)
@pytest.mark.usefixtures("services_up")
def test_lab_dns_resolves_every_name_to_both_nodes(domain):
    if shutil.which("dig"):
        out = subprocess.run(["dig", "+short", f"@{plan.DNS_ADDRESS}", domain], capture_output=True, text=True,
                             timeout=20).stdout
        assert sorted(out.split()) == sorted(NODES.values()), out
    assert stand_ins.dns_query(domain) == sorted(NODES.values())


@pytest.mark.usefixtures("services_up")
class TestServices:
    pytestmark = needs_lab

    def test_lab_dns_refuses_names_outside_the_lab(self):
        answer = dns.query.udp(dns.message.make_query("deb.debian.org", dns.rdatatype.A), plan.DNS_ADDRESS, timeout=3)
        assert answer.rcode() == dns.rcode.REFUSED and not answer.answer

    def test_the_acme_ca_sees_the_names_on_the_issuer_node(self):
        # Asked from the CA's own address (in its container's network namespace), the zone is the CA's view.
        with engine.lab_client() as client:
            pid = client.containers.get(plan.ACME_CONTAINER).attrs["State"]["Pid"]
        query = (f"import dns.resolver; r = dns.resolver.Resolver(configure=False); r.nameservers = ['{plan.DNS_ADDRESS}']; "
                 f"print(*sorted(a.address for a in r.resolve('{plan.APPS['etherpad'].domain}', 'A')))")
        done = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", sys.executable, "-c", query],
                              capture_output=True, text=True, timeout=30)
        assert done.stdout.split() == [T.HOSTS[plan.ACME_ISSUER].address], done.stdout + done.stderr

    def test_the_data_volume_has_the_database_options(self):
        text = _ssh(T.SWARM_LEADER, f"gluster --mode=script volume get {T.GLUSTER_VOLUME} all")
        current = dict(line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2)
        for option, value in swarm.DB_WORKLOAD_OPTIONS.items():
            assert current.get(option) == value, (option, current.get(option))

    @pytest.mark.parametrize("node", T.SWARM_NODES)
    def test_plain_http_is_a_permanent_redirect_to_the_same_url(self, node):
        for app in [*plan.APPS.values(), plan.DASHBOARD]:
            for path in ("/", app.deep_path):
                done = _curl("-I", f"http://{app.domain}{path}", "--resolve", f"{app.domain}:80:{NODES[node]}")
                status = int(done.stdout.split()[1])
                location = re.search(r"^location: (\S+)", done.stdout, re.MULTILINE | re.IGNORECASE)
                assert status in (301, 308), done.stdout
                assert location and location.group(1) == f"https://{app.domain}{path}", done.stdout

    @pytest.mark.parametrize("node", T.SWARM_NODES)
    def test_https_serves_a_certificate_of_the_acme_ca_for_the_name(self, node):
        for domain in plan.ROUTED_DOMAINS:
            done = _curl("-v", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", str(plan.ACME_ROOTS_FILE),
                         f"https://{domain}/", "--resolve", f"{domain}:443:{NODES[node]}")
            assert "SSL certificate verify ok" in done.stderr, done.stderr[-800:]
            assert re.search(rf"subject: CN={re.escape(domain)}\b", done.stderr), done.stderr[-800:]
            assert "issuer: CN=Pebble Intermediate CA" in done.stderr, done.stderr[-800:]
            cert = web.peer_certificate(domain, NODES[node], ca_file=str(plan.ACME_ROOTS_FILE))
            assert domain in cert.names and cert.days_left() > 80

    @pytest.mark.parametrize("node", T.SWARM_NODES)
    def test_every_health_path_answers_200_through_every_node(self, node):
        for app in [*plan.APPS.values(), plan.DASHBOARD]:
            for path in (app.health_path, app.deep_path):
                answer = web.request("https", app.domain, NODES[node], path, ca_file=str(plan.ACME_ROOTS_FILE))
                assert answer.status == 200, (app.domain, path, node, answer.status, answer.body[:200])

    def test_the_app_pages_are_the_apps(self):
        ca = str(plan.ACME_ROOTS_FILE)
        pad = web.request("https", plan.APPS["etherpad"].domain, NODES["pica02"], "/api", ca_file=ca)
        assert json.loads(pad.body)["currentVersion"]
        chat = web.request("https", plan.APPS["synapse"].domain, NODES["pica01"], "/_matrix/client/versions",
                             ca_file=ca)
        assert "versions" in json.loads(chat.body)
        wiki = web.request("https", plan.APPS["dokuwiki"].domain, NODES["pica02"], "/doku.php?id=start",
                             ca_file=ca)
        assert b"Picasoft wiki (picacheck lab)" in wiki.body and b"DokuWiki" in wiki.body

    def test_traefik_has_one_task_per_node(self):
        out = _ssh(T.SWARM_LEADER, f"docker service ps {plan.TRAEFIK_SERVICE} --filter desired-state=running "
                                   "--format '{{.Node}} {{.CurrentState}}'")
        running = sorted(line.split()[0] for line in out.splitlines() if " Running " in f" {line} ")
        assert running == sorted(T.SWARM_NODES), out
        mode = _ssh(T.SWARM_LEADER, f"docker service inspect --format '{{{{json .Spec.Mode}}}}' {plan.TRAEFIK_SERVICE}")
        assert "Global" in mode

    def test_etherpad_writes_its_pads_into_mysql(self):
        key = plan.secret_file("etherpad_apikey").read_text().strip()
        ca = str(plan.ACME_ROOTS_FILE)
        domain = plan.APPS["etherpad"].domain
        created = web.request("https", domain, NODES["pica01"],
                                f"/api/1/createPad?apikey={key}&padID=selftest-{os.getpid()}&text=from-pica01",
                                ca_file=ca)
        assert json.loads(created.body)["code"] in (0, 1), created.body  # 1: exists (a rerun)
        text = web.request("https", domain, NODES["pica02"], f"/api/1/getText?apikey={key}&padID=selftest-{os.getpid()}",
                             ca_file=ca)
        assert "from-pica01" in json.loads(text.body)["data"]["text"]
        host, cid = _container("mysql")
        rows = _ssh(host, f"docker exec {cid} sh -c 'mariadb -N -uroot -p\"$(cat /run/secrets/mysql_root_password)\" "
                          f"-e \"select count(*) from etherpad.store where \\`key\\` = \\\"pad:selftest-{os.getpid()}\\\"\"'")
        assert rows.strip() == "1", rows

    def test_synapse_schema_is_in_postgresql(self):
        host, cid = _container("postgres")
        count = _ssh(host, f"docker exec -u postgres {cid} psql -d synapse -tAc "
                           "\"select count(*) from information_schema.tables where table_schema='public'\"")
        assert int(count.strip()) > 50, count

    def test_databases_and_wiki_keep_their_data_on_data(self):
        for host in T.SWARM_NODES:
            listing = _ssh(host, f"ls {T.GLUSTER_MOUNT}/mysql {T.GLUSTER_MOUNT}/postgresql "
                                 f"{T.GLUSTER_MOUNT}/WEB/dokuwiki/pages {plan.TRAEFIK_CERTS}")
            assert "ibdata1" in listing and "PG_VERSION" in listing and "start.txt" in listing, listing
            assert "acme.json" in listing

    def test_every_service_image_is_on_both_nodes(self):
        for host in T.SWARM_NODES:
            images = _ssh(host, "docker images --format '{{.Repository}}:{{.Tag}}'").split()
            for image in plan.IMAGES.values():
                if image.swarm:
                    assert build.ref(image) in images, (host, build.ref(image))

    def test_the_registry_holds_every_swarm_image(self):
        for name, image in plan.IMAGES.items():
            if not image.swarm:  # the DNS's and the CA's: the lab's engine runs them
                continue
            assert build.in_registry(name, build.recipe(image)), name
            assert build.in_registry(name, "latest"), name

    def test_status_reports_up(self):
        from picacheck.lab import services

        assert services.status(out=open(os.devnull, "w"))["ok"]

    def test_up_twice_changes_nothing(self):
        from picacheck.lab import services

        assert services.up() == []


@lab_test
@pytest.mark.usefixtures("services_up")
def test_down_removes_everything_then_up_restores():
    """Last in this file: down, look, up again (the services are left up)."""
    from picacheck.lab import services

    assert services.down() is True
    assert _ssh(T.SWARM_LEADER, f"docker service ls -q --filter label={plan.LABEL}=services").split() == []
    assert _ssh(T.SWARM_LEADER, f"docker secret ls -q --filter label={plan.LABEL}=services").split() == []
    with engine.lab_client() as client:
        assert client.containers.list(all=True, filters={"label": f"{plan.LABEL}=services"}) == []
    left = _ssh(T.SWARM_LEADER, f"ls {T.GLUSTER_MOUNT} {T.GLUSTER_MOUNT}/WEB 2>/dev/null; true").split()
    assert not {"mysql", "postgresql", "synapse", "dokuwiki", "traefik"} & set(left), left
    assert not plan.SERVICES_DIR.exists()
    assert not any(plan.secret_file(name).exists() for name in plan.SECRETS)
    assert services.down() is False
    changed = services.up()
    assert "certificates" in changed and "service traefik" in changed
    assert services.status(out=open(os.devnull, "w"))["ok"]
