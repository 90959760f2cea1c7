"""The capacity search's logic: step plan, per-step figures from snapshots, the capacity
within SLO, the command's defaults and bounds (no network, no locust)."""

from __future__ import annotations

import pytest

from picacheck.errors import UserError
from picacheck.inventory.model import Slo
from picacheck.load import capacity as cap
from picacheck.load.capacity import Snapshot, StepPlan
from picacheck.load.command import SearchOptions, objectives, render_steps, step_plan

SLO = Slo(p95_ms=500, max_failure_ratio=0.01, min_rps=10, users=10, duration_s=30)


def test_step_plan_users_timing_and_last_partial_step():
    plan = StepPlan(max_users=10, step_users=4, step_seconds=15)
    assert plan.users == [4, 8, 10]
    assert plan.duration_s == 45 and plan.spawn_rate == 4
    assert [plan.step_at(t) for t in (0, 14.9, 15, 44.9, 45, 99)] == [0, 0, 1, 2, None, None]
    assert plan.settle == 5 and plan.measure_from(1) == 20 and plan.measure_until(1) == 30
    assert StepPlan(6, 2, 6).settle == 2 and StepPlan(6, 2, 6, settle_s=10).settle == 3


@pytest.mark.parametrize("args", [(0, 1, 10), (5, 0, 10), (5, 6, 10), (5, 1, 1)])
def test_step_plan_refuses_nonsense(args):
    with pytest.raises(ValueError):
        StepPlan(*args)


def test_percentile_follows_locusts_rule():
    histogram = {10: 90, 100: 5, 1000: 5}
    assert cap.percentile(histogram, 0.50) == 10
    assert cap.percentile(histogram, 0.90) == 100
    assert cap.percentile(histogram, 0.95) == 1000  # locust counts the 96th of 100 requests
    assert cap.percentile(histogram, 0.99) == 1000
    assert cap.percentile({}, 0.95) is None
    assert cap.percentile({42: 1}, 0.95) == 42


def snapshot(t, requests, failures, histogram, users=4):
    return Snapshot(t, users, requests, failures, histogram)


def test_a_steps_figures_are_the_difference_of_two_snapshots():
    start = snapshot(5, 100, 1, {20: 90, 300: 10})
    end = snapshot(15, 300, 3, {20: 250, 300: 40, 900: 10})
    measured = cap.between(start, end)
    assert measured.requests == 200 and measured.failures == 2 and measured.rps == 20
    assert measured.p50_ms == 20 and measured.p95_ms == 900 and measured.max_ms == 900
    assert Snapshot.from_dict(end.as_dict()) == end


def step(index, users, rps, p95, failures=0, requests=100):
    start = snapshot(0, 0, 0, {}, users)
    histogram = {10: requests - requests // 10, int(p95): requests // 10} if requests else {}
    end = snapshot(requests / rps if rps else 10, requests, failures, histogram, users)
    return cap.evaluate_step(index, users, start, end, SLO)


def test_capacity_is_the_last_step_before_the_first_breach():
    plan = StepPlan(20, 5, 10)
    steps = [step(0, 5, 5, 100), step(1, 10, 10, 200), step(2, 15, 14, 700), step(3, 20, 15, 300)]
    result = cap.find_capacity(steps, SLO, plan)
    assert result.users == 10 and result.rps == pytest.approx(10)
    assert result.first_breach.users == 15 and not result.reached_max
    assert result.holds_documented_load  # 10 users at ≥ 10 req/s
    text = result.summary()
    assert "capacity within SLO (p95 ≤ 500 ms, failures ≤ 1.0%): 10 users, 10.0 req/s" in text
    assert "15 users breached: p95 700 ms > 500 ms" in text and "documented load (10 users, ≥ 10 req/s) held" in text
    saved = result.as_dict()
    assert saved["capacity"]["users"] == 10 and saved["first_breach"]["users"] == 15 and len(saved["steps"]) == 4


def test_failures_breach_a_step_and_no_capacity_when_the_first_step_breaks():
    plan = StepPlan(10, 5, 10)
    result = cap.find_capacity([step(0, 5, 5, 100, failures=5), step(1, 10, 10, 100)], SLO, plan)
    assert result.capacity is None and result.users == 0 and not result.holds_documented_load
    assert result.summary().startswith("no capacity within SLO") and "failure ratio 5.00%" in result.summary()


def test_reaching_max_users_without_a_breach_is_a_lower_bound():
    plan = StepPlan(10, 5, 10)
    result = cap.find_capacity([step(0, 5, 5, 100), step(1, 10, 10, 100)], SLO, plan)
    assert result.reached_max and "at least 10 users" in result.summary()


def test_the_documented_load_needs_both_its_users_and_its_throughput():
    plan = StepPlan(10, 5, 10)
    slow = cap.find_capacity([step(0, 5, 5, 100), step(1, 10, 8, 100)], SLO, plan)
    assert slow.users == 10 and not slow.holds_documented_load
    assert "documented load (10 users, ≥ 10 req/s) NOT held" in slow.summary()


def test_a_step_without_any_request_breaks():
    plan = StepPlan(10, 5, 10)
    result = cap.find_capacity([step(0, 5, 5, 100), step(1, 10, 0, 100, requests=0)], SLO, plan)
    assert result.users == 5 and result.first_breach.verdict.breaches == ("no request completed",)


def test_steps_are_read_from_the_shapes_records_and_unfinished_ones_skipped():
    records = [
        {"index": 0, "users": 2, "start": snapshot(2, 0, 0, {}).as_dict(), "end": snapshot(10, 40, 0, {30: 40}).as_dict()},
        {"index": 1, "users": 4, "start": snapshot(12, 50, 0, {30: 50}).as_dict(), "end": None},
    ]
    steps = cap.steps_from_snapshots(records, SLO)
    assert len(steps) == 1 and steps[0].measured.rps == 5 and steps[0].measured.p95_ms == 30


def test_the_command_takes_the_inventorys_slo_with_overrides_and_bounds_the_search():
    assert objectives(SLO, SearchOptions(), "x") == SLO
    assert objectives(SLO, SearchOptions(p95_ms=1), "x").p95_ms == 1
    with pytest.raises(UserError, match="no SLO for x"):
        objectives(None, SearchOptions(), "x")
    assert objectives(None, SearchOptions(p95_ms=300, max_users=30), "x").users == 10
    plan = step_plan(SLO, SearchOptions())
    assert (plan.max_users, plan.step_users, plan.step_seconds) == (30, 5, 15)
    with pytest.raises(UserError, match="more than the bound"):
        step_plan(SLO, SearchOptions(max_users=1000, step_users=1, step_seconds=15))
    with pytest.raises(UserError, match="step_users"):
        step_plan(SLO, SearchOptions(max_users=5, step_users=6))


def test_steps_are_printed_one_line_each():
    result = cap.find_capacity([step(0, 5, 5, 100), step(1, 10, 10, 700)], SLO, StepPlan(10, 5, 10))
    lines = render_steps(result)
    assert len(lines) == 3 and lines[1].split()[:2] == ["1", "5"] and "NO: p95 700 ms > 500 ms" in lines[2]
