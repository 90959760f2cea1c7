"""A chaos experiment's timeline as a picture: one row per observed probe, green where it
answered, red where it failed, the fault at t=0; and, where the experiment ran with its
users (--with-load), the users' view below on the same time axis: requests and failed
requests per second, per service."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

OK, FAILED, GREY = "#2da44e", "#cf222e", "#8c959f"


def render_timeline(journal: dict, path: Path) -> Path:
    timeline = journal["timeline"]
    probes = list(dict.fromkeys(o["probe"] for o in timeline))
    services = list(dict.fromkeys(row["service"] for row in journal.get("users") or []))
    heights = [0.45 * len(probes) + 1.0] + [1.3] * len(services)
    figure, axes = plt.subplots(1 + len(services), 1, figsize=(10, sum(heights) + 0.6), sharex=True,
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    _probes(axes[0][0], timeline, probes)
    axes[0][0].set_title(f"{journal['experiment']} on {journal['environment']}: green answered, red failed"
                         + (", and what the users saw" if services else ""), fontsize=10)
    for row, service in enumerate(services, start=1):
        _users(axes[row][0], [r for r in journal["users"] if r["service"] == service], service)
    axes[-1][0].set_xlabel("seconds since the fault")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _probes(axes, timeline: list[dict], probes: list[str]) -> None:
    for row, probe in enumerate(probes):
        samples = [o for o in timeline if o["probe"] == probe]
        for current, following in zip(samples, samples[1:] + [None]):
            end = following["t"] if following else current["t"] + 1
            axes.broken_barh([(current["t"], max(end - current["t"], 0.2))], (row - 0.35, 0.7),
                             facecolors=OK if current["ok"] else FAILED)
    axes.axvline(0, color="black", linewidth=1)
    axes.text(0, len(probes) - 0.3, " fault", fontsize=8, va="bottom")
    axes.set_yticks(range(len(probes)), probes, fontsize=8)
    axes.set_ylim(-0.6, len(probes) - 0.2)


def _users(axes, rows: list[dict], service: str) -> None:
    """Per second: the requests that succeeded (grey) with the failed ones stacked (red)."""
    t = [r["t"] for r in rows]
    failed = [r["failures"] for r in rows]
    served = [r["requests"] - r["failures"] for r in rows]
    axes.bar(t, served, width=1.0, align="edge", color=GREY, label="requests served")
    axes.bar(t, failed, width=1.0, align="edge", bottom=served, color=FAILED, label="requests failed")
    axes.axvline(0, color="black", linewidth=1)
    axes.set_ylabel(f"{service}\nreq/s", fontsize=8)
    axes.legend(loc="upper right", fontsize=7)
