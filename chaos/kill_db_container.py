"""kill-db-container: SIGKILL the database's container (`--option database=mysql|postgresql`)
while a canary writes numbered rows into it, and watch whether Swarm brings the server back
by itself, with every row it had acknowledged (claim X4).

Steady state: the server answers and accepts writes; its applications answer their health
path through every node. A canary table in the application's database gets one row a second
from before the fault until the rollback. Fault: the task's container is killed on the node
that runs it (no clean shutdown). Observed every second: `SELECT 1` in the current task's
container (found anew: Swarm replaces it), the canary's inserts, the applications through
every node, and which container runs the task. Measured: seconds until the server answers
again (RTO), acknowledged rows lost, whether Swarm restarted it without help. Rollback: if the
server did not come back, `docker service update --force` (or scale back); then the canary
table is dropped.
"""

from __future__ import annotations

import time

from picacheck.chaos import databases, observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Observation, Verdict, recovery_time, unavailable_seconds

NAME = "kill-db-container"
CLAIMS = ["X4"]
CANARY_ROWS_BEFORE = 3  # acknowledged rows before the fault
RECOVERY_WAIT = 180  # seconds the rollback waits for the server before acting, then after acting


def build(ctx: observe.ChaosContext, database: str = "mysql", duration: str = "90") -> Experiment:
    db = databases.resolve_database(ctx.inventory, database)
    access = databases.DatabaseAccess(ctx, db)
    canary = databases.Canary(access)
    apps = databases.apps_of(ctx.inventory, db.name)
    state: dict = {"manual_action": None}

    db_probe = f"{access.service} answers (SELECT 1 in its task)"
    canary_probe = f"canary insert into {db.database}.{databases.CANARY_TABLE}"
    task_probe = f"{access.service} task container"

    def canary_ready() -> tuple[bool, str]:
        """Before the fault: the canary runs and the server acknowledged a few rows. After the
        rollback (canary dropped): the server still accepts writes."""
        if canary.finished:
            return access.accepts_writes()()
        canary.start()
        acked = len(canary.acked())
        if acked < CANARY_ROWS_BEFORE:
            return False, f"{acked} canary rows acknowledged"
        state["counts_before"] = access.row_counts()  # the application's tables, just before the fault
        return True, f"{acked} canary rows acknowledged; {len(state['counts_before'] or {})} tables counted"

    def task_container() -> tuple[bool, str]:
        location = access.locate()
        if location is None:
            return False, "no running task"
        replaced = location.container != state.get("killed")
        return True, f"{location.container[:12]} on {location.node}" + (" (new)" if replaced else " (the killed one)")

    def inject() -> None:
        location = access.locate()
        if location is None:
            raise RuntimeError(f"no running task of {access.service} to kill")
        state["killed"] = location.container
        state["killed_on"] = location.node
        state["acked_before_fault"] = len(canary.acked())
        state["fault_at"] = time.time()
        access.kill(location)

    def rollback() -> None:
        """Help the server back only if Swarm did not, then verify the canary and drop it."""
        try:
            if state.get("fault_at"):
                try:
                    access.wait_answers(timeout=30)
                    state["answering_at_rollback"] = True
                    state["answered_after"] = round(time.time() - state["fault_at"], 1)
                except Exception:  # noqa: BLE001 - Swarm did not bring it back: act
                    state["answering_at_rollback"] = False
                    wanted = state.get("replicas") or 1
                    if (access.replicas() or 0) < 1:
                        access.scale(wanted)
                        state["manual_action"] = f"docker service scale {access.service}={wanted}"
                    else:
                        access.force_restart()
                        state["manual_action"] = f"docker service update --force {access.service}"
            if canary.created:
                location = access.wait_answers(timeout=RECOVERY_WAIT)
                if state.get("killed"):
                    state["container_after"] = location.container
                    state["node_after"] = location.node
        finally:
            canary.stop()
            canary.finished = True  # from now on the steady state checks plain writes
            if canary.created:
                present, how = canary.present(timeout=30)
                state["canary"] = canary.summary(present)
                state["canary_read"] = how
                if state.get("fault_at"):
                    state["counts_after"] = access.row_counts()
                canary.drop()

    observers = {db_probe: access.answers(), canary_probe: canary.observer(), task_probe: task_container,
                 **databases.app_probes(ctx, apps)}
    steady = {db_probe: access.answers(), f"canary rows acknowledged by {access.service}": canary_ready,
              **databases.app_probes(ctx, apps)}

    def measure(timeline: list[Observation]):
        end = max(o.t for o in timeline)
        rto = recovery_time(timeline, db_probe)
        new_container = state.get("container_after") not in (None, state.get("killed"))
        by_itself = state.get("answering_at_rollback") is True and state.get("manual_action") is None
        canary_figures = state.get("canary", {})
        lost = canary_figures.get("lost")
        counts = databases.compare_counts(state.get("counts_before"), state.get("counts_after"))
        app_names = [p for p in observers if " via " in p]
        figures = {
            "database": db.name, "service": access.service, "engine": db.engine,
            "killed_container": (state.get("killed") or "")[:12], "killed_on": state.get("killed_on"),
            "container_after": (state.get("container_after") or "")[:12], "node_after": state.get("node_after"),
            "fault_seconds": round(end, 1),
            "rto_seconds": rto, "answering_at_rollback_after_seconds": state.get("answered_after"),
            "db_unavailable_seconds": unavailable_seconds(timeline, db_probe),
            "restarted_by_swarm": bool(new_container and by_itself), "manual_action": state.get("manual_action"),
            "canary": canary_figures, "canary_rows_before_fault": state.get("acked_before_fault"),
            "tables": counts,
            "apps_unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in app_names},
            "apps_recovery_seconds": {p: recovery_time(timeline, p) for p in app_names},
        }
        problems = []
        if rto is None:
            problems.append(f"the server did not answer again within the {end:.0f}s observed"
                            + (f" (it did {state['answered_after']}s after the kill, by itself)"
                               if by_itself and state.get("answered_after") else ""))
        if not by_itself:
            problems.append(f"it needed help: {state.get('manual_action') or 'not answering at the rollback'}")
        elif not new_container:
            problems.append("no new container replaced the killed one")
        if lost is None:
            problems.append(f"the canary rows could not be read back ({state.get('canary_read', 'not read')})")
        elif lost:
            problems.append(f"{lost} acknowledged rows lost ({canary_figures.get('lost_rows')})")
        if counts.get("missing_tables"):
            problems.append(f"tables gone: {counts['missing_tables'][:10]}")
        evidence = (
            f"{access.service} container {figures['killed_container']} killed on {state.get('killed_on')}; "
            f"answering again after {rto if rto is not None else '-'} s "
            f"(container {figures['container_after'] or '-'} on {state.get('node_after') or '-'}); "
            f"canary: {canary_figures.get('acknowledged', '?')} inserts acknowledged, "
            f"{canary_figures.get('present', '?')} present after, {lost if lost is not None else '?'} lost; "
            f"tables {counts.get('tables_before')} before, {counts.get('tables_after')} after"
            + (f"; apps unavailable {figures['apps_unavailable_seconds']}" if app_names else "")
            + (f". Broken: {'; '.join(problems)}" if problems else "")
        )
        return figures, [ClaimVerdict("X4", Verdict.broken if problems else Verdict.holds, evidence)]

    def inject_and_remember_replicas() -> None:
        state["replicas"] = access.replicas()
        inject()

    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=(f"SIGKILL the container of the {db.engine} service {access.service} on the node that runs it "
                     f"(no clean shutdown), a canary writing rows into {db.database}.{databases.CANARY_TABLE}; "
                     f"afterwards drop the canary (and help the service back only if Swarm did not)"),
        steady_state=steady,
        inject=inject_and_remember_replicas,
        rollback=rollback,
        observers=observers,
        fault_duration=float(duration),
        measure=measure,
        steady_state_timeout=300,
        steady_state_before_timeout=90,
    )
