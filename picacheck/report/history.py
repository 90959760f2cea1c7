"""The runs' history: one JSON line per run with each claim's status and the findings, so
that a report can show the last nights as a strip of squares and say what changed since
the previous run (`picacheck report diff` says the same on the terminal).

JSON lines because a nightly job only appends, a cut last line (a killed job) costs one
run and not the file, and a student can read it with `tail`. CI keeps the file between
nights (see docs/ci.md); `verify --history FILE` names it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from picacheck.claims import Status
from picacheck.report.rundir import read_summary

DEFAULT_NAME = "history.jsonl"  # beside the run folders: reports/history.jsonl
STRIP_RUNS = 14  # two weeks of nights
HOLDING = (Status.holds.value, Status.holds_with_finding.value)


def entry_of(summary: dict, run: str) -> dict:
    """What the history keeps of one run."""
    environment = summary.get("inventory") or {}
    return {
        "run": run,
        "started": summary.get("started"),
        "environment": environment.get("name"),
        "kind": environment.get("kind"),
        "exit_status": summary.get("exit_status"),
        "statuses": {claim["id"]: claim.get("status") or claim.get("verdict") for claim in summary.get("claims", [])
                     if isinstance(claim, dict) and "id" in claim},
        "findings": _findings(summary),
    }


def _findings(summary: dict) -> list[dict]:
    """The run's findings, each with the claim it was shown on and a key that stays the
    same from night to night (its figures may change: "0.7 min old" → "0.9 min old")."""
    found = {}
    for claim in summary.get("claims", []):
        for finding in claim.get("findings", []) if isinstance(claim, dict) else []:
            item = {**finding, "claim": finding.get("claim") or claim.get("id")}
            found.setdefault(finding_key(item), item)
    for finding in summary.get("findings", []):
        if isinstance(finding, dict) and not any(_same(finding, item) for item in found.values()):
            found.setdefault(finding_key(finding), dict(finding))
    return [{**item, "key": key} for key, item in found.items()]


def _same(finding: dict, item: dict) -> bool:
    return all(finding.get(k) == item.get(k) for k in ("kind", "severity", "text", "check"))


def finding_key(finding: dict) -> str:
    text = re.sub(r"\d+(?:[.,]\d+)?", "#", finding.get("text", ""))
    return "|".join(str(finding.get(k) or "") for k in ("claim", "kind", "check")) + "|" + text


def record_run(history_file: str | Path, run_dir: str | Path) -> dict:
    """Append the run's statuses to the history file (made if missing). Recording the same
    run again replaces its line, so a re-run of the report step does not count twice."""
    path = Path(history_file)
    entry = entry_of(read_summary(run_dir), Path(run_dir).resolve().name)
    history = read_history(path)
    kept = [other for other in history if not _same_run(other, entry)]
    path.parent.mkdir(parents=True, exist_ok=True)
    if len(kept) == len(history) and _ends_cleanly(path):
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    else:
        _rewrite(path, [*kept, entry])
    return entry


def _same_run(one: dict, other: dict) -> bool:
    return one.get("run") == other.get("run") and one.get("started") == other.get("started")


def _ends_cleanly(path: Path) -> bool:
    """False where the last line was cut (no newline): appending would glue two runs."""
    if not path.is_file() or path.stat().st_size == 0:
        return True
    with path.open("rb") as data:
        data.seek(-1, os.SEEK_END)
        return data.read(1) == b"\n"


def _rewrite(path: Path, entries: list[dict]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
    os.replace(temporary, path)


def read_history(history_file: str | Path | None) -> list[dict]:
    """Every readable run of the file, oldest first; unreadable lines are skipped."""
    if history_file is None or not Path(history_file).is_file():
        return []
    entries = []
    for line in Path(history_file).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("statuses"), dict):
            entries.append(entry)
    return sorted(entries, key=lambda e: e.get("started") or 0)


def strip(history: list[dict], current: dict, runs: int = STRIP_RUNS) -> list[dict]:
    """The last `runs` runs of the current run's environment, ending with the current one."""
    earlier = [e for e in history if e.get("environment") == current.get("environment")
               and (e.get("started") or 0) < (current.get("started") or 0) and not _same_run(e, current)]
    return [*earlier[-(runs - 1):], current] if runs > 1 else [current]


def previous_run(history: list[dict], current: dict) -> dict | None:
    earlier = strip(history, current, runs=2)
    return earlier[0] if len(earlier) == 2 else None


@dataclass
class Changes:
    """What changed from one run to the next."""

    previous: str | None
    current: str
    newly_broken: list[tuple[str, str]] = field(default_factory=list)  # (claim, its status before)
    fixed: list[tuple[str, str]] = field(default_factory=list)  # (claim, its status now)
    other: list[tuple[str, str, str]] = field(default_factory=list)  # (claim, before, now)
    new_findings: list[dict] = field(default_factory=list)
    findings_gone: list[dict] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.newly_broken or self.fixed or self.other or self.new_findings or self.findings_gone)

    def lines(self) -> list[str]:
        """The changes as text, one per line (the terminal's `report diff`)."""
        if self.previous is None:
            return [f"{self.current}: no previous run of this environment to compare with"]
        out = []
        out += [f"newly broken: {claim} (was {was})" for claim, was in self.newly_broken]
        out += [f"fixed: {claim} (now {now})" for claim, now in self.fixed]
        out += [f"changed: {claim}: {was} → {now}" for claim, was, now in self.other]
        out += [f"new finding: {_finding_line(f)}" for f in self.new_findings]
        out += [f"finding gone: {_finding_line(f)}" for f in self.findings_gone]
        return out or [f"no change from {self.previous} to {self.current}"]


def _finding_line(finding: dict) -> str:
    claim = f"{finding['claim']}: " if finding.get("claim") else ""
    return f"{claim}{str(finding.get('severity', '')).upper()} {finding.get('kind', '')}: {finding.get('text', '')}"


def changes(previous: dict | None, current: dict) -> Changes:
    found = Changes(previous.get("run") if previous else None, current.get("run", "this run"))
    if previous is None:
        return found
    before, now = previous.get("statuses", {}), current.get("statuses", {})
    for claim in now:
        was, is_ = before.get(claim), now[claim]
        if was is None or was == is_:
            continue
        if is_ == Status.broken.value:
            found.newly_broken.append((claim, was))
        elif was == Status.broken.value and is_ in HOLDING:
            found.fixed.append((claim, is_))
        elif not (was in HOLDING and is_ in HOLDING):  # a finding come or gone: said with the findings
            found.other.append((claim, was, is_))
    old_keys = {f.get("key") or finding_key(f) for f in previous.get("findings", [])}
    new_keys = {f.get("key") or finding_key(f) for f in current.get("findings", [])}
    found.new_findings = [f for f in current.get("findings", []) if (f.get("key") or finding_key(f)) not in old_keys]
    found.findings_gone = [f for f in previous.get("findings", []) if (f.get("key") or finding_key(f)) not in new_keys]
    return found
