"""lose-database: destroy a database's data (`--option database=mysql|postgresql`) and restore
it from the newest dump, as an administrator would; measure how long it took and what was
lost (claim X5, and the real figure of B8).

Steady state: the server answers and accepts writes, a complete dump exists, the applications
answer through every node; a canary table in the application's database gets one row a
second, and the experiment waits (at most `dump_wait` seconds) until a dump holds some canary
rows and newer rows exist, so that the loss is visible row by row.

Fault: the service is scaled to 0, its data directory (the service's bind mount on /DATA) is
renamed aside (not deleted) and replaced by an empty one, and the service is scaled back: the
server initialises a new, empty database. Then the restore, timed, in the background while
the observers sample every second: the applications are stopped, the newest complete dump
listed at the fault is fed to the new server with its own client (`mysql < dump`, `psql -f
dump`, inside the task's container), and the applications are started again and must answer.

Measured: RTO (fault → applications answering on the restored data), RPO (how old the dump
was at the fault), the canary rows lost (acknowledged after the dump), the tables and rows
restored against before. X5 holds iff the restore succeeded and the loss stays within the
documented dump period plus its grace.

Rollback (always): a working database. If the restore did not succeed, the service is stopped,
the original data directory is put back and the service started; the moved-aside copy (or the
failed new one) is removed only once the server answers again; the canary table is dropped.
"""

from __future__ import annotations

import shlex
import threading
import time

from picacheck.chaos import databases, observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Observation, Verdict, recovery_time, unavailable_seconds
from picacheck.probes import backups

NAME = "lose-database"
CLAIMS = ["X5"]
CANARY_ROWS_BEFORE = 3
ROWS_AFTER_DUMP = 2  # canary rows newer than the dump before the fault
SERVER_WAIT = 300  # seconds for a new (or put back) server to answer
APPS_WAIT = 300  # seconds for the applications to answer after the restore
ASIDE_MARK = ".picacheck-"  # only paths with it are ever removed


