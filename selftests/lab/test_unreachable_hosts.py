"""An unreachable host is a verdict, not the end of the run: `picacheck verify` names it
once, fails its checks with the reason, runs every other check, writes the report and
exits 1. A host that accepts TCP but never speaks SSH costs one banner timeout, not one per
check (benchmarks/unreachable_host.py prints the figures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from picacheck.lab.control import LabVms
from selftests.unit.sshd import SilentListener

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


def verify(inventory: Path, reports: Path, *layers: str) -> tuple[subprocess.CompletedProcess, dict]:
    command = [sys.executable, "-m", "picacheck.cli", "verify", "--inventory", str(inventory),
               "--reports", str(reports), *[f"--layer={layer}" for layer in layers]]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    return result, json.loads((reports / "latest" / "summary.json").read_text())


def broken(summary: dict) -> dict[str, list[str]]:
    return {row["id"]: row["evidence"] for row in summary["claims"] if row["verdict"] == "broken"}


def test_a_host_that_never_speaks_ssh_is_named_once_and_its_checks_fail_at_once(lab, tmp_path):
    listener = SilentListener()
    data = yaml.safe_load(Path(lab).read_text())
    data["hosts"]["bob"]["ssh"].update(address="127.0.0.1", port=listener.port, connect_timeout=3)
    inventory = tmp_path / "silent-bob.yml"
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))
    try:
        result, summary = verify(inventory, tmp_path / "reports", "hosts")
    finally:
        listener.close()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    announced = [line for line in output.splitlines() if "its checks fail with that reason" in line]
    assert announced == [f"picacheck: bob is unreachable: no SSH banner within 3 s from 127.0.0.1:{listener.port} "
                         "(the port accepts TCP but does not speak SSH); its checks fail with that reason"], output[-3000:]
    assert "Traceback" not in output and "remote.py" not in output, output[-3000:]
    assert "Traceback" not in result.stderr
    assert summary["unreachable"] == {"bob": f"no SSH banner within 3 s from 127.0.0.1:{listener.port} "
                                             "(the port accepts TCP but does not speak SSH)"}
    assert len(listener.held) == 1, "one connection for the pre-flight, none per check"
    for claim in ("H2", "H3", "H4", "H14"):  # bob's checks fail with the reason, alice's still run
        assert any("bob is unreachable: no SSH banner" in line for line in broken(summary)[claim]), claim
    alice_only = [row for row in summary["claims"] if row["id"] == "H14"][0]["checks"]
    assert any("alice" in check for check in alice_only)


def test_a_stopped_hypervisor_is_a_verdict_and_the_report_is_written(lab, tmp_path):
    vms = LabVms()
    vms.kill_hypervisor("bob")
    try:
        result, summary = verify(Path(lab), tmp_path / "reports", "hosts", "cluster")
    finally:
        vms.start_hypervisor("bob")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert output.count("its checks fail with that reason") == 1, output[-3000:]
    assert "Traceback" not in output and "remote.py" not in output, output[-3000:]
    assert set(summary["unreachable"]) == {"bob"}
    assert (tmp_path / "reports" / "latest" / "report.html").exists()
    assert "bob is unreachable" in " ".join(broken(summary)["C1"])
    assert [row for row in summary["claims"] if row["id"] == "C5"][0]["verdict"] == "holds"  # gluster: no bob
