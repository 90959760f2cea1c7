"""Running locust headless as child processes, bounded in time, and reading what it wrote.

Locust patches the standard library with gevent when it is imported, so it never runs
inside the suite's own process: each run is `python -m locust …` (a master and workers for
a distributed run), in its own session so that a run that overstays its bound is killed
with everything it started. Each run writes into its folder:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    locust.html      locust's own report          locust.log / locust.out   its log and output
    chart.png        throughput, latency percentiles and failures over time
    summary.json     the figures and the verdict (SLO run)
    capacity.json, capacity.png, steps.json      (capacity search)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from picacheck.errors import UserError
from picacheck.inventory.model import Slo
from picacheck.load import chart
from picacheck.load.capacity import Capacity, StepPlan, find_capacity, steps_from_snapshots
from picacheck.load.results import Failure, RunFiles, aggregated, steady_rps
from picacheck.load.slo import Measured, SloVerdict, evaluate, task_rate
from picacheck.load.target import STEP_SHAPE, Target
from picacheck.processes import stop_group

STOP_TIMEOUT_S = 10  # locust lets running tasks finish this long at the end
START_MARGIN_S = 60  # start-up, set-up of users, report writing
CPU_WARNING = "CPU usage above"


class LoadError(UserError):
    """A load run that could not be made (locust did not start, or overstayed its bound)."""


@dataclass
class LoadRun:
    target: Target
    files: RunFiles
    users: int
    duration_s: float
    measured: Measured
    verdict: SloVerdict | None = None
    failures: list[Failure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    chart: Path | None = None
    elapsed_s: float = 0.0

    def evidence(self) -> str:
        """One paragraph for the claims matrix."""
        head = self.verdict.message() if self.verdict else self.measured.summary()
        lines = [f"{self.target.service} ({self.target.domain} via {', '.join(self.target.addresses)}): {head}"]
        lines += [f"warning: {warning}" for warning in self.warnings]
        lines += [f"failure: {f.occurrences}× {f.method} {f.name}: {f.error[:160]}" for f in self.failures[:3]]
        return "\n".join(lines)


def warmup_s(duration_s: float) -> float:
    """The least of an SLO run's start left out of its throughput (users set themselves up;
    a scenario whose set-up is longer notes when every user is ready: see `_ready_at`)."""
    return min(3.0, duration_s / 4)


def _ready_at(out: RunFiles) -> float | None:
    try:
        return float(json.loads(out.ready.read_text())["all_ready_at"])
    except (OSError, ValueError, KeyError):
        return None


def run_id() -> str:
    return f"{time.strftime('%H%M%S')}{os.getpid() % 1000:03d}"


def locust_command(files: list[Path], target: Target, out: RunFiles, *, extra: list[str] = (),
                   rate: float = 0.0, run_name: str | None = None) -> list[str]:
    """The command line of a headless locust run (no secret in it: only file paths)."""
    return [
        sys.executable, "-m", "locust",
        "-f", ",".join(str(f) for f in files),
        *target.locust_options(),
        "--headless",
        "--csv", str(out.csv_prefix), "--csv-full-history",
        "--html", str(out.html),
        "--only-summary",
        "--exit-code-on-error", "0",
        "--stop-timeout", str(STOP_TIMEOUT_S),
        "--logfile", str(out.log), "--loglevel", "INFO",
        "--task-rate", f"{rate:g}",
        "--run-id", run_name or run_id(),
        "--ready-file", str(out.ready),
        *extra,
    ]


def run_slo(target: Target, slo: Slo, out_dir: Path, *, users: int | None = None,
            duration_s: int | None = None, rate: float | None = None) -> LoadRun:
    """The documented load (slo.users users for slo.duration_s, each pacing its tasks so that
    together they offer min_rps with some headroom), then the SLO verdict: latency and
    failures over every measured request, throughput from when every user has set itself
    up (logged in, made its pad; at least `warmup_s`) to the end of the duration."""
    users = users or slo.users
    duration_s = duration_s or slo.duration_s
    rate = task_rate(slo) if rate is None else rate
    out = _prepare(out_dir)
    command = locust_command([target.locustfile], target, out, rate=rate,
                             extra=["-u", str(users), "-r", str(users), "-t", f"{duration_s}s"])
    started = time.monotonic()
    _run([command], out, timeout_s=duration_s + STOP_TIMEOUT_S + START_MARGIN_S)
    measured = aggregated(out.read_stats(), users=users, duration_s=duration_s)
    samples = out.read_history()
    ready_at = _ready_at(out)
    if samples:
        start = samples[0].timestamp
        steady = steady_rps(samples, max(ready_at or 0, start + warmup_s(duration_s)), start + duration_s)
        if steady is not None:
            measured = replace(measured, rps=steady)
    run = LoadRun(target, out, users, duration_s, measured, evaluate(measured, slo), out.read_failures(),
                  _warnings(out), elapsed_s=time.monotonic() - started)
    run.chart = _history_chart(out, f"{target.service}: {users} users, {duration_s} s", slo)
    (out_dir / "summary.json").write_text(json.dumps({
        "service": target.service, "domain": target.domain, "nodes": list(target.addresses),
        "users": users, "duration_s": duration_s, "task_rate_per_user": rate, "rps_from_all_users_ready_at": ready_at,
        "verdict": run.verdict.as_dict(), "warnings": run.warnings,
        "failures": [f.__dict__ for f in run.failures],
    }, indent=2))
    return run


def run_capacity(target: Target, slo: Slo, plan: StepPlan, out_dir: Path, *, workers: int = 0,
                 remote_workers: int = 0, master_bind: str = "127.0.0.1", master_port: int | None = None,
                 stop_on_breach: bool = True, rate: float | None = None) -> tuple[Capacity, LoadRun]:
    """The step-load capacity search; with workers, a locust master and that many local
    worker processes (plus remote ones that connect to master_bind:master_port)."""
    rate = task_rate(slo) if rate is None else rate
    out = _prepare(out_dir)
    steps_file = out_dir / "steps.json"
    name = run_id()
    files = [target.locustfile, STEP_SHAPE]
    shape_options = ["--max-users", str(plan.max_users), "--step-users", str(plan.step_users),
                     "--step-seconds", f"{plan.step_seconds:g}", "--settle-seconds", f"{plan.settle:g}",
                     "--slo-p95-ms", f"{slo.p95_ms:g}", "--slo-max-failure-ratio", f"{slo.max_failure_ratio:g}",
                     "--steps-file", str(steps_file), *(["--stop-on-breach"] if stop_on_breach else [])]
    commands = []
    expected = workers + remote_workers
    if expected:
        port = master_port or free_port(master_bind)
        master_extra = ["--master", "--master-bind-host", master_bind, "--master-bind-port", str(port),
                        "--expect-workers", str(expected), "--expect-workers-max-wait", "120"]
        commands.append(locust_command(files, target, out, rate=rate, run_name=name, extra=shape_options + master_extra))
        for index in range(workers):
            worker_out = RunFiles(out_dir, f"worker{index}")
            commands.append(worker_command(files, target, worker_out, "127.0.0.1" if master_bind in ("0.0.0.0", "*")
                                           else master_bind, port, rate=rate, run_name=name))
    else:
        commands.append(locust_command(files, target, out, rate=rate, run_name=name, extra=shape_options))
    started = time.monotonic()
    timeout = plan.duration_s + STOP_TIMEOUT_S + START_MARGIN_S + (120 if expected else 0)
    _run(commands, out, timeout_s=timeout)
    data = json.loads(steps_file.read_text()) if steps_file.exists() else {"steps": [], "stopped_early": False}
    steps = steps_from_snapshots(data["steps"], slo)
    warnings = _warnings(out) + [w for i in range(workers) for w in _warnings(RunFiles(out_dir, f"worker{i}"))]
    capacity = find_capacity(steps, slo, plan, stopped_early=bool(data.get("stopped_early")),
                             notes=tuple(dict.fromkeys(warnings)))
    measured = aggregated(out.read_stats(), users=plan.max_users, duration_s=plan.duration_s)
    run = LoadRun(target, out, plan.max_users, plan.duration_s, measured, None, out.read_failures(),
                  list(dict.fromkeys(warnings)), elapsed_s=time.monotonic() - started)
    bounds = [i * plan.step_seconds for i in range(1, len(plan.users))]
    run.chart = _history_chart(out, f"{target.service}: step load, +{plan.step_users} users every "
                                    f"{plan.step_seconds:g} s up to {plan.max_users}", slo, bounds)
    if capacity.steps:
        chart.render_capacity(capacity, out_dir / "capacity.png", f"{target.service}: {capacity.summary()}")
    (out_dir / "capacity.json").write_text(json.dumps({
        "service": target.service, "domain": target.domain, "nodes": list(target.addresses),
        "task_rate_per_user": rate, "workers": workers, "remote_workers": remote_workers,
        **capacity.as_dict(),
    }, indent=2))
    return capacity, run


def worker_command(files: list[Path], target: Target, out: RunFiles, master_host: str, master_port: int, *,
                   rate: float = 0.0, run_name: str | None = None) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", ",".join(str(f) for f in files), *target.locust_options(),
        "--worker", "--master-host", master_host, "--master-port", str(master_port),
        "--logfile", str(out.log), "--loglevel", "INFO", "--task-rate", f"{rate:g}",
        "--run-id", run_name or run_id(),
    ]


def run_worker(target: Target, master_host: str, master_port: int, out_dir: Path, *, step_shape: bool = True,
               max_seconds: int = 3600) -> int:
    """This machine as one remote worker of a master elsewhere (`picacheck load … --worker`).
    The master forwards its options (CA file, secrets' paths, rate): they must exist at the
    same paths here. Bounded: the worker is stopped after max_seconds."""
    out = _prepare(out_dir, prefix="worker")
    files = [target.locustfile, *([STEP_SHAPE] if step_shape else [])]
    _run([worker_command(files, target, out, master_host, master_port)], out, timeout_s=max_seconds)
    return 0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host if host not in ("*", "") else "0.0.0.0", 0))
        return probe.getsockname()[1]


# --- processes ---------------------------------------------------------------------------


def _prepare(out_dir: Path, prefix: str = "locust") -> RunFiles:
    out_dir.mkdir(parents=True, exist_ok=True)
    return RunFiles(out_dir, prefix)


def _run(commands: list[list[str]], out: RunFiles, timeout_s: float) -> None:
    """Start the processes (the first is the master or the only one), wait for the first to
    end within timeout_s, then for the others a little; kill whatever is left."""
    processes = []
    outputs = []
    try:
        for index, command in enumerate(commands):
            output = (out.directory / (f"{out.prefix}.out" if index == 0 else f"worker{index - 1}.out")).open("wb")
            outputs.append(output)
            processes.append(subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              cwd=out.directory, start_new_session=True))
        main = processes[0]
        try:
            code = main.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LoadError(f"locust overstayed its bound of {timeout_s:.0f} s and was stopped "
                            f"(log: {out.log})") from None
        for process in processes[1:]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        if code != 0:
            raise LoadError(f"locust exited with status {code}: {_tail(out)}")
    finally:
        for process in processes:
            stop_group(process)
        for output in outputs:
            output.close()


def _tail(out: RunFiles, lines: int = 6) -> str:
    text = ""
    for path in (out.directory / f"{out.prefix}.out", out.log):
        if path.exists():
            text += path.read_text(errors="replace")
    interesting = [line for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(interesting) or f"no output (see {out.directory})"


def _warnings(out: RunFiles) -> list[str]:
    warnings = []
    text = ""
    for path in (out.log, out.directory / f"{out.prefix}.out"):
        if path.exists():
            text += path.read_text(errors="replace")
    if CPU_WARNING in text:
        warnings.append("the load generator's CPU went above 90%: the figures may be limited by the generator")
    for line in text.splitlines():
        if "picacheck:" in line and "ERROR" in line:
            warnings.append(line.split("picacheck:", 1)[1].strip())
    return list(dict.fromkeys(warnings))


def _history_chart(out: RunFiles, title: str, slo: Slo, bounds: list[float] | None = None) -> Path | None:
    samples = out.read_history()
    if not samples:
        return None
    return chart.render_history(samples, out.directory / "chart.png", title, slo, bounds)
