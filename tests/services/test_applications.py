"""The applications answer on their domains, through every node, backed by their database
(S6 Etherpad on MySQL, S7 the team chat on PostgreSQL, S8 Kanboard behind a login)."""

import pytest

from picacheck.kit.inventory import inventory_of
from picacheck.kit.params import claim_marks, none_documented
from picacheck.kit.applicability import not_applicable
from picacheck.probes import cluster, web

CLAIM_OF_KIND = {"etherpad": "S6", "chat": "S7", "kanban": "S8"}


def pytest_generate_tests(metafunc):
    # The claim depends on the kind of service, which only the inventory knows.
    if "application" in metafunc.fixturenames:
        services = inventory_of(metafunc.config).services
        metafunc.parametrize("application", [pytest.param(s, id=s.name, marks=claim_marks(CLAIM_OF_KIND.get(s.kind)))
                                             for s in services] or none_documented("service"))


def test_application_answers_its_health_path_through_every_node(inventory, application):
    for node, address in inventory.round_robin_addresses().items():
        response = web.request("https", application.domain, address, application.health_path, ca_file=inventory.tls.ca_file,
                               via=node)
        if application.requires_login:
            assert response.status in (200, 302, 401, 403), f"{application.domain} via {node}: {response.status}"
        else:
            assert response.status == 200, (
                f"https://{application.domain}{application.health_path} via {node} answered {response.status}: "
                f"{response.body[:200]!r}"
            )


@pytest.mark.claim("S8")
def test_documented_logins_are_required(inventory):
    behind_login = [service for service in inventory.services if service.requires_login]
    if not behind_login:
        not_applicable("the inventory documents no service behind a login")
    for application in behind_login:
        _assert_requires_login(inventory, application)


def _assert_requires_login(inventory, application) -> None:
    address = next(iter(inventory.round_robin_addresses().values()))
    response = web.request("https", application.domain, address, "/", ca_file=inventory.tls.ca_file)
    redirected_to_login = response.status in (301, 302, 303) and "login" in response.headers.get("location", "")
    assert response.status in (401, 403) or redirected_to_login, (
        f"{application.domain} serves {response.status} to an anonymous visitor: no login required"
    )


def test_application_database_runs(hosts, inventory, application):
    if not application.database:
        not_applicable(f"{application.name} has no documented database")
    if inventory.swarm is None:
        not_applicable("the inventory has no Swarm")
    database = inventory.database(application.database)
    service = cluster.swarm_service(hosts[inventory.swarm.managers[0]], database.host)
    assert service is not None, f"no Swarm service {database.host} for the {database.engine} database of {application.name}"
    running = [task for task in service.tasks if task.running]
    assert running, f"the {database.engine} database of {application.name} ({database.host}) has no running task"
