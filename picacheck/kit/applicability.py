"""Claims an environment cannot show: "not applicable here", typed.

A check calls `not_applicable(reason)` (or asks for an inventory section through
`documented(value, what)`); before a check runs, the marker `not_applicable(reason)` does the
same (the inventory's `not_applicable:` claims, an empty parametrisation). Either way the
check is skipped with the reason "not applicable here: <reason>", and the claims matrix counts
it as such, never as passed. What makes it so is the exception's type, `NotApplicable`: a
plain `pytest.skip(…)` is a check that was not run ("not checked"), whatever its words.
"""

from __future__ import annotations

from typing import NoReturn, TypeVar

import pytest

NOT_APPLICABLE = "not applicable here"  # the words of the reason, as the report shows them

T = TypeVar("T")


class NotApplicable(pytest.skip.Exception):  # pytest's Skipped: pytest reports the check as skipped
    """This environment cannot show the claim (no Proxmox in the lab, say)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"{NOT_APPLICABLE}: {reason}")


def not_applicable(reason: str) -> NoReturn:
    """Skip this check: the claim is not applicable here, for `reason`."""
    __tracebackhide__ = True  # the skip's location is the check's line, not this one
    raise NotApplicable(reason)


def documented(value: T | None, what: str) -> T:
    """An inventory section a check needs; where the environment has none, the claim is
    not applicable here."""
    __tracebackhide__ = True
    if value is None:
        not_applicable(f"the inventory documents no {what}")
    return value


def marker(reason: str) -> pytest.MarkDecorator:
    """The same, decided before the check runs (for `item.add_marker` or `pytest.param(marks=…)`)."""
    return pytest.mark.not_applicable(reason)


def skipped_before_running(item: pytest.Item) -> str | None:
    """Why a check will not run, as its skip would say it (None: it runs); for a plan."""
    mark = item.get_closest_marker("not_applicable")
    if mark is not None:
        return f"{NOT_APPLICABLE}: {mark.args[0] if mark.args else mark.kwargs['reason']}"
    return next((m.kwargs.get("reason", m.args[0] if m.args else "") for m in item.iter_markers("skip")), None)


def raised_by(call: pytest.CallInfo) -> bool:
    """Whether this phase of a check ended in `not_applicable`."""
    return call.excinfo is not None and call.excinfo.errisinstance(NotApplicable)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    mark = item.get_closest_marker("not_applicable")
    if mark is not None:
        raise NotApplicable(mark.args[0] if mark.args else mark.kwargs["reason"])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if raised_by(call) and isinstance(report.longrepr, tuple):
        # As pytest words a skip ("Skipped: …", where the reports look for it), at the
        # check's own line when the marker decided it before the check ran.
        path, line, _ = report.longrepr
        if call.when == "setup":
            where, number = item.reportinfo()[:2]
            path, line = str(where), (number or 0) + 1
        report.longrepr = (path, line, f"Skipped: {call.excinfo.value}")
    return report
