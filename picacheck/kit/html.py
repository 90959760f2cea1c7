"""Pictures and links beside a check in pytest-html's page (tests.html): a load run's chart
and locust's files, a chaos experiment's timeline.

    def test_x(attach_to_html):
        attach_to_html.picture(chart, name="etherpad: load chart")
        attach_to_html.link("etherpad: locust report", html_file)

Without pytest-html (no --html), nothing is attached. The hook below moves what a check
attached onto its report, where pytest-html reads it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest


class HtmlAttachments:
    def __init__(self, request: pytest.FixtureRequest):
        self._node = request.node
        self._config = request.config

    @property
    def active(self) -> bool:
        return self._config.pluginmanager.getplugin("html") is not None

    def picture(self, path: Path | None, name: str | None = None) -> None:
        """A PNG file, embedded in the page (missing or None: nothing)."""
        if not self.active or path is None or not Path(path).exists():
            return
        import pytest_html

        content = base64.b64encode(Path(path).read_bytes()).decode()
        self._add(pytest_html.extras.png(content, **({"name": name} if name else {})))

    def link(self, name: str, path: Path) -> None:
        """A link to a file of the run folder, relative to the page (missing: nothing)."""
        if not self.active or not Path(path).exists():
            return
        import pytest_html

        self._add(pytest_html.extras.url(self._href(Path(path)), name=name))

    def _add(self, extra: dict) -> None:
        self._node.extras = [*getattr(self._node, "extras", []), extra]

    def _href(self, path: Path) -> str:
        html = getattr(self._config.option, "htmlpath", None)
        if html:
            return os.path.relpath(path.resolve(), Path(html).resolve().parent)
        return path.resolve().as_uri()


@pytest.fixture
def attach_to_html(request: pytest.FixtureRequest) -> HtmlAttachments:
    return HtmlAttachments(request)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if call.when == "call" and getattr(item, "extras", None):
        existing = getattr(report, "extras", [])
        # Skipping what is there already: a conftest.py of its own may have copied them.
        report.extras = existing + [extra for extra in item.extras if extra not in existing]
    return report
