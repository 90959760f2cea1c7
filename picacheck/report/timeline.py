"""A chaos experiment's timeline as a picture: one row per observed probe, green where it
answered, red where it failed, the fault at t=0."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only
import matplotlib.pyplot as plt  # noqa: E402

OK, FAILED = "#2da44e", "#cf222e"


def render_timeline(journal: dict, path: Path) -> Path:
    timeline = journal["timeline"]
    probes = list(dict.fromkeys(o["probe"] for o in timeline))
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(probes) + 1.4))
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
    axes.set_xlabel("seconds since the fault")
    axes.set_title(f"{journal['experiment']} on {journal['environment']}: green answered, red failed", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
