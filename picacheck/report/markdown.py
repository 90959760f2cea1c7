"""summary.md beside summary.json: the findings and the claims matrix in Markdown, to paste
into a merge request or a wiki page (GitLab renders the tables)."""

from __future__ import annotations

from pathlib import Path

from picacheck.claims import Status
from picacheck.report.html_parts import duration, when
from picacheck.report.page import COUNT_ORDER, EXIT_MEANING
from picacheck.report.rundir import read_run
from picacheck.report.truth import MARK, findings_with_claims, measured_truth, status_of

SUMMARY_MD = "summary.md"


def write_summary_md(run_dir: str | Path) -> Path:
    run = read_run(run_dir)
    summary = run.summary
    environment = run.environment
    counts = summary.get("counts", {})
    exit_status = summary.get("exit_status")
    lines = [
        f"# picacheck: {_text(environment.get('name'))} ({_text(environment.get('kind'))})",
        "",
        (f"Run `{run.name}`, started {when(summary.get('started'))}, took {duration(summary.get('duration_s'))}; "
         f"exit status {exit_status} ({EXIT_MEANING.get(exit_status, 'unknown')})."),
        "",
        " · ".join(f"{MARK[s]} **{int(counts.get(s.value, 0))}** {s.value}" for s in COUNT_ORDER),
        "",
    ]
    unreachable = summary.get("unreachable") or {}
    lines += [f"- **Unreachable**: {_text(name)}: {_text(reason)}" for name, reason in unreachable.items()]
    lines += [""] * bool(unreachable) + ["## What the documentation gets wrong", ""]
    broken = [c for c in run.claims if status_of(c) == Status.broken]
    findings = findings_with_claims(summary)
    for claim in broken:
        lines.append(f"- ✗ **{claim.get('id')}** broken: {_text(claim.get('text'))}  ")
        lines.append(f"  Measured: {_text(measured_truth(claim))}")
    for finding, claim in findings:
        where = f"**{claim.get('id')}** {_text(claim.get('text'))}" if claim else "no claim"
        lines.append(f"- ! {str(finding.get('severity', '')).upper()} {_text(finding.get('kind'))} on {where}  ")
        lines.append(f"  Found: {_text(finding.get('text'))}")
    if not broken and not findings:
        lines.append("Nothing: no claim broke and no check found anything.")
    lines += ["", "## Claims matrix", ""]
    for section in dict.fromkeys(c.get("section", "Other") for c in run.claims):
        lines += [f"### {section}", "", "| ID | Status | Claim | Measured |", "| --- | --- | --- | --- |"]
        for claim in (c for c in run.claims if c.get("section", "Other") == section):
            status = status_of(claim)
            lines.append(f"| {claim.get('id')} | {MARK[status]} {status.value} | {_text(claim.get('text'))} | "
                         f"{_text(measured_truth(claim))} |")
        lines.append("")
    lines.append("Full report: report.html (evidence, failure drills, load, backups); test log: tests.html.")
    path = run.path / SUMMARY_MD
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _text(value) -> str:
    """One line; Markdown's and HTML's special characters made literal (host output stays text)."""
    text = " ".join(str(value if value is not None else "").split())
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text
