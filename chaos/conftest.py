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
from picacheck.probes.remote import HostPool


@pytest.fixture(scope="session")
def chaos_context(inventory):
    """The experiments' own connections: unlike the checks' pool, it reconnects to a host
    that was down (the experiments' victims come back)."""
    from picacheck.run import machine_control  # the glue that picks the lab's or Proxmox's control

    hosts = HostPool(inventory)
    yield catalog.ChaosContext(inventory, hosts, machine_control(inventory, hosts))
    hosts.close()


@pytest.fixture(scope="session")
def journals_dir(request) -> Path:
    report_dir = request.config.getoption("--report-dir")
    return Path(report_dir) / "chaos" if report_dir else Path(tempfile.mkdtemp(prefix="picacheck-chaos-"))


@pytest.fixture(scope="session")
def experiment_results(chaos_context, journals_dir):
    """Runs each experiment at most once per session; results by (name, options)."""
    cache: dict = {}

    def result(name: str, **options):
        key = (name, tuple(sorted(options.items())))
        if key not in cache:
            label = "-".join([name, *(str(v) for v in options.values())])
            journal_path = journals_dir / f"{label}.json"
            journal = catalog.run_named(name, chaos_context, journal_path, **options)
            picture = None
            if journal.timeline:
                from picacheck.report.timeline import render_timeline

                picture = render_timeline(journal.as_dict(), journal_path.with_suffix(".png"))
            cache[key] = (journal, picture)
        return cache[key]

    return result


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
