"""Load runs write into the run's report folder (<report-dir>/load/<service>/: locust's CSV
and HTML, the chart, summary.json), and the HTML report shows the chart beside the check
with links to those files."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def load_dir(request, tmp_path_factory) -> Path:
    report_dir = request.config.getoption("--report-dir")
    return Path(report_dir) / "load" if report_dir else tmp_path_factory.mktemp("load")


@pytest.fixture
def attach_load_report(request):
    """Show a load run's chart in the HTML report, with links to locust's HTML and CSV."""

    def attach(run) -> None:
        if request.config.pluginmanager.getplugin("html") is None:
            return
        import pytest_html

        extras = getattr(request.node, "extras", [])
        if run.chart is not None and run.chart.exists():
            extras.append(pytest_html.extras.png(base64.b64encode(run.chart.read_bytes()).decode(),
                                                 name=f"{run.target.service}: load chart"))
        for label, path in (("locust report", run.files.html), ("statistics (CSV)", run.files.stats),
                            ("history (CSV)", run.files.history), ("failures (CSV)", run.files.failures)):
            if path.exists():
                extras.append(pytest_html.extras.url(_href(request.config, path), name=f"{run.target.service}: {label}"))
        request.node.extras = extras

    return attach


def _href(config, path: Path) -> str:
    html = getattr(config.option, "htmlpath", None)
    if html:
        return os.path.relpath(path.resolve(), Path(html).resolve().parent)
    return path.resolve().as_uri()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call" and getattr(item, "extras", None):
        report.extras = getattr(report, "extras", []) + item.extras
    return report
