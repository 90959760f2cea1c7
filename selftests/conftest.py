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
