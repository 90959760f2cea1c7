"""lose-database: destroy a database's data (`--option database=…`) and restore it from the
newest dump, as an administrator would; measure how long it took and what was lost (X5, and
the real figure of B8).

Steady state: the server answers and accepts writes, a complete dump exists, the applications
answer; the canary writes one row a second, and the fault waits (at most `dump_wait`) until a
dump holds canary rows and newer rows exist, `after_dump` seconds after that dump (by default
in the middle of the dump cycle), so that the loss is visible row by row and typical.

Fault: the service is scaled to 0, its data directory (its bind mount on /DATA) is renamed
aside (never deleted at once) and replaced by an empty one, and the service is scaled back: a
new, empty database. Then the restore, timed, in the background while the observers sample:
the applications are stopped, the newest complete dump is fed to the new server with its own
client, the applications are started again and must answer.

Measured: RTO (fault → applications answering on the restored data), RPO (the dump's age at
the fault), the canary rows lost, tables and rows against before. X5 holds iff the restore
succeeded and the loss stays within the dump period plus its grace.

Rollback (always): a working database. If the restore did not succeed, the original data
directory is put back; the moved-aside copy (or the failed new one) is removed only once the
server answers again; the canary table is dropped.
"""

from __future__ import annotations

import threading
import time

from picacheck.chaos import observe, options
from picacheck.chaos.canary import CANARY_TABLE, Canary
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, recovered_and_stable
from picacheck.chaos.journal import Observation
from picacheck.chaos.lost_data import LostData, Restore, RestoreRecord
from picacheck.databases.dumps import newest_complete_dump
from picacheck.databases.live import LiveDatabase, resolve
from picacheck.errors import UserError

NAME = "lose-database"
CLAIMS = ["X5"]
CANARY_ROWS_BEFORE = 3
ROWS_AFTER_DUMP = 2  # canary rows newer than the dump before the fault
STABLE = 10.0
OPTIONS = (
    options.database("database", options.first_dumped_database, "the database whose data is lost"),
    options.seconds("duration", 180, "the longest observation of the restore", maximum=3600),
    options.seconds("dump_wait", None, "how long to wait for a dump of the canary (default: a dump period)",
                    maximum=86400, optional=True),
    options.seconds("after_dump", None, "how long after a dump the fault lands (default: half the period)",
                    maximum=86400, optional=True),
    options.seconds("restore_timeout", 600, "the longest restore", maximum=7200),
)
RUNS = ({"database": options.each_dumped_database},)

def touches(options: dict) -> set[str]:
    """What the experiment disturbs: one database and the applications it backs."""
    return {f"database {options['database']}"}



def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    if not (inventory.swarm and options.each_dumped_database(inventory)):
        return "no database that a dump policy backs up, running as a Swarm service"
    return None


def build(ctx: ChaosContext, database: str, duration: float, dump_wait: float | None, after_dump: float | None,
          restore_timeout: float) -> Experiment:
    return LoseDatabase(ctx, database, dump_wait, after_dump, restore_timeout).experiment(duration)


