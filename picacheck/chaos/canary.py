"""The database experiments' canary: a table of the application's database (so that the
dumps hold it too) that a thread fills with numbered rows, one a second, remembering which
inserts the server acknowledged; after the fault, which acknowledged rows are still there.
The writer is bounded (max_rows) and stops by itself.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from picacheck.chaos.experiment import Observer
from picacheck.databases.live import LiveDatabase

CANARY_TABLE = "picacheck_canary"


@dataclass
class Attempt:
    seq: int
    started: float  # time.time() on this machine
    finished: float | None = None
    acked: bool | None = None  # None: still waiting for the server
    detail: str = ""


class Canary:
    """Numbered rows written one a second into a table of the application's database."""

    def __init__(self, access: LiveDatabase, interval: float = 1.0, max_rows: int = 7200):
        self.access = access
        self.database = access.database
        self.interval = interval
        self.max_rows = max_rows  # the writer stops by itself after that many attempts
        self.attempts: list[Attempt] = []
        self.created = False
        self.finished = False  # stopped and verified: the probes stop using it
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def table(self) -> str:
        if self.access.engine.name == "mysql":
            return f"{self.access.engine.quote_ident(self.database)}.{CANARY_TABLE}"
        return f"public.{CANARY_TABLE}"

    def create(self) -> None:
        if self.access.engine.name == "mysql":
            statement = (f"CREATE TABLE IF NOT EXISTS {self.table} (seq INT PRIMARY KEY, "
                         "written_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB")
        else:
            statement = (f"CREATE TABLE IF NOT EXISTS {self.table} (seq INT PRIMARY KEY, "
                         "written_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        result = self.access.sql(statement, self.database, timeout=15)
        if not result.ok:
            raise RuntimeError(f"cannot create the canary table {self.table}: {result.describe()}")
        self.created = True

    def start(self) -> None:
        if self._thread is not None:
            return
        self.create()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        for seq in range(1, self.max_rows + 1):
            if self._stop.is_set():
                return
            tick = time.monotonic()
            self.insert(seq)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - tick)))

    def insert(self, seq: int) -> Attempt:
        attempt = Attempt(seq, time.time())
        with self._lock:
            self.attempts.append(attempt)
        result = self.access.sql(f"INSERT INTO {self.table} (seq) VALUES ({int(seq)})", self.database, timeout=5)
        with self._lock:
            attempt.finished = time.time()
            attempt.acked = result.ok
            attempt.detail = result.describe()
        return attempt

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=20)

    def acked(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.acked]

    def unanswered(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if not a.acked]

    def observer(self) -> Observer:
        """How the newest insert went (a pending one counts as failing after 2 s)."""

        def sample() -> tuple[bool, str]:
            with self._lock:
                attempts = list(self.attempts)
            if not attempts:
                return False, "no insert yet"
            newest = attempts[-1]
            if newest.acked is None:
                waiting = time.time() - newest.started
                if waiting > 2 or len(attempts) < 2:
                    return False, f"insert #{newest.seq} waiting for {waiting:.1f}s"
                newest = attempts[-2]
            verb = "acknowledged" if newest.acked else "failed"
            return bool(newest.acked), f"insert #{newest.seq} {verb}: {newest.detail}"

        return sample

    def present(self, timeout: float = 0) -> tuple[set[int] | None, str]:
        """The canary rows the server has now (None: could not read). A missing table is no rows."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.access.sql(f"SELECT seq FROM {self.table}", self.database, timeout=15)
            if result.ok:
                return {int(row[0]) for row in result.rows if row and row[0].isdigit()}, "read"
            text = result.output.lower()
            if result.rc not in (None, 124) and ("doesn't exist" in text or "does not exist" in text):
                return set(), "the canary table does not exist"
            if time.monotonic() >= deadline:
                return None, result.describe()
            time.sleep(1)

    def drop(self) -> None:
        result = self.access.sql(f"DROP TABLE IF EXISTS {self.table}", self.database, timeout=30)
        if not result.ok:
            raise RuntimeError(f"cannot drop the canary table {self.table}: {result.describe()}")

    def summary(self, present: set[int] | None) -> dict:
        """Acknowledged, present, lost (acknowledged but gone) and unacknowledged-but-present rows."""
        acked = {a.seq for a in self.acked()}
        with self._lock:
            total = len(self.attempts)
        figures = {"inserts_tried": total, "acknowledged": len(acked), "unacknowledged": total - len(acked)}
        if present is None:
            figures.update({"present": None, "lost": None})
            return figures
        lost = sorted(acked - present)
        figures.update({"present": len(present), "lost": len(lost), "lost_rows": _ranges(lost),
                        "present_but_unacknowledged": len(present - acked)})
        return figures


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] → '1-3, 7' (short evidence)."""
    if not numbers:
        return ""
    spans, start, previous = [], numbers[0], numbers[0]
    for n in numbers[1:]:
        if n != previous + 1:
            spans.append(f"{start}-{previous}" if start != previous else str(start))
            start = n
        previous = n
    spans.append(f"{start}-{previous}" if start != previous else str(start))
    return ", ".join(spans)


def compare_counts(before: dict[str, int] | None, after: dict[str, int] | None) -> dict:
    """Tables and rows after vs before: missing tables, tables with fewer rows."""
    if before is None or after is None:
        return {"tables_before": None if before is None else len(before),
                "tables_after": None if after is None else len(after), "comparable": False}
    missing = sorted(set(before) - set(after))
    fewer = {t: [before[t], after[t]] for t in sorted(before) if t in after and after[t] < before[t]}
    return {"comparable": True, "tables_before": len(before), "tables_after": len(after),
            "rows_before": sum(before.values()), "rows_after": sum(after.values()),
            "missing_tables": missing, "tables_with_fewer_rows": fewer}
