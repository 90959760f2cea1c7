"""Lab tests: bring the embedded lab up once, run layers of the verification suite against
it, break things on purpose and check that the right claims break (then repair them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from picacheck.facts.crontab import parse_schedule
from picacheck.facts.dumps import WALL_CLOCK_COMMAND, parse_wall_clock
from picacheck.inventory import load_inventory
from picacheck.lab import topology
from picacheck.wait import eventually

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

    def status(self, claim: str) -> str:
        """The verdict as the matrix shows it: "holds, with a finding" where a check found one."""
        return self.claims[claim]["status"]

    def findings(self, claim: str) -> str:
        return "\n".join(finding["text"] for finding in self.claims[claim]["findings"])

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
    """Run a command on a lab host, as root over SSH with the lab's key (admin through alice)."""
    from picacheck.lab.ssh import openssh_argv

    def run(host: str, command: str, check: bool = True, timeout: int = 120) -> str:
        result = subprocess.run([*openssh_argv(host), command], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{host}: `{command}` exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    return run


@pytest.fixture(scope="session")
def clear_of_hypervisor_cron(lab, ssh):
    """Wait, if need be, until none of the hypervisors' cron jobs (the nightly vzdump, the
    rsync pulls) starts within the next `needed_s` or started less than `settle_s` ago, on
    each node's own clock: a CI run crossing 03:00 or 06:00 must not meet them in a test."""
    backups = load_inventory(lab).backups
    jobs = [(host, backups.vzdump.schedule) for host in backups.vzdump.hosts]
    jobs += [(mirror.host, mirror.schedule) for mirror in backups.rsync]
    starts: dict[str, list[int]] = {}  # host → the seconds of the day its jobs start at
    for host, schedule in jobs:
        starts.setdefault(host, []).extend(h * 3600 + m * 60 for h, m in parse_schedule(schedule).daily_times())

    def is_clear(needed_s: float, settle_s: float) -> bool:
        for host, seconds in starts.items():
            now = parse_wall_clock(ssh(host, WALL_CLOCK_COMMAND))
            second_of_day = now.hour * 3600 + now.minute * 60 + now.second
            for start in seconds:
                ahead = (start - second_of_day) % 86400
                if ahead < needed_s or 86400 - ahead < settle_s:
                    return False
        return True

    def wait(needed_s: float, settle_s: float = 180) -> None:
        eventually(lambda: is_clear(needed_s, settle_s), timeout=needed_s + settle_s + 60, interval=10,
                   what="a moment clear of the hypervisors' cron jobs")

    return wait


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
