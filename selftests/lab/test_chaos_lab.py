"""The chaos experiments on the lab, run as a user runs them (`picacheck chaos NAME --option …`
in a subprocess, reports in a temporary folder).

For each experiment: the journal completed, every phase (the rollback included) went
through, each claim it tests got a verdict with evidence and the figures are there. The
verdicts themselves are whatever the lab shows: a claim the lab refutes is reported broken,
with its evidence, and that is not a failure here. After each rollback the verification
suite is as green as before the experiments: every check that passed before passes again
(the suite's layers but load, which measures capacity rather than state).

One more run is interrupted with SIGINT in the middle of its fault (lose-database while the
restore runs): its rollback must run (outcome "interrupted", rollback and steady state
after ok), leave no moved-aside data behind, and the lab passes the suite again.

Fault windows are shortened through the experiments' options to keep the whole file within
about 30 minutes.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from picacheck.inventory import load_inventory

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("hosts", "cluster", "services", "backup")  # not load: it measures capacity, not state
SUITE_RECOVERY_TIMEOUT = 300  # seconds for the suite to be as green as before after a rollback
EXPERIMENT_TIMEOUT = 1500  # seconds for one `picacheck chaos` run, all phases included
# The layers whose checks an experiment's fault reaches: after its rollback, those must pass
# again. Lasting damage anywhere else is test_false_alarms.py's to see (every layer, twice,
# after all the drills).
DISTURBS = {
    "kill-db-container": ("services", "backup"),
    "lose-database": ("services", "backup"),
    "fail-disk": ("hosts",),
    "kill-service-node": ("cluster", "services"),
    "partition-service-nodes": ("cluster", "services"),
    "kill-hypervisor": ("hosts", "cluster"),
}

# (experiment, options, claims it must give a verdict on, figures its journal must hold)
RUNS = [
    ("kill-db-container", {"database": "mysql", "with_load": "etherpad"}, ["X4"],
     ["rto_seconds", "canary", "restarted_by_swarm", "tables", "users"]),
    ("kill-db-container", {"database": "postgresql"}, ["X4"],
     ["rto_seconds", "canary", "restarted_by_swarm", "tables"]),
    ("lose-database", {"database": "mysql", "duration": "150", "dump_wait": "200"}, ["X5"],
     ["rto_seconds", "rpo_seconds", "restore_ok", "canary", "tables", "dump_used"]),
    ("lose-database", {"database": "postgresql", "duration": "150", "dump_wait": "200"}, ["X5"],
     ["rto_seconds", "rpo_seconds", "restore_ok", "canary", "tables", "dump_used"]),
    ("fail-disk", {}, ["X7"], ["rebuild_seconds", "write_samples"]),
    ("kill-service-node", {"victim": "pica02", "duration": "60", "with_load": "etherpad,synapse"},
     ["X1", "X2", "X3", "C13", "X8"], ["unavailable_seconds", "services_to_move", "users"]),
    ("partition-service-nodes", {"side": "pica01", "duration": "75"}, ["C9"],
     ["unavailable_seconds", "last_seen", "heal_seconds", "split_brain_entries", "resolved_by_latest_mtime"]),
]


def _picacheck() -> list[str]:
    script = Path(sys.executable).with_name("picacheck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "picacheck.cli"]


# --- the verification suite before and after ----------------------------------------------------


class SuiteRun:
    def __init__(self, report_dir: Path, output: str, exit_status: int):
        self.output = output
        self.exit_status = exit_status
        self.passed: set[str] = set()
        self.failed: dict[str, str] = {}
        junit = report_dir / "junit.xml"
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = f"{case.get('classname')}::{case.get('name')}"
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            if problem is not None:
                self.failed[name] = (problem.get("message") or "")[:300]
            elif case.find("skipped") is None:
                self.passed.add(name)


def run_suite(lab: Path, reports: Path, layers: tuple[str, ...] = LAYERS) -> SuiteRun:
    """`picacheck verify` on these layers (every state layer by default), as a user runs it."""
    layers = [arg for layer in layers for arg in ("--layer", layer)]
    result = subprocess.run([*_picacheck(), "verify", "--inventory", str(lab), *layers, "--reports", str(reports)],
                            cwd=REPO, capture_output=True, text=True, timeout=900)
    latest = reports / "latest"
    return SuiteRun(latest.resolve(), result.stdout[-4000:] + result.stderr[-2000:], result.returncode)


@pytest.fixture(scope="module")
def suite_before(lab, tmp_path_factory) -> SuiteRun:
    """The suite once before any experiment: what passes here must pass after each rollback."""
    run = run_suite(lab, tmp_path_factory.mktemp("suite-before"))
    print(f"suite before the experiments: exit {run.exit_status}, {len(run.passed)} passed, "
          f"{len(run.failed)} failed: {sorted(run.failed)}")
    return run


def assert_suite_recovered(lab: Path, reports: Path, before: SuiteRun, experiment: str) -> SuiteRun:
    """Every check of the layers the experiment disturbs (DISTURBS) that passed before the
    experiments passes again. After a rollback the lab
    converges at its own pace (a SIGKILLed PostgreSQL replays its WAL for about 75 s, a
    rebooted node rejoins the Swarm and GlusterFS heals): the suite runs again, as goss's
    retry-timeout does, within SUITE_RECOVERY_TIMEOUT, until each of those checks has passed
    once after the rollback; a check the experiment really broke keeps failing in all runs.
    (Flakiness itself is test_false_alarms.py's to catch: two runs in a row on a lab at rest.)"""
    layers = DISTURBS[experiment]
    expected = {name for name in before.passed if name.startswith(tuple(f"tests.{layer}." for layer in layers))}
    assert expected, f"no check of {layers} passed before the experiments: {sorted(before.passed)[:5]}"
    deadline = time.monotonic() + SUITE_RECOVERY_TIMEOUT
    passed: set[str] = set()
    attempt = 0
    while True:
        attempt += 1
        run = run_suite(lab, reports / f"suite-after-{attempt}", layers)
        passed |= run.passed
        regressions = {name: run.failed.get(name, "not run") for name in expected if name not in passed}
        if not regressions:
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"after the rollback, checks that passed before failed in each of {attempt} runs: "
                        f"{json.dumps(regressions, indent=1)[:4000]}\n{run.output[-2000:]}")
        time.sleep(10)


