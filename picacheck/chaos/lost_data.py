"""Losing a database's data, restoring it from a dump, and putting things back (for the
lose-database experiment), each step small and idempotent:

- `LostData.destroy()`: the service scaled to 0, its data directory renamed aside (marked
  ASIDE_MARK: only paths with it are ever removed) and replaced by an empty one, the service
  scaled back: the server starts on a new, empty database;
- `Restore`: in the background, the applications stopped, the dump fed to the new server,
  the applications started again and waited for;
- the rollback steps: the original data put back if the restore failed, the services scaled
  back, the moved-aside copy removed only once the server answers;
- `measure`: RTO, RPO, the canary rows lost, tables and rows, and B8's figures.
"""

from __future__ import annotations

import shlex
import threading
import time
from dataclasses import dataclass, field

from picacheck.chaos import observe
from picacheck.chaos.canary import Canary, compare_counts
from picacheck.chaos.journal import ClaimVerdict, Observation, recovery_precision, recovery_time, unavailable_seconds
from picacheck.claims import Verdict
from picacheck.databases.dumps import DumpChoice, RestoreResult, restore_dump
from picacheck.databases.live import LiveDatabase
from picacheck.inventory.model import DumpPolicy
from picacheck.probes import backups
from picacheck.wait import NotYet, Stopped, eventually

ASIDE_MARK = ".picacheck-"  # only paths with it are ever removed
SERVER_WAIT = 300  # seconds for a new (or put back) server to answer
APPS_WAIT = 300  # seconds for the applications to answer after the restore


@dataclass
class RestoreRecord:
    """What the fault and the restore did, for the rollback and the figures."""

    stage: str = "not started"
    stages: list = field(default_factory=list)
    result: RestoreResult | None = None
    error: str | None = None
    fault_at: float | None = None
    dump: DumpChoice | None = None
    dump_facts: dict = field(default_factory=dict)
    acked_before_fault: int | None = None
    replicas: int | None = None
    apps_replicas: dict = field(default_factory=dict)
    data_dir: str | None = None
    node: str | None = None  # where the data directory was moved (a node mounting the volume)
    aside: str | None = None  # the moved-aside original, while it exists
    destroyed_at: float | None = None
    server_answering_at: float | None = None
    restored_at: float | None = None
    apps_answering_at: float | None = None
    put_back: bool = False
    remove_later: str | None = None
    removed: str | None = None
    canary_present: set | None = None
    canary_read: str = "not read"
    counts_before: dict | None = None
    counts_after: dict | None = None
    dumps_after: list | None = None

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        self.stages.append([stage, round(time.time() - (self.fault_at or time.time()), 1)])

    def since_fault(self) -> float:
        return round(time.time() - self.fault_at, 1)


class Restore:
    """The restore as an administrator does it, in a thread of its own."""

    def __init__(self, live: LiveDatabase, apps: list, record: RestoreRecord, stop: threading.Event, timeout: int):
        self.live, self.apps, self.record, self.stop, self.timeout = live, apps, record, stop, timeout
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="restore", daemon=True)
        self.thread.start()

    def join(self, timeout: float) -> None:
        if self.thread is not None:
            self.thread.join(timeout=timeout)

    def run(self) -> None:
        record = self.record
        try:
            self.stop_applications()
            record.set_stage("waiting for the new server")
            self.wait(lambda: self.live.sql("SELECT 1", timeout=5).ok, SERVER_WAIT, "the new server answers")
            record.server_answering_at = record.since_fault()
            record.set_stage(f"feeding {record.dump.name}")
            record.result = restore_dump(self.live, record.dump, timeout=self.timeout)
            if not record.result.ok:
                record.set_stage("restore failed")
                return
            record.restored_at = record.since_fault()
            record.set_stage("starting the applications")
            for name, replicas in record.apps_replicas.items():
                self.live.scale(replicas, name)
            self.wait(self.applications_answer, APPS_WAIT, "the applications answer")
            record.apps_answering_at = record.since_fault()
            record.set_stage("done")
        except Exception as error:  # noqa: BLE001 - the rollback repairs; the journal says why
            record.error = f"{type(error).__name__}: {error}"[:400]
            record.set_stage("failed")

    def stop_applications(self) -> None:
        self.record.set_stage("stopping the applications")
        for app in self.apps:
            replicas = self.live.replicas(app.name)
            if replicas:
                self.record.apps_replicas[app.name] = replicas
                self.live.scale(0, app.name)

    def applications_answer(self) -> bool:
        probes = observe.applications_answer(self.live.inventory, self.apps)
        return all(probe()[0] for probe in probes.values())

    def wait(self, condition, timeout: float, what: str) -> None:
        try:
            eventually(condition, timeout=timeout, interval=1, what=what, stop=self.stop, tolerate=(Exception,))
        except NotYet as error:
            raise TimeoutError(str(error)) from None
        except Stopped as error:
            raise InterruptedError(str(error)) from None


