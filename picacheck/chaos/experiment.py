"""What an experiment declares, as small separate ideas (as in Chaos Toolkit):

- a **steady state**: observers that must hold before the fault and again after the rollback;
- one **fault**: an action the suite takes, or, where it cannot (a hypervisor's power through
  vPro, a disk pulled by hand), the instruction an operator follows (`--manual-fault`);
- **observers**, sampled on a clock while the fault lasts;
- a **window**: how long to observe at most, and when the outcome is settled (recovered and
  stable), so that observation stops as soon as it has nothing more to learn;
- an ordered list of named, idempotent **rollback** steps (each journaled; every one of them
  runs, also after a failure or Ctrl-C, also when the fault never happened);
- a **measure** step: the timeline into figures and a verdict per claim.

An experiment is built by its module's `build(ctx, **options)` from the options it declares
(`picacheck.chaos.options`); its running state lives in a small dataclass of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from picacheck.chaos.journal import ClaimVerdict, Observation, samples_of

Observer = Callable[[], tuple[bool, str]]  # one sample → (ok, what was seen)
Measure = Callable[[list[Observation]], tuple[dict, list[ClaimVerdict]]]
Settled = Callable[[list[Observation], float], bool]  # (timeline so far, seconds since the fault)


@dataclass(frozen=True)
class Fault:
    description: str  # the fault in one sentence, for the plan and the journal
    inject: Callable[[], None] | None  # None: the suite cannot cause it (an operator must)
    manual: str | None = None  # what an operator does instead, exactly (for --manual-fault)
    repair: str | None = None  # what the operator does afterwards, before the rollback steps


@dataclass(frozen=True)
class Rollback:
    name: str
    action: Callable[[], None]  # idempotent: safe when the fault never happened, safe twice


@dataclass(frozen=True)
class Window:
    """Observe for at most `maximum` seconds; stop earlier, but not before `minimum`, once
    `settled(timeline, elapsed)` holds."""

    maximum: float
    minimum: float = 0.0
    settled: Settled | None = None

    def over(self, timeline: list[Observation], elapsed: float) -> bool:
        if elapsed >= self.maximum:
            return True
        return elapsed >= self.minimum and self.settled is not None and self.settled(timeline, elapsed)


@dataclass
class Experiment:
    name: str
    claims: list[str]
    fault: Fault
    steady_state: dict[str, Observer]
    observers: dict[str, Observer]
    rollbacks: list[Rollback]
    measure: Measure
    window: Window
    steady_state_before_timeout: float = 60.0  # a lab just built may still be converging
    steady_state_after_timeout: float = 300.0  # how long the system may take to converge after the rollback
    options: dict = field(default_factory=dict)

    def plan(self) -> list[str]:
        window = f"up to {self.window.maximum:.0f}s" + (
            f" (stops once settled, not before {self.window.minimum:.0f}s)" if self.window.settled else "")
        how = "by hand (--manual-fault): " + (self.fault.manual or "") if self.fault.inject is None else ""
        return [
            f"steady state ({len(self.steady_state)} observers): {', '.join(self.steady_state)}",
            f"fault: {self.fault.description}" + (f"; {how}" if how else ""),
            f"observe {len(self.observers)} observers every second, {window}: {', '.join(self.observers)}",
            f"rollback (always runs): {', '.join(step.name for step in self.rollbacks)}",
            f"steady state again (within {self.steady_state_after_timeout:.0f}s)",
        ]


def recovered_and_stable(probes: list[str], stable_s: float) -> Settled:
    """Settled once each probe has failed at least once and has then succeeded in every
    sample of the last `stable_s` seconds (what a recovery looks like); a probe that never
    failed counts as recovered."""

    def settled(timeline: list[Observation], elapsed: float) -> bool:
        for probe in probes:
            samples = samples_of(timeline, probe)
            recent = [o for o in samples if o.t >= elapsed - stable_s]
            if not recent or not all(o.ok for o in recent) or recent[0].t > elapsed - stable_s + 1.5:
                return False
        return True

    return settled


def unchanged_for(probes: list[str], stable_s: float) -> Settled:
    """Settled once no probe changed its outcome during the last `stable_s` seconds (whatever
    it is: a service that stays down is as settled as one that came back)."""

    def settled(timeline: list[Observation], elapsed: float) -> bool:
        for probe in probes:
            samples = samples_of(timeline, probe)
            recent = [o for o in samples if o.t >= elapsed - stable_s]
            older = [o for o in samples if o.t < elapsed - stable_s]
            if not recent or not older or len({o.ok for o in recent}) > 1 or older[-1].ok != recent[0].ok:
                return False
        return True

    return settled


def judged_alike(probes: list[str], window_s: float) -> Settled:
    """Settled once each probe is judged the same on the last `window_s` seconds as on the
    `window_s` before them (held throughout, or not): the judgement of a claim on the end of
    the fault would not change by observing longer, even for a probe that flaps."""

    def held(samples: list[Observation], start: float, end: float) -> bool | None:
        inside = [o for o in samples if start <= o.t < end]
        return None if not inside else all(o.ok for o in inside)

    def settled(timeline: list[Observation], elapsed: float) -> bool:
        for probe in probes:
            samples = samples_of(timeline, probe)
            last = held(samples, elapsed - window_s, elapsed)
            before = held(samples, elapsed - 2 * window_s, elapsed - window_s)
            if last is None or before is None or last != before:
                return False
        return True

    return settled
