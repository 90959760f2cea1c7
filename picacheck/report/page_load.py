"""Section 5 of the report: per service, the load run against its SLO (chart of users,
requests/s and latency over time with the SLO lines, the verdict, the figures) and the
capacity a capacity search found."""

from __future__ import annotations

import tempfile
from pathlib import Path

from picacheck.report.html_parts import esc, link, picture, plain_badge, table
from picacheck.report.rundir import LoadRun, RunFolder


def load_section(run: RunFolder) -> str:
    if not run.loads:
        body = ("<p>No load test ran in this run (the load layer runs with every layer, or "
                "<code>picacheck verify --layer load</code>; a capacity search with <code>picacheck load SERVICE</code>).</p>")
    else:
        body = "".join(_service(run, load) for load in run.loads)
    return f'<section id="load"><h2>Load</h2>{body}</section>'


def _service(run: RunFolder, load: LoadRun) -> str:
    parts = []
    domain = (load.summary or load.capacity or {}).get("domain")
    head = f"{esc(load.service)}" + (f" <small>({esc(domain)})</small>" if domain else "")
    figures = ""
    if load.summary:
        verdict = load.summary.get("verdict") or {}
        words = "meets its SLO" if verdict.get("ok") else "breaks its SLO"
        head += " " + plain_badge("holds" if verdict.get("ok") else "broken", words)
        figures += _slo_run(load.summary)
    if load.capacity:
        figures += _capacity(load.capacity)
    pictures = _chart(load)
    if load.capacity and load.file("capacity.png"):
        pictures += picture(load.file("capacity.png"), f"{load.service}: throughput and p95 per step of the capacity search")
    parts.append(f"<div class='pair load'><div>{figures}</div><div>{pictures}</div></div>")
    links = [link(f"{_relative(run, load)}/{name}", words) for name, words in
             (("locust.html", "locust's report"), ("locust_stats.csv", "statistics (CSV)"),
              ("locust_stats_history.csv", "history (CSV)"), ("locust_failures.csv", "failures (CSV)"))
             if load.file(name)]
    if links:
        parts.append(f"<p class='meta'>Files: {' · '.join(links)}</p>")
    return f'<article class="load" id="load-{esc(load.service)}"><h3>{head}</h3>{"".join(parts)}</article>'


def _relative(run: RunFolder, load: LoadRun) -> str:
    return load.directory.relative_to(run.path).as_posix()


def _ms(value) -> str:
    return "–" if value is None else f"{float(value):.0f} ms"


def _slo_run(summary: dict) -> str:
    verdict = summary.get("verdict") or {}
    slo, measured = verdict.get("slo") or {}, verdict.get("measured") or {}
    rows = [
        ["p95 latency", f"≤ {esc(_ms(slo.get('p95_ms')))}", esc(_ms(measured.get("p95_ms")))],
        ["Failures", f"≤ {_percent(slo.get('max_failure_ratio'))}",
         f"{_percent(measured.get('failure_ratio'))} ({esc(measured.get('failures'))} of {esc(measured.get('requests'))})"],
        ["Throughput", f"≥ {esc(slo.get('min_rps'))} req/s", f"{_number(measured.get('rps'))} req/s"],
        ["Users", esc(slo.get("users")), esc(measured.get("users", summary.get("users")))],
        ["Duration", f"{esc(slo.get('duration_s'))} s", f"{esc(measured.get('duration_s', summary.get('duration_s')))} s"],
        ["p50 / p99 latency", "", f"{esc(_ms(measured.get('p50_ms')))} / {esc(_ms(measured.get('p99_ms')))}"],
    ]
    out = table(["", "SLO", "Measured"], rows, "slo")
    breaches = verdict.get("breaches") or []
    if breaches:
        out += "<p class='alert broken'>Breached: " + esc("; ".join(breaches)) + "</p>"
    for warning in summary.get("warnings") or []:
        out += f"<p class='alert na'>Warning: {esc(warning)}</p>"
    failures = summary.get("failures") or []
    if failures:
        out += table(["Request", "Error", "Times"], [
            [esc(f"{f.get('method', '')} {f.get('name', '')}"), esc(f.get("error")), esc(f.get("occurrences"))]
            for f in failures[:20]], "failures")
    return out


def _capacity(capacity: dict) -> str:
    found = capacity.get("capacity") or {}
    bound = "at least " if found.get("at_least") else ""
    figure = (f"<p class='capacity'><b>Capacity within the SLO: {bound}{esc(found.get('users'))} users, "
              f"{_number(found.get('rps'))} req/s</b> (p95 {esc(_ms(found.get('p95_ms')))}). "
              f"The documented load is {'held' if capacity.get('holds_documented_load') else '<b>not</b> held'}.</p>")
    return figure + f"<p class='meta'>{esc(capacity.get('summary', ''))}</p>"


def _chart(load: LoadRun) -> str:
    """The load room's chart (users, requests/s, p50/p95/p99 with the SLO lines); drawn
    from locust's per-second history where the run left no picture."""
    caption = f"{load.service}: users, requests/s and latency over the run, with the SLO lines"
    if load.file("chart.png") or not load.file("locust_stats_history.csv"):
        return picture(load.file("chart.png"), caption)
    from picacheck.inventory.model import Slo  # matplotlib and pydantic: only when needed
    from picacheck.load.chart import render_history
    from picacheck.load.results import parse_history

    objectives = ((load.summary or {}).get("verdict") or {}).get("slo") or (load.capacity or {}).get("slo")
    samples = parse_history(load.file("locust_stats_history.csv").read_text(encoding="utf-8", errors="replace"))
    if not samples:
        return ""
    with tempfile.TemporaryDirectory(prefix="picacheck-report-") as scratch:
        try:
            slo = Slo(**objectives) if objectives else None
        except (TypeError, ValueError):
            slo = None
        return picture(render_history(samples, Path(scratch) / "chart.png", caption, slo), caption)


def _percent(value) -> str:
    return "–" if value is None else f"{float(value):.1%}"


def _number(value) -> str:
    return "–" if value is None else f"{float(value):.1f}"
