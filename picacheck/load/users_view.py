"""Game day: what the users see while a fault lasts (claim X8).

`UsersDuringFault` runs beside an experiment (the runner's "companion"): each chosen
service's locust scenario at a steady, bounded rate (its SLO's users and pace), from before
the steady state until after the rollback, every request logged as one JSON line. Users
spread over the round-robin nodes and, like a browser with two addresses, move to the next
node when theirs does not answer at all (--failover).

Afterwards the users' view goes into the journal on the probes' time axis: per second and
service, requests, failures, p95. Figures per service: requests and failures during the
fault, the longest stretch of seconds where the failure ratio is above the SLO's, p95 during
the fault against the SLO, and the users' RTO (from the fault until the failure ratio is
back within the SLO for good). X8's verdict compares the longest stretch with the service's
documented `slo.max_outage_s` (no objective documented: reported, not checked).
"""

from __future__ import annotations

import json
from collections import Counter
import math
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from picacheck.chaos.journal import ClaimVerdict, Journal
from picacheck.claims import Verdict
from picacheck.errors import UserError
from picacheck.inventory.model import Inventory, Slo
from picacheck.load.results import RunFiles
from picacheck.load.runner import locust_command
from picacheck.load.slo import task_rate
from picacheck.load.target import Target, find_service, target_for
from picacheck.processes import stop_group
from picacheck.progress import say

MAX_RUN_S = 3600  # locust stops by itself after this long, whatever happens to the suite
READY_WAIT_S = 90  # the users' set-up (pads made, accounts registered) before the steady state
DEFAULT_SLO = Slo(p95_ms=1500, max_failure_ratio=0.01, min_rps=1, users=4, duration_s=30)
CLAIM = "X8"


@dataclass
class _Scenario:
    service: str
    target: Target
    slo: Slo
    files: RunFiles
    requests: Path
    process: subprocess.Popen | None = None


class UsersDuringFault:
    """A companion of an experiment (see picacheck/chaos/runner.py): start(), stop(), journal()."""

    def __init__(self, inventory: Inventory, inventory_path: str, services: list[str], out_dir: Path, grant=None):
        self.scenarios = []
        for name in services:
            service = find_service(inventory, name)
            target = target_for(inventory, service, inventory_path, grant=grant)
            directory = out_dir / service.name
            directory.mkdir(parents=True, exist_ok=True)
            self.scenarios.append(_Scenario(service.name, target, service.slo or DEFAULT_SLO,
                                            RunFiles(directory, "locust"), directory / "requests.jsonl"))
        self.offset = 0.0  # wall clock minus monotonic clock, when the load started

    def start(self) -> None:
        self.offset = time.time() - time.monotonic()
        for scenario in self.scenarios:
            scenario.requests.unlink(missing_ok=True)
            users = scenario.slo.users
            command = locust_command([scenario.target.locustfile], scenario.target, scenario.files,
                                     rate=task_rate(scenario.slo),
                                     extra=["-u", str(users), "-r", str(users), "-t", f"{MAX_RUN_S}s",
                                            "--request-log", str(scenario.requests), "--failover"])
            output = (scenario.files.directory / "locust.out").open("wb")
            scenario.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                                stdin=subprocess.DEVNULL, cwd=scenario.files.directory,
                                                start_new_session=True)
            output.close()
        self._wait_ready()
        say(f"users' view: {', '.join(f'{s.service} ({s.slo.users} users)' for s in self.scenarios)} running")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WAIT_S
        for scenario in self.scenarios:
            while not scenario.files.ready.exists():
                if scenario.process.poll() is not None:
                    raise UserError(f"the load of {scenario.service} stopped at its start "
                                    f"(see {scenario.files.directory / 'locust.out'})")
                if time.monotonic() > deadline:
                    raise UserError(f"the users of {scenario.service} were not ready within {READY_WAIT_S}s")
                time.sleep(0.5)

    def stop(self) -> None:
        for scenario in self.scenarios:
            _stop(scenario.process)

    def journal(self, journal: Journal, fault_at: float | None) -> None:
        if fault_at is None or not journal.timeline:
            return
        fault_wall = fault_at + self.offset
        end = max(o.t for o in journal.timeline)  # the end of the observation
        figures, seconds = {}, []
        for scenario in self.scenarios:
            rows = per_second(read_requests(scenario.requests), fault_wall)
            seconds += [{"service": scenario.service, **row} for row in rows]
            figures[scenario.service] = users_figures(rows, scenario.slo, end)
        journal.users = sorted(seconds, key=lambda row: (row["t"], row["service"]))
        journal.figures["users"] = figures
        if CLAIM in journal.claims:
            journal.verdicts = [v for v in journal.verdicts if v.claim != CLAIM] + [x8_verdict(figures)]


def _stop(process: subprocess.Popen | None) -> None:
    """SIGTERM first (locust stops its users and writes its files), then SIGKILL."""
    stop_group(process, ((signal.SIGTERM, 20), (signal.SIGKILL, 5)))


def read_requests(path: Path) -> list[dict]:
    """The request log's lines (a last line cut by the stop is skipped)."""
    if not path.exists():
        return []
    requests = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            requests.append(json.loads(line))
        except ValueError:
            continue
    return requests


