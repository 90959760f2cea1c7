"""`picacheck report diff A B`: what changed from run A to run B (run folders or their
summary.json), in the words of the report's "changed since the previous run"."""

from __future__ import annotations

from pathlib import Path

from picacheck.report.history import Changes, changes, entry_of
from picacheck.report.html_parts import when
from picacheck.report.rundir import read_summary, summary_path


def run_entry(where: str | Path) -> dict:
    """A run folder or summary.json as a history entry (named after its run folder)."""
    return entry_of(read_summary(where), summary_path(where).resolve().parent.name)


def diff(before: str | Path, after: str | Path) -> tuple[list[str], Changes]:
    """The lines to print and the changes (exit status 1 when `changes.any`)."""
    old, new = run_entry(before), run_entry(after)
    found = changes(old, new)
    head = (f"from {old['run']} ({old.get('environment')}, {when(old.get('started'))}) "
            f"to {new['run']} ({new.get('environment')}, {when(new.get('started'))}):")
    return [head, *(f"  {line}" for line in found.lines())], found
