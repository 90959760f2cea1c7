"""The report's pytest hooks: each check's outcome → the claims matrix → summary.json, the
run's exit status for findings (--fail-on), pytest-html's page (tests.html) as the detailed
test log, and the run folder's secrets masked at the end.

What a check's report carries (claims, notes, findings, not applicable) is put there by the
checks' kit (picacheck/kit/outcome.py). Under pytest-xdist only the controller writes: it
does not collect, so the checks each claim has (in collection order) come from a worker's
collection, sent back with the worker's output.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from picacheck import secrets
from picacheck.claims import Verdict, all_claims
from picacheck.findings import FAIL_ON_CHOICES, default_fail_on, failing
from picacheck.inventory import Inventory
from picacheck.kit.hosts import is_worker, say, unreachable_hosts
from picacheck.kit.inventory import loaded_inventory
from picacheck.kit.layers import claims_of
from picacheck.kit.outcome import CheckOutcome
from picacheck.report import matrix

_outcomes_key = pytest.StashKey[matrix.Outcomes]()
_expected_key = pytest.StashKey[dict]()  # node id → its claims, in collection order
_started_key = pytest.StashKey[float]()
_interrupted_key = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("picacheck")
    group.addoption("--report-dir", default=None, help="also write summary.json with the claims matrix here")
    group.addoption("--fail-on", default=None, choices=FAIL_ON_CHOICES,
                    help="findings at or above this severity fail the run (default: none on a lab, high elsewhere)")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_outcomes_key] = matrix.Outcomes()
    config.stash[_expected_key] = {}
    config.stash[_started_key] = time.time()
    _current_config[:] = [config]


@pytest.hookimpl(tryfirst=True)  # every check collected, also those -m deselects (not checked)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expected = config.stash[_expected_key]
    for item in items:
        expected[item.nodeid] = claims_of(item)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _current_config[0] if _current_config else None
    outcome = CheckOutcome.of(report)
    verdict = _verdict_of(report, outcome)
    if config is None or is_worker(config) or verdict is None:
        return
    notes = list(outcome.notes if outcome else [])
    if report.skipped:
        notes.append(_skip_reason(report))
    config.stash[_expected_key].setdefault(report.nodeid, outcome.claims if outcome else [])
    config.stash[_outcomes_key].record(report.nodeid, verdict, notes, outcome.finding_objects() if outcome else [])


def _verdict_of(report: pytest.TestReport, outcome: CheckOutcome | None) -> Verdict | None:
    if report.skipped:
        return Verdict.not_applicable if outcome and outcome.not_applicable else Verdict.not_checked
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


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """A worker's collection: the checks of each claim, in collection order (the first
    worker's; every worker collects the same checks)."""
    collected = getattr(node, "workeroutput", {}).get("picacheck_collected")
    if collected and not node.config.stash.get(_collected_key, None):
        node.config.stash[_collected_key] = dict(collected)


_collected_key = pytest.StashKey[dict]()


def pytest_keyboard_interrupt(excinfo) -> None:
    """Ctrl-C (130) or SIGTERM (143, raised by the CLI as a KeyboardInterrupt subclass named
    Terminated): the partial report is still written, and the run exits with that status."""
    # Not pytest.exit() nor pytest's own Session.Interrupted (errors during collection).
    if _current_config and (excinfo.type is KeyboardInterrupt or excinfo.typename == "Terminated"):
        _current_config[0].stash[_interrupted_key] = 143 if excinfo.typename == "Terminated" else 130


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if is_worker(config):
        config.workeroutput["picacheck_collected"] = list(config.stash[_expected_key].items())
        return
    if _interrupted_key in config.stash:
        session.exitstatus = config.stash[_interrupted_key]
    inventory = loaded_inventory(config)
    outcomes = config.stash[_outcomes_key]
    for nodeid, claims in _checks_in_order(config).items():
        outcomes.expect(nodeid, claims)
    rows = outcomes.matrix(all_claims(), inventory.not_applicable if inventory else {})
    findings = matrix.all_findings(rows)
    fail_on = config.getoption("--fail-on") or default_fail_on(inventory.environment.kind.value if inventory else "lab")
    failing_findings = failing(findings, fail_on)
    if failing_findings and session.exitstatus == 0:
        say(config, f"picacheck: {len(failing_findings)} finding(s) at or above --fail-on {fail_on}: the run fails")
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
        "unreachable": unreachable_hosts(config),
        "claims": [row.as_dict() for row in rows],
    }
    Path(report_dir).mkdir(parents=True, exist_ok=True)
    (Path(report_dir) / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))


def _checks_in_order(config: pytest.Config) -> dict[str, list[str]]:
    """Every check of the run with its claims, in collection order: this process's
    collection, or a worker's (then any check reported by a worker that died before
    sending its collection, from its report)."""
    collected = config.stash.get(_collected_key, None)
    expected = config.stash[_expected_key]
    if not collected:
        return expected
    return {**collected, **{nodeid: claims for nodeid, claims in expected.items() if nodeid not in collected}}


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
    report_dir = config.getoption("--report-dir", None)
    if report_dir and Path(report_dir).is_dir() and not is_worker(config):
        secrets.scrub_tree(Path(report_dir))
