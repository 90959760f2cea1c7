"""A run folder, read back: what `picacheck verify` (and its experiments, load runs and
restore drills) left in reports/<timestamp>/.

Pure reading: no pytest, no network. A folder without a readable summary.json is a
UserError (one line, exit 2); a broken optional file (a journal, a load summary) is kept as
a problem to show in the report rather than stopping it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from picacheck.errors import UserError

SUMMARY = "summary.json"


@dataclass(frozen=True)
class Drill:
    """One chaos experiment's journal (chaos/<experiment>-<options>.json) and its picture."""

    path: Path
    journal: dict

    @property
    def label(self) -> str:
        """The options part of the file name: "pica02" for kill-service-node-pica02.json."""
        return self.path.stem.removeprefix(self.journal.get("experiment", "")).strip("-")

    @property
    def picture(self) -> Path | None:
        png = self.path.with_suffix(".png")
        return png if png.is_file() else None


@dataclass(frozen=True)
class LoadRun:
    """One service's load folder (load/<service>/): the SLO run and/or a capacity search."""

    service: str
    directory: Path
    summary: dict | None  # summary.json of an SLO run
    capacity: dict | None  # capacity.json of a capacity search

    def file(self, name: str) -> Path | None:
        path = self.directory / name
        return path if path.is_file() else None


@dataclass
class RunFolder:
    path: Path
    summary: dict
    drills: list[Drill] = field(default_factory=list)
    loads: list[LoadRun] = field(default_factory=list)
    restores: dict[str, dict] = field(default_factory=dict)  # database → restore/<database>.json
    problems: list[str] = field(default_factory=list)  # files that could not be read

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def environment(self) -> dict:
        return self.summary.get("inventory") or {"name": "no inventory", "kind": "unknown"}

    @property
    def claims(self) -> list[dict]:
        return self.summary.get("claims", [])

    def has(self, name: str) -> bool:
        return (self.path / name).is_file()


def summary_path(where: str | Path) -> Path:
    """A run folder or its summary.json → the summary.json (a UserError when there is none)."""
    path = Path(where)
    if path.is_dir():
        path = path / SUMMARY
    if not path.is_file():
        raise UserError(f"{where}: not a run folder (no {SUMMARY})" if Path(where).is_dir()
                        else f"{where}: no such run folder or summary.json")
    return path


def read_summary(where: str | Path) -> dict:
    path = summary_path(where)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not a readable summary ({type(error).__name__}: {error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("claims"), list):
        raise UserError(f"{path}: not a picacheck summary (no list of claims)")
    if not all(isinstance(c, dict) and isinstance(c.get("id"), str) for c in data["claims"]):
        raise UserError(f"{path}: not a picacheck summary (a claim without an id)")
    return data


def read_run(run_dir: str | Path) -> RunFolder:
    path = Path(run_dir)
    if not path.is_dir():
        raise UserError(f"{run_dir}: no such run folder")
    run = RunFolder(path, read_summary(path))
    for journal_path in sorted((path / "chaos").glob("*.json")):
        journal = _optional_json(journal_path, run.problems)
        if isinstance(journal, dict) and "experiment" in journal:
            run.drills.append(Drill(journal_path, journal))
    for directory in sorted(p for p in (path / "load").glob("*") if p.is_dir()):
        summary = _optional_json(directory / "summary.json", run.problems)
        capacity = _optional_json(directory / "capacity.json", run.problems)
        if summary is not None or capacity is not None:
            run.loads.append(LoadRun(directory.name, directory, summary, capacity))
    for restore_path in sorted((path / "restore").glob("*.json")):
        figures = _optional_json(restore_path, run.problems)
        if isinstance(figures, dict):
            run.restores[restore_path.stem] = figures
    return run


def _optional_json(path: Path, problems: list[str]):
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        problems.append(f"{path.name} in {path.parent.name}/ could not be read: {type(error).__name__}")
        return None