def per_second(requests: list[dict], fault_wall: float) -> list[dict]:
    """Per second since the fault (t < 0: before it): the requests that ended in it, their
    failures and p95 (ms), and the requests *in flight* in it, failed or not. A request is
    logged when it ends; one that hung 30 s before failing kept its user waiting for all of
    those seconds, so it counts in each of them (`in_flight`, `failed_in_flight`)."""
    ended: dict[int, list[dict]] = {}
    in_flight: Counter = Counter()
    failed_in_flight: Counter = Counter()
    for request in requests:
        if request.get("name", "").startswith("[setup]"):
            continue
        end = request["t"] - fault_wall
        ended.setdefault(math.floor(end), []).append(request)
        for second in range(math.floor(end - request["ms"] / 1000), math.floor(end) + 1):
            in_flight[second] += 1
            failed_in_flight[second] += not request["ok"]
    rows = []
    for second in sorted(set(ended) | set(in_flight)):
        times = sorted(r["ms"] for r in ended.get(second, []))
        rows.append({"t": float(second), "requests": len(times), "failures": sum(not r["ok"] for r in ended.get(second, [])),
                     "p95_ms": times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else None,
                     "in_flight": in_flight[second], "failed_in_flight": failed_in_flight[second]})
    return rows


def _failing(row: dict, slo: Slo) -> bool:
    """More of the requests in flight in this second failed than the SLO allows."""
    total, failed = row.get("in_flight", row["requests"]), row.get("failed_in_flight", row["failures"])
    return total > 0 and failed / total > slo.max_failure_ratio


def users_figures(rows: list[dict], slo: Slo, end: float) -> dict:
    """The users' figures during the fault (0 ≤ t ≤ end)."""
    during = [row for row in rows if 0 <= row["t"] <= end]
    failing = [row["t"] for row in during if _failing(row, slo)]
    times = [row["p95_ms"] for row in during if row["p95_ms"] is not None]
    longest = run = 0
    previous = None
    for second in failing:
        run = run + 1 if previous is not None and second == previous + 1 else 1
        longest, previous = max(longest, run), second
    recovered = 0.0 if not failing else (failing[-1] + 1 if failing[-1] + 1 <= end else None)
    return {"requests_during_fault": sum(row["requests"] for row in during),
            "failed_during_fault": sum(row["failures"] for row in during),
            "seconds_above_slo_failure_ratio": len(failing), "longest_failing_stretch_s": float(longest),
            "p95_during_fault_ms": max(times) if times else None, "slo_p95_ms": slo.p95_ms,
            "p95_within_slo": bool(times) and max(times) <= slo.p95_ms,
            "slo_max_failure_ratio": slo.max_failure_ratio, "users_rto_s": recovered,
            "max_outage_s": slo.max_outage_s}


def _in_flight(row: dict | None) -> int:
    return 0 if row is None else row.get("in_flight", row["requests"])  # journals before in_flight: ended ones


def x8_verdict(figures: dict) -> ClaimVerdict:
    judged = {name: f for name, f in figures.items() if f["max_outage_s"] is not None}
    lines = [f"{name}: {f['failed_during_fault']} of {f['requests_during_fault']} requests failed during the fault, "
             f"the longest stretch above the SLO's failure ratio {f['longest_failing_stretch_s']:.0f} s"
             + (f" (objective {f['max_outage_s']:g} s)" if f["max_outage_s"] is not None else "")
             + (f", users' RTO {f['users_rto_s']:g} s" if f["users_rto_s"] is not None else
                ", not recovered for its users within the observation")
             for name, f in figures.items()]
    if not judged:
        return ClaimVerdict(CLAIM, Verdict.not_checked,
                            "no service documents slo.max_outage_s: " + "; ".join(lines))
    over = [name for name, f in judged.items() if f["longest_failing_stretch_s"] > f["max_outage_s"]]
    return ClaimVerdict(CLAIM, Verdict.broken if over else Verdict.holds,
                        "; ".join(lines) + (f". Beyond their objective: {', '.join(over)}" if over else ""))


def consistency(journal: dict, service_probe: dict[str, str], tolerance_s: float = 3.0) -> list[str]:
    """Do the users' failures agree with the probes? For each service, the seconds where its
    probe (through the surviving node) failed must show failing user requests too, but for
    at most `tolerance_s` seconds without a request. Returns the disagreements (empty:
    consistent)."""
    problems = []
    for service, probe in service_probe.items():
        down = {math.floor(o["t"]) for o in journal["timeline"] if o["probe"] == probe and not o["ok"] and o["t"] >= 0}
        rows = {row["t"]: row for row in journal["users"] if row["service"] == service and row["t"] >= 0}
        users_failing = {int(t) for t, row in rows.items() if row.get("failed_in_flight", row["failures"])}
        missed = sorted(second for second in down if _in_flight(rows.get(float(second)))
                        and second not in users_failing)
        if len(missed) > tolerance_s:
            problems.append(f"{service}: the probe saw it down in {len(down)} s, the users saw no failure in "
                            f"{len(missed)} of them (e.g. t={missed[:5]})")
    return problems
