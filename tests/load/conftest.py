"""Load runs write into the run's report folder (<report-dir>/load/<service>/: locust's CSV
and HTML, the chart, summary.json), and the HTML report shows the chart beside the check
with links to those files."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def load_dir(request, tmp_path_factory) -> Path:
    report_dir = request.config.getoption("--report-dir")
    return Path(report_dir) / "load" if report_dir else tmp_path_factory.mktemp("load")


@pytest.fixture
def attach_load_report(attach_to_html):
    """Show a load run's chart in the HTML report, with links to locust's HTML and CSV."""

    def attach(run) -> None:
        service = run.target.service
        attach_to_html.picture(run.chart, name=f"{service}: load chart")
        for label, path in (("locust report", run.files.html), ("statistics (CSV)", run.files.stats),
                            ("history (CSV)", run.files.history), ("failures (CSV)", run.files.failures)):
            attach_to_html.link(f"{service}: {label}", path)

    return attach
