"""The pytest plugin: inventory, hosts, layers, claims, evidence and the claims matrix.

Loaded by the root conftest.py. What it adds to pytest:
- `--inventory PATH` (default: the lab's generated inventory) and `--report-dir DIR`;
- markers for the layers (`hosts`, `cluster`, …; added automatically from tests/<layer>/)
  and `claim("H2", …)`;
- fixtures: `inventory`, `hosts` (one SSH connection per host), `evidence_note`;
- parametrisation from the inventory: a test that takes `hypervisor`, `swarm_node`,
  `gluster_peer`, `gluster_volume`, `raid_array`, `service` or `dump_policy` runs once per
  such item of the inventory;
- claims listed under `not_applicable` in the inventory are skipped as
  "not applicable here: <reason>";
- on failure, the commands run on hosts (host, command, output) are attached as evidence;
- the claims matrix (summary.json, and at the top of the HTML report).
"""

from __future__ import annotations

import contextlib
import json
import re
import os
import sys
import time
from pathlib import Path

import pytest

from picacheck import guard, progress
from picacheck.claims import Verdict, all_claims
from picacheck.errors import UserError
from picacheck.findings import FAIL_ON_CHOICES, Finding, FindingKind, Severity, default_fail_on, failing
from picacheck.inventory import Inventory, load_inventory
from picacheck.lab import topology
from picacheck.probes.remote import HostPool, evidence
from picacheck.report import matrix

LAYERS = ("hosts", "cluster", "services", "backup", "load")
NOT_APPLICABLE = "not applicable here"

_inventory_key = pytest.StashKey[Inventory]()
_outcomes_key = pytest.StashKey[matrix.Outcomes]()
_unreachable_key = pytest.StashKey[dict]()
_started_key = pytest.StashKey[float]()


def default_inventory_path() -> str:
    return os.environ.get("PICACHECK_INVENTORY", str(topology.INVENTORY_FILE))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("picacheck")
    group.addoption("--inventory", default=None, help="inventory YAML (default: the embedded lab's)")
    group.addoption("--report-dir", default=None, help="also write summary.json with the claims matrix here")
    group.addoption("--fail-on", default=None, choices=FAIL_ON_CHOICES,
                    help="findings at or above this severity fail the run (default: none on a lab, high elsewhere)")


def pytest_configure(config: pytest.Config) -> None:
    progress.set_writer(lambda line: _say(config, line, colour=False))
    config.stash[_outcomes_key] = matrix.Outcomes()
    config.stash[_unreachable_key] = {}
    config.stash[_started_key] = time.time()
    for line in (
        "hosts: layer: the hypervisors",
        "cluster: layer: corosync, GlusterFS, Swarm",
        "services: layer: Traefik, DNS, applications, registry",
        "backup: layer: dumps, vzdump, rsync",
        "load: layer: locust load tests",
        "chaos: experiments that break the target",
        "claim(*ids): the documented claims a check tests",
    ):
        config.addinivalue_line("markers", line)


def inventory_of(config: pytest.Config) -> Inventory:
    """The run's inventory, loaded once; a bad one ends the run with exit status 2."""
    if _inventory_key not in config.stash:
        path = config.getoption("--inventory") or default_inventory_path()
        try:
            config.stash[_inventory_key] = load_inventory(path)
        except UserError as error:
            print(f"picacheck: {error}", file=sys.stderr)
            pytest.exit(str(error), returncode=2)
    return config.stash[_inventory_key]


# --- parametrisation from the inventory ------------------------------------------------


def _inventory_params(name: str, inventory: Inventory) -> list | None:
    if name == "hypervisor":
        return inventory.hosts_with_role("hypervisor")
    if name == "swarm_node":
        return list(inventory.swarm.managers + inventory.swarm.workers) if inventory.swarm else []
    if name == "gluster_peer":
        return list(inventory.gluster.peers) if inventory.gluster else []
    if name == "gluster_volume":
        return [pytest.param(v, id=v.name) for v in inventory.gluster.volumes] if inventory.gluster else []
    if name == "raid_array":
        return [
            pytest.param((host_name, array), id=f"{host_name}-{array.name}", marks=_claim_marks(array.claim))
            for host_name, host in inventory.hosts.items()
            for array in host.raid
        ]
    if name == "service":
        return [pytest.param(s, id=s.name) for s in inventory.services]
    if name == "dump_policy":
        return [pytest.param(d, id=d.database) for d in inventory.backups.dumps]
    return None


