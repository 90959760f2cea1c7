"""kill-db-container: SIGKILL a database's container (`--option database=…`) while a canary
writes numbered rows into it, and watch whether Swarm brings the server back by itself, with
every row it had acknowledged (claim X4).

Steady state: the server answers and accepts writes; its applications answer through every
node; the canary (a table of the application's database) has acknowledged a few rows. Fault:
the task's container is killed on the node that runs it. Observed every second: `SELECT 1` in
the current task's container (found anew: Swarm replaces it), the canary's inserts, the
applications, which container runs the task. Measured: seconds until the server answers
again (RTO), acknowledged rows lost, whether Swarm restarted it without help. Rollback: help
the server back only if Swarm did not (`docker service update --force`, or scale back), then
drop the canary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from picacheck.chaos import observe, options
from picacheck.chaos.canary import CANARY_TABLE, Canary, compare_counts
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, recovered_and_stable
from picacheck.chaos.journal import ClaimVerdict, Observation, recovery_precision, recovery_time, unavailable_seconds
from picacheck.claims import Verdict
from picacheck.databases.live import LiveDatabase, resolve

NAME = "kill-db-container"
CLAIMS = ["X4"]
CANARY_ROWS_BEFORE = 3  # acknowledged rows before the fault
RECOVERY_WAIT = 180  # seconds the rollback waits for the server, after acting
STABLE = 10.0  # seconds of good answers that make a recovery settled
OPTIONS = (options.database("database", options.first_database, "the database whose container is killed"),
           # The observation stops once the database, the canary and the apps are back and
           # stable: the maximum only matters on a slow machine, where a SIGKILLed PostgreSQL
           # replays its WAL for well over a minute (90 s was too short on a loaded 2-core host).
           options.seconds("duration", 240, "the longest observation of the fault", maximum=900))
RUNS = ({"database": options.each_database},)



def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    return None if inventory.databases and inventory.swarm else "no database running as a Swarm service"


@dataclass
class State:
    killed: str | None = None  # the container killed
    killed_on: str | None = None
    replicas: int | None = None
    fault_at: float | None = None
    acked_before_fault: int | None = None
    answering_at_rollback: bool | None = None
    answered_after: float | None = None
    manual_action: str | None = None
    container_after: str | None = None
    node_after: str | None = None
    canary: dict = field(default_factory=dict)
    canary_read: str = "not read"
    counts_before: dict | None = None
    counts_after: dict | None = None


class KillDbContainer:
    def __init__(self, ctx: ChaosContext, database: str):
        self.db = resolve(ctx.inventory, database)
        self.live = LiveDatabase(ctx.inventory, ctx.hosts, self.db)
        self.canary = Canary(self.live)
        self.apps = observe.applications_answer(ctx.inventory, observe.services_backed_by(ctx.inventory, self.db.name))
        self.state = State()
        self.db_probe = f"{self.live.service} answers (SELECT 1 in its task)"
        self.canary_probe = f"canary insert into {self.live.database}.{CANARY_TABLE}"
        self.task_probe = f"{self.live.service} task container"

    def canary_ready(self) -> tuple[bool, str]:
        """Before the fault: the canary runs and the server acknowledged a few rows. After the
        rollback (canary dropped): the server still accepts writes."""
        if self.canary.finished:
            return self.live.accepts_writes()()
        self.canary.start()
        acked = len(self.canary.acked())
        if acked < CANARY_ROWS_BEFORE:
            return False, f"{acked} canary rows acknowledged"
        self.state.counts_before = self.live.row_counts(exclude=(CANARY_TABLE,))
        return True, f"{acked} canary rows acknowledged; {len(self.state.counts_before or {})} tables counted"

    def task_container(self) -> tuple[bool, str]:
        location = self.live.locate()
        if location is None:
            return False, "no running task"
        replaced = location.container != self.state.killed
        return True, f"{location.container[:12]} on {location.node}" + (" (new)" if replaced else " (the killed one)")

    def inject(self) -> None:
        location = self.live.locate()
        if location is None:
            raise RuntimeError(f"no running task of {self.live.service} to kill")
        self.state.replicas = self.live.replicas()
        self.state.killed, self.state.killed_on = location.container, location.node
        self.state.acked_before_fault = len(self.canary.acked())
        self.state.fault_at = time.time()
        self.live.kill(location)

    def help_back(self) -> None:
        """Only if Swarm did not bring the server back by itself."""
        if self.state.fault_at is None:
            return
        try:
            self.live.wait_answers(timeout=30)
            self.state.answering_at_rollback = True
            self.state.answered_after = round(time.time() - self.state.fault_at, 1)
        except Exception:  # noqa: BLE001 - Swarm did not bring it back: act
            self.state.answering_at_rollback = False
            wanted = self.state.replicas or 1
            if (self.live.replicas() or 0) < 1:
                self.live.scale(wanted)
                self.state.manual_action = f"docker service scale {self.live.service}={wanted}"
            else:
                self.live.force_restart()
                self.state.manual_action = f"docker service update --force {self.live.service}"
        location = self.live.wait_answers(timeout=RECOVERY_WAIT)
        self.state.container_after, self.state.node_after = location.container, location.node

    def drop_canary(self) -> None:
        """Stop the canary, read back which rows survived, drop its table."""
        read = self.canary.finish()
        if read is None:
            return
        present, self.state.canary_read = read
        self.state.canary = self.canary.summary(present)
        if self.state.fault_at:
            self.state.counts_after = self.live.row_counts(exclude=(CANARY_TABLE,))
        self.canary.drop()

    def experiment(self, duration: float) -> Experiment:
        observers = {self.db_probe: self.live.answers(), self.canary_probe: self.canary.observer(),
                     self.task_probe: self.task_container, **self.apps}
        return Experiment(
            name=NAME, claims=CLAIMS,
            fault=Fault(f"SIGKILL the container of the {self.db.engine} service {self.live.service} on the node "
                        f"that runs it (no clean shutdown), a canary writing rows into "
                        f"{self.live.database}.{CANARY_TABLE}", self.inject),
            steady_state={self.db_probe: self.live.answers(),
                          f"canary rows acknowledged by {self.live.service}": self.canary_ready, **self.apps},
            observers=observers,
            rollbacks=[Rollback("help the server back if Swarm did not", self.help_back),
                       Rollback("stop the canary and drop its table", self.drop_canary)],
            measure=self.measure,
            window=Window(maximum=duration, minimum=STABLE,
                          settled=recovered_and_stable([self.db_probe, self.canary_probe, *self.apps], STABLE)),
            steady_state_after_timeout=300, steady_state_before_timeout=90,
        )

    def measure(self, timeline: list[Observation]):
        figures = self.figures(timeline)
        problems = self.problems(figures, max(o.t for o in timeline))
        s, canary = self.state, figures["canary"]
        evidence = (
            f"{self.live.service} container {figures['killed_container']} killed on {s.killed_on}; "
            f"answering again after {figures['rto_seconds'] if figures['rto_seconds'] is not None else '-'} s "
            f"(±{figures['rto_precision_seconds']} s; container {figures['container_after'] or '-'} on "
            f"{s.node_after or '-'}); canary: {canary.get('acknowledged', '?')} inserts acknowledged, "
            f"{canary.get('present', '?')} present after, {canary.get('lost', '?')} lost; tables "
            f"{figures['tables'].get('tables_before')} before, {figures['tables'].get('tables_after')} after"
            + (f"; apps unavailable {figures['apps_unavailable_seconds']}" if self.apps else "")
            + (f". Broken: {'; '.join(problems)}" if problems else ""))
        return figures, [ClaimVerdict("X4", Verdict.broken if problems else Verdict.holds, evidence)]

    def figures(self, timeline: list[Observation]) -> dict:
        s = self.state
        by_itself = s.answering_at_rollback is True and s.manual_action is None
        return {
            "database": self.db.name, "service": self.live.service, "engine": self.db.engine,
            "killed_container": (s.killed or "")[:12], "killed_on": s.killed_on,
            "container_after": (s.container_after or "")[:12], "node_after": s.node_after,
            "fault_seconds": round(max(o.t for o in timeline), 1),
            "rto_seconds": recovery_time(timeline, self.db_probe),
            "rto_precision_seconds": recovery_precision(timeline, self.db_probe),
            "answering_at_rollback_after_seconds": s.answered_after,
            "db_unavailable_seconds": unavailable_seconds(timeline, self.db_probe),
            "restarted_by_swarm": bool(s.container_after not in (None, s.killed) and by_itself),
            "answered_by_itself": by_itself, "manual_action": s.manual_action,
            "canary": s.canary, "canary_read": s.canary_read, "canary_rows_before_fault": s.acked_before_fault,
            "tables": compare_counts(s.counts_before, s.counts_after),
            "apps_unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in self.apps},
            "apps_recovery_seconds": {p: recovery_time(timeline, p) for p in self.apps},
        }

    def problems(self, figures: dict, end: float) -> list[str]:
        found = []
        if figures["rto_seconds"] is None:
            found.append(f"the server did not answer again within the {end:.0f}s observed"
                         + (f" (it did {self.state.answered_after}s after the kill, by itself)"
                            if figures["answered_by_itself"] and self.state.answered_after else ""))
        if not figures["answered_by_itself"]:
            found.append(f"it needed help: {self.state.manual_action or 'not answering at the rollback'}")
        elif not figures["restarted_by_swarm"]:
            found.append("no new container replaced the killed one")
        lost = figures["canary"].get("lost")
        if lost is None:
            found.append(f"the canary rows could not be read back ({self.state.canary_read})")
        elif lost:
            found.append(f"{lost} acknowledged rows lost ({figures['canary'].get('lost_rows')})")
        if figures["tables"].get("missing_tables"):
            found.append(f"tables gone: {figures['tables']['missing_tables'][:10]}")
        return found


def build(ctx: ChaosContext, database: str, duration: float) -> Experiment:
    return KillDbContainer(ctx, database).experiment(duration)
