"""Evidence and findings of a check.

- `evidence_note(text)`: a measured figure for this check's entry in the claims matrix;
- `finding(kind, severity, text)`: a danger seen even where the claim holds (never shown green);
- on failure, the commands run on the hosts (host, command, output) are attached to the
  check's report, and the check's own message (without pytest's introspection) becomes a
  note of its claims;
- each report carries the check's outcome for the claims matrix (picacheck/kit/outcome.py).
"""

from __future__ import annotations

import re

import pytest

from picacheck.errors import UserError
from picacheck.findings import Finding, FindingKind, Severity
from picacheck.kit import applicability
from picacheck.kit.layers import claims_of
from picacheck.kit.outcome import CheckOutcome
from picacheck.probes.remote import evidence

EVIDENCE_SECTION = "evidence: commands run on the hosts"


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
            report.sections.append((EVIDENCE_SECTION, commands))
        notes.append(_short_failure(report))
        if commands:
            notes.append(commands)
    CheckOutcome(
        claims=claims_of(item), notes=notes,
        findings=[value for key, value in item.user_properties if key == "finding"],
        not_applicable=applicability.raised_by(call),
    ).attach(report)
    return report


def _short_failure(report: pytest.TestReport) -> str:
    """The check's own message, without pytest's introspection of the assertion."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr).splitlines()[-1]
    message = re.sub(r"^picacheck\.[\w.]+\.(\w+): ", "", message)  # our own errors speak for themselves
    return message.split("\nassert ", 1)[0]
