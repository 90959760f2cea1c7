"""The experiment runner: steady state → fault → observe → roll back → journal.

An `Experiment` names the claims it tests and gives:
- `steady_state`: probes that must hold before the fault and again after the rollback;
- `inject`: the one fault;
- `observers`: sampled on a clock (at least every second) while the fault lasts;
- `measure`: turns the timeline into figures and a verdict per claim;
- `rollback`: always runs: after success, after a failed assertion, and on Ctrl-C/SIGTERM.

The journal (JSON) keeps the plan, every phase with its times, the timeline of
observations, the figures and the verdicts.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from picacheck.claims import Verdict
from picacheck.errors import UserError
from picacheck.inventory import EnvironmentKind, Inventory
from picacheck.progress import say


@dataclass(frozen=True)
class Observation:
    t: float  # seconds since the fault was injected (negative: before)
    probe: str  # e.g. "http pad.picasoft.test via pica01"
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
    phases: list[dict] = field(default_factory=list)
    timeline: list[Observation] = field(default_factory=list)
    figures: dict = field(default_factory=dict)
    verdicts: list[ClaimVerdict] = field(default_factory=list)
    outcome: str = "not run"  # completed / failed / interrupted / dry-run
    error: str | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["verdicts"] = [{**asdict(v), "verdict": v.verdict.value} for v in self.verdicts]
        return data

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str))
        return path


Probe = Callable[[], tuple[bool, str]]  # → (ok, detail)


@dataclass
class Experiment:
    name: str
    claims: list[str]
    description: str
    steady_state: dict[str, Probe]
    inject: Callable[[], None]
    rollback: Callable[[], None]
    observers: dict[str, Probe] = field(default_factory=dict)
    fault_duration: float = 30.0  # seconds of observation after the fault
    measure: Callable[[list[Observation]], tuple[dict, list[ClaimVerdict]]] | None = None
    steady_state_timeout: float = 300.0  # how long the system may take to converge after the rollback
    steady_state_before_timeout: float = 60.0  # a lab just built may still be converging

    def plan(self) -> list[str]:
        return [
            f"steady state ({len(self.steady_state)} probes): {', '.join(self.steady_state)}",
            f"fault: {self.description}",
            f"observe {len(self.observers)} probes every second for {self.fault_duration:.0f}s: {', '.join(self.observers)}",
            "rollback (always runs)",
            f"steady state again (within {self.steady_state_timeout:.0f}s)",
        ]


class Interrupted(Exception):
    pass


def refuse_production(inventory: Inventory, allow_production: bool, confirm: Callable[[str], str] = input) -> None:
    """Chaos on production needs --allow-production and the environment's name typed back."""
    if inventory.environment.kind != EnvironmentKind.production:
        return
    if not allow_production:
        raise UserError(f"{inventory.environment.name!r} is production: chaos refuses it without --allow-production")
    typed = confirm(f"Type the environment's name ({inventory.environment.name}) to break it for real: ")
    if typed.strip() != inventory.environment.name:
        raise UserError("confirmation did not match the environment's name: nothing was done")


def run(experiment: Experiment, environment: str, journal_path: Path, dry_run: bool = False) -> Journal:
    journal = Journal(experiment.name, environment, experiment.claims, experiment.plan())
    if dry_run:
        journal.outcome = "dry-run"
        for line in journal.plan:
            say(f"[dry-run] {experiment.name}: {line}")
        return journal
    previous = _install_interrupt_handlers()
    fault_started = None
    try:
        _phase(journal, "steady state before", lambda: _check_steady(experiment, journal, timeout=experiment.steady_state_before_timeout))
        fault_started = time.monotonic()
        _phase(journal, "inject fault", experiment.inject)
        _phase(journal, "observe", lambda: _observe(experiment, journal, fault_started))
        journal.outcome = "completed"
    except Interrupted:
        journal.outcome = "interrupted"
        journal.error = "interrupted (SIGINT/SIGTERM) during the experiment"
    except Exception as error:  # the rollback must run whatever went wrong
        journal.outcome = "failed"
        journal.error = f"{type(error).__name__}: {error}"
    finally:
        _restore_handlers(previous)  # a second Ctrl-C during the rollback is not swallowed silently
        _phase(journal, "rollback", experiment.rollback, swallow=True)
        try:
            _phase(journal, "steady state after",
                   lambda: _check_steady(experiment, journal, timeout=experiment.steady_state_timeout), swallow=False)
        except Exception as error:
            journal.error = (journal.error + "; " if journal.error else "") + f"steady state not restored: {error}"
            if journal.outcome == "completed":
                journal.outcome = "failed"
        if experiment.measure and journal.timeline:
            journal.figures, journal.verdicts = experiment.measure(journal.timeline)
        journal.write(journal_path)
        say(f"{experiment.name}: {journal.outcome}; journal {journal_path}")
    if journal.outcome == "interrupted":
        raise KeyboardInterrupt
    return journal


