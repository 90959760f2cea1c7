"""Experiments as pytest tests (`picacheck verify --chaos`): each experiment runs once per
session, and each claim it tests is one test whose outcome is the measured verdict, so the
claims matrix shows X1…X7 and C13 with their figures, and the HTML shows the timelines."""

from __future__ import annotations

import base64
import json
import tempfile
from pathlib import Path

import pytest

from picacheck.chaos import catalog
from picacheck.kit.inventory import inventory_of, inventory_path_of
from picacheck.probes.remote import HostPool


def pytest_addoption(parser):
    parser.getgroup("picacheck").addoption(
        "--with-load", default="", metavar="SERVICE[,SERVICE…]",
        help="game day: these services' users (their locust scenario at their SLO's pace) run during every "
             "experiment, and the journals carry the users' view (X8)")


def pytest_generate_tests(metafunc):
    """One test per (planned run, claim it tests): the experiments declare the plan."""
    if "planned_claim" in metafunc.fixturenames:
        planned = catalog.plan(inventory_of(metafunc.config))
        metafunc.parametrize("planned_claim", [
            pytest.param((run, claim), id=f"{run.label}-{claim}", marks=pytest.mark.claim(claim))
            for run in planned for claim in run.claims])


@pytest.fixture(scope="session")
def chaos_context(inventory, grant):
    """The experiments' own connections: unlike the checks' pool, it reconnects to a host
    that was down (the experiments' victims come back)."""
    from picacheck.chaos.context import ChaosContext
    from picacheck.run import machine_control  # the glue that picks the lab's or Proxmox's control

    hosts = HostPool(inventory, grant=grant)
    yield ChaosContext(inventory, hosts, machine_control(inventory, hosts), grant)
    hosts.close()


@pytest.fixture(scope="session")
def journals_dir(request) -> Path:
    report_dir = request.config.getoption("--report-dir")
    return Path(report_dir) / "chaos" if report_dir else Path(tempfile.mkdtemp(prefix="picacheck-chaos-"))


@pytest.fixture(scope="session")
def users_during(request, inventory, grant, journals_dir):
    """The users' view companions of one experiment run (none without --with-load)."""
    services = [name.strip() for name in request.config.getoption("--with-load").split(",") if name.strip()]

    def companions(label: str) -> list:
        if not services:
            return []
        from picacheck.load.users_view import UsersDuringFault

        return [UsersDuringFault(inventory, inventory_path_of(request.config), services, journals_dir / f"{label}-users", grant)]

    return companions


@pytest.fixture(scope="session")
def experiment_results(chaos_context, journals_dir, users_during):
    """Runs each planned experiment once per session, one after the other (two drills at
    once would share the cores and the hosts' SSH sessions, and skew each other's RTO);
    results by label."""
    cache: dict = {}

    def result(planned: catalog.PlannedRun):
        if planned.label not in cache:
            journal = catalog.run_named(planned.experiment, chaos_context, journals_dir / f"{planned.label}.json",
                                        planned.options, companions=users_during(planned.label))
            cache[planned.label] = (journal, _picture(journal))
        return cache[planned.label]

    return result


def _picture(journal) -> Path | None:
    if not journal.timeline:
        return None
    from picacheck.report.timeline import render_timeline

    return render_timeline(journal.as_dict(), journal.path.with_suffix(".png"))


@pytest.fixture
def attach_timeline(request):
    """Show an experiment's timeline picture in the HTML report, beside the check."""

    def attach(picture: Path | None) -> None:
        if picture is None:
            return
        html = request.config.pluginmanager.getplugin("html")
        if html is None:
            return
        import pytest_html

        extras = getattr(request.node, "extras", [])
        extras.append(pytest_html.extras.png(base64.b64encode(picture.read_bytes()).decode()))
        request.node.extras = extras

    return attach


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and getattr(item, "extras", None):
        report.extras = getattr(report, "extras", []) + item.extras
    return report
