"""Load tests against the embedded lab (issue 8): through Traefik over HTTPS with the real
names and the lab CA's certificates, bounded in time (about two minutes in all).

- tests/load holds every lab service's SLO (claim L1) and writes each run's report: locust's
  CSV and HTML, the chart, and the HTML report links and shows them;
- an impossible SLO (p95 under 1 ms) breaks L1 with the measured figure in the message;
- `picacheck load` finds a service's capacity within its SLO and writes it (JSON, charts).

The lab inventory gets the proposed lab SLOs (picacheck.load.slo.PROPOSED_LAB_SLOS) in a
copy, for the services where `picacheck lab up` does not write one yet; the secrets are
read from the lab's secrets folder (PICACHECK_SECRETS_DIR).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from picacheck.inventory import load_inventory
from picacheck.lab import topology
from picacheck.load.slo import PROPOSED_LAB_SLOS, with_slos
from picacheck.probes import web
from picacheck.wait import eventually

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.lab

# Shorter than the proposal where CI time matters: every lab service in about a minute.
CI_DURATIONS = {"etherpad": 15, "synapse": 20, "dokuwiki": 15, "traefik": 10}


def inventory_copy(lab: Path, directory: Path, slos: dict[str, dict], replace: bool = False) -> Path:
    data = yaml.safe_load(Path(lab).read_text())
    if not data.get("services"):
        pytest.fail(f"{lab} has no services: the services part of the lab is not up")
    path = directory / "inventory.yml"
    path.write_text(yaml.safe_dump(with_slos(data, slos, replace=replace), sort_keys=False))
    return path


@pytest.fixture
def services_answer(lab, clear_of_hypervisor_cron):
    """Every lab service answers its health path through both nodes (a lab test before this
    one may have restarted a service or a database on purpose), and no nightly job of the
    hypervisors (vzdump's tar and zstd on the same cores) is due: load measures the service,
    not its restart nor the backups."""
    clear_of_hypervisor_cron(needed_s=240)
    inventory = load_inventory(lab)

    def all_answer() -> bool:
        for service in inventory.services:
            for node, address in inventory.round_robin_addresses().items():
                try:
                    status = web.request("https", service.domain, address, service.health_path,
                                         ca_file=inventory.tls.ca_file, timeout=10).status
                except OSError as error:
                    raise AssertionError(f"{service.name} via {node}: {error}") from None
                assert status == 200, f"{service.name} via {node}: HTTP {status}"
        return True

    eventually(all_answer, timeout=240, interval=5, what="every lab service answering through both nodes")
    return lab


def environment() -> dict:
    return {**os.environ, "PICACHECK_SECRETS_DIR": str(topology.SECRETS_DIR)}


def run_load_layer(inventory: Path, report_dir: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(REPO / "tests" / "load"), f"--inventory={inventory}",
         f"--report-dir={report_dir}", f"--html={report_dir / 'report.html'}", "--self-contained-html",
         "-q", "-p", "no:cacheprovider", "-rfEs", *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=environment(),
    )
    summary = json.loads((report_dir / "summary.json").read_text())
    return result, {row["id"]: row for row in summary["claims"]}


def test_every_lab_service_holds_its_slo_and_its_run_is_reported(services_answer, tmp_path):
    lab = services_answer
    slos = {name: {**values, "duration_s": CI_DURATIONS.get(name, values["duration_s"])}
            for name, values in PROPOSED_LAB_SLOS.items()}
    inventory = inventory_copy(lab, tmp_path, slos)
    result, claims = run_load_layer(inventory, tmp_path / "run")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert claims["L1"]["verdict"] == "holds", claims["L1"]
    evidence = "\n".join(claims["L1"]["evidence"])
    services = yaml.safe_load(inventory.read_text())["services"]
    for service in services:
        if not service.get("slo"):
            continue
        name = service["name"]
        assert f"{name} ({service['domain']} via 172.30.42.11, 172.30.42.12)" in evidence, evidence
        folder = tmp_path / "run" / "load" / name
        for produced in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust.html",
                         "chart.png", "summary.json"):
            assert (folder / produced).stat().st_size > 0, f"{name}: {produced} missing"
        verdict = json.loads((folder / "summary.json").read_text())["verdict"]
        assert verdict["ok"] and verdict["measured"]["requests"] > 0
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.count("image/png") >= len([s for s in services if s.get("slo")])
    assert "load/etherpad/locust.html" in html and "load/dokuwiki/locust_stats.csv" in html
    print(evidence)


def test_an_impossible_slo_breaks_l1_with_the_measured_figure(services_answer, tmp_path):
    lab = services_answer
    impossible = {"dokuwiki": {"p95_ms": 0.5, "max_failure_ratio": 0.01, "min_rps": 2, "users": 2, "duration_s": 6}}
    inventory = inventory_copy(lab, tmp_path, impossible, replace=True)
    result, claims = run_load_layer(inventory, tmp_path / "run", "-k", "dokuwiki")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert claims["L1"]["verdict"] == "broken"
    evidence = "\n".join(claims["L1"]["evidence"])
    assert "dokuwiki misses its SLO" in evidence and "> 0.5 ms" in evidence, evidence
    assert "p95 n/a" not in evidence, "the message carries the measured p95"
    assert "dokuwiki misses its SLO" in output
    assert (tmp_path / "run" / "load" / "dokuwiki" / "chart.png").exists()


def test_capacity_search_on_the_wiki_prints_its_capacity_within_slo(services_answer, tmp_path):
    lab = services_answer
    inventory = inventory_copy(lab, tmp_path, PROPOSED_LAB_SLOS)
    result = subprocess.run(
        [sys.executable, "-m", "picacheck.cli", "load", "dokuwiki", "--inventory", str(inventory),
         "--max-users", "8", "--step-users", "4", "--step-seconds", "8", "--reports", str(tmp_path / "reports")],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "capacity within SLO" in result.stdout and "documented load (4 users, ≥ 4 req/s) held" in result.stdout
    saved = json.loads(next((tmp_path / "reports").glob("*/load/dokuwiki/capacity.json")).read_text())
    assert saved["capacity"]["users"] >= 4 and saved["capacity"]["rps"] > 0
    assert [step["users"] for step in saved["steps"]][:1] == [4]
    folder = next((tmp_path / "reports").glob("*/load/dokuwiki"))
    assert (folder / "capacity.png").exists() and (folder / "chart.png").exists() and (folder / "locust.html").exists()
    print(result.stdout)