# --- running an experiment as a user ------------------------------------------------------------


def chaos_command(lab: Path, reports: Path, name: str, options: dict) -> list[str]:
    """`picacheck chaos NAME --option K=V …` (the `with_load` key becomes --with-load)."""
    args = [*_picacheck(), "chaos", name, "--inventory", str(lab), "--reports", str(reports)]
    for key, value in options.items():
        args += ["--with-load", value] if key == "with_load" else ["--option", f"{key}={value}"]
    return args


def journal_of(reports: Path, name: str) -> dict:
    journals = sorted(reports.glob(f"*/chaos/{name}.json"))
    assert journals, f"no journal of {name} under {reports}"
    return json.loads(journals[-1].read_text())


def lab_secrets() -> dict[str, str]:
    """The lab's secrets (passwords, API keys, shared secrets) and the forms they travel in."""
    import base64

    from picacheck.lab import topology

    found = {}
    for path in (topology.LAB_DIR / "secrets").glob("*"):
        value = path.read_text().strip()
        if len(value) >= 8 and path.name != "registry_user":
            found[path.name] = value
            found[f"{path.name} (base64)"] = base64.b64encode(value.encode()).decode()
    return found


def assert_no_secret(texts: dict[str, str]) -> None:
    for name, value in lab_secrets().items():
        for where, text in texts.items():
            assert value not in text, f"the lab's {name} is in {where}"


