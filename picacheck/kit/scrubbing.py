"""Secrets under pytest-xdist: what a worker read is masked where the worker's work goes.

In one process, `picacheck verify` masks every secret the run has read on the terminal
(picacheck/cli.py) and in the run folder (picacheck/report/pytest_hooks.py). A worker reads
its secrets itself (the registry's password, a database's, the load's API key), so here:
- its stderr masks them (its progress lines go there);
- each report it sends has them masked (failure tracebacks show a request's headers);
- at its end it hands the forms to mask to the controller (through pytest-xdist's worker
  output, never printed), which masks them in the run folder and on its terminal too.
"""

from __future__ import annotations

import sys

import pytest

from picacheck import secrets
from picacheck.kit.hosts import is_worker


def pytest_configure(config: pytest.Config) -> None:
    if is_worker(config) and not isinstance(sys.stderr, secrets.ScrubbingStream):
        sys.stderr = secrets.ScrubbingStream(sys.stderr)


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report):
    data = yield
    return _masked(data) if is_worker(config) else data


def _masked(value):
    if isinstance(value, str):
        return secrets.scrub(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_masked(item) for item in value)
    return value


def pytest_sessionfinish(session: pytest.Session) -> None:
    if is_worker(session.config):
        session.config.workeroutput["picacheck_masked"] = secrets.known_forms()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    for form in getattr(node, "workeroutput", {}).get("picacheck_masked", ()):
        secrets.remember_form(form)
