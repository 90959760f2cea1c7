"""Capacity search by steps: the step plan, per-step figures, and the capacity within SLO.

A step-load run raises the number of simulated users by `step_users` every `step_seconds`
up to `max_users` (locust's LoadTestShape in `locustfiles/stepload.py` follows `StepPlan`).
At the start of each step's measured window (after `settle_s`, while the new users log in
and the service settles) and at its end, the shape takes a snapshot of locust's totals
(requests, failures, response-time histogram). The difference of two snapshots gives the
step's own figures; the capacity is the highest step of the unbroken run of steps, from
the first, that meets the latency and error objectives; its throughput is reported with it.

Pure: no locust, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from picacheck.inventory.model import Slo
from picacheck.load.slo import Measured, SloVerdict, evaluate


@dataclass(frozen=True)
class StepPlan:
    max_users: int
    step_users: int
    step_seconds: float
    settle_s: float | None = None  # default: a third of a step, at most 5 s

    def __post_init__(self) -> None:
        if self.max_users < 1 or self.step_users < 1:
            raise ValueError("max_users and step_users must be at least 1")
        if self.step_users > self.max_users:
            raise ValueError(f"step_users ({self.step_users}) is larger than max_users ({self.max_users})")
        if self.step_seconds < 2:
            raise ValueError("step_seconds must be at least 2")

    @property
    def settle(self) -> float:
        if self.settle_s is not None:
            return min(self.settle_s, self.step_seconds / 2)
        return min(5.0, self.step_seconds / 3)

    @property
    def users(self) -> list[int]:
        """User count of each step: step_users, 2×step_users, …, max_users (the last step
        is max_users even when it is not a multiple of step_users)."""
        counts = list(range(self.step_users, self.max_users + 1, self.step_users))
        if counts[-1] != self.max_users:
            counts.append(self.max_users)
        return counts

    @property
    def duration_s(self) -> float:
        return len(self.users) * self.step_seconds

    @property
    def spawn_rate(self) -> float:
        """Users started per second: a step's new users arrive within about a second."""
        return float(self.step_users)

    def step_at(self, t: float) -> int | None:
        """Index of the step running at `t` seconds into the run (None: the run is over)."""
        if t < 0:
            return 0
        index = int(t // self.step_seconds)
        return index if index < len(self.users) else None

    def measure_from(self, index: int) -> float:
        """When step `index`'s measured window opens (seconds into the run)."""
        return index * self.step_seconds + self.settle

    def measure_until(self, index: int) -> float:
        return (index + 1) * self.step_seconds


# --- snapshots and the figures of a step ------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Locust's running totals at one moment (all requests together)."""

    t: float  # seconds into the run
    users: int
    requests: int
    failures: int
    response_times: dict[int, int]  # rounded milliseconds -> count, as locust keeps them

    def as_dict(self) -> dict:
        return {"t": round(self.t, 3), "users": self.users, "requests": self.requests, "failures": self.failures,
                "response_times": {str(k): v for k, v in sorted(self.response_times.items())}}

    @classmethod
    def from_dict(cls, data: dict) -> "Snapshot":
        return cls(float(data["t"]), int(data["users"]), int(data["requests"]), int(data["failures"]),
                   {int(k): int(v) for k, v in data.get("response_times", {}).items()})


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The response time that `fraction` of the requests finished within (locust's own
    rule, so that a step's p95 reads like the p95 of locust's reports)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    allowed_above = int(total * fraction)
    processed = 0
    for value in sorted(histogram, reverse=True):
        processed += histogram[value]
        if total - processed <= allowed_above:
            return float(value)
    return float(min(histogram))


def between(start: Snapshot, end: Snapshot, users: int | None = None) -> Measured:
    """The figures of the requests made between two snapshots."""
    histogram = {ms: end.response_times.get(ms, 0) - start.response_times.get(ms, 0) for ms in end.response_times}
    histogram = {ms: count for ms, count in histogram.items() if count > 0}
    requests = max(end.requests - start.requests, 0)
    elapsed = max(end.t - start.t, 1e-9)
    return Measured(
        requests=requests,
        failures=max(end.failures - start.failures, 0),
        rps=requests / elapsed,
        p50_ms=percentile(histogram, 0.50),
        p95_ms=percentile(histogram, 0.95),
        p99_ms=percentile(histogram, 0.99),
        max_ms=float(max(histogram)) if histogram else None,
        users=users if users is not None else end.users,
        duration_s=elapsed,
    )


@dataclass(frozen=True)
class Step:
    index: int
    users: int
    measured: Measured
    verdict: SloVerdict

    def as_dict(self) -> dict:
        return {"index": self.index, "users": self.users, "ok": self.verdict.ok,
                "breaches": list(self.verdict.breaches), **self.measured.as_dict()}


def evaluate_step(index: int, users: int, start: Snapshot, end: Snapshot, slo: Slo) -> Step:
    measured = between(start, end, users)
    return Step(index, users, measured, evaluate(measured, slo, check_rps=False))


@dataclass(frozen=True)
class Capacity:
    """The outcome of a capacity search."""

    slo: Slo
    plan: StepPlan
    steps: tuple[Step, ...]
    capacity: Step | None  # the highest step of the unbroken passing run from the first
    first_breach: Step | None
    stopped_early: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def users(self) -> int:
        return self.capacity.users if self.capacity else 0

    @property
    def rps(self) -> float:
        return self.capacity.measured.rps if self.capacity else 0.0

    @property
    def reached_max(self) -> bool:
        """No step breached: the capacity is at least max_users (the search did not find the limit)."""
        return self.first_breach is None and self.capacity is not None and self.capacity.users == self.plan.max_users

    @property
    def holds_documented_load(self) -> bool:
        """The documented load (slo.users users, slo.min_rps requests/s) is within capacity."""
        return self.capacity is not None and self.users >= self.slo.users and self.rps >= self.slo.min_rps

    def summary(self) -> str:
        objectives = f"p95 ≤ {self.slo.p95_ms:g} ms, failures ≤ {self.slo.max_failure_ratio:.1%}"
        if self.capacity is None:
            head = f"no capacity within SLO ({objectives}): the first step ({self.plan.users[0]} users) already breached"
        else:
            measured = self.capacity.measured
            bound = "at least " if self.reached_max else ""
            head = (f"capacity within SLO ({objectives}): {bound}{self.users} users, {measured.rps:.1f} req/s "
                    f"(p95 {measured.p95_ms:.0f} ms, failures {measured.failure_ratio:.1%})")
        if self.first_breach is not None:
            head += f"; {self.first_breach.users} users breached: {'; '.join(self.first_breach.verdict.breaches)}"
        elif self.reached_max:
            head += f"; no step breached up to --max-users {self.plan.max_users}"
        documented = (f"documented load ({self.slo.users} users, ≥ {self.slo.min_rps:g} req/s) "
                      f"{'held' if self.holds_documented_load else 'NOT held'}")
        return f"{head}; {documented}"

    def as_dict(self) -> dict:
        return {
            "slo": self.slo.model_dump(),
            "plan": {"max_users": self.plan.max_users, "step_users": self.plan.step_users,
                     "step_seconds": self.plan.step_seconds, "settle_s": self.plan.settle,
                     "users": self.plan.users},
            "capacity": {"users": self.users, "rps": round(self.rps, 3),
                         "p95_ms": self.capacity.measured.p95_ms if self.capacity else None,
                         "failure_ratio": self.capacity.measured.failure_ratio if self.capacity else None,
                         "at_least": self.reached_max},
            "first_breach": self.first_breach.as_dict() if self.first_breach else None,
            "holds_documented_load": self.holds_documented_load,
            "stopped_early": self.stopped_early,
            "summary": self.summary(),
            "steps": [step.as_dict() for step in self.steps],
            "notes": list(self.notes),
        }


def find_capacity(steps: list[Step], slo: Slo, plan: StepPlan, *, stopped_early: bool = False,
                  notes: tuple[str, ...] = ()) -> Capacity:
    """The highest step, in the unbroken run of passing steps from the first one.

    Steps after the first breach are not counted even when they pass (a saturated service
    can look better for a moment while it sheds load or recovers)."""
    ordered = tuple(sorted(steps, key=lambda s: s.index))
    capacity = None
    first_breach = None
    for step in ordered:  # a step without any completed request breaches (see slo.evaluate)
        if not step.verdict.ok:
            first_breach = step
            break
        capacity = step
    return Capacity(slo, plan, ordered, capacity, first_breach, stopped_early, notes)


def steps_from_snapshots(records: list[dict], slo: Slo) -> list[Step]:
    """Per-step figures from the step records the shape writes: each has `index`,
    `users`, and `start`/`end` snapshots (dicts)."""
    steps = []
    for record in records:
        if not record.get("start") or not record.get("end"):
            continue
        steps.append(evaluate_step(int(record["index"]), int(record["users"]), Snapshot.from_dict(record["start"]),
                                   Snapshot.from_dict(record["end"]), slo))
    return steps
