"""SLO evaluation, locust's CSV read back, load targets from an inventory (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from picacheck import guard
from picacheck.errors import UserError
from picacheck.inventory import load_inventory
from picacheck.inventory.model import Slo
from picacheck.load import results, slo, target
from picacheck.load.runner import locust_command
from picacheck.load.results import RunFiles

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "inventory" / "picasoft.yml"
SLO = Slo(p95_ms=800, max_failure_ratio=0.01, min_rps=20, users=20, duration_s=60)


def measured(**changes) -> slo.Measured:
    figures = {"requests": 1200, "failures": 3, "rps": 21.0, "p50_ms": 120.0, "p95_ms": 640.0, "users": 20,
               "duration_s": 60}
    figures.update(changes)
    return slo.Measured(**figures)


# --- evaluation ------------------------------------------------------------------------------


def test_figures_within_every_objective_meet_the_slo():
    verdict = slo.evaluate(measured(), SLO)
    assert verdict.ok and verdict.breaches == ()
    assert "p95 640 ms" in verdict.message() and "(SLO: p95 ≤ 800 ms, failures ≤ 1.0%, ≥ 20 req/s)" in verdict.message()


@pytest.mark.parametrize("changes, breach", [
    ({"p95_ms": 801.0}, "p95 801 ms > 800 ms"),
    ({"failures": 13}, "failure ratio 1.08% (13/1200) > 1.00%"),
    ({"rps": 19.9}, "throughput 19.90 req/s < 20 req/s"),
    ({"p95_ms": None}, "p95 n/a > 800 ms"),
])
def test_each_objective_breaks_on_its_own_with_the_measured_figure(changes, breach):
    verdict = slo.evaluate(measured(**changes), SLO)
    assert not verdict.ok and verdict.breaches == (breach,)
    assert verdict.message().endswith(breach)


def test_the_boundaries_are_inclusive():
    assert slo.evaluate(measured(p95_ms=800.0, failures=12, rps=20.0), SLO).ok


def test_a_run_without_any_request_shows_nothing_and_breaks():
    verdict = slo.evaluate(measured(requests=0, failures=0, rps=0.0, p95_ms=None), SLO)
    assert verdict.breaches == ("no request completed",)


def test_an_impossible_p95_fails_with_the_measured_figure():
    verdict = slo.evaluate(measured(p95_ms=37.0), SLO.model_copy(update={"p95_ms": 1}))
    assert "p95 37 ms > 1 ms" in verdict.message()


def test_throughput_is_not_an_objective_of_a_capacity_step():
    verdict = slo.evaluate(measured(rps=1.0), SLO, check_rps=False)
    assert verdict.ok and "req/s)" not in verdict.message().split("SLO:")[1]


def test_users_pace_their_tasks_to_offer_the_documented_throughput_with_headroom():
    assert slo.task_rate(SLO) == pytest.approx(20 * 1.25 / 20)
    assert slo.task_rate(SLO.model_copy(update={"min_rps": 0})) == 0.0


def test_proposed_lab_slos_are_valid_and_go_into_a_copy_of_the_inventory():
    for values in slo.PROPOSED_LAB_SLOS.values():
        Slo(**values)
    data = {"services": [{"name": "etherpad", "kind": "etherpad", "domain": "pad.x"},
                         {"name": "dokuwiki", "kind": "wiki", "domain": "wiki.x", "slo": {"p95_ms": 1, "max_failure_ratio": 0,
                                                                                          "min_rps": 0}},
                         {"name": "other", "kind": "static", "domain": "o.x"}]}
    copy = slo.with_slos(data, slo.PROPOSED_LAB_SLOS)
    assert copy["services"][0]["slo"] == slo.PROPOSED_LAB_SLOS["etherpad"]
    assert copy["services"][1]["slo"]["p95_ms"] == 1, "a documented SLO stays"
    assert "slo" not in copy["services"][2] and "slo" not in data["services"][0], "the original is untouched"
    assert slo.with_slos(data, slo.PROPOSED_LAB_SLOS, replace=True)["services"][1]["slo"]["p95_ms"] == 1500


# --- locust's CSV ----------------------------------------------------------------------------

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/doku.php?id=start,60,0,20,31.2,12,280,5012.0,3.0,0.0,20,26,29,32,43,92,110,280,280,280,280
POST,/api/1.2.13/appendText,40,2,84,90.1,60,250,40.0,2.0,0.1,84,89,92,93,100,110,250,250,250,250,250
,Aggregated,100,2,25,54.0,12,280,3020.0,5.0,0.1,25,29,35,41,95,110,250,280,280,280,280
"""
HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size
1764094471,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0,0,0,0
1764094472,4,GET,/doku.php?id=start,1.000000,0.000000,20,20,20,20,20,20,20,20,20,20,20,2,0,20,20.0,20,20,5012.0
1764094472,4,,Aggregated,2.000000,0.000000,21,22,23,24,25,26,27,28,29,29,29,2,0,21,21.0,20,22,5012.0
1764094473,4,,Aggregated,5.000000,1.000000,25,29,35,41,95,110,250,280,280,280,280,7,1,25,30.0,12,280,3020.0
"""
FAILURES = """Method,Name,Error,Occurrences,First Seen,Last Seen
POST,/api/1.2.13/appendText,HTTP 500,2,2026-11-25T18:14:06Z,2026-11-25T18:14:09Z
"""


def test_stats_csv_gives_the_aggregated_figures():
    rows = results.parse_stats(STATS)
    assert [row.name for row in rows] == ["/doku.php?id=start", "/api/1.2.13/appendText", "Aggregated"]
    total = results.aggregated(rows, users=4, duration_s=20)
    assert (total.requests, total.failures, total.rps, total.p50_ms, total.p95_ms, total.p99_ms) == (100, 2, 5.0, 25, 110, 280)
    assert total.failure_ratio == 0.02 and total.users == 4


def test_history_keeps_only_the_aggregated_rows_and_tolerates_na():
    samples = results.parse_history(HISTORY)
    assert [s.timestamp for s in samples] == [1764094471, 1764094472, 1764094473]
    assert samples[0].p95_ms is None and samples[2].p95_ms == 110 and samples[2].total_failures == 1
    assert samples[1].users == 4 and samples[2].failures_per_s == 1.0


def test_throughput_is_taken_once_every_user_is_set_up_until_the_end_of_the_run():
    def sample(t, total):
        return results.Sample(1000 + t, 4, 0.0, 0.0, None, None, None, total, 0)

    # users set themselves up for 3 s, then make 10 requests a second; the run lasts 10 s,
    # then users stop (no more requests)
    samples = [sample(t, 0 if t < 3 else (t - 3) * 10) for t in range(0, 10)] + [sample(10, 70), sample(11, 70)]
    assert results.steady_rps(samples, 1003, 1010) == 10
    assert results.steady_rps(samples, 1000, 1010) == 7, "with the set-up in the window"
    assert results.steady_rps(samples, 1008, 1010) is None, "less than 3 s of history"
    assert results.steady_rps([], 1003, 1010) is None


def test_failures_csv_and_missing_files(tmp_path):
    assert results.parse_failures(FAILURES)[0].occurrences == 2
    files = RunFiles(tmp_path)
    assert files.read_stats() == [] and results.aggregated(files.read_stats()).requests == 0
    (tmp_path / "locust_stats.csv").write_text(STATS)
    assert results.aggregated(files.read_stats()).requests == 100


# --- targets ---------------------------------------------------------------------------------


def lab_like(tmp_path: Path, **service_changes) -> tuple[Path, dict]:
    data = yaml.safe_load(PRODUCTION.read_text())
    data = {key: value for key, value in data.items() if not str(key).startswith("x-")}
    data["environment"] = {"name": "picalab", "kind": "lab"}
    data["tls"] = {"ca_file": str(tmp_path / "ca.pem")}
    for service in data["services"]:
        service.update(service_changes.get(service["name"], {}))
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    return path, data


def test_a_target_connects_to_the_round_robin_nodes_with_the_real_name_and_the_ca(tmp_path, monkeypatch):
    monkeypatch.delenv("PICACHECK_ETHERPAD_APIKEY_FILE", raising=False)
    monkeypatch.delenv("PICACHECK_SECRETS_DIR", raising=False)
    path, data = lab_like(tmp_path)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "etherpad_apikey").write_text("k")
    inventory = load_inventory(path)
    pad = next(s for s in inventory.services if s.kind == "etherpad")
    aim = target.target_for(inventory, pad, path)
    assert aim.url == f"https://{pad.domain}" and aim.scenario == "etherpad"
    assert aim.addresses == tuple(inventory.round_robin_addresses().values())
    options = aim.locust_options()
    assert options[options.index("--ca-file") + 1] == str(tmp_path / "ca.pem")
    assert options[options.index("--node-address") + 1] == ",".join(aim.addresses)
    assert options[options.index("--apikey-file") + 1] == str(tmp_path / "secrets" / "etherpad_apikey")
    command = locust_command([aim.locustfile], aim, RunFiles(tmp_path), rate=1.0)
    assert "k" not in command and "--headless" in command and "--csv-full-history" in command
    assert command[command.index("--exit-code-on-error") + 1] == "0"


def test_secret_files_come_from_the_environment_first(tmp_path, monkeypatch):
    path, _ = lab_like(tmp_path)
    explicit = tmp_path / "elsewhere"
    explicit.write_text("k")
    monkeypatch.setenv("PICACHECK_ETHERPAD_APIKEY_FILE", str(explicit))
    inventory = load_inventory(path)
    pad = next(s for s in inventory.services if s.kind == "etherpad")
    assert target.target_for(inventory, pad, path).secret_files == {"--apikey-file": str(explicit)}
    monkeypatch.setenv("PICACHECK_ETHERPAD_APIKEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(UserError, match="PICACHECK_ETHERPAD_APIKEY_FILE"):
        target.target_for(inventory, pad, path)


def test_production_is_refused_and_kinds_without_a_scenario_say_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PICACHECK_ALLOW_PRODUCTION", "1")  # an opt-in to read, never to load
    production = load_inventory(PRODUCTION)
    with pytest.raises(UserError, match="production inventory"):
        target.target_for(production, production.services[0], PRODUCTION)
    read_only = guard.Grant(production.environment.name, guard.Access.read)
    with pytest.raises(UserError, match="production inventory"):
        target.target_for(production, production.services[0], PRODUCTION, grant=read_only)
    path, _ = lab_like(tmp_path)
    inventory = load_inventory(path)
    chat = next(s for s in inventory.services if s.kind == "chat")  # production's chat is Mattermost
    with pytest.raises(target.NoScenario, match="Matrix"):
        target.target_for(inventory, chat, path)
    kanban = next(s for s in inventory.services if s.kind == "kanban")
    assert target.target_for(inventory, kanban, path).paths == (kanban.health_path,)
    with pytest.raises(UserError, match="no service 'nope'"):
        target.find_service(inventory, "nope")
