"""Service level objectives: what a load run measured, and whether that meets the SLO.

Pure: no locust, no I/O. The figures come from locust's CSV (see `results.py`) or from
the step-load snapshots (see `capacity.py`); the objectives from the inventory's `Slo`
(p95 latency, failure ratio, minimum throughput at `users` simulated users).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from picacheck.inventory.model import Slo


@dataclass(frozen=True)
class Measured:
    """What one run (or one step of a run) measured, all requests together."""

    requests: int
    failures: int
    rps: float  # requests per second over the run
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None = None
    max_ms: float | None = None
    users: int | None = None
    duration_s: float | None = None

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "failure_ratio": round(self.failure_ratio, 6)}

    def summary(self) -> str:
        """One line, for the claims matrix and the console."""
        who = f"{self.users} users" if self.users is not None else "?"
        during = f", {self.duration_s:.0f} s" if self.duration_s else ""
        return (f"{who}{during}: {self.requests} requests, {self.rps:.1f} req/s, p50 {_ms(self.p50_ms)}, "
                f"p95 {_ms(self.p95_ms)}, failures {self.failures} ({self.failure_ratio:.1%})")


@dataclass(frozen=True)
class Verdict:
    """Whether the measured figures meet each objective; `breaches` say how they do not."""

    slo: Slo
    measured: Measured
    breaches: tuple[str, ...] = field(default=())
    checked_rps: bool = True

    @property
    def ok(self) -> bool:
        return not self.breaches

    def objectives(self) -> str:
        text = f"p95 ≤ {self.slo.p95_ms:g} ms, failures ≤ {self.slo.max_failure_ratio:.1%}"
        if self.checked_rps:
            text += f", ≥ {self.slo.min_rps:g} req/s"
        return text

    def message(self) -> str:
        """What the claims matrix and a failing check say."""
        head = f"{self.measured.summary()} (SLO: {self.objectives()})"
        return head if self.ok else f"{head}: " + "; ".join(self.breaches)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "slo": self.slo.model_dump(), "measured": self.measured.as_dict(),
                "breaches": list(self.breaches)}


def evaluate(measured: Measured, slo: Slo, *, check_rps: bool = True) -> Verdict:
    """Compare a run's figures with the objectives.

    A run without any request breaches every objective (nothing was shown). `check_rps`
    is off for the steps of a capacity search, where throughput is the result, not a goal.
    """
    breaches = []
    if measured.requests == 0:
        breaches.append("no request completed")
    else:
        if measured.p95_ms is None or measured.p95_ms > slo.p95_ms:
            breaches.append(f"p95 {_ms(measured.p95_ms)} > {slo.p95_ms:g} ms")
        if measured.failure_ratio > slo.max_failure_ratio:
            breaches.append(f"failure ratio {measured.failure_ratio:.2%} ({measured.failures}/{measured.requests})"
                            f" > {slo.max_failure_ratio:.2%}")
        if check_rps and measured.rps < slo.min_rps:
            breaches.append(f"throughput {measured.rps:.2f} req/s < {slo.min_rps:g} req/s")
    return Verdict(slo, measured, tuple(breaches), checked_rps=check_rps)


def task_rate(slo: Slo, headroom: float = 1.25) -> float:
    """Tasks per second per simulated user, so that `slo.users` users offer the documented
    load (`min_rps`, each task being one request) with some headroom: the service must then
    deliver at least `min_rps` while meeting its latency and error objectives (0: no pacing)."""
    if slo.min_rps <= 0:
        return 0.0  # no throughput objective: users take a random think time instead
    return round(slo.min_rps * headroom / slo.users, 4)


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


# --- the lab's objectives ------------------------------------------------------------------
#
# Proposed values for the embedded lab (every service, its databases, both Traefiks, the
# DNS and the load generator share two cores there), by lab service name. The lab inventory
# writer should emit them as each service's `slo:` (see picacheck/load/README.md);
# until it does, `with_slos()` adds them to a copy of the lab inventory.
# max_outage_s: DNS round robin with a browser's failover to the other address; a service
# whose only task was on the dead node is down until Swarm moves it (seconds, if it does).
PROPOSED_LAB_SLOS: dict[str, dict] = {
    "etherpad": {"p95_ms": 1500, "max_failure_ratio": 0.01, "min_rps": 4, "users": 4, "duration_s": 20,
                 "max_outage_s": 30},
    # Logins are ~10% of a short chat run and Synapse hashes passwords (bcrypt, ~1 s here).
    "synapse": {"p95_ms": 2500, "max_failure_ratio": 0.01, "min_rps": 2, "users": 4, "duration_s": 20,
                "max_outage_s": 30},
    "dokuwiki": {"p95_ms": 1500, "max_failure_ratio": 0.01, "min_rps": 4, "users": 4, "duration_s": 20,
                 "max_outage_s": 30},
    "traefik": {"p95_ms": 800, "max_failure_ratio": 0.01, "min_rps": 8, "users": 4, "duration_s": 15,
                "max_outage_s": 30},
}


def with_slos(inventory_data: dict, slos: dict[str, dict], *, replace: bool = False) -> dict:
    """A copy of an inventory (as loaded YAML) where the services named in `slos` carry
    those objectives (only those without one, unless `replace`)."""
    copy = {**inventory_data, "services": []}
    for service in inventory_data.get("services", []):
        service = dict(service)
        if service.get("name") in slos and (replace or not service.get("slo")):
            service["slo"] = dict(slos[service["name"]])
        copy["services"].append(service)
    return copy
