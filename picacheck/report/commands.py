"""What the rest of picacheck calls: `publish_run` at the end of `picacheck verify`
(run.py), and `picacheck report diff A B` / `picacheck report render RUN_DIR` (cli.py)."""

from __future__ import annotations

from pathlib import Path

from picacheck.report.diff import diff
from picacheck.report.history import DEFAULT_NAME, record_run
from picacheck.report.markdown import write_summary_md
from picacheck.report.page import write_report
from picacheck.report.rundir import summary_path


def publish_run(run_dir: str | Path, history_file: str | Path | None = None) -> Path:
    """After a run: record it in the history (when there is one), then write report.html and
    summary.md beside summary.json. Returns the report's path."""
    if history_file is not None:
        record_run(history_file, run_dir)
    report = write_report(run_dir, history_file)
    write_summary_md(run_dir)
    return report


def diff_command(before: str, after: str, out=print) -> int:
    """Print the changes from run A to run B; exit 0 when nothing changed, 1 when something did."""
    lines, found = diff(before, after)
    for line in lines:
        out(line)
    return 1 if found.any else 0


def render_command(run_dir: str, history_file: str | None = None, out=print) -> int:
    """Write report.html and summary.md of an existing run folder again. The history file
    defaults to the one beside the run folders (reports/history.jsonl); the run is not
    recorded in it again."""
    summary_path(run_dir)  # not a run folder: one line, exit 2
    history = Path(history_file) if history_file else Path(run_dir).resolve().parent / DEFAULT_NAME
    if history_file and not history.is_file():
        out(f"note: {history_file} does not exist yet: the report shows no earlier run")
    out(f"report: {write_report(run_dir, history)}")
    out(f"summary: {write_summary_md(run_dir)}")
    return 0
