"""Does the restored data match the live data it was taken from?

The tables, each table's row count and a checksum of its rows (an order-independent sum of
per-row digests). Where a table's checksum differs, its rows are compared one by one. The
live database keeps changing after the dump, so only the rows older than the dump must come
back: those the previous dump already held and that are still live, unchanged (the previous
dump is restored into a second scratch server as the witness, only when a table differs). A
live row that the previous dump and the live database hold but the newest dump lacks is
data the dump lost; a live table that the previous dump held and the newest lacks, likewise.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from picacheck.databases.engines import Engine
from picacheck.restore.result import DrillResult, TableCheck

ROW_LIMIT = 200_000  # rows per table compared one by one (beyond: counts and checksums only)
TABLES_PER_QUERY = 40

Query = Callable[[str], list[list[str]]]


def _chunks(items: list, size: int):
    for index in range(0, len(items), size):
        yield items[index:index + size]


def columns_of(engine: Engine, database: str, query: Query) -> dict[str, list[str]]:
    """MySQL's row digests name the columns; PostgreSQL digests whole rows."""
    columns: dict[str, list[str]] = {}
    if engine.name == "mysql":
        for table, column in query(engine.columns_sql(database)):
            columns.setdefault(table, []).append(column)
    return columns


def aggregates(engine: Engine, database: str, query: Query, tables: list[str],
               columns: dict) -> dict[str, tuple[int, str]]:
    """Each table's (row count, checksum), a few tables per query."""
    found = {}
    for chunk in _chunks(tables, TABLES_PER_QUERY):
        sql = " UNION ALL ".join(engine.aggregate_sql(database, t, columns.get(t, [])) for t in chunk)
        for row in query(sql):
            found[row[0]] = (int(row[1]), row[2])
    return found


def row_digests(engine: Engine, database: str, query: Query, tables: list[str], columns: dict) -> dict[str, Counter]:
    """Each table's rows, as a multiset of row digests (a few tables per query)."""
    found: dict[str, Counter] = {table: Counter() for table in tables}
    for chunk in _chunks(tables, TABLES_PER_QUERY):
        sql = " UNION ALL ".join(engine.rows_sql(database, t, columns.get(t, [])) for t in chunk)
        for table, digest in query(sql):
            found[table][digest] += 1
    return found


class Comparison:
    """The restored database against the live one, with the previous dump as a witness."""

    def __init__(self, engine: Engine, database: str, restored: Query, live: Query, previous: Callable[[], object]):
        self.engine, self.database = engine, database
        self.restored, self.live, self.previous = restored, live, previous
        self._witness = None
        self._witness_tables: set[str] | None = None

    def witness(self):
        """The previous dump's scratch server (restored once, when first needed), or None."""
        if self._witness is None:
            self._witness = self.previous()
            if self._witness is not None:
                self._witness_tables = {row[0] for row in self._witness.query(self.engine.tables_sql(self.database))}
        return self._witness

    def run(self, result: DrillResult) -> None:
        live_tables = [row[0] for row in self.live(self.engine.tables_sql(self.database))]
        restored_tables = {row[0] for row in self.restored(self.engine.tables_sql(self.database))}
        result.dropped_tables = sorted(restored_tables - set(live_tables))
        common = [t for t in live_tables if t in restored_tables]
        columns = columns_of(self.engine, self.database, self.live)
        differing = self._differing_tables(common, columns, result)
        self._compare_rows(differing, columns)
        self._classify_absent([t for t in live_tables if t not in restored_tables], result)

    def _differing_tables(self, common: list[str], columns: dict, result: DrillResult) -> list[TableCheck]:
        live = aggregates(self.engine, self.database, self.live, common, columns)
        dumped = aggregates(self.engine, self.database, self.restored, common, columns)
        differing = []
        for table in common:
            (live_rows, live_sum), (dump_rows, dump_sum) = live[table], dumped[table]
            check = TableCheck(table, dump_rows, live_rows, live_rows == dump_rows and live_sum == dump_sum)
            result.tables.append(check)
            if check.identical:
                continue
            if max(live_rows, dump_rows) > ROW_LIMIT:
                check.note = f"more than {ROW_LIMIT} rows: counts and checksums only"
                continue
            differing.append(check)
        return differing

    def _compare_rows(self, differing: list[TableCheck], columns: dict) -> None:
        names = [check.name for check in differing]
        live = row_digests(self.engine, self.database, self.live, names, columns)
        dumped = row_digests(self.engine, self.database, self.restored, names, columns)
        only_live = {name: live[name] - dumped[name] for name in names}
        for check in differing:
            check.only_live = sum(only_live[check.name].values())
            check.only_in_dump = sum((dumped[check.name] - live[check.name]).values())
        suspects = [name for name in names if only_live[name]]
        witness = self.witness() if suspects else None
        if witness is None:
            return
        older = row_digests(self.engine, self.database, witness.query,
                            [n for n in suspects if n in self._witness_tables], columns)
        for check in differing:
            if check.name in older:  # in the previous dump, still live, not restored
                check.missing_old = sum((only_live[check.name] & older[check.name]).values())

    def _classify_absent(self, absent: list[str], result: DrillResult) -> None:
        for table in absent:
            witness = self.witness()
            if witness is None or table in self._witness_tables:
                result.missing_tables.append(table)  # nothing says it is new, or the previous dump had it
            else:
                result.new_tables.append(table)