def assert_journal_complete(journal: dict, claims: list[str], figures: list[str], output: str) -> None:
    assert_no_secret({"the journal": json.dumps(journal), "the output": output})
    context = f"\njournal error: {journal.get('error')}\n{output[-3000:]}"
    assert journal["outcome"] == "completed", f"{journal['experiment']}: outcome {journal['outcome']}{context}"
    failed_phases = [p for p in journal["phases"] if not p.get("ok")]
    assert not failed_phases, f"phases that failed: {failed_phases}{context}"
    assert [p["phase"] for p in journal["phases"]] == [
        "steady state before", "inject fault", "observe", "rollback", "steady state after"]
    assert journal["timeline"], "no observation in the timeline"
    verdicts = {v["claim"]: v for v in journal["verdicts"]}
    for claim in claims:
        assert claim in verdicts, f"no verdict on {claim}: {journal['verdicts']}"
        assert verdicts[claim]["verdict"] in ("holds", "broken"), verdicts[claim]
        assert verdicts[claim]["evidence"].strip(), f"{claim}: a verdict without evidence"
    missing = [name for name in figures if name not in journal["figures"]]
    assert not missing, f"figures missing from the journal: {missing}: {journal['figures']}"


def leftovers(ssh) -> str:
    """Moved-aside data directories that an experiment would have left on /DATA."""
    return ssh("pica01", "ls -d /DATA/*.picacheck-* 2>/dev/null || true").strip()


@pytest.mark.parametrize("name, options, claims, figures", [
    pytest.param(*run, id="-".join([run[0], *[v for k, v in run[1].items() if k in ("database", "victim", "side")],
                                    *(["with-load"] if "with_load" in run[1] else [])]))
    for run in RUNS
])
def test_experiment_runs_and_the_lab_recovers(lab, ssh, tmp_path, suite_before, name, options, claims, figures):
    if name == "lose-database" and not load_inventory(str(lab)).backups.dumps:
        pytest.fail("the lab inventory has no dump policy (backups.dumps): the lab's dump jobs are not up")
    reports = tmp_path / "reports"
    started = time.monotonic()
    result = subprocess.run(chaos_command(lab, reports, name, options), cwd=REPO, capture_output=True, text=True,
                            timeout=EXPERIMENT_TIMEOUT)
    took = time.monotonic() - started
    output = result.stdout + result.stderr
    # 0: completed, every claim holds; 1: completed with a claim refuted (a finding), or failed.
    assert result.returncode in (0, 1), f"picacheck chaos {name} exited {result.returncode}:\n{output[-3000:]}"
    journal = journal_of(reports, name)
    print(f"{name} {options}: {journal['outcome']} in {took:.0f}s")
    for verdict in journal["verdicts"]:
        print(f"  {verdict['claim']}: {verdict['verdict']}: {verdict['evidence']}")
    print("  figures: " + json.dumps(journal["figures"], default=str)[:3000])
    assert_journal_complete(journal, claims, figures, output)
    for verdict in journal["verdicts"]:
        assert f"{verdict['claim']}: {verdict['verdict']}" in result.stdout, "the verdicts are printed for the user"
    if name == "lose-database":
        assert journal["figures"]["left_aside"] is None, journal["figures"]
        assert not leftovers(ssh), f"moved-aside data left on /DATA: {leftovers(ssh)}"
    if "with_load" in options:
        assert_users_view(lab, journal, options["with_load"].split(","))
    assert_suite_recovered(lab, tmp_path, suite_before, name)


def assert_users_view(lab: Path, journal: dict, services: list[str]) -> None:
    """The users' view is there, per second, for every service, and agrees with the probes:
    where the probe through the surviving node saw a service down, its users failed too."""
    seen = {row["service"] for row in journal["users"]}
    assert seen == set(services), f"users' view of {seen}, expected {services}"
    assert any(row["t"] < 0 for row in journal["users"]), "no users' view before the fault"
    for service in services:
        figures = journal["figures"]["users"][service]
        assert figures["requests_during_fault"] > 0, figures
    if journal["experiment"] == "kill-service-node":
        inventory = load_inventory(str(lab))
        survivor = journal["figures"]["survivor"]
        probes = {s.name: f"{s.domain} via {survivor}" for s in inventory.services if s.name in services}
        from picacheck.load.users_view import consistency

        assert consistency(journal, probes) == [], consistency(journal, probes)


