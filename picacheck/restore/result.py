"""What a restore drill found, and how it says it (B5's verdict, B9's replay, the figures)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TableCheck:
    name: str
    dump_rows: int
    live_rows: int
    identical: bool
    only_in_dump: int = 0  # rows of the dump that are no longer live (changed or deleted since)
    only_live: int = 0  # live rows that the dump lacks (added or changed since, or lost)
    missing_old: int = 0  # of those, rows the previous dump already held: lost by the dump
    note: str = ""


@dataclass
class ScriptReplay:
    """The report's restore.sh run on the newest dump in a fresh scratch server (B9)."""

    command: str
    succeeded: bool  # the script said "Restore succeeded" and exited 0
    output: list[str]
    differences: list[str] = field(default_factory=list)  # against what the drill restored

    @property
    def restores(self) -> bool:
        return self.succeeded and not self.differences

    def first_error(self) -> str | None:
        errors = [line for line in self.output if "error" in line.lower()]
        return errors[0] if errors else (self.output[-1] if self.output and not self.succeeded else None)

    def summary(self) -> str:
        if self.restores:
            return "restores the newest dump: the same tables, rows and checksums as the drill's restore"
        if not self.succeeded:
            return f"FAILS: {self.first_error() or 'no output'}"
        return "runs, but restores other data than the dump holds: " + "; ".join(self.differences)


@dataclass
class DrillResult:
    database: str
    engine: str
    dump: str = ""
    dump_host: str = ""
    dump_bytes: int = 0
    dump_complete: bool = False
    dump_started: float | None = None  # epoch seconds (the time in the dump's name)
    drill_started: float | None = None  # epoch seconds, dump host's clock
    previous_dump: str | None = None  # the witness of the rows older than the dump
    live_host: str = ""
    scratch_host: str = ""
    image: str = ""
    server_start_s: float = 0.0
    copy_s: float = 0.0
    restore_s: float = 0.0
    compare_s: float = 0.0
    restore_status: int | None = None
    restore_errors: list[str] = field(default_factory=list)
    tolerated_errors: int = 0  # pg_dump -c's DROPs on an empty database
    tables: list[TableCheck] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)  # live tables the previous dump held, the newest lacks
    new_tables: list[str] = field(default_factory=list)  # live tables in neither dump: created since
    dropped_tables: list[str] = field(default_factory=list)  # restored tables no longer live
    report_script: ScriptReplay | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rpo_s(self) -> float | None:
        """How much data a restore from this dump loses now: the dump's age."""
        if self.dump_started is None or self.drill_started is None:
            return None
        return max(0.0, self.drill_started - self.dump_started)

    def problems(self) -> list[str]:
        found = []
        if not self.dump_complete:
            found.append(f"the dump {self.dump} is incomplete (no end-of-dump line from the dump tool): truncated")
        if self.restore_status not in (0, None) or self.restore_errors:
            first = f": {self.restore_errors[0]}" if self.restore_errors else ""
            found.append(f"the restore reported {len(self.restore_errors) or 'an'} error(s) "
                         f"(exit {self.restore_status}){first}")
        if self.missing_tables:
            found.append(f"{len(self.missing_tables)} live table(s) older than the dump missing from the restore: "
                         f"{', '.join(self.missing_tables[:8])}")
        lost = [t for t in self.tables if t.missing_old]
        if lost:
            found.append("rows older than the dump missing from the restore: "
                         + ", ".join(f"{t.name} ({t.missing_old})" for t in lost[:8]))
        live_rows = sum(t.live_rows for t in self.tables)
        matched = sum(t.dump_rows - t.only_in_dump for t in self.tables)
        if live_rows and not matched:
            found.append(f"none of the {live_rows} live rows is in the restore")
        return found

    def summary(self) -> str:
        rows = sum(t.dump_rows for t in self.tables)
        identical = sum(1 for t in self.tables if t.identical)
        changed = [t for t in self.tables if not t.identical]
        rpo = f"{self.rpo_s / 60:.1f} min" if self.rpo_s is not None else "unknown"
        text = (f"{self.database}: restored {self.dump} ({_size(self.dump_bytes)}) into a scratch {self.engine} "
                f"server on {self.scratch_host}: restore time {self.restore_s:.1f} s (server start "
                f"{self.server_start_s:.1f} s, copy {self.copy_s:.1f} s, comparison {self.compare_s:.1f} s), "
                f"RPO {rpo} (the dump's age); {len(self.tables)} tables, {rows} rows restored, {identical} tables "
                f"identical to the live database on {self.live_host}")
        if changed:
            text += "; changed since the dump: " + ", ".join(
                f"{t.name} (+{t.only_live}/-{t.only_in_dump} rows)" for t in changed[:6])
            if len(changed) > 6:
                text += f" and {len(changed) - 6} more"
            witness = f"the previous dump {self.previous_dump}" if self.previous_dump else "no previous dump"
            text += (f"; rows older than the dump (in {witness} and still live) missing: "
                     f"{sum(t.missing_old for t in self.tables)}")
        if self.new_tables:
            text += f"; tables created since the dump: {', '.join(self.new_tables[:6])}"
        if self.dropped_tables:
            text += f"; tables dropped since the dump: {', '.join(self.dropped_tables[:6])}"
        if self.tolerated_errors:
            text += f"; {self.tolerated_errors} expected restore errors (pg_dump -c's DROPs on an empty database)"
        return text

    def report_script_note(self) -> str:
        if self.report_script is None:
            return f"{self.database}: the report's restore.sh was not replayed"
        replay = self.report_script
        return (f"{self.database}: the report's restore.sh ({replay.command}) in a fresh scratch server "
                f"{replay.summary()}")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