class LoseDatabase:
    def __init__(self, ctx: ChaosContext, database: str, dump_wait: float | None, after_dump: float | None,
                 restore_timeout: float):
        self.ctx = ctx
        self.db = resolve(ctx.inventory, database)
        self.policy = next((p for p in ctx.inventory.backups.dumps if p.database == self.db.name), None)
        if self.policy is None:
            raise UserError(f"no dump policy for {database!r} in the inventory (backups.dumps): nothing to restore from")
        self.live = LiveDatabase(ctx.inventory, ctx.hosts, self.db)
        self.canary = Canary(self.live)
        self.apps = observe.services_backed_by(ctx.inventory, self.db.name)
        self.app_probes = observe.applications_answer(ctx.inventory, self.apps)
        period = self.policy.period_hours * 3600
        self.window = period + self.policy.grace_minutes * 60  # the loss the documentation allows
        # By default the fault lands in the middle of the dump cycle: a typical loss (the
        # worst case is a whole period, measured from the dump gaps).
        self.after_dump = after_dump if after_dump is not None else min(period / 2, 300.0)
        self.dump_wait = dump_wait if dump_wait is not None else min(self.window, 900.0) + self.after_dump
        self.record = RestoreRecord()
        self.stop = threading.Event()
        self.restore = Restore(self.live, self.apps, self.record, self.stop, int(restore_timeout))
        self.lost = LostData(self.live, self.policy, self.record, self.canary)
        self.db_probe = f"{self.live.service} answers (SELECT 1 in its task)"
        self.restore_probe = "restore from the newest dump"

    # --- steady state --------------------------------------------------------------------------

    def dump_exists(self) -> tuple[bool, str]:
        choice, facts = newest_complete_dump(self.ctx.hosts[self.policy.host], self.policy, self.db.engine)
        if choice is None:
            return False, f"no complete dump in {self.policy.directory} on {self.policy.host} ({facts})"
        return True, f"newest complete dump {choice.name} ({choice.size} bytes, {time.time() - choice.ended:.0f}s old)"

    def canary_in_a_dump(self) -> tuple[bool, str]:
        """Before the fault: a dump taken after the canary began, `after_dump` seconds old, and
        canary rows newer than it. After the rollback (canary dropped): the server accepts writes."""
        if self.canary.finished:
            return self.live.accepts_writes()()
        self.canary.start()
        acked = self.canary.acked()
        if len(acked) < CANARY_ROWS_BEFORE:
            return False, f"{len(acked)} canary rows acknowledged"
        waited = time.time() - acked[0].finished
        choice, _ = newest_complete_dump(self.ctx.hosts[self.policy.host], self.policy, self.db.engine)
        newer = [a for a in acked if choice and a.started > choice.ended]
        age = time.time() - choice.ended if choice else 0.0
        name = choice.name if choice else "-"
        if choice and choice.started > acked[0].finished and len(newer) >= ROWS_AFTER_DUMP and age >= self.after_dump:
            detail = f"dump {name} holds canary rows; {len(newer)} rows are newer than it ({age:.0f}s old)"
        elif waited > self.dump_wait:
            detail = (f"no dump of the canary {self.after_dump:.0f}s old within {self.dump_wait:.0f}s: "
                      f"the fault comes now, newest dump {name} ({age:.0f}s old)")
        else:
            return False, (f"waiting for a dump newer than the canary's first row, {self.after_dump:.0f}s old "
                           f"({waited:.0f}/{self.dump_wait:.0f}s; newest {name}, {age:.0f}s old)")
        self.record.counts_before = self.live.row_counts(exclude=(CANARY_TABLE,))
        return True, detail

    # --- the fault -------------------------------------------------------------------------------

    def inject(self) -> None:
        choice, facts = newest_complete_dump(self.ctx.hosts[self.policy.host], self.policy, self.db.engine)
        if choice is None:
            raise RuntimeError(f"no complete dump to restore from ({facts})")
        self.record.dump, self.record.dump_facts = choice, facts
        self.record.acked_before_fault = len(self.canary.acked())
        self.lost.destroy()
        self.restore.start()

    def restore_observer(self) -> tuple[bool, str]:
        result, detail = self.record.result, self.record.stage
        if result is not None:
            detail += f"; {'restored' if result.ok else 'restore failed'} in {result.seconds}s"
        if self.record.error:
            detail += f"; {self.record.error}"
        return self.record.stage == "done", detail

    def settled(self, timeline: list[Observation], elapsed: float) -> bool:
        """The restore is over (done or failed for good) and the applications answer, steadily."""
        if self.record.stage == "failed" or (self.record.result is not None and not self.record.result.ok):
            return True
        return recovered_and_stable([self.restore_probe, *self.app_probes], STABLE)(timeline, elapsed)

    # --- rollback ----------------------------------------------------------------------------------

    def stop_restore(self) -> None:
        self.stop.set()
        self.restore.join(timeout=30)  # a dump still being fed is abandoned: stopping the server ends it

    def drop_canary(self) -> None:
        self.canary.stop()
        self.canary.finished = True  # from now on the steady state checks plain writes
        if not self.canary.created:
            return
        present, self.record.canary_read = self.canary.present(timeout=30)
        self.record.canary_present = present
        if self.record.fault_at:
            self.record.counts_after = self.live.row_counts(exclude=(CANARY_TABLE,))
            self.record.dumps_after = self.lost.dumps_since_the_fault()
        self.canary.drop()

    def experiment(self, duration: float) -> Experiment:
        steady = {self.db_probe: self.live.answers(), f"a complete dump in {self.policy.directory}": self.dump_exists,
                  f"canary rows in a dump of {self.live.service}": self.canary_in_a_dump, **self.app_probes}
        observers = {self.db_probe: self.live.answers(),
                     f"canary insert into {self.live.database}.{CANARY_TABLE}": self.canary.observer(),
                     self.restore_probe: self.restore_observer, **self.app_probes}
        return Experiment(
            name=NAME, claims=CLAIMS,
            fault=Fault(f"scale {self.live.service} to 0, move its data directory aside on the shared volume and "
                        f"let it start on an empty one; then restore the newest complete dump of "
                        f"{self.policy.directory} (applications stopped meanwhile)", self.inject),
            steady_state=steady, observers=observers,
            rollbacks=[Rollback("stop the restore", self.stop_restore),
                       Rollback("put the original data back if the restore failed", self.lost.put_back_if_needed),
                       Rollback("scale the services back", self.lost.scale_back),
                       Rollback("remove the moved-aside data once the server answers", self.lost.remove_aside),
                       Rollback("stop the canary and drop its table", self.drop_canary)],
            measure=lambda timeline: self.lost.measure(timeline, self.db_probe, self.app_probes, self.window,
                                                       self.after_dump, self.ctx.inventory.backups.documented_loss_hours),
            window=Window(maximum=duration, minimum=STABLE, settled=self.settled),
            steady_state_after_timeout=420, steady_state_before_timeout=self.dump_wait + 120,
        )
