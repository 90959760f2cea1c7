"""The report: one self-contained HTML file (report.html) that a student pastes into the
semester write-up. It reads top-down:

1. the run: environment, hosts, when, how long, the verdict counts, the exit status;
2. what the documentation gets wrong: every broken claim and every finding;
   then what changed since the previous run;
3. the claims matrix by section, with the last runs as a strip of squares;
4. failure drills, 5. load, 6. backups (page_drills.py, page_load.py, page_backups.py).

A pure function of the run folder and the history file: no pytest, no network. Pictures
are data URIs, the CSS is inline (report.css), there is no script: it opens offline and
prints to PDF one section per page. pytest-html's page stays beside it as tests.html.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from picacheck.claims import Status
from picacheck.report import history as runs
from picacheck.report.html_parts import badge, duration, esc, evidence_details, link, when
from picacheck.report.page_backups import backups_section
from picacheck.report.page_drills import drills_section
from picacheck.report.page_load import load_section
from picacheck.report.rundir import RunFolder, read_run
from picacheck.report.truth import CSS_CLASS, MARK, evidence_lines, findings_with_claims, measured_truth, status_of

REPORT = "report.html"
TEST_LOG = "tests.html"  # pytest-html's page: every test, its output and its log
# The counts read worst first: what needs attention before what is fine.
COUNT_ORDER = (Status.broken, Status.holds_with_finding, Status.holds, Status.not_checked, Status.not_applicable)
EXIT_MEANING = {
    0: "every check held, no finding at or above --fail-on",
    1: "a claim broke, a host was unreachable or a finding reached --fail-on",
    2: "interrupted, or bad input",
    3: "internal error of the test run",
    4: "pytest usage error",
    5: "no check ran",
}


def write_report(run_dir: str | Path, history_file: str | Path | None = None) -> Path:
    """Write <run_dir>/report.html from the run folder (and the history file, if any)."""
    run = read_run(run_dir)
    current = runs.entry_of(run.summary, run.path.resolve().name)
    history = runs.read_history(history_file)
    strip = runs.strip(history, current)
    changes = runs.changes(runs.previous_run(history, current), current)
    page = render(run, strip, changes)
    path = run.path / REPORT
    path.write_text(page, encoding="utf-8")
    return path


def render(run: RunFolder, strip: list[dict], changes: runs.Changes) -> str:
    environment = run.environment
    title = f"picacheck: {environment.get('name')} ({environment.get('kind')})"
    sections = [
        cover(run, title, changes),
        findings_section(run),
        changes_section(changes),
        matrix_section(run, strip),
        drills_section(run),
        load_section(run),
        backups_section(run),
    ]
    css = resources.files("picacheck.report").joinpath("report.css").read_text(encoding="utf-8")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head><body>\n"
        + "\n".join(sections)
        + f'\n<footer>picacheck report of run {esc(run.name)} · detailed test log: {link(TEST_LOG, TEST_LOG)}'
        f' · {link("junit.xml", "junit.xml")} · {link("summary.json", "summary.json")}'
        f' · {link("summary.md", "summary.md")}</footer>\n</body></html>\n'
    )


# --- 1. the run -------------------------------------------------------------------------


def cover(run: RunFolder, title: str, changes: runs.Changes) -> str:
    summary = run.summary
    environment = run.environment
    counts = summary.get("counts", {})
    boxes = "".join(
        f'<div class="count {CSS_CLASS[s]}"><b>{int(counts.get(s.value, 0))}</b><span>{MARK[s]} {esc(s.value)}</span></div>'
        for s in COUNT_ORDER)
    exit_status = summary.get("exit_status")
    exit_class = "holds" if exit_status == 0 else "broken"
    unreachable = summary.get("unreachable") or {}
    hosts = "".join(
        f"<tr><td><b>{esc(h.get('name'))}</b></td><td>{esc(', '.join(h.get('roles', [])))}</td>"
        f"<td><code>{esc(h.get('address'))}</code>{' via ' + esc(h['jump']) if h.get('jump') else ''}</td>"
        f"<td>{_reachability(h.get('name'), unreachable)}</td></tr>"
        for h in summary.get("hosts", []))
    banner = ""
    if unreachable:
        banner = ('<p class="alert broken">Unreachable: ' + "; ".join(
            f"<b>{esc(name)}</b>: {esc(reason)}" for name, reason in unreachable.items())
            + ". Their checks are broken with that reason.</p>")
    change_line = ""
    if changes.previous:
        count = len(changes.lines()) if changes.any else 0
        change_line = (f'<p>Since the previous run ({esc(changes.previous)}): '
                       f'<a href="#changes">{count} change{"s" if count != 1 else ""}</a>.</p>')
    problems = "".join(f'<p class="alert na">{esc(p)}</p>' for p in run.problems)
    return f"""<header id="run">
