"""Load charts as PNG pictures (matplotlib, no display): a run's throughput, latency
percentiles and failures over time; a capacity search's figures per step."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402

from picacheck.inventory.model import Slo  # noqa: E402
from picacheck.load.capacity import Capacity  # noqa: E402
from picacheck.load.results import Sample  # noqa: E402

GREEN, RED, BLUE, GREY, ORANGE = "#2da44e", "#cf222e", "#0969da", "#6e7781", "#bc4c00"


def render_history(samples: list[Sample], path: Path, title: str, slo: Slo | None = None,
                   step_bounds: list[float] | None = None) -> Path:
    """Three stacked panels over the run's seconds: req/s (and users), p50/p95/p99 latency
    (last ~10 s, with the p95 objective), failures/s."""
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(10, 7), sharex=True,
                                                 gridspec_kw={"height_ratios": [3, 3, 2]})
    start = samples[0].timestamp if samples else 0
    t = [s.timestamp - start for s in samples]
    top.plot(t, [s.rps for s in samples], color=BLUE, label="requests/s")
    top.set_ylabel("requests/s")
    users_axis = top.twinx()
    users_axis.step(t, [s.users for s in samples], where="post", color=GREY, linestyle="--", label="users")
    users_axis.set_ylabel("users", color=GREY)
    if slo is not None and slo.min_rps:
        top.axhline(slo.min_rps, color=ORANGE, linewidth=1, linestyle=":", label=f"SLO ≥ {slo.min_rps:g} req/s")
    top.legend(loc="upper left", fontsize=8)
    for name, colour, values in (("p50", GREEN, [s.p50_ms for s in samples]),
                                 ("p95", ORANGE, [s.p95_ms for s in samples]),
                                 ("p99", RED, [s.p99_ms for s in samples])):
        middle.plot(t, [v if v is not None else float("nan") for v in values], color=colour, label=name)
    if slo is not None:
        middle.axhline(slo.p95_ms, color=ORANGE, linewidth=1, linestyle=":", label=f"SLO p95 ≤ {slo.p95_ms:g} ms")
    middle.set_ylabel("latency (ms, last 10 s)")
    middle.legend(loc="upper left", fontsize=8)
    bottom.bar(t, [s.failures_per_s for s in samples], color=RED, width=0.9, label="failures/s")
    bottom.set_ylabel("failures/s")
    bottom.set_xlabel("seconds since the start of the run")
    for bound in step_bounds or []:
        for axes in (top, middle, bottom):
            axes.axvline(bound, color=GREY, linewidth=0.5, alpha=0.5)
    top.set_title(textwrap.fill(title, 110), fontsize=10)
    figure.tight_layout()
    return _save(figure, path)


def render_capacity(capacity: Capacity, path: Path, title: str) -> Path:
    """Per step: throughput (bars, green within SLO, red beyond) and p95 against the objective."""
    figure, axes = plt.subplots(figsize=(10, 4.5))
    steps = capacity.steps
    users = [step.users for step in steps]
    width = max(min(capacity.plan.step_users * 0.6, 8), 0.6)
    colours = [GREEN if step.verdict.ok else RED for step in steps]
    axes.bar(users, [step.measured.rps for step in steps], width=width, color=colours, alpha=0.8)
    axes.set_xlabel("users")
    axes.set_ylabel("requests/s (bars)")
    latency = axes.twinx()
    latency.plot(users, [step.measured.p95_ms if step.measured.p95_ms is not None else float("nan") for step in steps],
                 color=ORANGE, marker="o", label="p95")
    latency.axhline(capacity.slo.p95_ms, color=ORANGE, linestyle=":", linewidth=1,
                    label=f"SLO p95 ≤ {capacity.slo.p95_ms:g} ms")
    latency.set_ylabel("p95 (ms)", color=ORANGE)
    latency.legend(loc="upper left", fontsize=8)
    if capacity.capacity is not None:
        axes.annotate(f"capacity {capacity.users} users\n{capacity.rps:.1f} req/s",
                      xy=(capacity.capacity.users, capacity.rps / 2), ha="center", va="center", fontsize=8,
                      bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8})
    axes.set_ylim(0, max([step.measured.rps for step in steps] + [1]) * 1.15)
    axes.set_title(textwrap.fill(title, 110), fontsize=10)
    figure.tight_layout()
    return _save(figure, path)


def _save(figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
