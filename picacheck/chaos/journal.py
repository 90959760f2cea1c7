"""An experiment's journal: what was planned, each phase and rollback step with its times,
the timeline of observations, the users' view, the figures and the verdict per claim.

It is written after every phase (and every rollback step), so that whatever stops the run
(a second Ctrl-C, SIGTERM, a crash) leaves a journal that says how far it got.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from picacheck.claims import Verdict


@dataclass(frozen=True)
class Observation:
    t: float  # seconds since the fault (negative: before), when the sample started
    probe: str  # the observer's name, e.g. "pad.picasoft.test via pica01"
    ok: bool
    detail: str = ""


@dataclass
class ClaimVerdict:
    claim: str
    verdict: Verdict
    evidence: str


@dataclass
class Journal:
    experiment: str
    environment: str
    claims: list[str]
    plan: list[str]
    options: dict = field(default_factory=dict)
    sampling_interval_s: float = 1.0  # a sample of every observer starts this often
    phases: list[dict] = field(default_factory=list)
    rollbacks: list[dict] = field(default_factory=list)  # each named step: ok, seconds, error
    manual: list[dict] = field(default_factory=list)  # --manual-fault: what the operator was asked, and when
    timeline: list[Observation] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)  # --with-load: per second and service, the users' view
    figures: dict = field(default_factory=dict)
    verdicts: list[ClaimVerdict] = field(default_factory=list)
    outcome: str = "not run"  # completed / failed / interrupted / dry-run
    error: str | None = None
    path: Path | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("path")
        data["verdicts"] = [{**asdict(v), "verdict": v.verdict.value} for v in self.verdicts]
        return data

    def write(self, path: Path | None = None) -> Path | None:
        """Write the journal where it belongs (no path: a dry run, nothing is written)."""
        path = path or self.path
        if path is None:
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".json.part")
        partial.write_text(json.dumps(self.as_dict(), indent=2, default=str))
        partial.replace(path)  # never a half-written journal, even if the run dies meanwhile
        return path

    def add_error(self, text: str) -> None:
        self.error = f"{self.error}; {text}" if self.error else text


def timed_record(name: str) -> dict:
    return {"phase": name, "started": time.time()}


# --- figures from a timeline ----------------------------------------------------------


def samples_of(timeline: list[Observation], probe: str) -> list[Observation]:
    return sorted((o for o in timeline if o.probe == probe), key=lambda o: o.t)


def unavailable_seconds(timeline: list[Observation], probe: str, interval: float = 1.0) -> float:
    """Seconds during which `probe` failed (each failed sample counts the gap to the next)."""
    samples = samples_of(timeline, probe)
    total = sum(following.t - current.t for current, following in zip(samples, samples[1:]) if not current.ok)
    if samples and not samples[-1].ok:
        total += interval
    return round(total, 1)


def recovery_time(timeline: list[Observation], probe: str) -> float | None:
    """Seconds after the fault until `probe` succeeded for good (None: never)."""
    samples = samples_of(timeline, probe)
    if not samples or not samples[-1].ok:
        return None
    last_failure = max((o.t for o in samples if not o.ok), default=None)
    if last_failure is None:
        return 0.0
    return next(o.t for o in samples if o.t > last_failure)


def recovery_precision(timeline: list[Observation], probe: str) -> float | None:
    """How precise `recovery_time` is: the true recovery lies between the last failed sample
    and the first good one after it, so the gap between them is the error bar."""
    samples = samples_of(timeline, probe)
    recovered = recovery_time(timeline, probe)
    if recovered is None:
        return None
    before = [o.t for o in samples if o.t < recovered]
    return round(recovered - before[-1], 2) if before and recovered > 0 else 0.0


def last_detail(timeline: list[Observation], probe: str) -> str:
    samples = samples_of(timeline, probe)
    return samples[-1].detail if samples else "no sample"


def held_at_the_end(timeline: list[Observation], probe: str, window: float) -> bool:
    """Did `probe` succeed in every sample of the last `window` seconds of the timeline?"""
    if not timeline:
        return False
    end = max(o.t for o in timeline)
    recent = [o for o in samples_of(timeline, probe) if o.t >= end - window]
    return bool(recent) and all(o.ok for o in recent)
