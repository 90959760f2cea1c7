"""Lab tests: bring the embedded lab up once, run layers of the verification suite against
it, break things on purpose and check that the right claims break (then repair them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from picacheck.lab import topology

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def lab():
    """The lab, up (idempotent: a lab already up is reused). Returns its inventory path.

    PICACHECK_LAB_REUSE=1 skips `lab up` when the lab's inventory exists (quicker iterations
    while developing; CI always runs `lab up`).
    """
    from picacheck.lab import whole

    if not (os.environ.get("PICACHECK_LAB_REUSE") == "1" and topology.INVENTORY_FILE.exists()):
        whole.up()
    return topology.INVENTORY_FILE


class LayerRun:
    """The outcome of one run of the verification suite: verdicts per claim, per check."""

    def __init__(self, summary: dict, output: str):
        self.claims = {row["id"]: row for row in summary["claims"]}
        self.output = output

    def verdict(self, claim: str) -> str:
        return self.claims[claim]["verdict"]

    def evidence(self, claim: str) -> str:
        return "\n".join(self.claims[claim]["evidence"])

    def broken(self) -> list[str]:
        return sorted(claim for claim, row in self.claims.items() if row["verdict"] == "broken")


@pytest.fixture
def run_layer(lab, tmp_path):
    """Run tests/<layer> against the lab in a separate pytest process, as a user would."""
    counter = iter(range(1000))

    def run(layer: str, *extra: str) -> LayerRun:
        report_dir = tmp_path / f"run{next(counter)}"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", str(REPO / "tests" / layer), f"--inventory={lab}",
             f"--report-dir={report_dir}", "-q", "-p", "no:cacheprovider", *extra],
            cwd=REPO, capture_output=True, text=True, timeout=900,
        )
        summary = json.loads((report_dir / "summary.json").read_text())
        return LayerRun(summary, result.stdout + result.stderr)

    return run


@pytest.fixture(scope="session")
def ssh(lab):
    """Run a command on a lab host, as root over SSH with the lab's key."""

    def run(host: str, command: str, check: bool = True, timeout: int = 120) -> str:
        result = subprocess.run(
            ["ssh", "-i", str(topology.SSH_KEY), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", f"root@{topology.HOSTS[host].address}", command],
            capture_output=True, text=True, timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{host}: `{command}` exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    return run


# Tearing a part of the lab down is tested last, in the reverse order of `lab up` (services,
# then hypervisors, then the container VMs), so that every other lab test finds the lab up
# and the last one (`picacheck lab down`, whole) proves that the lab leaves nothing behind.
TEARDOWN_ORDER = ("test_services_lab.py", "test_hypervisors.py", "test_lab_vms.py")


def pytest_collection_modifyitems(config, items):
    def teardown_rank(item) -> int:
        if "down_leaves_nothing" not in item.name:
            return -1
        return TEARDOWN_ORDER.index(item.path.name) if item.path.name in TEARDOWN_ORDER else len(TEARDOWN_ORDER)

    items.sort(key=teardown_rank)  # stable: everything else keeps its order
