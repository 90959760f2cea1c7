"""Synthetic but valid run folders for the report's tests: a summary.json over the real
claims catalogue, two chaos journals (one with its picture, one without), two load folders
(an SLO run with only locust's CSV history, a capacity search with its picture), and two
restore drills. Small, and in the formats the rooms write (see picacheck/kit/, picacheck/report/pytest_hooks.py,
picacheck/chaos/runner.py, picacheck/load/runner.py, tests/backup/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from picacheck.claims import Status, all_claims
from picacheck.report.timeline import render_timeline

FIRST_NIGHT = 1796000000.0  # 2026-11-30, a synthetic epoch
DAY = 86400.0
HOSTILE = "<script>alert('from a host')</script> & <b>bold</b>"  # host output is text, never HTML

# The statuses of the first synthetic run, where they are not "holds".
FIRST_RUN = {
    "B9": Status.broken, "X1": Status.broken, "C13": Status.broken,
    "S4": Status.holds_with_finding, "B5": Status.holds_with_finding,
    "H7": Status.not_applicable, "S8": Status.not_applicable,
    "X6": Status.not_checked, "X7": Status.not_checked,
}

EVIDENCE = {
    "B9": ["mysql: the report's restore.sh restores the newest dump",
           ("postgresql: the report's restore.sh (pg_restore -w -d DB < dump) FAILS: pg_restore: error: input file "
            f"appears to be a text format dump. Please use psql. {HOSTILE}"),
           ("AssertionError: postgresql: the report's restore.sh does not restore 2026.12.01.075501.sql: FAILS: "
            "pg_restore: error: input file appears to be a text format dump")],
    "X1": ["kill-service-node {'victim': 'pica02'}: pica02 killed; through pica01: pad.picasoft.test unavailable 12.0 s",
           ("AssertionError: X1 refuted by kill-service-node: pica02 killed; through pica01: pad.picasoft.test "
            "unavailable 12.0 s; still down at the end: ['pad.picasoft.test via pica01']")],
    "C13": ["AssertionError: C13 refuted by kill-service-node: `docker service ls` on pica01 failed 30.0 s"],
    "H7": ["not applicable here: H7: the lab's hypervisors are user-mode-linux machines: there is no GRUB"],
    "S8": ["not applicable here: S8: Kanboard is not in the lab"],
    "H12": ["not applicable here: bob documents no port forward"],
    "B8": ["mysql: measured worst-case loss 1.0 min over 8 dumps"],
}

FINDINGS = {
    "S4": {"kind": "security", "severity": "high",
           "text": "the Traefik dashboard answers from outside the cluster on port 8080 through pica01 (172.30.42.11)",
           "claim": None, "check": "tests/services/test_traefik.py::test_dashboard_is_published_and_exposure_is_reported"},
    "B5": {"kind": "documented procedure fails", "severity": "medium",
           "text": "postgresql: the documented restore procedure (the report's restore.sh) does not work (B9)",
           "claim": None, "check": "tests/backup/test_restore.py::test_newest_dump_restores[postgresql]"},
}


def summary(started: float, statuses: dict[str, Status], findings: dict[str, dict], unreachable=None) -> dict:
    claims = []
    for claim in all_claims():
        status = statuses.get(claim.id, Status.holds)
        verdict = "holds" if status == Status.holds_with_finding else status.value
        claims.append({
            "id": claim.id, "section": claim.section, "text": claim.text, "verdict": verdict, "status": status.value,
            "checks": [] if status == Status.not_checked else [f"tests/x/test_{claim.id.lower()}.py::test_it[alice]",
                                                              f"tests/x/test_{claim.id.lower()}.py::test_it[bob]"],
            "evidence": EVIDENCE.get(claim.id, []) if status != Status.not_checked else [],
            "findings": [findings[claim.id]] if claim.id in findings else [],
        })
    counts = {s.value: sum(1 for c in claims if c["status"] == s.value) for s in Status}
    return {
        "inventory": {"name": "picalab", "kind": "lab", "description": "A synthetic lab for the report's tests"},
        "hosts": [{"name": "alice", "roles": ["hypervisor"], "address": "172.30.42.2", "jump": None},
                  {"name": "bob", "roles": ["hypervisor"], "address": "172.30.42.3", "jump": None},
                  {"name": "pica01", "roles": ["swarm", "gluster"], "address": "172.30.42.11", "jump": "alice"}],
        "started": started, "duration_s": 754.2, "exit_status": 1, "fail_on": "none", "counts": counts,
        "findings": list(findings.values()), "unreachable": unreachable or {}, "claims": claims,
    }


def make_two_nights(root: Path) -> tuple[Path, Path, Path]:
    """Night 1 as FIRST_RUN; night 2: B9 fixed, H3 newly broken, B5's finding gone, a new
    critical one on C5. Both recorded in root/history.jsonl: (first, second, history)."""
    from picacheck.report import record_run

    first = make_run(root, "20261130-030000", FIRST_NIGHT)
    statuses = {**FIRST_RUN, "H3": Status.broken, "C5": Status.holds_with_finding}
    del statuses["B9"], statuses["B5"]
    findings = {"S4": FINDINGS["S4"], "C5": {"kind": "data loss risk", "severity": "critical",
                                             "text": "a brick sits on the root filesystem", "claim": None, "check": "c5"}}
    second = make_run(root, "20261201-030000", FIRST_NIGHT + DAY, statuses, findings)
    history = root / "history.jsonl"
    record_run(history, first)
    record_run(history, second)
    return first, second, history


def make_run(root: Path, name: str, started: float, statuses: dict[str, Status] | None = None,
             findings: dict[str, dict] | None = None, *, unreachable=None, extras: bool = True) -> Path:
    """A run folder root/name; `extras` adds the journals, load folders and restore drills."""
    run = root / name
    run.mkdir(parents=True)
    data = summary(started, FIRST_RUN if statuses is None else statuses, FINDINGS if findings is None else findings,
                   unreachable)
    (run / "summary.json").write_text(json.dumps(data, indent=2))
    if extras:
        _chaos(run / "chaos")
        _load(run / "load")
        _restore(run / "restore")
    return run


def _chaos(folder: Path) -> None:
    folder.mkdir()
    timeline = []
    for second in range(20):
        timeline.append({"t": second + 0.1, "probe": "pad.picasoft.test via pica01", "ok": second >= 12, "detail": "502"})
        timeline.append({"t": second + 0.2, "probe": "docker service ls on pica01", "ok": False, "detail": HOSTILE})
        timeline.append({"t": second + 0.3, "probe": "victim's tasks running on pica01", "ok": second >= 5, "detail": ""})
    service_node = {
        "experiment": "kill-service-node", "environment": "picalab", "claims": ["X1", "X2", "X3", "C13"],
        "plan": ["steady state (3 probes)", "fault: kill pica02", "observe", "rollback (always runs)"],
        "phases": [{"phase": "inject fault", "started": 1.0, "ok": True, "seconds": 1.2}],
        "timeline": timeline,
        "figures": {"victim": "pica02", "survivor": "pica01", "fault_seconds": 20.3,
                    "unavailable_seconds": {"pad.picasoft.test via pica01": 12.0}},
        "verdicts": [{"claim": "X1", "verdict": "broken", "evidence": "pad.picasoft.test unavailable 12.0 s through pica01"},
                     {"claim": "X2", "verdict": "holds", "evidence": "services with a task on pica02 moved to pica01"},
                     {"claim": "C13", "verdict": "broken", "evidence": f"`docker service ls` failed 20.0 s; {HOSTILE}"}],
        "outcome": "completed", "error": None,
    }
    path = folder / "kill-service-node-pica02.json"
    path.write_text(json.dumps(service_node))
    render_timeline(service_node, path.with_suffix(".png"))
    lose = {
        "experiment": "lose-database", "environment": "picalab", "claims": ["X5"], "plan": ["fault: destroy mysql"],
        "phases": [], "timeline": [{"t": t + 0.5, "probe": "mysql answers", "ok": t >= 8, "detail": ""} for t in range(15)],
        "figures": {"database": "mysql", "fault_seconds": 15.0, "rto_seconds": 8.5, "rpo_seconds": 42.0,
                    "canary": {"acknowledged": 120, "present": 117, "lost": 3},
                    "b8_measured_loss_seconds": 42.0, "b8_worst_case_loss_seconds": 61.0, "dump_period_seconds": 60.0},
        "verdicts": [{"claim": "X5", "verdict": "holds", "evidence": "restored from the newest dump in 3.1 s"}],
        "outcome": "completed", "error": None,
    }
    (folder / "lose-database-mysql.json").write_text(json.dumps(lose))  # no picture: the report draws it


HISTORY_HEADER = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,"
                  "100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
                  "Total Min Response Time,Total Max Response Time,Total Average Content Size")


def _load(folder: Path) -> None:
    etherpad = folder / "etherpad"
    etherpad.mkdir(parents=True)
    slo = {"p95_ms": 1500.0, "max_failure_ratio": 0.01, "min_rps": 4.0, "users": 4, "duration_s": 20}
    (etherpad / "summary.json").write_text(json.dumps({
        "service": "etherpad", "domain": "pad.picasoft.test", "nodes": ["172.30.42.11"], "users": 4, "duration_s": 20,
        "verdict": {"ok": False, "slo": slo,
                    "measured": {"requests": 100, "failures": 3, "rps": 3.1, "p50_ms": 10.0, "p95_ms": 1900.0,
                                 "p99_ms": 2300.0, "max_ms": 2400.0, "users": 4, "duration_s": 20, "failure_ratio": 0.03},
                    "breaches": ["p95 1900 ms > 1500 ms", "3.1 req/s < 4 req/s"]},
        "warnings": [], "failures": [{"method": "GET", "name": "/p/x", "error": HOSTILE, "occurrences": 3}]}))
    rows = [HISTORY_HEADER]
    for second in range(20):
        users = min(4, second)
        rows.append(f"{1796111783 + second},{users},,Aggregated,{users * 1.2:.6f},0.000000,"
                    + ",".join([str(20 + second)] * 5 + [str(300 + 50 * second)] * 6) + f",{second * 4},0,20,30,4,400,70")
    (etherpad / "locust_stats_history.csv").write_text("\n".join(rows) + "\n")  # no chart.png: the report draws it
    (etherpad / "locust.html").write_text("<html>locust</html>")
    synapse = folder / "synapse"
    synapse.mkdir()
    (synapse / "capacity.json").write_text(json.dumps({
        "service": "synapse", "domain": "team.picasoft.test", "slo": slo,
        "capacity": {"users": 24, "rps": 11.5, "p95_ms": 870.0, "failure_ratio": 0.0, "at_least": False},
        "holds_documented_load": True, "summary": "capacity within SLO: 24 users, 11.5 req/s; 28 users breached"}))
    _png(synapse / "capacity.png")


def _png(path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4, 2))
    axes.bar([4, 8, 12], [3, 6, 9])
    figure.savefig(path, dpi=50)
    plt.close(figure)


def _restore(folder: Path) -> None:
    folder.mkdir()
    base = {"dump_host": "pica01", "dump_bytes": 2_500_000, "dump_complete": True, "dump_started": 1796111700.0,
            "drill_started": 1796111742.0, "live_host": "pica01", "scratch_host": "pica01", "server_start_s": 1.2,
            "copy_s": 0.2, "restore_s": 0.4, "compare_s": 0.3, "restore_status": 0, "restore_errors": [],
            "tables": [{"name": "store", "dump_rows": 812, "live_rows": 812, "identical": True},
                       {"name": "pads", "dump_rows": 40, "live_rows": 41, "identical": False, "only_live": 1}],
            "problems": [], "rpo_s": 42.0}
    (folder / "mysql.json").write_text(json.dumps({
        **base, "database": "mysql", "engine": "mysql", "dump": "2026.12.01.075501.sql",
        "report_script": {"command": "mysql < dump", "succeeded": True, "output": ["Restore succeeded"], "differences": []},
        "summary": "mysql: restored 2026.12.01.075501.sql (2.4 MiB) into a scratch mysql server on pica01"}))
    (folder / "postgresql.json").write_text(json.dumps({
        **base, "database": "postgresql", "engine": "postgresql", "dump": "2026.12.01.075502.sql",
        "report_script": {"command": "pg_restore -w -d DB < dump", "succeeded": False,
                          "output": ["pg_restore: error: input file appears to be a text format dump. Please use psql."],
                          "differences": []},
        "summary": "postgresql: restored 2026.12.01.075502.sql into a scratch postgresql server on pica01"}))
