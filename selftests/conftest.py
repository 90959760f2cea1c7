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
    """Lab tests need root and a few minutes; they run when PICACHECK_LAB_TESTS=1 (scripts/test)."""
    if lab_tests_enabled():
        return
    skip = pytest.mark.skip(reason="lab test: set PICACHECK_LAB_TESTS=1 (scripts/test does) to build and use the lab")
    for item in items:
        if item.get_closest_marker("lab"):
            item.add_marker(skip)
