"""Section 4 of the report: the failure drills (chaos journals), each with its timeline
picture, its verdicts and its measured recovery, data loss and availability."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from picacheck.claims import Status
from picacheck.report import drills
from picacheck.report.html_parts import badge, esc, picture, plain_badge, table
from picacheck.report.rundir import Drill, RunFolder

# The claims the failure drills give a verdict on (chaos/test_experiments.py's PLAN); B8's
# loss bound is measured by lose-database too.
DRILL_CLAIMS = ("X1", "X2", "X3", "X4", "X5", "X6", "X7", "C13", "C9", "B8")


def drills_section(run: RunFolder) -> str:
    claims = {c.get("id"): c for c in run.claims}
    if not run.drills:
        unchecked = [i for i in DRILL_CLAIMS if claims.get(i, {}).get("status") == Status.not_checked.value]
        body = ("<p>No failure drill ran in this run"
                + (f": {esc(', '.join(unchecked))} are not checked" if unchecked else "")
                + ". <code>picacheck verify --chaos</code> runs them after the checks (they break the target on purpose"
                " and roll back).</p>")
        return f'<section id="drills"><h2>Failure drills</h2>{body}</section>'
    rows = [_summary_row(drill) for drill in run.drills]
    overview = table(["Experiment", "Outcome", "Claims", "Recovery (RTO)", "Recovery point (RPO)", "Data lost",
                      "Availability during the fault"], rows, "drills")
    articles = "".join(_drill_article(drill, claims) for drill in run.drills)
    return (f'<section id="drills"><h2>Failure drills</h2><p>{len(run.drills)} experiment runs. Each broke one thing '
            f"on purpose, watched the services every second, rolled back and measured.</p>{overview}{articles}</section>")


def _name(drill: Drill) -> str:
    experiment = drill.journal.get("experiment", drill.path.stem)
    return f"{experiment} · {drill.label}" if drill.label else experiment


def _verdict_badges(drill: Drill) -> str:
    return " ".join(f"<span class='nowrap'>{esc(v.get('claim'))} {badge(_status(v.get('verdict')))}</span>"
                    for v in _verdicts(drill)) or "–"


def _verdicts(drill: Drill) -> list[dict]:
    return [v for v in drill.journal.get("verdicts", []) if isinstance(v, dict)]


def _status(verdict) -> Status:
    try:
        return Status(verdict)
    except ValueError:
        return Status.not_checked


def _outcome(drill: Drill) -> str:
    outcome = drill.journal.get("outcome", "unknown")
    return plain_badge("holds" if outcome == "completed" else "broken", outcome)


def _figures(drill: Drill) -> dict:
    figures = drill.journal.get("figures")
    return figures if isinstance(figures, dict) else {}


def _summary_row(drill: Drill) -> list[str]:
    figures = _figures(drill)
    return [f'<a href="#drill-{esc(drill.path.stem)}">{esc(_name(drill))}</a>', _outcome(drill), _verdict_badges(drill),
            esc(drills.recovery(figures)), esc(drills.recovery_point(figures)), esc(drills.data_lost(figures)),
            esc(drills.lowest_availability(drill.journal))]


def _drill_article(drill: Drill, claims: dict) -> str:
    journal = drill.journal
    figures = _figures(drill)
    verdicts = table(["Claim", "Verdict", "Measured"], [
        [f"<b>{esc(v.get('claim'))}</b> {esc(claims.get(v.get('claim'), {}).get('text', ''))}",
         badge(_status(v.get("verdict"))), esc(v.get("evidence"))] for v in _verdicts(drill)], "verdicts")
    if not _verdicts(drill):
        verdicts = (f"<p>It gave no verdict, so its claims ({esc(', '.join(journal.get('claims', [])))}) are broken "
                    "with this error as their evidence.</p>")
    measured = [["Fault observed for", esc(drills.seconds(drills.fault_observed(journal)))],
                ["Recovery (RTO)", esc(drills.recovery(figures))],
                ["Recovery point (RPO)", esc(drills.recovery_point(figures))],
                ["Data lost", esc(drills.data_lost(figures))]]
    bound = drills.loss_bound(figures)
    if bound:
        measured.append(["Data loss bound (B8)", esc(bound)])
    watched = drills.availability(journal)
    available = table(["Probe", "Watched", "Failing", "Available"], [
        [esc(a.probe), esc(drills.seconds(a.observed_s)), esc(drills.seconds(a.unavailable_s)), f"{a.ratio:.0%}"]
        for a in watched], "availability") if watched else "<p>Nothing was observed during the fault.</p>"
    error = f'<p class="alert broken">{esc(journal["error"])}</p>' if journal.get("error") else ""
    plan = "".join(f"<li>{esc(step)}</li>" for step in journal.get("plan", []))
    phases = "".join(f"<li>{esc(p.get('phase'))}: {'ok' if p.get('ok') else 'failed'} in {esc(p.get('seconds'))} s"
                     f"{' (' + esc(p['error']) + ')' if p.get('error') else ''}</li>"
                     for p in journal.get("phases", []) if isinstance(p, dict))
    return (f'<article class="drill" id="drill-{esc(drill.path.stem)}"><h3>{esc(_name(drill))} {_outcome(drill)}</h3>'
            f"{error}{verdicts}<div class='pair'>{table(['Figure', 'Measured'], measured, 'figures')}{available}</div>"
            f"{_timeline_picture(drill)}"
            f"<details><summary>Plan and phases</summary><ol>{plan}</ol><ul>{phases}</ul></details>"
            f"<details><summary>Every figure of the journal</summary><pre>{esc(json.dumps(figures, indent=2, default=str))}</pre>"
            "</details></article>")


def _timeline_picture(drill: Drill) -> str:
    """The picture beside the journal; drawn from the journal's timeline where it is missing."""
    caption = f"{_name(drill)}: each probe over time, green answered, red failed, the fault at 0 s"
    if drill.picture is not None or not drill.journal.get("timeline"):
        return picture(drill.picture, caption)
    from picacheck.report.timeline import render_timeline  # matplotlib: only when needed

    with tempfile.TemporaryDirectory(prefix="picacheck-report-") as scratch:
        try:
            return picture(render_timeline(drill.journal, Path(scratch) / "timeline.png"), caption)
        except (KeyError, TypeError, ValueError):
            return ""
