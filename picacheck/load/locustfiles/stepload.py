"""A step-load shape for the capacity search: add it to a scenario's locustfile,

    locust -f picacheck/load/locustfiles/wiki.py,picacheck/load/locustfiles/stepload.py \\
        --host https://wiki.picasoft.test --ca-file … --node-address … --headless \\
        --max-users 20 --step-users 4 --step-seconds 15 --slo-p95-ms 1500 --slo-max-failure-ratio 0.01 \\
        --steps-file steps.json

and the run raises the users by --step-users every --step-seconds up to --max-users. At the
start of each step's measured window (after --settle-seconds) and at its end it snapshots
locust's totals; each finished step's figures are checked against the latency and error
objectives, and with --stop-on-breach the run ends at the first step that breaks them (the
capacity is then known). The snapshots go to --steps-file (JSON) after every step, for
`picacheck.load.capacity` to evaluate. The shape runs on the master (or the only process).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from locust import LoadTestShape, events

from picacheck.inventory.model import Slo
from picacheck.load.capacity import Snapshot, StepPlan, evaluate_step

logger = logging.getLogger("picacheck.load")


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    add = parser.add_argument
    add("--max-users", env_var="PICACHECK_MAX_USERS", type=int, default=20, include_in_web_ui=False,
        help="picacheck step load: the last step's user count")
    add("--step-users", env_var="PICACHECK_STEP_USERS", type=int, default=5, include_in_web_ui=False,
        help="picacheck step load: users added at each step")
    add("--step-seconds", env_var="PICACHECK_STEP_SECONDS", type=float, default=15.0, include_in_web_ui=False,
        help="picacheck step load: length of a step")
    add("--settle-seconds", env_var="PICACHECK_SETTLE_SECONDS", type=float, default=-1.0, include_in_web_ui=False,
        help="picacheck step load: unmeasured start of each step (default: a third of a step, at most 5 s)")
    add("--slo-p95-ms", env_var="PICACHECK_SLO_P95_MS", type=float, default=0.0, include_in_web_ui=False,
        help="picacheck step load: p95 objective (ms), for --stop-on-breach")
    add("--slo-max-failure-ratio", env_var="PICACHECK_SLO_MAX_FAILURE_RATIO", type=float, default=0.01,
        include_in_web_ui=False, help="picacheck step load: failure ratio objective, for --stop-on-breach")
    add("--stop-on-breach", env_var="PICACHECK_STOP_ON_BREACH", action="store_true", default=False,
        include_in_web_ui=False, help="picacheck step load: end the run at the first step that breaks the objectives")
    add("--steps-file", env_var="PICACHECK_STEPS_FILE", default="", include_in_web_ui=False,
        help="picacheck step load: where to write the per-step snapshots (JSON)")


class StepLoadShape(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict] = []
        self.stopped_early = False
        self._plan: StepPlan | None = None

    # --- configuration -------------------------------------------------------------------

    def plan(self) -> StepPlan:
        if self._plan is None:
            options = self.runner.environment.parsed_options
            settle = getattr(options, "settle_seconds", -1.0)
            self._plan = StepPlan(int(options.max_users), int(options.step_users), float(options.step_seconds),
                                  settle_s=None if settle is None or settle < 0 else float(settle))
            self.records = [{"index": i, "users": users, "start": None, "end": None}
                            for i, users in enumerate(self._plan.users)]
        return self._plan

    def slo(self) -> Slo | None:
        options = self.runner.environment.parsed_options
        if not getattr(options, "slo_p95_ms", 0):
            return None
        return Slo(p95_ms=float(options.slo_p95_ms), max_failure_ratio=float(options.slo_max_failure_ratio),
                   min_rps=0, users=1, duration_s=1)

    # --- the shape -----------------------------------------------------------------------

    def tick(self):
        plan = self.plan()
        t = self.get_run_time()
        self._observe(plan, t)
        index = plan.step_at(t)
        if index is None or self.stopped_early:
            self._write()
            return None
        return plan.users[index], plan.spawn_rate

    def _snapshot(self, t: float) -> Snapshot:
        total = self.runner.stats.total
        return Snapshot(t, int(self.runner.user_count), int(total.num_requests), int(total.num_failures),
                        dict(total.response_times))

    def _observe(self, plan: StepPlan, t: float) -> None:
        for record in self.records:
            index = record["index"]
            if record["start"] is None and plan.measure_from(index) <= t < plan.measure_until(index):
                record["start"] = self._snapshot(t).as_dict()
            elif record["start"] is not None and record["end"] is None and t >= plan.measure_until(index):
                record["end"] = self._snapshot(t).as_dict()
                self._step_done(record)

    def _step_done(self, record: dict) -> None:
        slo = self.slo()
        if slo is not None:
            step = evaluate_step(record["index"], record["users"], Snapshot.from_dict(record["start"]),
                                 Snapshot.from_dict(record["end"]), slo)
            record["ok"] = step.verdict.ok
            logger.info("picacheck step %d (%d users): %s", step.index, step.users, step.verdict.message())
            if not step.verdict.ok and getattr(self.runner.environment.parsed_options, "stop_on_breach", False):
                self.stopped_early = True
        self._write()

    def _write(self) -> None:
        path = getattr(self.runner.environment.parsed_options, "steps_file", "")
        if not path:
            return
        data = {"steps": self.records, "stopped_early": self.stopped_early, "pid": os.getpid()}
        target = Path(path)
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=1))
        temporary.replace(target)
