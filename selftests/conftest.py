"""The project's own tests (selftests/): the library, the plugin, the CLI, and the lab."""

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def lab_tests_enabled() -> bool:
    return os.environ.get("PICACHECK_LAB_TESTS") == "1"


def pytest_collection_modifyitems(config, items):
    """Lab tests need root and minutes: they run with PICACHECK_LAB_TESTS=1 (scripts/test sets it)."""
    skip = pytest.mark.skip(reason="lab test: set PICACHECK_LAB_TESTS=1 (scripts/test does) to build and use the lab")
    if lab_tests_enabled():
        return
    for item in items:
        if item.get_closest_marker("lab"):
            item.add_marker(skip)


# --- the time of each phase (CI prints it at the end) ---------------------------------------------

_seconds_by_file: dict[str, float] = {}


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    phase = "selftests/unit" if path.startswith("selftests/unit/") else path
    _seconds_by_file[phase] = _seconds_by_file.get(phase, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _seconds_by_file:
        return
    terminalreporter.write_sep("-", "time per phase (the lab's build is in its first test's set-up)")
    for phase, seconds in _seconds_by_file.items():
        terminalreporter.write_line(f"{seconds:8.0f} s  {phase}")
    terminalreporter.write_line(f"{sum(_seconds_by_file.values()):8.0f} s  in all")
