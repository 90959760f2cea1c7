"""A failure drill's figures, read from its journal (see picacheck/chaos/runner.py): the
recovery time and point, the data lost and the availability during the fault, in the same
words for every experiment.

Each experiment names its figures its own way (chaos/*.py `measure`); this module knows
those names, and what it does not find is shown as "–", never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.chaos.journal import Observation, unavailable_seconds


@dataclass(frozen=True)
class Availability:
    probe: str
    observed_s: float
    unavailable_s: float

    @property
    def ratio(self) -> float:
        return max(0.0, 1 - self.unavailable_s / self.observed_s) if self.observed_s else 0.0


def availability(journal: dict) -> list[Availability]:
    """Per observed probe: how long it was watched after the fault and how long it failed."""
    timeline = [Observation(o["t"], o["probe"], bool(o["ok"]), o.get("detail", ""))
                for o in journal.get("timeline", []) if isinstance(o, dict) and {"t", "probe", "ok"} <= o.keys()]
    probes = list(dict.fromkeys(o.probe for o in timeline))
    found = []
    for probe in probes:
        samples = [o for o in timeline if o.probe == probe]
        observed = max(samples[-1].t - samples[0].t + 1.0, 1.0)
        found.append(Availability(probe, round(observed, 1), min(unavailable_seconds(timeline, probe), observed)))
    return found


def fault_observed(journal: dict) -> float | None:
    """How long the fault was watched: the experiment's figure, or the timeline's last sample."""
    figures = journal.get("figures") if isinstance(journal.get("figures"), dict) else {}
    if figures.get("fault_seconds") is not None:
        return figures["fault_seconds"]
    times = [o["t"] for o in journal.get("timeline", []) if isinstance(o, dict) and isinstance(o.get("t"), (int, float))]
    return round(max(times), 1) if times else None


def seconds(value) -> str:
    return "–" if value is None else f"{float(value):.1f} s"


def recovery(figures: dict) -> str:
    """The recovery time (RTO) as the experiment measured it."""
    if figures.get("rto_seconds") is not None:
        return seconds(figures["rto_seconds"])
    if figures.get("heal_seconds") is not None:
        return f"{seconds(figures['heal_seconds'])} to heal"
    if figures.get("rebuild_seconds") is not None:
        return f"{seconds(figures['rebuild_seconds'])} to rebuild"
    return "–"


def recovery_point(figures: dict) -> str:
    """The recovery point (RPO): how old the data restored was at the fault."""
    return seconds(figures.get("rpo_seconds")) if figures.get("rpo_seconds") is not None else "–"


def data_lost(figures: dict) -> str:
    canary = figures.get("canary") if isinstance(figures.get("canary"), dict) else {}
    if canary.get("lost") is not None:
        return f"{canary['lost']} of {canary.get('acknowledged', '?')} acknowledged writes"
    if "split_brain_entries" in figures:
        return f"{len(figures.get('split_brain_entries') or [])} files in split-brain"
    if "write_failures" in figures:
        return f"{figures['write_failures']} of {figures.get('write_samples', '?')} writes failed"
    return "–"


def loss_bound(figures: dict) -> str | None:
    """B8, from lose-database: the loss this failure caused and the worst case."""
    if "b8_measured_loss_seconds" not in figures:
        return None
    return (f"this failure lost {seconds(figures.get('b8_measured_loss_seconds'))} of writes; a failure just before "
            f"the next dump would lose {seconds(figures.get('b8_worst_case_loss_seconds'))} "
            f"(dump period {seconds(figures.get('dump_period_seconds'))})")


def lowest_availability(journal: dict) -> str:
    found = availability(journal)
    if not found:
        return "–"
    worst = min(found, key=lambda a: a.ratio)
    always = sum(1 for a in found if a.unavailable_s == 0)
    return f"{always}/{len(found)} probes always answered; lowest {worst.ratio:.0%} ({worst.probe})"