<h1>{esc(title)}</h1>
<p class="lede">{esc(environment.get('description') or '')}</p>
<div class="counts">{boxes}</div>
{banner}
<div class="pair cover"><dl class="facts">
<dt>Started</dt><dd>{when(summary.get('started'))}</dd>
<dt>Duration</dt><dd>{duration(summary.get('duration_s'))}</dd>
<dt>Exit status</dt><dd><span class="badge {exit_class}">{esc(exit_status)}</span> {esc(EXIT_MEANING.get(exit_status, ''))}</dd>
<dt>Findings that fail it</dt><dd>{esc(_fail_on(summary.get('fail_on')))}</dd>
<dt>Run folder</dt><dd><code>{esc(run.name)}</code></dd>
</dl>
<table class="hosts"><thead><tr><th>Host</th><th>Roles</th><th>Address</th><th>Reached</th></tr></thead><tbody>{hosts}</tbody></table></div>
{change_line}{problems}
<nav><b>Contents</b>: <a href="#wrong">What the documentation gets wrong</a> · <a href="#changes">Changes</a> ·
<a href="#matrix">Claims matrix</a> · <a href="#drills">Failure drills</a> · <a href="#load">Load</a> ·
<a href="#backups">Backups</a> · {link(TEST_LOG, 'detailed test log')}</nav>
</header>"""


def _fail_on(fail_on) -> str:
    if fail_on == "none":
        return "none (--fail-on none: reported, they never fail the run)"
    return f"{fail_on} and above (--fail-on {fail_on})" if fail_on else "unknown"


def _reachability(name, unreachable: dict) -> str:
    if name in unreachable:
        return f'<span class="badge broken">✗ no</span> {esc(unreachable[name])}'
    return "yes"


# --- 2. what the documentation gets wrong -----------------------------------------------


def findings_section(run: RunFolder) -> str:
    broken = [c for c in run.claims if status_of(c) == Status.broken]
    findings = findings_with_claims(run.summary)
    articles = [_broken_article(claim) for claim in broken]
    articles += [_finding_article(finding, claim) for finding, claim in findings]
    if not articles:
        body = '<p class="alert holds">No claim broke and no check found anything: the documentation matches what was measured.</p>'
    else:
        body = (f"<p>{len(broken)} broken claim{'s' if len(broken) != 1 else ''} and {len(findings)} "
                f"finding{'s' if len(findings) != 1 else ''}. Each says what was measured; its evidence is one click away.</p>"
                + "".join(articles))
    return f'<section id="wrong"><h2>What the documentation gets wrong</h2>{body}</section>'


def _broken_article(claim: dict) -> str:
    return (f'<article class="issue broken" id="wrong-{esc(claim.get("id"))}">'
            f'<h3>{badge(Status.broken)} <span class="id">{esc(claim.get("id"))}</span> {esc(claim.get("text"))}</h3>'
            f'<p class="truth"><b>Measured:</b> {esc(measured_truth(claim))}</p>'
            f'{evidence_details(evidence_lines(claim), checks=claim.get("checks", []))}</article>')


def _finding_article(finding: dict, claim: dict | None) -> str:
    severity = str(finding.get("severity", "")).upper()
    head = f'<span class="id">{esc(claim.get("id"))}</span> {esc(claim.get("text"))}' if claim else "No claim"
    status = status_of(claim) if claim else Status.holds_with_finding
    shown = "holds, with a finding" if status == Status.holds_with_finding else status.value
    evidence = evidence_lines(claim) if claim else []
    checks = [finding["check"]] if finding.get("check") else []
    words = f"{severity} {finding.get('kind', '')}"
    return (f'<article class="issue finding"><h3>{badge(Status.holds_with_finding, words)} '
            f'{head}</h3>'
            f'<p class="truth"><b>Found:</b> {esc(finding.get("text"))}</p>'
            f'<p class="meta">The claim {esc(shown)}; severity {esc(finding.get("severity"))}, kind {esc(finding.get("kind"))}.</p>'
            f'{evidence_details(evidence, checks=checks)}</article>')


# --- changes since the previous run -----------------------------------------------------


def changes_section(changes: runs.Changes) -> str:
    if changes.previous is None:
        body = "<p>No previous run of this environment in the history: the next run will say what changed.</p>"
    elif not changes.any:
        body = f"<p>Nothing changed since the previous run ({esc(changes.previous)}).</p>"
    else:
        groups = [
            ("Newly broken", Status.broken, [f"<b>{esc(c)}</b> (was {esc(was)})" for c, was in changes.newly_broken]),
            ("Fixed", Status.holds, [f"<b>{esc(c)}</b> (now {esc(now)})" for c, now in changes.fixed]),
            ("New findings", Status.holds_with_finding, [_finding_item(f) for f in changes.new_findings]),
            ("Findings gone", Status.not_applicable, [_finding_item(f) for f in changes.findings_gone]),
            ("Other changes", Status.not_checked,
             [f"<b>{esc(c)}</b>: {esc(was)} → {esc(now)}" for c, was, now in changes.other]),
        ]
        body = f"<p>From the previous run ({esc(changes.previous)}) to this one:</p>" + "".join(
            f'<h3>{badge(status, title)}</h3><ul class="changes">' + "".join(f"<li>{item}</li>" for item in items) + "</ul>"
            for title, status, items in groups if items)
    return f'<section id="changes"><h2>Changed since the previous run</h2>{body}</section>'


def _finding_item(finding: dict) -> str:
    claim = f"<b>{esc(finding['claim'])}</b>: " if finding.get("claim") else ""
    return f"{claim}{esc(str(finding.get('severity', '')).upper())} {esc(finding.get('kind'))}: {esc(finding.get('text'))}"


# --- 3. the claims matrix ---------------------------------------------------------------


def matrix_section(run: RunFolder, strip: list[dict]) -> str:
    sections = list(dict.fromkeys(claim.get("section", "Other") for claim in run.claims))
    legend = " ".join(badge(s) for s in COUNT_ORDER)
    strip_note = (f"The squares are the last {len(strip)} runs of {esc(run.environment.get('name'))}, oldest first, "
                  "this run outlined; hover one for its date.")
    parts = [f'<section id="matrix"><h2>Claims matrix</h2><p class="legend">{legend}</p><p class="meta">{strip_note}</p>']
    for section in sections:
        claims = [c for c in run.claims if c.get("section", "Other") == section]
        rows = "".join(_matrix_row(claim, strip) for claim in claims)
        parts.append(f'<h3>{esc(section)}</h3><table class="matrix"><thead><tr><th>ID</th><th>Claim</th>'
                     f'<th>Status</th><th>Last runs</th><th>Measured</th></tr></thead><tbody>{rows}</tbody></table>')
    parts.append("</section>")
    return "".join(parts)


def _matrix_row(claim: dict, strip: list[dict]) -> str:
    status = status_of(claim)
    lines = evidence_lines(claim)
    said = measured_truth(claim)
    # Evidence behind a click only where it says more than the sentence shown.
    more = evidence_details(lines, checks=claim.get("checks", [])) if lines and lines != [said] else ""
    quiet = ' class="meta"' if status == Status.holds and not lines else ""  # "every check passed": no news
    return (f'<tr class="{CSS_CLASS[status]}"><td class="id">{esc(claim.get("id"))}</td><td>{esc(claim.get("text"))}</td>'
            f'<td>{badge(status)}</td><td>{history_strip(claim.get("id"), strip)}</td><td{quiet}>{esc(said)}{more}</td></tr>')


def history_strip(claim_id: str, strip: list[dict]) -> str:
    squares = []
    for index, entry in enumerate(strip):
        value = entry.get("statuses", {}).get(claim_id)
        try:
            status = Status(value)
            css, words = CSS_CLASS[status], status.value
        except ValueError:
            css, words = "absent", "no such claim then"
        current = " current" if index == len(strip) - 1 else ""
        label = f"{entry.get('run')} ({when(entry.get('started'))}): {words}"
        squares.append(f'<i class="sq {css}{current}" data-run="{esc(entry.get("run"))}" title="{esc(label)}"></i>')
    return f'<span class="strip" aria-label="statuses of the last runs">{"".join(squares)}</span>'
