"""The users' view of a failure drill (X8): requests per second on the probes' time axis, the
figures during the fault, the verdict against slo.max_outage_s, and the consistency of the
users' failures with the probes."""

from __future__ import annotations

from picacheck.chaos.journal import Journal, Observation
from picacheck.inventory.model import Slo
from picacheck.load import users_view

SLO = Slo(p95_ms=1000, max_failure_ratio=0.1, min_rps=1, users=4, duration_s=30, max_outage_s=20)
FAULT = 1_000_000.0  # wall clock of the fault


def requests(pattern: dict[int, tuple[int, int]], ms: float = 50.0) -> list[dict]:
    """Per second since the fault: (requests, of which failed)."""
    log = []
    for second, (count, failed) in pattern.items():
        for index in range(count):
            log.append({"t": FAULT + second + 0.1 + 0.8 * index / count, "name": "/p/x", "ms": ms, "ok": index >= failed,
                        "status": 200 if index >= failed else 502, "node": "n1"})
    return log


def test_requests_become_seconds_on_the_faults_axis_and_set_up_requests_are_left_out():
    log = requests({-2: (4, 0), 0: (4, 4), 1: (4, 1)}) + [{"t": FAULT + 0.5, "name": "[setup] /register", "ms": 9,
                                                            "ok": False, "status": 0}]
    rows = users_view.per_second(log, FAULT)
    assert [(r["t"], r["requests"], r["failures"]) for r in rows] == [(-2.0, 4, 0), (0.0, 4, 4), (1.0, 4, 1)]


def test_figures_during_the_fault_longest_stretch_and_users_rto():
    pattern = {-1: (4, 0), **{s: (4, 4) for s in range(0, 25)}, **{s: (4, 0) for s in range(25, 40)}}
    figures = users_view.users_figures(users_view.per_second(requests(pattern), FAULT), SLO, end=39)
    assert figures["requests_during_fault"] == 160 and figures["failed_during_fault"] == 100
    assert figures["longest_failing_stretch_s"] == 25.0 and figures["users_rto_s"] == 25.0
    assert figures["p95_within_slo"] is True


def test_a_service_that_never_recovers_has_no_users_rto():
    figures = users_view.users_figures(users_view.per_second(requests({s: (2, 2) for s in range(0, 30)}), FAULT),
                                       SLO, end=29)
    assert figures["users_rto_s"] is None and figures["longest_failing_stretch_s"] == 30.0


def test_failures_within_the_slos_ratio_are_not_an_outage():
    figures = users_view.users_figures(users_view.per_second(requests({s: (20, 1) for s in range(0, 30)}), FAULT),
                                       SLO, end=29)
    assert figures["longest_failing_stretch_s"] == 0.0 and figures["users_rto_s"] == 0.0


def test_x8_is_broken_beyond_the_objective_and_not_checked_without_one():
    long = users_view.users_figures(users_view.per_second(requests({s: (2, 2) for s in range(0, 30)}), FAULT),
                                    SLO, end=29)
    short = users_view.users_figures(users_view.per_second(requests({s: (2, 2) for s in range(0, 5)}), FAULT),
                                     SLO, end=29)
    verdict = users_view.x8_verdict({"pad": short, "team": long})
    assert verdict.verdict.value == "broken" and "Beyond their objective: team" in verdict.evidence
    assert users_view.x8_verdict({"pad": short}).verdict.value == "holds"
    undocumented = {**short, "max_outage_s": None}
    assert users_view.x8_verdict({"pad": undocumented}).verdict.value == "not checked"


def test_the_users_view_goes_into_the_journal_and_replaces_the_placeholder_verdict(tmp_path):
    companion = users_view.UsersDuringFault.__new__(users_view.UsersDuringFault)
    path = tmp_path / "requests.jsonl"
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in requests({s: (2, 2) for s in range(0, 30)})) + '{"t": 1')
    from picacheck.load.results import RunFiles

    companion.scenarios = [users_view._Scenario("team", None, SLO, RunFiles(tmp_path, "locust"), path)]
    companion.offset = FAULT - 100.0  # the fault at monotonic 100
    journal = Journal("kill-service-node", "lab", ["X1", "X8"], [],
                      timeline=[Observation(t, "team via pica01", False) for t in range(0, 30)])
    from picacheck.chaos.journal import ClaimVerdict
    from picacheck.claims import Verdict

    journal.verdicts = [ClaimVerdict("X8", Verdict.not_checked, "placeholder")]
    companion.journal(journal, fault_at=100.0)
    assert journal.figures["users"]["team"]["failed_during_fault"] == 60
    assert [v.verdict.value for v in journal.verdicts if v.claim == "X8"] == ["broken"]
    assert journal.users[0] == {"service": "team", "t": 0.0, "requests": 2, "failures": 2, "p95_ms": 50.0,
                                "in_flight": 2, "failed_in_flight": 2}


def _journal(probe_down: range, users_failing: range) -> dict:
    timeline = [{"t": float(t), "probe": "team via pica01", "ok": t not in probe_down} for t in range(0, 40)]
    users = [{"service": "team", "t": float(t), "requests": 2, "failures": 2 if t in users_failing else 0,
              "p95_ms": 10} for t in range(0, 40)]
    return {"timeline": timeline, "users": users}


def test_users_failing_over_the_stretch_the_probe_saw_down_are_consistent():
    assert users_view.consistency(_journal(range(2, 30), range(2, 30)), {"team": "team via pica01"}) == []


def test_users_served_while_the_probe_saw_the_service_down_are_a_disagreement():
    problems = users_view.consistency(_journal(range(2, 30), range(2, 8)), {"team": "team via pica01"})
    assert problems and problems[0].startswith("team: the probe saw it down in 28 s, the users saw no failure in 22")


def test_a_request_that_hangs_before_failing_is_an_outage_for_every_second_it_kept_its_user_waiting():
    """Users of a service whose node died wait for a timeout: few requests, each failing after
    30 s. Counted where they end, they look like a 1 s blip; in flight, they are 30 s."""
    log = requests({-3: (4, 0)}) + [{"t": FAULT + 30.5, "name": "/_matrix", "ms": 30000.0, "ok": False,
                                     "status": 0, "node": "n1"}]
    log += requests({s: (4, 0) for s in range(31, 40)})
    rows = users_view.per_second(log, FAULT)
    figures = users_view.users_figures(rows, SLO, end=39)
    assert figures["failed_during_fault"] == 1
    assert figures["longest_failing_stretch_s"] == 31.0 and figures["users_rto_s"] == 31.0
    assert users_view.x8_verdict({"team": figures}).verdict.value == "broken"  # objective 20 s