class LostData:
    def __init__(self, live: LiveDatabase, policy: DumpPolicy, record: RestoreRecord, canary: Canary):
        self.live, self.policy, self.record, self.canary = live, policy, record, canary
        self.hosts = live.hosts

    def run_on_node(self, command: str, what: str, timeout: int = 60) -> None:
        done = self.hosts[self.record.node].run(command, timeout=timeout)
        if done.rc != 0:
            raise RuntimeError(f"{what} on {self.record.node}: {(done.stderr or done.stdout).strip()[:300]}")

    def destroy(self) -> None:
        record = self.record
        record.replicas = self.live.replicas() or 1
        record.data_dir = self.live.data_directory()
        location = self.live.locate()
        record.node = location.node if location else self.live.nodes[0]
        record.fault_at = time.time()
        self.live.scale(0)
        self.live.wait_stopped(timeout=120)
        aside = f"{record.data_dir}{ASIDE_MARK}lost-{time.strftime('%Y%m%d-%H%M%S')}"
        q, qa = shlex.quote(record.data_dir), shlex.quote(aside)
        record.aside = aside  # before the move: an interrupted move is still found by the rollback
        self.run_on_node(f"test ! -e {qa} && mv {q} {qa}", f"cannot move {record.data_dir} aside")
        self.run_on_node(f"mkdir {q} && chown --reference={qa} {q} && chmod --reference={qa} {q}",
                         f"cannot make an empty {record.data_dir}")
        self.live.scale(record.replicas)
        record.destroyed_at = record.since_fault()

    # --- rollback steps -------------------------------------------------------------------------

    def restored(self) -> bool:
        return self.record.result is not None and self.record.result.ok

    def put_back_if_needed(self) -> None:
        """The restore did not succeed: stop the server, put the original data back."""
        record = self.record
        if record.aside and self.hosts[record.node].run(f"test -e {shlex.quote(record.aside)}", timeout=30).rc != 0:
            record.aside = None  # the move never happened: the data directory is untouched
        if not record.aside:
            return
        if self.restored():
            record.remove_later = record.aside
            return
        self.live.scale(0)
        self.live.wait_stopped(timeout=120)
        failed = f"{record.data_dir}{ASIDE_MARK}failed-{time.strftime('%Y%m%d-%H%M%S')}"
        q, qa, qf = shlex.quote(record.data_dir), shlex.quote(record.aside), shlex.quote(failed)
        self.run_on_node(f"if [ -e {q} ]; then mv {q} {qf}; fi && mv {qa} {q}", f"cannot put {record.aside} back")
        record.put_back, record.aside, record.remove_later = True, None, failed

    def scale_back(self) -> None:
        record = self.record
        if record.replicas and self.live.replicas() != record.replicas:
            self.live.scale(record.replicas)
        for name, replicas in record.apps_replicas.items():
            if self.live.replicas(name) != replicas:
                self.live.scale(replicas, name)
        if record.fault_at or self.canary.created:
            self.live.wait_answers(timeout=SERVER_WAIT)

    def remove_aside(self) -> None:
        """Only now that the server answers again (scale_back waited for it)."""
        target = self.record.remove_later
        if not target:
            return
        if ASIDE_MARK not in target:
            raise RuntimeError(f"refusing to remove {target}")
        gone = self.hosts[self.record.node].run(f"rm -rf -- {shlex.quote(target)}", timeout=600)
        if gone.rc == 0:
            self.record.removed = target
            if self.record.aside == target:
                self.record.aside = None

    def dumps_since_the_fault(self) -> list[list]:
        """Dumps written after the fault (while the server was new and empty, or after the restore)."""
        try:
            local_before = time.time()
            listing = backups.list_backups(self.hosts[self.policy.host], self.policy.directory)
            offset = local_before - listing.host_now
            fault = self.record.fault_at
            return [[d.name, d.size, round(d.mtime + offset - fault, 1)]
                    for d in listing.dumps if d.mtime + offset > fault]
        except Exception as error:  # noqa: BLE001 - a figure, not a step
            return [[f"not listed: {error}", 0, 0]]

    # --- measure ---------------------------------------------------------------------------------

    def canary_loss(self) -> dict:
        figures = self.canary.summary(self.record.canary_present)
        dump, fault, present = self.record.dump, self.record.fault_at, self.record.canary_present
        figures["lost_older_than_dump_rows"] = []
        if present is None or dump is None:
            return figures
        lost = [a for a in self.canary.acked() if a.seq not in present]
        older = [a.seq for a in lost if a.finished < dump.started]
        figures.update(lost_older_than_dump=len(older), lost_older_than_dump_rows=older[:10],
                       lost_newer_than_dump=len(lost) - len(older),
                       lost_span_seconds=round(fault - min(a.finished for a in lost), 1) if lost and fault else 0)
        return figures

    def measure(self, timeline: list[Observation], db_probe: str, app_probes: dict, window: float,
                after_dump: float, documented_hours) -> tuple[dict, list[ClaimVerdict]]:
        figures = self.figures(timeline, db_probe, app_probes, window, after_dump, documented_hours)
        problems = self.problems(figures, app_probes, window, max(o.t for o in timeline))
        return figures, [ClaimVerdict("X5", Verdict.broken if problems else Verdict.holds,
                                      self.evidence(figures, window, problems))]

    def figures(self, timeline, db_probe, app_probes, window, after_dump, documented_hours) -> dict:
        r, dump, fault = self.record, self.record.dump, self.record.fault_at
        result = r.result
        gaps = r.dump_facts.get("recent_gaps_seconds", [])
        rpo = round(fault - dump.started, 1) if dump and fault else None
        rto = r.apps_answering_at if app_probes else r.restored_at
        restore_figures = self.restore_figures(result)
        return {
            "database": self.live.db.name, "service": self.live.service, "engine": self.live.engine.name,
            "data_directory": r.data_dir, "fault_seconds": round(max(o.t for o in timeline), 1),
            "dump_used": dump.name if dump else None, "dump_bytes": dump.size if dump else None,
            "dump_age_at_fault_seconds": round(fault - dump.ended, 1) if dump and fault else None,
            "rpo_seconds": rpo, "rto_seconds": rto,
            "rto_precision_seconds": recovery_precision(timeline, "restore from the newest dump"),
            "restore_stages": r.stages, **restore_figures, "restore_failure": r.error,
            "db_unavailable_seconds": unavailable_seconds(timeline, db_probe),
            "db_recovery_seconds": recovery_time(timeline, db_probe),
            "apps_unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in app_probes},
            "canary": self.canary_loss(), "canary_rows_before_fault": r.acked_before_fault,
            "tables": compare_counts(r.counts_before, r.counts_after),
            "dump_period_seconds": self.policy.period_hours * 3600, "allowed_loss_seconds": window,
            "fault_after_dump_seconds": after_dump,
            "b8_measured_loss_seconds": rpo, "b8_documented_hours": list(documented_hours),
            "b8_worst_case_loss_seconds": max(gaps) if gaps else None, "recent_dump_gaps_seconds": gaps,
            "dumps_written_after_fault": r.dumps_after,
            "original_put_back": r.put_back, "removed": r.removed, "left_aside": r.aside,
        }

    @staticmethod
    def restore_figures(result: RestoreResult | None) -> dict:
        return {"restore_seconds": result.seconds if result else None, "restore_ok": bool(result and result.ok),
                "restore_errors": result.errors if result else [],
                "restore_expected_errors": result.expected_errors if result else None}

    def problems(self, figures: dict, app_probes: dict, window: float, end: float) -> list[str]:
        found = []
        if not figures["restore_ok"]:
            errors = figures["restore_errors"]
            found.append("the restore failed: " + ("; ".join(errors[:3]) if errors else
                                                   self.record.error or self.record.stage))
        if app_probes and self.record.apps_answering_at is None:
            found.append(f"the applications did not answer on the restored data within the {end:.0f}s observed")
        rpo = figures["rpo_seconds"]
        if rpo is not None and rpo > window:
            found.append(f"the dump used was {rpo:.0f}s old at the fault: more than the period plus grace ({window:.0f}s)")
        older = figures["canary"].get("lost_older_than_dump_rows")
        if older:
            found.append(f"{len(older)} canary rows older than the dump are missing ({older})")
        if figures["tables"].get("missing_tables"):
            found.append(f"tables not restored: {figures['tables']['missing_tables'][:10]}")
        return found

    def evidence(self, f: dict, window: float, problems: list[str]) -> str:
        canary, counts = f["canary"], f["tables"]
        rto = f["rto_seconds"] if f["rto_seconds"] is not None else "-"
        return (
            f"{f['service']}'s data ({f['data_directory']}) destroyed; restored from {f['dump_used']} "
            f"({f['dump_age_at_fault_seconds']}s old at the fault, started {f['rpo_seconds']}s before it) in "
            f"{f['restore_seconds']}s; applications answering {rto}s after the fault (±{f['rto_precision_seconds']} s); "
            f"canary: {canary.get('acknowledged')} acknowledged, {canary.get('present')} restored, "
            f"{canary.get('lost')} lost (all newer than the dump: {not canary.get('lost_older_than_dump_rows')}); "
            f"tables {counts.get('tables_before')} before, {counts.get('tables_after')} after, rows "
            f"{counts.get('rows_before')} → {counts.get('rows_after')}; allowed loss {window:.0f}s "
            f"(dump period {f['dump_period_seconds']:.0f}s + grace {self.policy.grace_minutes * 60:.0f}s); B8: this "
            f"failure lost {f['rpo_seconds']}s of writes, one just before the next dump would lose "
            f"{f['b8_worst_case_loss_seconds']}s (recent dumps {f['recent_dump_gaps_seconds']}s apart)"
            + (f". Broken: {'; '.join(problems)}" if problems else ""))