def _claim_marks(claim: str | None) -> list:
    return [pytest.mark.claim(claim)] if claim else []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name in metafunc.fixturenames:
        if name in {"hypervisor", "swarm_node", "gluster_peer", "gluster_volume", "raid_array", "service", "dump_policy"}:
            params = _inventory_params(name, inventory_of(metafunc.config))
            metafunc.parametrize(name, params or [pytest.param(None, marks=pytest.mark.skip(reason=f"{NOT_APPLICABLE}: the inventory has no {name.replace('_', ' ')}"))])


# --- layers, claims, not applicable ----------------------------------------------------


def claims_of(item: pytest.Item) -> list[str]:
    return [claim for mark in item.iter_markers("claim") for claim in mark.args]


def _layer_of(item: pytest.Item) -> str | None:
    parts = Path(str(item.path)).parts
    for index, part in enumerate(parts[:-1]):
        if part == "tests" and parts[index + 1] in LAYERS:
            return parts[index + 1]
    return None


# --- the production guard ------------------------------------------------------------

GRANT_PLUGIN = "picacheck-grant"  # run.verify registers the command's decision under this name
_grant_key = pytest.StashKey[guard.Grant]()


class CommandGrant:
    """The decision `picacheck verify` took (flags, typed name) before starting pytest."""

    def __init__(self, grant: guard.Grant):
        self.grant = grant


def _access_needed(items: list[pytest.Item]) -> guard.Access | None:
    """Chaos and load change the target; the other layers only read it."""
    if any(_is_experiment(item) or _layer_of(item) == "load" for item in items):
        return guard.Access.change
    return guard.Access.read if any(_layer_of(item) for item in items) else None


def _is_experiment(item: pytest.Item) -> bool:
    return Path(str(item.path)).parent.name == "chaos"


