"""The restore drill runs once per database per run: B5 (the newest dump restores and
matches) and B9 (the report's restore.sh restores it) read the same drill."""

import dataclasses
import json
from pathlib import Path

import pytest

from picacheck import restore


@pytest.fixture(scope="session")
def restore_drills(request, hosts, inventory):
    """The drill of a dump policy, run on first use and kept for the run (a drill that could
    not run is kept as its error, so that both of its checks fail with it). Each drill's
    figures go to <report-dir>/restore/<database>.json for the report."""
    done: dict[str, restore.DrillResult | AssertionError] = {}
    report_dir = request.config.getoption("--report-dir")

    def drill(policy) -> restore.DrillResult:
        if policy.database not in done:
            try:
                done[policy.database] = restore.restore_drill(hosts, inventory, policy)
            except AssertionError as error:
                done[policy.database] = error
            if report_dir:
                _write_figures(Path(report_dir) / "restore" / f"{policy.database}.json", done[policy.database])
        result = done[policy.database]
        if isinstance(result, AssertionError):
            raise AssertionError(str(result))
        return result

    return drill


def _write_figures(path: Path, result: restore.DrillResult | AssertionError) -> None:
    if isinstance(result, AssertionError):
        data = {"error": str(result)}
    else:
        data = {**dataclasses.asdict(result), "rpo_s": result.rpo_s, "problems": result.problems(),
                "summary": result.summary()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str))