def _phase(journal: Journal, name: str, action: Callable[[], object], swallow: bool = False) -> None:
    say(f"{journal.experiment}: {name} …")
    started = time.time()
    record = {"phase": name, "started": started}
    journal.phases.append(record)
    try:
        action()
        record["ok"] = True
    except Exception as error:
        record["ok"] = False
        record["error"] = f"{type(error).__name__}: {error}"
        if not swallow:
            raise
        say(f"{journal.experiment}: {name} failed: {error}")
    finally:
        record["seconds"] = round(time.time() - started, 2)


def _check_steady(experiment: Experiment, journal: Journal, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        failing = {}
        for name, probe in experiment.steady_state.items():
            ok, detail = _safe(probe)
            if not ok:
                failing[name] = detail
        if not failing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"steady state does not hold: {failing}")
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def _safe(probe: Probe) -> tuple[bool, str]:
    try:
        return probe()
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"


def _observe(experiment: Experiment, journal: Journal, fault_started: float) -> None:
    """Sample every observer once a second, in parallel, until the fault duration is over."""
    lock = threading.Lock()
    stop = threading.Event()

    def sample(name: str, probe: Probe) -> None:
        while not stop.is_set():
            tick = time.monotonic()
            ok, detail = _safe(probe)
            with lock:
                journal.timeline.append(Observation(round(tick - fault_started, 2), name, ok, detail[:300]))
            stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))

    threads = [threading.Thread(target=sample, args=item, daemon=True) for item in experiment.observers.items()]
    for thread in threads:
        thread.start()
    end = fault_started + experiment.fault_duration
    next_report = time.monotonic() + 10
    try:
        while time.monotonic() < end:
            time.sleep(0.2)
            if time.monotonic() >= next_report:
                next_report += 10
                with lock:
                    failing = sorted({o.probe for o in journal.timeline[-len(threads):] if not o.ok})
                elapsed = time.monotonic() - fault_started
                say(f"{journal.experiment}: observing {elapsed:.0f}/{experiment.fault_duration:.0f}s; "
                    f"failing now: {', '.join(failing) or 'none'}")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        journal.timeline.sort(key=lambda o: o.t)


def _install_interrupt_handlers():
    def interrupt(signum, frame):
        raise Interrupted()

    if threading.current_thread() is not threading.main_thread():
        return None
    return {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}


def _restore_handlers(previous) -> None:
    if previous:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- figures from a timeline ----------------------------------------------------------


def unavailable_seconds(timeline: list[Observation], probe: str) -> float:
    """Seconds during which `probe` failed (each failed sample counts the gap to the next)."""
    samples = [o for o in timeline if o.probe == probe]
    total = 0.0
    for current, following in zip(samples, samples[1:]):
        if not current.ok:
            total += following.t - current.t
    if samples and not samples[-1].ok:
        total += 1.0
    return round(total, 1)


def recovery_time(timeline: list[Observation], probe: str) -> float | None:
    """Seconds after the fault until `probe` succeeded for good (None: never)."""
    samples = [o for o in timeline if o.probe == probe]
    if not samples or not samples[-1].ok:
        return None
    last_failure = max((o.t for o in samples if not o.ok), default=None)
    if last_failure is None:
        return 0.0
    return next(o.t for o in samples if o.t > last_failure)
