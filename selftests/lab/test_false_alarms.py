"""No false alarm on a healthy lab: the short version of benchmarks/false_alarms.py (two
verifications in a row, every state layer; the load layer has its own lab tests). It runs
after the chaos experiments' tests (files run in name order): the lab must be as healthy
after the drills as before. A claim that breaks here without being one the lab refutes by
design (B9) is a defect to find at its cause."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


def test_two_verifications_in_a_row_show_no_false_alarm(lab):
    layers = [arg for layer in ("hosts", "cluster", "services", "backup") for arg in ("--layer", layer)]
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "false_alarms.py"), "--runs", "2", *layers],
                            cwd=REPO, capture_output=True, text=True, timeout=1800)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert result.stdout.count("refuted as documented: B9") == 2, result.stdout
