"""The experiment runner's mechanics, on toy experiments: every rollback step runs and is
journaled, the journal survives every interruption, observation stops once settled and
samples on a clock, the production guard is asked, a manual fault asks its operator."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from picacheck import guard
from picacheck.chaos import runner
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, recovered_and_stable, unchanged_for
from picacheck.chaos.journal import ClaimVerdict, Observation, recovery_precision, recovery_time, unavailable_seconds
from picacheck.claims import Verdict
from picacheck.errors import UserError
from picacheck.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
LAB_LIKE = load_inventory(REPO / "inventory" / "picasoft.yml").model_copy(
    update={"environment": load_inventory(REPO / "inventory" / "picasoft.yml").environment.model_copy(
        update={"kind": "staging", "name": "toy"})})
PRODUCTION = load_inventory(REPO / "inventory" / "picasoft.yml")


DEFAULT = object()


def toy(events: list, *, inject=DEFAULT, steady=lambda: (True, "ok"), maximum=2.0, rollbacks=None, settled=None,
        observers=None, manual=None) -> Experiment:
    return Experiment(
        name="toy", claims=["X1"],
        fault=Fault("flip a flag", (lambda: events.append("inject")) if inject is DEFAULT else inject, manual=manual,
                    repair="flip it back" if manual else None),
        steady_state={"flag": steady},
        observers=observers or {"tick": lambda: (True, "sample")},
        rollbacks=rollbacks or [Rollback("unflip", lambda: events.append("rollback"))],
        measure=lambda timeline: ({"samples": len(timeline)}, [ClaimVerdict("X1", Verdict.holds, "toy")]),
        window=Window(maximum=maximum, minimum=0.0, settled=settled),
        steady_state_before_timeout=2, steady_state_after_timeout=2,
    )


def run(experiment, tmp_path, **kwargs):
    return runner.run(experiment, LAB_LIKE, None, tmp_path / "j.json", **kwargs)


def journal(tmp_path) -> dict:
    return json.loads((tmp_path / "j.json").read_text())


def test_a_completed_experiment_journals_every_phase_and_step(tmp_path):
    events = []
    result = run(toy(events), tmp_path)
    assert events == ["inject", "rollback"] and result.outcome == "completed"
    data = journal(tmp_path)
    assert [p["phase"] for p in data["phases"]] == [
        "steady state before", "inject fault", "observe", "rollback", "steady state after"]
    assert [(s["step"], s["ok"]) for s in data["rollbacks"]] == [("unflip", True)]
    assert data["sampling_interval_s"] == 1.0 and data["figures"]["samples"] >= 2
    assert data["verdicts"][0]["verdict"] == "holds"


def test_every_rollback_step_runs_even_after_a_failed_fault_and_a_failed_step(tmp_path):
    events = []

    def broken_fault():
        raise RuntimeError("cannot reach the node")

    def broken_step():
        raise RuntimeError("step one failed")

    steps = [Rollback("one", broken_step), Rollback("two", lambda: events.append("two"))]
    result = run(toy(events, inject=broken_fault, rollbacks=steps), tmp_path)
    assert events == ["two"]
    assert result.outcome == "failed" and "cannot reach the node" in result.error
    assert [(s["step"], s["ok"]) for s in journal(tmp_path)["rollbacks"]] == [("one", False), ("two", True)]


def test_a_fault_never_comes_if_the_steady_state_does_not_hold(tmp_path):
    events = []
    result = run(toy(events, steady=lambda: (False, "down")), tmp_path)
    assert "inject" not in events and events == ["rollback"] and result.outcome == "failed"


def _signal_later(delay: float, signum=signal.SIGINT):
    timer = threading.Timer(delay, lambda: os.kill(os.getpid(), signum))
    timer.start()
    return timer


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_the_fault_rolls_back_and_leaves_the_journal(tmp_path, signum):
    events = []
    _signal_later(0.8, signum)
    with pytest.raises(KeyboardInterrupt):
        run(toy(events, maximum=30), tmp_path)
    assert events == ["inject", "rollback"]
    data = journal(tmp_path)
    assert data["outcome"] == "interrupted" and data["rollbacks"][0]["ok"]


def _poll(condition, seconds: float) -> None:
    """Sleep in short slices until `condition()`: Python runs a signal's handler in the main
    thread between bytecodes, so a signal that lands just before a long blocking wait starts
    (or on another thread) is only seen when that wait ends; one long wait hid a press."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_second_interrupt_during_the_rollback_abandons_it_and_still_leaves_the_journal(tmp_path, monkeypatch):
    events, started, warned = [], threading.Event(), threading.Event()
    say = runner.say

    def say_and_notice(text: str) -> None:
        say(text)
        if "press Ctrl-C again" in text:
            warned.set()

    monkeypatch.setattr(runner, "say", say_and_notice)

    def slow_step():  # still running when both presses come, however slow the machine
        started.set()
        _poll(lambda: False, 30)
        events.append("slow done")

    def press_twice():
        started.wait(60)
        os.kill(os.getpid(), signal.SIGINT)
        # Two signals before Python runs its handler are one press: the second waits until
        # the first was seen, as a person's would.
        warned.wait(60)
        os.kill(os.getpid(), signal.SIGINT)

    steps = [Rollback("slow", slow_step), Rollback("after", lambda: events.append("after"))]
    _signal_later(0.5)
    threading.Thread(target=press_twice, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run(toy(events, maximum=30, rollbacks=steps), tmp_path)
    data = journal(tmp_path)
    assert data["outcome"] == "interrupted" and "abandoned" in data["error"]
    assert [(s["step"], s["ok"]) for s in data["rollbacks"]] == [("slow", False), ("after", False)]
    assert events == ["inject"], "neither the slow step nor the next one finished"


def test_observation_stops_once_the_outcome_is_settled(tmp_path):
    events = []
    run(toy(events, maximum=60, settled=unchanged_for(["tick"], 2)), tmp_path)
    assert max(o["t"] for o in journal(tmp_path)["timeline"]) < 30  # not the 60 s maximum


def test_a_slow_observer_does_not_slow_the_clock_of_the_others(tmp_path):
    slow = {"n": 0}

    def hanging():
        slow["n"] += 1
        time.sleep(2.5)
        return True, "late"

    run(toy([], maximum=6, observers={"fast": lambda: (True, "ok"), "slow": hanging}), tmp_path)
    timeline = journal(tmp_path)["timeline"]
    starts = sorted(o["t"] for o in timeline if o["probe"] == "fast")
    assert all(abs((b - a) - 1.0) < 0.05 for a, b in zip(starts, starts[1:])), starts
    assert any(o["probe"] == "slow" and "still without an answer" in o["detail"] for o in timeline) or slow["n"] >= 4


def test_a_dry_run_touches_nothing_and_needs_no_grant(tmp_path):
    events = []
    result = runner.run(toy(events), PRODUCTION, None, tmp_path / "j.json", dry_run=True)
    assert events == [] and result.outcome == "dry-run" and not (tmp_path / "j.json").exists()


def test_production_needs_a_grant_to_change_it(tmp_path):
    events = []
    with pytest.raises(UserError, match="production"):
        runner.run(toy(events), PRODUCTION, None, tmp_path / "j.json")
    read_only = guard.Grant(PRODUCTION.environment.name, guard.Access.read)
    with pytest.raises(UserError, match="production"):
        runner.run(toy(events), PRODUCTION, read_only, tmp_path / "j.json")
    assert events == []
    change = guard.Grant(PRODUCTION.environment.name, guard.Access.change)
    assert runner.run(toy(events), PRODUCTION, change, tmp_path / "j.json").outcome == "completed"


def test_a_manual_fault_asks_the_operator_then_the_repair(tmp_path):
    events, asked = [], []

    def operator(instruction: str) -> str:
        asked.append(instruction)
        return "done"

    result = run(toy(events, inject=None, manual="pull the plug"), tmp_path, operator=operator)
    assert result.outcome == "completed" and events == ["rollback"]
    assert asked[0].startswith("FAULT, by hand: pull the plug") and asked[1].startswith("REPAIR, by hand: flip it back")
    data = journal(tmp_path)
    assert [m["answer"] for m in data["manual"]] == ["done", "done"]
    assert [p["phase"] for p in data["phases"]][1] == "manual fault"


def test_an_operator_who_does_not_confirm_stops_the_experiment_before_observing(tmp_path):
    events = []
    result = run(toy(events, inject=None, manual="pull the plug"), tmp_path, operator=lambda text: None)
    assert result.outcome == "failed" and "did not confirm" in result.error and events == ["rollback"]
    assert "observe" not in [p["phase"] for p in journal(tmp_path)["phases"]]


def test_a_fault_the_suite_cannot_cause_needs_manual_fault(tmp_path):
    with pytest.raises(UserError, match="--manual-fault"):
        run(toy([], inject=None, manual="pull the plug"), tmp_path)


def test_figures_from_a_timeline():
    timeline = [Observation(t, "p", ok) for t, ok in [(0, True), (1, False), (2, False), (3, True), (4, True)]]
    assert unavailable_seconds(timeline, "p") == 2.0
    assert recovery_time(timeline, "p") == 3
    assert recovery_precision(timeline, "p") == 1.0


def test_recovered_and_stable_waits_for_a_whole_window_of_good_samples():
    settled = recovered_and_stable(["p"], 3)
    failing_then_good = [Observation(t, "p", t >= 4) for t in range(0, 8)]
    assert not settled(failing_then_good[:6], 5.5)  # good since 4: only 1.5 s of the 3 needed
    assert settled(failing_then_good, 7.5)


def test_a_flapping_probe_is_settled_once_judged_alike_on_two_windows():
    from picacheck.chaos.experiment import judged_alike

    flapping = [Observation(t, "p", t % 2 == 0) for t in range(0, 40)]
    settled = judged_alike(["p"], 15)
    assert settled(flapping, 31) and settled(flapping, 40)
    recovering = [Observation(t, "p", t >= 20) for t in range(0, 40)]
    assert not settled(recovering, 35)  # failed in [5, 20), held in [20, 35): the judgement changed
    recovered = recovering + [Observation(t, "p", True) for t in range(40, 50)]
    assert settled(recovered, 50)  # held in [20, 35) and in [35, 50)