def build(ctx: observe.ChaosContext, database: str = "mysql", duration: str = "180", dump_wait: str | None = None,
          after_dump: str | None = None, restore_timeout: str = "600") -> Experiment:
    db = databases.resolve_database(ctx.inventory, database)
    policy = databases.dump_policy(ctx.inventory, db.name)
    access = databases.DatabaseAccess(ctx, db)
    canary = databases.Canary(access)
    apps = databases.apps_of(ctx.inventory, db.name)
    window = policy.period_hours * 3600 + policy.grace_minutes * 60
    period = policy.period_hours * 3600
    # The fault lands `after_dump` seconds after a dump: by default in the middle of the dump
    # cycle, so that the measured loss is a typical one (the worst case is a whole period).
    fault_after_dump = float(after_dump) if after_dump is not None else min(period / 2, 300.0)
    wait_for_dump = float(dump_wait) if dump_wait is not None else min(window, 900.0) + fault_after_dump
    restore_limit = int(restore_timeout)
    hosts = ctx.hosts
    state: dict = {"restore": {"stage": "not started"}}
    stop = threading.Event()
    worker: dict = {}

    db_probe = f"{access.service} answers (SELECT 1 in its task)"
    canary_probe = f"canary insert into {db.database}.{databases.CANARY_TABLE}"
    restore_probe = "restore from the newest dump"
    app_probes = databases.app_probes(ctx, apps)

    # --- steady state -------------------------------------------------------------------------

    def dump_exists() -> tuple[bool, str]:
        choice, facts = databases.newest_complete_dump(ctx, policy, db.engine)
        if choice is None:
            return False, f"no complete dump in {policy.directory} on {policy.host} ({facts})"
        return True, f"newest complete dump {choice.name} ({choice.size} bytes, {time.time() - choice.ended:.0f}s old)"

    def canary_in_a_dump() -> tuple[bool, str]:
        """Before the fault: a dump taken after the canary began, `after_dump` seconds old, and
        canary rows newer than it. After the rollback (canary dropped): the server accepts writes."""
        if canary.finished:
            return access.accepts_writes()()
        canary.start()
        acked = canary.acked()
        if len(acked) < CANARY_ROWS_BEFORE:
            return False, f"{len(acked)} canary rows acknowledged"
        first = acked[0].finished
        waited = time.time() - first
        choice, _ = databases.newest_complete_dump(ctx, policy, db.engine)
        newer = [a for a in acked if choice and a.started > choice.ended]
        age = time.time() - choice.ended if choice else 0.0
        if choice and choice.started > first and len(newer) >= ROWS_AFTER_DUMP and age >= fault_after_dump:
            detail = f"dump {choice.name} holds canary rows; {len(newer)} rows are newer than it ({age:.0f}s old)"
        elif waited > wait_for_dump:
            detail = (f"no dump of the canary {fault_after_dump:.0f}s old within {wait_for_dump:.0f}s: "
                      f"the fault comes now, newest dump {choice.name if choice else '-'} ({age:.0f}s old)")
        else:
            return False, (f"waiting for a dump newer than the canary's first row, {fault_after_dump:.0f}s old "
                           f"({waited:.0f}/{wait_for_dump:.0f}s; newest {choice.name if choice else '-'}, {age:.0f}s old)")
        state["counts_before"] = access.row_counts()
        return True, detail

    # --- fault and restore ----------------------------------------------------------------------

    def until(condition, timeout: float, what: str):
        """Like `eventually`, but gives up at once when the experiment stops."""
        deadline = time.monotonic() + timeout
        last = ""
        while not stop.is_set():
            try:
                value = condition()
                if value:
                    return value
            except Exception as error:  # noqa: BLE001 - not yet
                last = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f}s ({last[:200]})")
            stop.wait(1)
        raise InterruptedError(f"{what}: the experiment stopped")

    def set_stage(stage: str) -> None:
        record = state["restore"]
        record["stage"] = stage
        record.setdefault("stages", []).append([stage, round(time.time() - state["fault_at"], 1)])

    def app_answers() -> bool:
        return all(probe()[0] for probe in app_probes.values())

    def restore() -> None:
        record = state["restore"]
        try:
            set_stage("stopping the applications")
            state["apps_replicas"] = {}
            for app in apps:
                replicas = access.replicas(app.name)
                if replicas:
                    state["apps_replicas"][app.name] = replicas
                    access.scale(0, app.name)
            set_stage("waiting for the new server")
            until(lambda: access.sql("SELECT 1", timeout=5).ok, SERVER_WAIT, "the new server answers")
            record["server_answering_at"] = round(time.time() - state["fault_at"], 1)
            set_stage(f"feeding {state['dump'].name}")
            result = databases.restore_dump(access, state["dump"], timeout=restore_limit)
            record["result"] = result
            if not result.ok:
                set_stage("restore failed")
                return
            record["restored_at"] = round(time.time() - state["fault_at"], 1)
            set_stage("starting the applications")
            for name, replicas in state["apps_replicas"].items():
                access.scale(replicas, name)
            until(app_answers, APPS_WAIT, "the applications answer")
            record["apps_answering_at"] = round(time.time() - state["fault_at"], 1)
            set_stage("done")
        except Exception as error:  # noqa: BLE001 - the rollback repairs; the journal says why
            record["error"] = f"{type(error).__name__}: {error}"[:400]
            set_stage("failed")

    def inject() -> None:
        choice, facts = databases.newest_complete_dump(ctx, policy, db.engine)
        if choice is None:
            raise RuntimeError(f"no complete dump to restore from ({facts})")
        state.update(dump=choice, dump_facts=facts, replicas=access.replicas() or 1,
                     data_dir=access.data_directory(), acked_before_fault=len(canary.acked()))
        location = access.locate()
        node = location.node if location else access.nodes[0]
        state["fs_node"] = node
        state["fault_at"] = time.time()
        access.scale(0)
        state["scaled_down"] = True
        access.wait_stopped(timeout=120)
        data_dir = state["data_dir"]
        aside = f"{data_dir}{ASIDE_MARK}lost-{time.strftime('%Y%m%d-%H%M%S')}"
        q, qa = shlex.quote(data_dir), shlex.quote(aside)
        state["aside"] = aside  # before the move: an interrupted move is still found by the rollback
        moved = hosts[node].run(f"test ! -e {qa} && mv {q} {qa}", timeout=60)
        if moved.rc != 0:
            raise RuntimeError(f"cannot move {data_dir} aside on {node}: {(moved.stderr or moved.stdout).strip()}")
        made = hosts[node].run(f"mkdir {q} && chown --reference={qa} {q} && chmod --reference={qa} {q}", timeout=60)
        if made.rc != 0:
            raise RuntimeError(f"cannot make an empty {data_dir} on {node}: {(made.stderr or made.stdout).strip()}")
        access.scale(state["replicas"])
        state["scaled_down"] = False
        state["destroyed_at"] = round(time.time() - state["fault_at"], 1)
        worker["thread"] = threading.Thread(target=restore, name="restore", daemon=True)
        worker["thread"].start()

    def restore_observer() -> tuple[bool, str]:
        record = state["restore"]
        result = record.get("result")
        detail = record["stage"]
        if result is not None:
            detail += f"; {'restored' if result.ok else 'restore failed'} in {result.seconds}s"
        if record.get("error"):
            detail += f"; {record['error']}"
        return record["stage"] == "done", detail

    # --- rollback -----------------------------------------------------------------------------

    def rollback() -> None:
        stop.set()
        thread = worker.get("thread")
        if thread is not None:
            thread.join(timeout=30)  # a dump still being fed is abandoned: stopping the server ends it
        canary.stop()
        result = state["restore"].get("result")
        restored = result is not None and result.ok
        node = state.get("fs_node")
        data_dir = state.get("data_dir")
        remove_later = None
        try:
            aside = state.get("aside")
            if aside and not hosts[node].run(f"test -e {shlex.quote(aside)}", timeout=30).rc == 0:
                aside = state["aside"] = None  # the move never happened: the data directory is untouched
            if aside and not restored:
                # The restore did not succeed: stop the server, put the original data back.
                access.scale(0)
                access.wait_stopped(timeout=120)
                failed = f"{data_dir}{ASIDE_MARK}failed-{time.strftime('%Y%m%d-%H%M%S')}"
                q, qa, qf = shlex.quote(data_dir), shlex.quote(aside), shlex.quote(failed)
                back = hosts[node].run(f"if [ -e {q} ]; then mv {q} {qf}; fi && mv {qa} {q}", timeout=60)
                if back.rc != 0:
                    raise RuntimeError(f"cannot put {aside} back on {node}: {(back.stderr or back.stdout).strip()}")
                state["put_back"] = True
                state["aside"] = None
                remove_later = failed
            elif aside:
                remove_later = aside
            wanted = state.get("replicas")
            if wanted and access.replicas() != wanted:
                access.scale(wanted)
            for name, replicas in state.get("apps_replicas", {}).items():
                if access.replicas(name) != replicas:
                    access.scale(replicas, name)
            if state.get("fault_at") or canary.created:
                access.wait_answers(timeout=SERVER_WAIT)
            if remove_later:  # only now that the server answers again
                if ASIDE_MARK not in remove_later:
                    raise RuntimeError(f"refusing to remove {remove_later}")
                gone = hosts[node].run(f"rm -rf -- {shlex.quote(remove_later)}", timeout=600)
                state["removed"] = remove_later if gone.rc == 0 else None
                if state.get("aside") == remove_later and gone.rc == 0:
                    state["aside"] = None
        finally:
            canary.finished = True  # from now on the steady state checks plain writes
            if canary.created:
                present, how = canary.present(timeout=30)
                state["canary_present"] = present
                state["canary_read"] = how
                if state.get("fault_at"):
                    state["counts_after"] = access.row_counts()
                    state["dumps_after"] = _dumps_since(state)
                canary.drop()

    def _dumps_since(state: dict) -> list[list]:
        """Dumps written after the fault (while the server was new and empty, or after the restore)."""
        try:
            local_before = time.time()
            listing = backups.list_backups(hosts[policy.host], policy.directory)
            offset = local_before - listing.host_now
            return [[d.name, d.size, round(d.mtime + offset - state["fault_at"], 1)]
                    for d in listing.dumps if d.mtime + offset > state["fault_at"]]
        except Exception as error:  # noqa: BLE001 - a figure, not a step
            return [[f"not listed: {error}", 0, 0]]

    # --- measure ------------------------------------------------------------------------------

    def measure(timeline: list[Observation]):
        end = max(o.t for o in timeline)
        record = state["restore"]
        result = record.get("result")
        dump = state.get("dump")
        fault = state.get("fault_at")
        present = state.get("canary_present")
        canary_figures = canary.summary(present)
        lost_older = lost_newer = []
        if present is not None and dump is not None:
            lost = [a for a in canary.acked() if a.seq not in present]
            lost_older = [a.seq for a in lost if a.finished < dump.started]
            lost_newer = [a for a in lost if a.finished >= dump.started]
            canary_figures["lost_older_than_dump"] = len(lost_older)
            canary_figures["lost_newer_than_dump"] = len(lost_newer)
            canary_figures["lost_span_seconds"] = round(fault - min(a.finished for a in lost), 1) if lost and fault else 0
        rpo = round(fault - dump.started, 1) if dump and fault else None
        rto = record.get("apps_answering_at") if apps else record.get("restored_at")
        counts = databases.compare_counts(state.get("counts_before"), state.get("counts_after"))
        gaps = state.get("dump_facts", {}).get("recent_gaps_seconds", [])
        figures = {
            "database": db.name, "service": access.service, "engine": db.engine, "data_directory": state.get("data_dir"),
            "fault_seconds": round(end, 1),
            "dump_used": dump.name if dump else None, "dump_bytes": dump.size if dump else None,
            "dump_age_at_fault_seconds": round(fault - dump.ended, 1) if dump and fault else None,
            "rpo_seconds": rpo, "rto_seconds": rto,
            "restore_stages": record.get("stages", []), "restore_seconds": result.seconds if result else None,
            "restore_ok": bool(result and result.ok), "restore_errors": result.errors if result else [],
            "restore_expected_errors": result.expected_errors if result else None,
            "restore_failure": record.get("error"),
            "db_unavailable_seconds": unavailable_seconds(timeline, db_probe),
            "db_recovery_seconds": recovery_time(timeline, db_probe),
            "apps_unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in app_probes},
            "canary": canary_figures, "canary_rows_before_fault": state.get("acked_before_fault"),
            "tables": counts,
            "dump_period_seconds": period, "allowed_loss_seconds": window, "fault_after_dump_seconds": fault_after_dump,
            "b8_measured_loss_seconds": rpo, "b8_documented_hours": list(ctx.inventory.backups.documented_loss_hours),
            "b8_worst_case_loss_seconds": max(gaps) if gaps else None, "recent_dump_gaps_seconds": gaps,
            "dumps_written_after_fault": state.get("dumps_after"),
            "original_put_back": bool(state.get("put_back")), "removed": state.get("removed"),
            "left_aside": state.get("aside"),
        }
        problems = []
        if not (result and result.ok):
            problems.append("the restore failed: " + (
                "; ".join(result.errors[:3]) if result and result.errors else record.get("error") or record["stage"]))
        if apps and record.get("apps_answering_at") is None:
            problems.append(f"the applications did not answer on the restored data within the {end:.0f}s observed")
        if rpo is not None and rpo > window:
            problems.append(f"the dump used was {rpo:.0f}s old at the fault: more than the period plus grace "
                            f"({window:.0f}s)")
        if lost_older:
            problems.append(f"{len(lost_older)} canary rows older than the dump are missing ({lost_older[:10]})")
        if counts.get("missing_tables"):
            problems.append(f"tables not restored: {counts['missing_tables'][:10]}")
        evidence = (
            f"{access.service}'s data ({state.get('data_dir')}) destroyed; restored from {figures['dump_used']} "
            f"({figures['dump_age_at_fault_seconds']}s old at the fault, started {rpo}s before it) in "
            f"{figures['restore_seconds']}s; applications answering {rto if rto is not None else '-'}s after the fault; "
            f"canary: {canary_figures.get('acknowledged')} acknowledged, {canary_figures.get('present')} restored, "
            f"{canary_figures.get('lost')} lost (all newer than the dump: {not lost_older}); "
            f"tables {counts.get('tables_before')} before, {counts.get('tables_after')} after, rows "
            f"{counts.get('rows_before')} → {counts.get('rows_after')}; allowed loss {window:.0f}s "
            f"(dump period {period:.0f}s + grace {policy.grace_minutes * 60:.0f}s); B8: this failure lost {rpo}s of "
            f"writes, one just before the next dump would lose {figures['b8_worst_case_loss_seconds']}s "
            f"(recent dumps {gaps}s apart)"
            + (f". Broken: {'; '.join(problems)}" if problems else "")
        )
        return figures, [ClaimVerdict("X5", Verdict.broken if problems else Verdict.holds, evidence)]

    steady = {db_probe: access.answers(), f"a complete dump in {policy.directory}": dump_exists,
              f"canary rows in a dump of {access.service}": canary_in_a_dump, **app_probes}
    observers = {db_probe: access.answers(), canary_probe: canary.observer(), restore_probe: restore_observer,
                 **app_probes}
    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=(f"scale {access.service} to 0, move its data directory aside on the shared volume and let it "
                     f"start on an empty one; then restore the newest complete dump of {policy.directory} "
                     f"(applications stopped meanwhile) and wait for the applications; rollback puts the original "
                     f"data back if the restore failed, removes the moved-aside copy once the server answers, "
                     f"drops the canary"),
        steady_state=steady,
        inject=inject,
        rollback=rollback,
        observers=observers,
        fault_duration=float(duration),
        measure=measure,
        steady_state_timeout=420,
        steady_state_before_timeout=wait_for_dump + 120,
    )