def test_kill_hypervisor_with_a_manual_fault_played_by_an_operator(lab, tmp_path, suite_before):
    """`--manual-fault`: the suite asks for the fault on a terminal, a scripted operator
    makes it (bob's UML and its VM killed, as a pulled plug would), then the repair; the
    journal looks like the automatic run's, with the operator's answers."""
    import os
    import pty
    import select

    from picacheck.lab.control import LabVms

    reports = tmp_path / "reports"
    master, slave = pty.openpty()
    process = subprocess.Popen([*chaos_command(lab, reports, "kill-hypervisor", {}), "--manual-fault"], cwd=REPO,
                               stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen, vms = "", LabVms()
    deadline = time.monotonic() + 600
    try:
        for cue, act in (("FAULT, by hand:", lambda: (vms.kill_hypervisor("bob"), vms.kill_vm("pica02"))),
                         ("REPAIR, by hand:", lambda: (vms.start_hypervisor("bob"), vms.start_vm("pica02")))):
            while cue not in seen:
                assert time.monotonic() < deadline and process.poll() is None, f"no {cue!r}:\n{seen[-3000:]}"
                if select.select([master], [], [], 1)[0]:
                    seen += os.read(master, 65536).decode(errors="replace")
            seen = seen.split(cue, 1)[1]
            act()
            os.write(master, b"done\n")
        status = process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    journal = journal_of(reports, "kill-hypervisor")
    assert status in (0, 1), seen[-3000:]
    assert journal["outcome"] == "completed", journal.get("error")
    assert [p["phase"] for p in journal["phases"]] == [
        "steady state before", "manual fault", "observe", "rollback", "steady state after"]
    assert [m["answer"] for m in journal["manual"]] == ["done", "done"]
    assert {o["probe"] for o in journal["timeline"]} == {"quorum on alice", "ssh pica02"}
    assert any(not o["ok"] for o in journal["timeline"] if o["probe"] == "ssh pica02"), "the fault was observed"
    assert journal["verdicts"][0]["claim"] == "X6" and journal["verdicts"][0]["evidence"]
    assert_suite_recovered(lab, tmp_path, suite_before, "kill-hypervisor")


def test_interrupted_in_the_middle_of_its_fault_rolls_back(lab, ssh, tmp_path, suite_before):
    """SIGINT while lose-database observes its fault (the restore under way): the rollback
    puts a working database back, the journal says "interrupted", and the suite is green again."""
    if not load_inventory(str(lab)).backups.dumps:
        pytest.fail("the lab inventory has no dump policy (backups.dumps): the lab's dump jobs are not up")
    reports = tmp_path / "reports"
    log = tmp_path / "chaos.log"
    options = {"database": "mysql", "duration": "150", "dump_wait": "0"}
    with open(log, "w") as sink:
        process = subprocess.Popen(chaos_command(lab, reports, "lose-database", options), cwd=REPO,
                                   stdout=sink, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 600
            while "lose-database: observe" not in log.read_text():
                assert process.poll() is None, f"the experiment ended before its fault:\n{log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"no observe phase within 600s:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
            time.sleep(8)  # in the middle of the fault: the new server starts, the restore waits for it
            process.send_signal(signal.SIGINT)
            status = process.wait(timeout=900)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    output = log.read_text()
    assert status == 130, f"exit {status} (130: interrupted):\n{output[-3000:]}"
    journal = journal_of(reports, "lose-database")
    phases = {p["phase"]: p for p in journal["phases"]}
    print(f"interrupted lose-database: phases {[(p['phase'], p.get('ok'), p['seconds']) for p in journal['phases']]}")
    print("  figures: " + json.dumps(journal["figures"], default=str)[:2000])
    assert journal["outcome"] == "interrupted", journal.get("error")
    assert phases["rollback"]["ok"], phases["rollback"]
    assert phases["steady state after"]["ok"], phases["steady state after"]
    figures = journal["figures"]
    assert figures["original_put_back"] or figures["restore_ok"], figures
    assert figures["left_aside"] is None and not leftovers(ssh), f"moved-aside data left: {leftovers(ssh)}"
    assert_suite_recovered(lab, tmp_path, suite_before, "lose-database")
