"""The experiment runner's mechanics: the rollback always runs, the journal is written,
dry-run touches nothing, production needs the typed confirmation."""

import json
import os
import signal
import threading

import pytest

from picacheck.chaos import runner
from picacheck.errors import UserError
from picacheck.inventory import load_inventory


def _experiment(events, *, inject=None, steady=lambda: (True, "ok"), duration=2.0):
    return runner.Experiment(
        name="toy",
        claims=["X1"],
        description="flip a flag",
        steady_state={"flag": steady},
        inject=inject or (lambda: events.append("inject")),
        rollback=lambda: events.append("rollback"),
        observers={"tick": lambda: (len(events) < 100, "sample")},
        fault_duration=duration,
        steady_state_timeout=2,
        steady_state_before_timeout=2,
        measure=lambda timeline: ({"samples": len(timeline)}, [runner.ClaimVerdict("X1", runner.Verdict.holds, "toy")]),
    )


def test_completed_experiment_writes_its_journal(tmp_path):
    events = []
    journal = runner.run(_experiment(events), "lab", tmp_path / "j.json")
    assert events == ["inject", "rollback"]
    assert journal.outcome == "completed"
    data = json.loads((tmp_path / "j.json").read_text())
    assert [p["phase"] for p in data["phases"]] == ["steady state before", "inject fault", "observe", "rollback", "steady state after"]
    assert data["figures"]["samples"] >= 2  # sampled every second for 2 s
    assert data["verdicts"][0]["verdict"] == "holds"


def test_rollback_runs_when_the_fault_fails(tmp_path):
    events = []

    def broken_fault():
        raise RuntimeError("cannot reach the node")

    journal = runner.run(_experiment(events, inject=broken_fault), "lab", tmp_path / "j.json")
    assert events == ["rollback"]
    assert journal.outcome == "failed" and "cannot reach the node" in journal.error


def test_rollback_runs_on_sigint(tmp_path):
    events = []
    timer = threading.Timer(0.8, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        runner.run(_experiment(events, duration=30), "lab", tmp_path / "j.json")
    assert events == ["inject", "rollback"]
    assert json.loads((tmp_path / "j.json").read_text())["outcome"] == "interrupted"


def test_steady_state_must_hold_before_the_fault(tmp_path, monkeypatch):
    events = []
    journal = runner.run(_experiment(events, steady=lambda: (False, "down")), "lab", tmp_path / "j.json")
    assert "inject" not in events and journal.outcome == "failed"


def test_dry_run_touches_nothing(tmp_path):
    events = []
    journal = runner.run(_experiment(events), "lab", tmp_path / "j.json", dry_run=True)
    assert events == [] and journal.outcome == "dry-run" and not (tmp_path / "j.json").exists()


def test_production_needs_the_flag_and_the_typed_name():
    production = load_inventory(os.path.join(os.path.dirname(__file__), "../../inventory/picasoft.yml"))
    with pytest.raises(UserError, match="--allow-production"):
        runner.refuse_production(production, allow_production=False)
    with pytest.raises(UserError, match="did not match"):
        runner.refuse_production(production, allow_production=True, confirm=lambda prompt: "yes")
    runner.refuse_production(production, allow_production=True, confirm=lambda prompt: "picasoft")


def test_unavailability_and_recovery_from_a_timeline():
    timeline = [runner.Observation(t, "p", ok) for t, ok in [(0, True), (1, False), (2, False), (3, True), (4, True)]]
    assert runner.unavailable_seconds(timeline, "p") == 2.0
    assert runner.recovery_time(timeline, "p") == 3
