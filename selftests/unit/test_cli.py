"""The CLI: plan connects to nothing, production is never contacted, bad input exits 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from picacheck import run
from picacheck.claims import all_claims
from picacheck.errors import UserError

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "inventory" / "picasoft.yml"


def test_plan_lists_every_claim_and_connects_to_nothing(no_network):
    text = run.plan(str(PRODUCTION))
    assert no_network == []
    for claim in all_claims():
        assert f"  {claim.id}: " in text, f"{claim.id} missing from the plan"
    assert "Per host:" in text and "  alice: " in text


def test_verify_refuses_production_without_connecting(no_network):
    with pytest.raises(UserError, match="production inventory"):
        run.verify(str(PRODUCTION), layers=None, reports_root=None, extra=[])
    assert no_network == []


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_verify_production_exits_2_with_one_line():
    result = _cli("verify", "--inventory", str(PRODUCTION))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "production" in result.stderr


def _lab_like_inventory(tmp_path, address, key_file):
    path = tmp_path / "inventory.yml"
    path.write_text(
        "environment: {name: t, kind: staging}\n"
        f"hosts:\n  node1:\n    roles: [swarm]\n    ssh: {{address: '{address}', port: 9, key_file: '{key_file}', connect_timeout: 2}}\n"
    )
    return path


def test_cli_verify_missing_key_exits_2(tmp_path):
    path = _lab_like_inventory(tmp_path, "127.0.0.1", tmp_path / "no-such-key")
    result = _cli("verify", "--inventory", str(path), "--reports", str(tmp_path / "reports"))
    assert result.returncode == 2
    assert "hosts.node1.ssh.key_file" in result.stderr and "Traceback" not in result.stderr


def test_cli_verify_unreachable_host_is_a_verdict_the_report_is_written_and_the_run_exits_1(tmp_path):
    key = tmp_path / "key"
    key.write_text("not really a key")
    path = _lab_like_inventory(tmp_path, "127.0.0.1", key)  # port 9 (discard): nothing listens
    result = _cli("verify", "--inventory", str(path), "--reports", str(tmp_path / "reports"))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert output.count("node1 is unreachable: SSH port closed (connection refused on 127.0.0.1:9)") == 1
    assert "Traceback" not in output
    summary = json.loads((tmp_path / "reports" / "latest" / "summary.json").read_text())
    assert summary["unreachable"] == {"node1": "SSH port closed (connection refused on 127.0.0.1:9)"}
    assert summary["exit_status"] == 1


def test_cli_without_command_prints_help_and_exits_2():
    result = _cli()
    assert result.returncode == 2 and "verify" in result.stdout


@pytest.fixture
def staging_inventory(tmp_path) -> Path:
    """The production inventory, relabelled staging: what a user's staging copy looks like."""
    text = PRODUCTION.read_text()
    assert "kind: production" in text
    path = tmp_path / "staging.yml"
    path.write_text(text.replace("kind: production", "kind: staging", 1))
    return path


def _experiment_names():
    from picacheck.chaos import catalog

    return catalog.names()


@pytest.mark.parametrize("name", _experiment_names())
def test_every_experiment_dry_runs_its_plan_and_connects_to_nothing(no_network, staging_inventory, capsys, name):
    assert run.chaos(name, str(staging_inventory), dry_run=True, allow_production=False, options={}) == 0
    assert no_network == []
    plan = capsys.readouterr().err
    for phase in ("steady state", "fault:", "observe", "rollback (always runs)"):
        assert f"[dry-run] {name}: {phase}" in plan, plan


def test_the_partition_experiment_is_listed():
    assert "partition-service-nodes" in _experiment_names()
