"""Locust's CSV files, read back: the run's totals, its history and its failures.

A headless run with `--csv PREFIX --csv-full-history` writes PREFIX_stats.csv (one row per
request name and an "Aggregated" row), PREFIX_stats_history.csv (one row per second and
name; the percentiles there are over the last ~10 s), PREFIX_failures.csv and
PREFIX_exceptions.csv. Pure parsing: no locust import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from picacheck.load.slo import Measured

AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class Row:
    """One line of PREFIX_stats.csv."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None


@dataclass(frozen=True)
class Sample:
    """One second of PREFIX_stats_history.csv (Aggregated), for the charts."""

    timestamp: int
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    total_requests: int
    total_failures: int


@dataclass(frozen=True)
class Failure:
    method: str
    name: str
    error: str
    occurrences: int


def _number(value: str | None) -> float | None:
    if value in (None, "", "N/A"):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _count(value: str | None) -> int:
    number = _number(value)
    return int(number) if number is not None else 0


def parse_stats(text: str) -> list[Row]:
    rows = []
    for record in csv.DictReader(io.StringIO(text)):
        rows.append(Row(
            method=record.get("Type") or "",
            name=record.get("Name") or "",
            requests=_count(record.get("Request Count")),
            failures=_count(record.get("Failure Count")),
            rps=_number(record.get("Requests/s")) or 0.0,
            median_ms=_number(record.get("50%")) if record.get("50%") not in (None, "N/A") else _number(
                record.get("Median Response Time")),
            p95_ms=_number(record.get("95%")),
            p99_ms=_number(record.get("99%")),
            max_ms=_number(record.get("Max Response Time")),
        ))
    return rows


def parse_history(text: str) -> list[Sample]:
    samples = []
    for record in csv.DictReader(io.StringIO(text)):
        if record.get("Name") != AGGREGATED:
            continue
        samples.append(Sample(
            timestamp=_count(record.get("Timestamp")),
            users=_count(record.get("User Count")),
            rps=_number(record.get("Requests/s")) or 0.0,
            failures_per_s=_number(record.get("Failures/s")) or 0.0,
            p50_ms=_number(record.get("50%")),
            p95_ms=_number(record.get("95%")),
            p99_ms=_number(record.get("99%")),
            total_requests=_count(record.get("Total Request Count")),
            total_failures=_count(record.get("Total Failure Count")),
        ))
    return samples


def parse_failures(text: str) -> list[Failure]:
    return [Failure(record.get("Method") or "", record.get("Name") or "", record.get("Error") or "",
                    _count(record.get("Occurrences")))
            for record in csv.DictReader(io.StringIO(text))]


def aggregated(rows: list[Row], users: int | None = None, duration_s: float | None = None) -> Measured:
    """The run's totals (the "Aggregated" row) as the figures an SLO is checked against."""
    total = next((row for row in rows if row.name == AGGREGATED), None)
    if total is None:
        return Measured(0, 0, 0.0, None, None, users=users, duration_s=duration_s)
    return Measured(total.requests, total.failures, total.rps, total.median_ms, total.p95_ms, total.p99_ms,
                    total.max_ms, users=users, duration_s=duration_s)


def steady_rps(samples: list[Sample], from_ts: float, until_ts: float, min_window_s: float = 3) -> float | None:
    """Throughput between two moments of a run (Unix times): from when every user has set
    itself up (logged in, made its pad) to the end of the run's duration (after which users
    only stop). None when the history holds less than `min_window_s` of it."""
    inside = [s for s in samples if from_ts <= s.timestamp <= until_ts]
    if len(inside) < 2 or inside[-1].timestamp - inside[0].timestamp < min_window_s:
        return None
    return (inside[-1].total_requests - inside[0].total_requests) / (inside[-1].timestamp - inside[0].timestamp)


@dataclass(frozen=True)
class RunFiles:
    """Where one locust run's outputs are."""

    directory: Path
    prefix: str = "locust"

    @property
    def csv_prefix(self) -> Path:
        return self.directory / self.prefix

    @property
    def stats(self) -> Path:
        return self.directory / f"{self.prefix}_stats.csv"

    @property
    def history(self) -> Path:
        return self.directory / f"{self.prefix}_stats_history.csv"

    @property
    def failures(self) -> Path:
        return self.directory / f"{self.prefix}_failures.csv"

    @property
    def exceptions(self) -> Path:
        return self.directory / f"{self.prefix}_exceptions.csv"

    @property
    def html(self) -> Path:
        return self.directory / f"{self.prefix}.html"

    @property
    def ready(self) -> Path:
        return self.directory / f"{self.prefix}_ready.json"

    @property
    def log(self) -> Path:
        return self.directory / f"{self.prefix}.log"

    def read_stats(self) -> list[Row]:
        return parse_stats(_read(self.stats))

    def read_history(self) -> list[Sample]:
        return parse_history(_read(self.history))

    def read_failures(self) -> list[Failure]:
        return parse_failures(_read(self.failures))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
