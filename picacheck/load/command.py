"""`picacheck load SERVICE`: the capacity search of one service, printed and written as a
run folder (JSON, charts, locust's CSV and HTML); and `--worker`, this machine as a remote
worker of a master elsewhere.

Distributed runs: `--workers N` starts a locust master and N local worker processes. For
workers on other machines, start the master with `--remote-workers M --master-bind ADDRESS
[--master-port P]`, and on each other machine (a clone of picacheck with the same inventory,
CA file and secret files at the same paths, since the master forwards its options):

    picacheck load SERVICE --worker --master-host ADDRESS [--master-port P]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from picacheck.errors import UserError
from picacheck import guard
from picacheck.inventory import load_inventory
from picacheck.inventory.model import Slo
from picacheck.load import runner
from picacheck.load.capacity import Capacity, StepPlan
from picacheck.load.slo import task_rate
from picacheck.load.target import find_service, target_for

MAX_SEARCH_SECONDS = 3600
DEFAULT_MASTER_PORT = 5557


@dataclass(frozen=True)
class SearchOptions:
    max_users: int | None = None
    step_users: int | None = None
    step_seconds: float = 15.0
    workers: int = 0
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    p95_ms: float | None = None
    max_failure_ratio: float | None = None
    min_rps: float | None = None
    stop_on_breach: bool = True


def objectives(documented: Slo | None, options: SearchOptions, service: str) -> Slo:
    """The service's SLO from the inventory, with the command line's overrides."""
    overrides = {key: value for key, value in (("p95_ms", options.p95_ms),
                                               ("max_failure_ratio", options.max_failure_ratio),
                                               ("min_rps", options.min_rps)) if value is not None}
    if documented is None:
        if "p95_ms" not in overrides:
            raise UserError(f"the inventory documents no SLO for {service}: give at least --p95-ms "
                            "(and --max-failure-ratio, --min-rps)")
        return Slo(p95_ms=overrides["p95_ms"], max_failure_ratio=overrides.get("max_failure_ratio", 0.01),
                   min_rps=overrides.get("min_rps", 0), users=max(1, (options.max_users or 10) // 3), duration_s=30)
    return documented.model_copy(update=overrides)


def step_plan(slo: Slo, options: SearchOptions) -> StepPlan:
    max_users = options.max_users or 3 * slo.users
    step_users = options.step_users or max(1, round(max_users / 6))
    try:
        plan = StepPlan(max_users, step_users, options.step_seconds)
    except ValueError as error:
        raise UserError(f"step load: {error}") from None
    if plan.duration_s > MAX_SEARCH_SECONDS:
        raise UserError(f"step load: {len(plan.users)} steps of {plan.step_seconds:g} s last {plan.duration_s:.0f} s, "
                        f"more than the bound of {MAX_SEARCH_SECONDS} s: raise --step-users or lower --max-users")
    return plan


def capacity_search(service_name: str, inventory_path: str, options: SearchOptions, run_dir: Path,
                    out=print, grant: guard.Grant | None = None) -> int:
    """Search, print, write; exit status 0 when the documented load is within capacity."""
    inventory = load_inventory(inventory_path)
    service = find_service(inventory, service_name)
    target = target_for(inventory, service, inventory_path, grant=grant)
    slo = objectives(service.slo, options, service.name)
    plan = step_plan(slo, options)
    master_port = options.master_port
    if options.remote_workers:
        if options.master_bind in ("127.0.0.1", "localhost", "::1"):
            raise UserError("remote workers cannot reach a master bound to the loopback: give --master-bind ADDRESS")
        master_port = master_port or DEFAULT_MASTER_PORT
    rate = task_rate(slo)
    out_dir = run_dir / "load" / service.name
    pacing = f"{rate:g} tasks/s per user" if rate else "random think time"
    spread = (f", {options.workers} local worker(s)" if options.workers else "") + (
        f", {options.remote_workers} remote worker(s)" if options.remote_workers else "")
    out(f"{service.name} ({target.domain} via {', '.join(target.addresses)}): step load +{plan.step_users} users every "
        f"{plan.step_seconds:g} s up to {plan.max_users} (at most {plan.duration_s:.0f} s), {pacing}{spread}")
    capacity, run = runner.run_capacity(target, slo, plan, out_dir, workers=options.workers,
                                        remote_workers=options.remote_workers, master_bind=options.master_bind,
                                        master_port=master_port, stop_on_breach=options.stop_on_breach,
                                        rate=rate)
    for line in render_steps(capacity):
        out(line)
    for warning in run.warnings:
        out(f"warning: {warning}")
    out(capacity.summary())
    out(f"report: {out_dir / 'capacity.json'} (charts: capacity.png, chart.png; locust: locust.html, locust_*.csv)")
    return 0 if capacity.holds_documented_load else 1


def render_steps(capacity: Capacity) -> list[str]:
    lines = [f"  {'step':>4} {'users':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'failures':>9}  within SLO"]
    for step in capacity.steps:
        m = step.measured
        lines.append(f"  {step.index + 1:>4} {step.users:>5} {m.rps:>7.1f} {_ms(m.p50_ms):>7} {_ms(m.p95_ms):>7} "
                     f"{m.failure_ratio:>9.1%}  {'yes' if step.verdict.ok else 'NO: ' + '; '.join(step.verdict.breaches)}")
    return lines


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def worker(service_name: str, inventory_path: str, master_host: str, master_port: int | None, run_dir: Path,
           max_seconds: int = MAX_SEARCH_SECONDS, grant: guard.Grant | None = None) -> int:
    inventory = load_inventory(inventory_path)
    service = find_service(inventory, service_name)
    target = target_for(inventory, service, inventory_path, grant=grant)
    out_dir = run_dir / "load" / f"{service.name}-worker-{os.getpid()}"
    print(f"worker for {service.name}: connecting to the master at {master_host}:{master_port or DEFAULT_MASTER_PORT} "
          f"(log in {out_dir})")
    return runner.run_worker(target, master_host, master_port or DEFAULT_MASTER_PORT, out_dir, max_seconds=max_seconds)
