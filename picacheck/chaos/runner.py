"""Running an experiment: steady state → fault → observe → roll back → steady state → measure.

- The production guard is asked before anything is touched: a production target needs a
  grant to change it (`picacheck.guard`).
- Observers are sampled on a one-second clock: a sample starts every second whatever the
  previous one is doing (at most MAX_IN_FLIGHT at once per observer), so that a recovery
  time is known to the second even while samples hang.
- Observation stops as soon as the experiment's window says the outcome is settled.
- Every rollback step runs, in order, after success, failure, Ctrl-C or SIGTERM. During the
  rollback a first Ctrl-C only warns; a second one abandons the remaining steps. Either way
  the journal says which steps ran, and it is written after every phase.
"""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from picacheck import guard
from picacheck.chaos.experiment import Experiment, Observer
from picacheck.chaos.journal import Journal, Observation
from picacheck.inventory import Inventory
from picacheck.progress import say

INTERVAL_S = 1.0
MAX_IN_FLIGHT = 3  # samples of one observer at once (each shares its host's SSH connection)
PROGRESS_EVERY_S = 10.0


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during the experiment (before the rollback)."""


Operator = Callable[[str], "str | None"]  # --manual-fault: shows an instruction, returns the answer


def run(experiment: Experiment, inventory: Inventory, grant: guard.Grant | None, journal_path: Path | None,
        *, dry_run: bool = False, operator: Operator | None = None, companions: list | None = None,
        stops: "Stops | None" = None) -> Journal:
    """Run `experiment` (plan only with `dry_run`). `operator`: the fault is made by hand
    (--manual-fault). `companions`: things that run beside the experiment from before the
    steady state until after the rollback (--with-load), with start()/stop()/journal(j).
    `stops`: for an experiment run in a thread beside others (see `run_together`), where
    signals cannot reach it: the events that stand for the first and second Ctrl-C."""
    journal = Journal(experiment.name, inventory.environment.name, experiment.claims, experiment.plan(),
                      options=experiment.options, sampling_interval_s=INTERVAL_S, path=journal_path)
    if dry_run:
        journal.outcome = "dry-run"
        for line in journal.plan:
            say(f"[dry-run] {experiment.name}: {line}")
        return journal
    guard.require(inventory, grant, guard.Access.change, f"the experiment {experiment.name}")
    if operator is None and experiment.fault.inject is None:
        from picacheck.errors import UserError

        raise UserError(f"{experiment.name}: the suite cannot cause this fault itself: {experiment.fault.manual} "
                        "(run it with --manual-fault)")
    _Run(experiment, journal, operator, companions or [], stops or Stops()).go()
    return journal


class Stops:
    """A first Ctrl-C (`interrupt`: stop the experiment, roll back) and a second one
    (`abandon`: stop the rollback), as events that a thread can watch."""

    def __init__(self) -> None:
        self.interrupt = threading.Event()
        self.abandon = threading.Event()


class _Run:
    def __init__(self, experiment: Experiment, journal: Journal, operator: Operator | None, companions: list,
                 stops: Stops):
        self.experiment = experiment
        self.journal = journal
        self.operator = operator
        self.companions = companions
        self.stops = stops
        self.fault_at: float | None = None

    def go(self) -> None:
        previous = _handlers(_interrupt)
        try:
            for companion in self.companions:
                companion.start()
            self.phase("steady state before", lambda: wait_for_steady_state(
                self.experiment, self.experiment.steady_state_before_timeout, self.stops.interrupt))
            self.phase("manual fault" if self.operator else "inject fault", self.inject)
            self.phase("observe", self.observe)
            self.journal.outcome = "completed"
        except Interrupted:
            self.journal.outcome = "interrupted"
            self.journal.add_error("interrupted (SIGINT/SIGTERM) during the experiment")
        except Exception as error:  # the rollback must run whatever went wrong
            self.journal.outcome = "failed"
            self.journal.add_error(f"{type(error).__name__}: {error}")
        finally:
            _handlers(previous)
            self.finish()
        if self.journal.outcome == "interrupted":
            raise KeyboardInterrupt

    def finish(self) -> None:
        """Rollback, steady state after, measure, journal: whatever happened before."""
        abandoned = False
        try:
            self.roll_back()
            self.phase("steady state after", lambda: wait_for_steady_state(
                self.experiment, self.experiment.steady_state_after_timeout), after_rollback=True)
        except Abandoned:
            abandoned = True
            self.journal.outcome = "interrupted"
            self.journal.add_error("the rollback was abandoned (a second Ctrl-C): the target may still be broken")
        finally:
            for companion in self.companions:
                _quietly(companion.stop)
            if self.journal.timeline:
                self.journal.figures, self.journal.verdicts = self.experiment.measure(self.journal.timeline)
            for companion in self.companions:  # after the measure: it adds its figures and verdicts
                _quietly(lambda: companion.journal(self.journal, self.fault_at))
            self.journal.write()
            say(f"{self.experiment.name}: {self.journal.outcome}; journal {self.journal.path}")
        if abandoned:
            raise KeyboardInterrupt

    # --- phases -------------------------------------------------------------------------------

    def phase(self, name: str, action: Callable[[], object], after_rollback: bool = False) -> None:
        say(f"{self.experiment.name}: {name} …")
        record = {"phase": name, "started": time.time()}
        self.journal.phases.append(record)
        try:
            action()
            record["ok"] = True
        except Exception as error:
            record["ok"] = False
            record["error"] = f"{type(error).__name__}: {error}"
            if after_rollback:
                self.journal.add_error(f"steady state not restored: {error}")
                if self.journal.outcome == "completed":
                    self.journal.outcome = "failed"
            else:
                raise
        finally:
            record["seconds"] = round(time.time() - record["started"], 2)
            self.journal.write()

    def inject(self) -> None:
        if self.operator is None:
            self.fault_at = time.monotonic()
            self.experiment.fault.inject()
            return
        ask(self.operator, self.journal, f"FAULT, by hand: {self.experiment.fault.manual}. "
                                          "Type 'done' once it is done (anything else aborts): ")
        self.fault_at = time.monotonic()

    def observe(self) -> None:
        observe(self.experiment, self.journal, self.fault_at, self.stops.interrupt)

    def roll_back(self) -> None:
        if self.operator is not None and self.experiment.fault.repair and self.fault_at is not None:
            _quietly(lambda: ask(self.operator, self.journal, f"REPAIR, by hand: {self.experiment.fault.repair}. "
                                                              "Type 'done' once it is done: "))
        record = {"phase": "rollback", "started": time.time()}
        self.journal.phases.append(record)
        presses = {"count": 0}
        previous = _handlers(lambda signum, frame: _second_press(presses, self.experiment.name))
        try:
            run_rollbacks(self.experiment, self.journal, self.stops.abandon)
        finally:
            _handlers(previous)
            record["ok"] = all(step["ok"] for step in self.journal.rollbacks)
            record["seconds"] = round(time.time() - record["started"], 2)
            self.journal.write()


class Abandoned(Exception):
    """A second Ctrl-C during the rollback: the remaining steps are not run."""


def _second_press(presses: dict, name: str) -> None:
    presses["count"] += 1
    if presses["count"] == 1:
        say(f"{name}: rollback in progress; press Ctrl-C again to abandon it (the target may stay broken)")
        return
    raise Abandoned()


def run_rollbacks(experiment: Experiment, journal: Journal, abandon: threading.Event | None = None) -> None:
    """Every step, in order; a failed step does not stop the next ones (each is journaled)."""
    steps = list(experiment.rollbacks)
    for index, step in enumerate(steps):
        say(f"{experiment.name}: rollback: {step.name} …")
        entry = {"step": step.name, "started": time.time()}
        journal.rollbacks.append(entry)
        try:
            if abandon is not None and abandon.is_set():
                raise Abandoned()
            step.action()
            entry["ok"] = True
        except Abandoned:
            entry.update(ok=False, error="abandoned (second Ctrl-C)")
            journal.rollbacks.extend({"step": later.name, "ok": False, "error": "not run: abandoned"}
                                     for later in steps[index + 1:])
            raise
        except Exception as error:  # the next steps still run
            entry.update(ok=False, error=f"{type(error).__name__}: {error}"[:500])
            say(f"{experiment.name}: rollback step {step.name!r} failed: {error}")
        finally:
            entry["seconds"] = round(time.time() - entry["started"], 2)
            journal.write()


def ask(operator: Operator, journal: Journal, instruction: str) -> None:
    """Show the operator an instruction and wait for 'done' (anything else stops the run)."""
    entry = {"asked": time.time(), "instruction": instruction}
    journal.manual.append(entry)
    journal.write()
    answer = operator(instruction)
    entry["answered"] = time.time()
    entry["answer"] = answer
    if (answer or "").strip().lower() != "done":
        raise RuntimeError(f"the operator did not confirm ({answer!r}): {instruction}")


# --- waiting for the steady state ----------------------------------------------------------------


def wait_for_steady_state(experiment: Experiment, timeout: float, interrupt: threading.Event | None = None) -> None:
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_S
    while True:
        if interrupt is not None and interrupt.is_set():
            raise Interrupted()
        failing = {}
        for name, observer in experiment.steady_state.items():
            ok, detail = sample(observer)
            if not ok:
                failing[name] = detail
        if not failing:
            return
        now = time.monotonic()
        if now - started > timeout:
            raise AssertionError(f"steady state does not hold after {timeout:.0f}s: {failing}")
        if now >= next_report:
            next_report = now + PROGRESS_EVERY_S
            say(f"{experiment.name}: waiting for the steady state ({now - started:.0f}/{timeout:.0f}s); "
                f"not yet: {'; '.join(f'{k}: {v[:80]}' for k, v in list(failing.items())[:3])}")
        time.sleep(min(2.0, max(0.1, timeout - (now - started))))


def sample(observer: Observer) -> tuple[bool, str]:
    try:
        return observer()
    except Exception as error:
        return False, f"{type(error).__name__}: {error}"


# --- observing on a clock ------------------------------------------------------------------------


def observe(experiment: Experiment, journal: Journal, fault_at: float, interrupt: threading.Event | None = None) -> None:
    """Start a sample of every observer each second until the window is over."""
    lock = threading.Lock()
    in_flight = {name: 0 for name in experiment.observers}
    closed = threading.Event()  # the window is over: samples still running are not waited for

    def take(name: str, observer: Observer, started: float) -> None:
        ok, detail = sample(observer)
        with lock:
            in_flight[name] -= 1
            if not closed.is_set():
                journal.timeline.append(Observation(round(started - fault_at, 2), name, ok, detail[:300]))

    pool = ThreadPoolExecutor(max_workers=max(1, MAX_IN_FLIGHT * len(experiment.observers)))
    next_report = time.monotonic() + PROGRESS_EVERY_S
    try:
        tick = time.monotonic()
        while True:
            elapsed = tick - fault_at
            with lock:
                timeline = list(journal.timeline)
            if experiment.window.over(timeline, elapsed):
                break
            if interrupt is not None and interrupt.is_set():
                raise Interrupted()
            for name, observer in experiment.observers.items():
                with lock:
                    busy = in_flight[name] >= MAX_IN_FLIGHT
                    if busy:
                        journal.timeline.append(Observation(round(elapsed, 2), name, False,
                                                            f"{MAX_IN_FLIGHT} samples still without an answer"))
                    else:
                        in_flight[name] += 1
                if not busy:
                    pool.submit(take, name, observer, tick)
            if time.monotonic() >= next_report:
                next_report += PROGRESS_EVERY_S
                _report_progress(experiment, timeline, elapsed)
            tick += INTERVAL_S
            time.sleep(max(0.0, tick - time.monotonic()))
    finally:
        with lock:
            closed.set()
            journal.timeline.sort(key=lambda o: (o.t, o.probe))
        # A sample hanging on a dead host (an SSH connect timing out) finishes by itself;
        # the rollback does not wait for it.
        pool.shutdown(wait=False, cancel_futures=True)


def _report_progress(experiment: Experiment, timeline: list[Observation], elapsed: float) -> None:
    latest: dict[str, Observation] = {}
    for observation in timeline:
        latest[observation.probe] = observation
    failing = sorted(name for name, o in latest.items() if not o.ok)
    say(f"{experiment.name}: observing {elapsed:.0f}/{experiment.window.maximum:.0f}s; "
        f"failing now: {', '.join(failing) or 'none'}")


# --- signals -------------------------------------------------------------------------------------


def _interrupt(signum, frame):
    raise Interrupted()


def _handlers(handler):
    """Install `handler` for SIGINT and SIGTERM (a dict of previous handlers: restore them)."""
    if threading.current_thread() is not threading.main_thread() or handler is None:
        return None
    if isinstance(handler, dict):
        for signum, previous in handler.items():
            signal.signal(signum, previous)
        return None
    return {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception as error:  # noqa: BLE001 - after the experiment: reported, not raised
        say(f"after the experiment: {type(error).__name__}: {error}")


# --- several experiments at once ------------------------------------------------------------------


def run_together(jobs: list[Callable[[Stops], Journal]]) -> list:
    """Run experiments that do not disturb each other at the same time, each in a thread of
    its own; the results (journal or exception) in order. Ctrl-C here (the main thread) stops
    them all and waits for their rollbacks; a second Ctrl-C abandons the rollbacks."""
    stops = Stops()
    results: list = [None] * len(jobs)

    def work(index: int, job) -> None:
        try:
            results[index] = job(stops)
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            results[index] = error

    threads = [threading.Thread(target=work, args=item, daemon=True) for item in enumerate(jobs)]
    for thread in threads:
        thread.start()
    try:
        _join(threads)
    except KeyboardInterrupt:
        stops.interrupt.set()
        say("interrupted: every experiment running rolls back; press Ctrl-C again to abandon the rollbacks")
        try:
            _join(threads)
        except KeyboardInterrupt:
            stops.abandon.set()
            _join(threads)
        raise
    return results


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)  # a short wait: Ctrl-C reaches the main thread in between
