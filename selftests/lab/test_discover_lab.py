"""Documentation from reality on the lab (issue 19): `inventory discover` from a minimal
inventory (the lab's hosts with their ssh and roles, and the environment) writes an
inventory that validates and has no drift from the lab's own, except the fields that cannot
be discovered; `verify` against it, with those filled from the lab's inventory, is green;
and a hidden change (pica02 demoted to a worker, then promoted back) is named by the diff
as C10 drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from picacheck.discover.undiscoverable import fill_from
from picacheck.inventory import load_inventory
from picacheck.wait import eventually

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
LAYERS = ("hosts", "cluster", "services", "backup")
# What the lab's discovery cannot know beyond the fields that no discovery can (the table of
# picacheck/discover/undiscoverable.py): MariaDB's dump job dumps every database.
NOT_DISCOVERED_ON_THE_LAB = {"databases.mysql.database"}


def _cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _minimal(lab: Path, path: Path) -> Path:
    documented = yaml.safe_load(Path(lab).read_text())
    path.write_text(yaml.safe_dump({
        "environment": documented["environment"],
        "hosts": {name: {"roles": host["roles"], "ssh": host["ssh"]} for name, host in documented["hosts"].items()},
    }, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def discovered(lab, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("discover")
    out = folder / "discovered.yml"
    result = _cli("inventory", "discover", "--from", str(_minimal(lab, folder / "minimal.yml")), "--output", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def test_the_discovered_inventory_validates_and_has_no_drift_from_the_labs(lab, discovered):
    inventory = load_inventory(discovered)
    assert set(inventory.hosts) == set(load_inventory(lab).hosts)
    meta = yaml.safe_load(discovered.read_text())["x-discovered"]
    assert set(meta.get("not_discovered", {})) == NOT_DISCOVERED_ON_THE_LAB
    result = _cli("inventory", "diff", str(lab), str(discovered))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("no drift between"), result.stdout


def test_verify_against_the_discovered_inventory_filled_from_the_labs_is_green(lab, discovered, tmp_path):
    data = yaml.safe_load(discovered.read_text())
    documented = load_inventory(lab)
    filled = tmp_path / "filled.yml"
    filled.write_text(yaml.safe_dump(fill_from(data, documented, None, data["x-discovered"].get("not_discovered", {})),
                                     sort_keys=False))
    reports = tmp_path / "reports"
    result = _cli("verify", "--inventory", str(filled), "--reports", str(reports),
                  *[f"--layer={layer}" for layer in LAYERS], timeout=900)
    summary = json.loads((reports / "latest" / "summary.json").read_text())
    statuses = {row["id"]: row["status"] for row in summary["claims"] if row["id"][0] in "HCSB"}
    expected = {claim: "holds" for claim in statuses}
    expected |= {claim: "not applicable here" for claim in documented.not_applicable}
    expected |= {"C13": "not checked",  # an experiment's claim
                 "B9": "broken",  # the report's PostgreSQL restore.sh feeds a plain-SQL dump to pg_restore
                 "S4": "holds, with a finding", "B5": "holds, with a finding"}
    assert statuses == expected, result.stdout[-4000:]
    assert result.returncode == 1, "B9 is broken by design"


def test_pica02_demoted_to_a_worker_is_named_as_c10_drift(lab, ssh, tmp_path):
    minimal = _minimal(lab, tmp_path / "minimal.yml")
    out = tmp_path / "demoted.yml"
    ssh("pica01", "docker node demote pica02")
    try:
        result = _cli("inventory", "discover", "--from", str(minimal), "--hosts", "pica01,pica02", "--output", str(out))
    finally:
        ssh("pica01", "docker node promote pica02")
    # Back as it was: pica02 a reachable manager again, and Traefik's task back on it (global on managers).
    eventually(lambda: _is_manager_again(ssh), timeout=120, interval=3, what="pica02 a reachable manager again")
    assert result.returncode == 0, result.stderr[-3000:]
    diff = _cli("inventory", "diff", str(lab), str(out))
    print(diff.stdout)  # in the CI log: what a team sees after such a change
    assert diff.returncode == 1, diff.stdout
    drift = [line.strip() for line in diff.stdout.splitlines() if line.startswith("  ") and ": documented " in line]
    assert drift == ["C10: documented managers pica01, pica02; found pica01 only",
                     "C10: documented workers none; found pica02"], diff.stdout


def _is_manager_again(ssh) -> bool:
    state = ssh("pica01", "docker node inspect pica02 --format '{{.Spec.Role}} {{.ManagerStatus.Reachability}}'")
    assert state.split() == ["manager", "reachable"], state
    tasks = ssh("pica01", "docker service ps traefik --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'")
    assert any(line.startswith("pica02 Running") for line in tasks.splitlines()), tasks
    return True
