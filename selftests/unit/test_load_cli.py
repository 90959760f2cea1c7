"""`picacheck load`: production is refused before anything runs, bad flags exit 2 with one
line (no network)."""

import subprocess
import sys
from pathlib import Path

import pytest

from picacheck import cli

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "inventory" / "picasoft.yml"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def test_load_refuses_production_with_one_line_and_no_run_folder(tmp_path):
    result = _cli("load", "etherpad", "--inventory", str(PRODUCTION), "--reports", str(tmp_path))
    assert result.returncode == 2
    assert "production inventory" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--worker"], "--worker and --master-host go together"),
    (["--master-host", "10.0.0.1"], "--worker and --master-host go together"),
])
def test_load_worker_flags_go_together(args, message, capsys):
    assert cli.main(["load", "etherpad", *args]) == 2
    assert message in capsys.readouterr().err


def test_load_help_documents_distributed_runs():
    result = _cli("load", "--help")
    assert result.returncode == 0
    for flag in ("--max-users", "--step-users", "--step-seconds", "--workers", "--master-host", "--remote-workers"):
        assert flag in result.stdout