def _authorise(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The run's grant: the command's, or (pytest run directly) what the guard allows
    without a typed confirmation. A run that may not do what it holds ends with exit 2."""
    access = _access_needed(items)
    if access is None:
        return
    given = config.pluginmanager.get_plugin(GRANT_PLUGIN)
    inventory = inventory_of(config)
    try:
        grant = given.grant if given else guard.decide(inventory, access, what="this run")
        guard.require(inventory, grant, access, "this run")
    except UserError as error:
        print(f"picacheck: {error}", file=sys.stderr)
        pytest.exit(str(error), returncode=2)
    config.stash[_grant_key] = grant


@pytest.fixture(scope="session")
def grant(request: pytest.FixtureRequest) -> guard.Grant | None:
    """What this run may do to its environment (see picacheck/guard.py)."""
    return request.config.stash.get(_grant_key, None)


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: the guard weighs what will really run
def pytest_collection_finish(session: pytest.Session) -> None:
    if not session.config.option.collectonly:
        _authorise(session.config, session.items)


@pytest.hookimpl(tryfirst=True)  # before -m deselection, which reads the layer markers added here
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    outcomes = config.stash[_outcomes_key]
    for item in items:
        layer = _layer_of(item)
        if layer:
            item.add_marker(getattr(pytest.mark, layer))
        claims = claims_of(item)
        outcomes.expect(item.nodeid, claims)
        if claims and _inventory_key in config.stash:
            reasons = config.stash[_inventory_key].not_applicable
            if all(claim in reasons for claim in claims):
                why = "; ".join(f"{claim}: {reasons[claim]}" for claim in claims)
                item.add_marker(pytest.mark.skip(reason=f"{NOT_APPLICABLE}: {why}"))


# --- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def inventory(request: pytest.FixtureRequest) -> Inventory:
    return inventory_of(request.config)


@pytest.fixture(scope="session")
def hosts(request: pytest.FixtureRequest, inventory: Inventory) -> HostPool:
    """One SSH connection per host for the whole run (see `_host_pool`)."""
    return _host_pool(request.config)


_pool_key = pytest.StashKey[HostPool]()


def _host_pool(config: pytest.Config) -> HostPool:
    """The run's hosts. Every host is first asked for its SSH banner, all at once: an
    unreachable host is named once, its checks fail at once with the reason, and the run
    goes on (the report is written; the run exits 1)."""
    if _pool_key not in config.stash:
        pool = HostPool(inventory_of(config), remember_unreachable=True, grant=config.stash.get(_grant_key, None))
        config.stash[_pool_key] = pool
        unreachable = pool.preflight()
        config.stash[_unreachable_key].update(unreachable)
        for name, reason in unreachable.items():
            _say(config, f"picacheck: {name} is unreachable: {reason}; its checks fail with that reason")
    return config.stash[_pool_key]


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Checks of the layers talk to hosts: the pre-flight runs before the first of them,
    also where no check of a host runs (an unreachable host still fails the run)."""
    if not session.config.option.collectonly and any(_layer_of(item) for item in session.items):
        _host_pool(session.config)


def _say(config: pytest.Config, line: str, colour: bool = True) -> None:
    """A line on the terminal now, past pytest's capture of the checks' output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        print(line, file=sys.stderr, flush=True)
        return
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        reporter.ensure_newline()
        reporter.write_line(line, **({"yellow": True, "bold": True} if colour else {}))


def documented(value, what: str):
    """An inventory section a check needs; where the environment has none, the claim is
    not applicable here (skipped with that reason, counted as such in the claims matrix)."""
    if value is None:
        pytest.skip(f"{NOT_APPLICABLE}: the inventory documents no {what}")
    return value


@pytest.fixture
def corosync(inventory):
    return documented(inventory.corosync, "corosync cluster")


@pytest.fixture
def swarm(inventory):
    return documented(inventory.swarm, "Docker Swarm")


@pytest.fixture
def traefik(inventory, swarm):
    return documented(inventory.traefik, "Traefik")


@pytest.fixture
def registry(inventory):
    return documented(inventory.registry, "registry")


@pytest.fixture
def monitoring(inventory):
    return documented(inventory.monitoring, "monitoring host")


@pytest.fixture
def vzdump(inventory):
    return documented(inventory.backups.vzdump, "vzdump policy")


@pytest.fixture
def evidence_note(request: pytest.FixtureRequest):
    """Attach a measured figure to this check's entry in the claims matrix."""

    def note(text: str) -> None:
        request.node.user_properties.append(("evidence", text))

    return note


@pytest.fixture
def finding(request: pytest.FixtureRequest):
    """Attach a finding (a danger seen even where the claim holds) to this check:
    `finding(FindingKind.security, Severity.high, "the dashboard answers from outside")`.
    With `claim`, it goes to that claim only (a check carrying several claims)."""

    def attach(kind: FindingKind, severity: Severity, text: str, claim: str | None = None) -> None:
        found = Finding(FindingKind(kind), Severity(severity), text, claim, request.node.nodeid)
        request.node.user_properties.append(("finding", found.as_dict()))

    return attach


# --- evidence and outcomes -------------------------------------------------------------


def pytest_runtest_setup(item: pytest.Item) -> None:
    evidence.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(UserError):
        # An unreachable host, a timed-out command, a refused sudo: the message says it all,
        # a traceback through the SSH layer would only bury it (dozens of times per host).
        report.longrepr = str(call.excinfo.value)
    notes = [value for key, value in item.user_properties if key == "evidence"]
    if report.failed:
        commands = "\n\n".join(execution.excerpt() for execution in evidence.executions())
        if commands:
            report.sections.append(("evidence: commands run on the hosts", commands))
        notes.append(_short_failure(report))
        if commands:
            notes.append(commands)
    report.picacheck_notes = notes  # type: ignore[attr-defined]
    report.picacheck_findings = [  # type: ignore[attr-defined]
        Finding.from_dict(value) for key, value in item.user_properties if key == "finding"]
    return report


def _short_failure(report: pytest.TestReport) -> str:
    """The check's own message, without pytest's introspection of the assertion."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).splitlines()[-1]
    message = re.sub(r"^picacheck\.[\w.]+\.(\w+): ", "", message)  # our own errors speak for themselves
    return message.split("\nassert ", 1)[0]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    verdict = _verdict_of(report)
    if verdict is None:
        return
    notes = list(getattr(report, "picacheck_notes", []))
    if report.skipped:
        notes.append(_skip_reason(report))
    if _current_config:
        _current_config[0].stash[_outcomes_key].record(report.nodeid, verdict, notes,
                                                       getattr(report, "picacheck_findings", []))


def _verdict_of(report: pytest.TestReport) -> Verdict | None:
    if report.skipped:
        return Verdict.not_applicable if NOT_APPLICABLE in _skip_reason(report) else Verdict.not_checked
    if report.when == "call":
        return Verdict.holds if report.passed else Verdict.broken
    if report.failed:  # setup or teardown error
        return Verdict.broken
    return None


def _skip_reason(report: pytest.TestReport) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


# pytest_runtest_logreport receives no config: the run's config is kept here.
_current_config: list[pytest.Config] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _current_config[:] = [session.config]


# --- the claims matrix -----------------------------------------------------------------


_interrupted_key = pytest.StashKey[int]()


def pytest_keyboard_interrupt(excinfo) -> None:
    """Ctrl-C (130) or SIGTERM (143, raised by the CLI as a KeyboardInterrupt subclass named
    Terminated): the partial report is still written, and the run exits with that status."""
    # Not pytest.exit() nor pytest's own Session.Interrupted (errors during collection).
    if _current_config and (excinfo.type is KeyboardInterrupt or excinfo.typename == "Terminated"):
        _current_config[0].stash[_interrupted_key] = 143 if excinfo.typename == "Terminated" else 130


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _interrupted_key in config.stash:
        session.exitstatus = config.stash[_interrupted_key]
    pool = config.stash.get(_pool_key, None)
    if pool is not None:
        config.stash[_unreachable_key].update(pool.unreachable())
        pool.close()
    if config.stash[_unreachable_key] and session.exitstatus == 0:
        session.exitstatus = 1  # an unreachable host is a verdict, and not a healthy one
    inventory = config.stash.get(_inventory_key, None)
    rows = config.stash[_outcomes_key].matrix(all_claims(), inventory.not_applicable if inventory else {})
    findings = matrix.all_findings(rows)
    fail_on = config.getoption("--fail-on") or default_fail_on(inventory.environment.kind.value if inventory else "lab")
    failing_findings = failing(findings, fail_on)
    if failing_findings and session.exitstatus == 0:
        _say(config, f"picacheck: {len(failing_findings)} finding(s) at or above --fail-on {fail_on}: the run fails")
        session.exitstatus = 1
    report_dir = config.getoption("--report-dir")
    if not report_dir:
        return
    started = config.stash[_started_key]
    summary = {
        "inventory": inventory.environment.model_dump(mode="json") if inventory else None,
        "hosts": _hosts_summary(inventory),
        "started": started,
        "duration_s": round(time.time() - started, 1),
        "exit_status": int(session.exitstatus),
        "fail_on": fail_on,
        "counts": matrix.count(rows),
        "findings": [finding.as_dict() for finding in findings],
        "unreachable": config.stash[_unreachable_key],
        "claims": [row.as_dict() for row in rows],
    }
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    (Path(report_dir) / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))


def _hosts_summary(inventory: Inventory | None) -> list[dict]:
    if inventory is None:
        return []
    return [{"name": name, "roles": list(host.roles), "address": host.ssh.address, "jump": host.ssh.jump}
            for name, host in inventory.hosts.items()]


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report) -> None:
    report.title = "picacheck: the detailed test log"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list, summary: list, postfix: list, session: pytest.Session) -> None:
    """pytest-html's page is the test log; the report people read is report.html beside it."""
    prefix.append('<p>The report of this run, with the claims matrix and the findings first: '
                  '<a href="report.html">report.html</a> (summary.json for the data).</p>')


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """The last line of defence: every file of the run folder (summary, JUnit, HTML,
    journals, load logs) is rewritten with the known secrets masked."""
    progress.set_writer(None)
    report_dir = config.getoption("--report-dir", None)
    if report_dir and Path(report_dir).is_dir():
        from picacheck import secrets

        secrets.scrub_tree(Path(report_dir))
