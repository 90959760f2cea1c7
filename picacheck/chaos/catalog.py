"""The experiments of the clone's chaos/ folder, looked up by name only, and what each declares.

An experiment is one module of chaos/ named like its experiment (`kill-service-node` →
`chaos/kill_service_node.py`) with NAME, CLAIMS, OPTIONS, RUNS, `needs(inventory)` and
`build(ctx, **options)`; optionally `touches(options) -> set` (what it disturbs: runs that
touch different things may run at the same time; without it, an experiment runs alone).
A name is matched against the list of those modules before anything is imported: a path,
`conftest` or a test module is an unknown name.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from picacheck.chaos import options as option_kinds
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.journal import Journal
from picacheck.chaos.runner import Operator, run
from picacheck.errors import UserError
from picacheck.inventory import Inventory

EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "chaos"
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in EXPERIMENTS_DIR.glob("*.py")
                  if not p.stem.startswith(("test_", "_", "conftest")))


def load(name: str) -> ModuleType:
    known = names()
    if not _NAME.fullmatch(name) or name not in known:
        raise UserError(f"no experiment named {name!r} (known: {', '.join(known) or 'none'})")
    path = EXPERIMENTS_DIR / f"{name.replace('-', '_')}.py"
    module_name = f"picacheck_experiment_{path.stem}"
    if module_name not in sys.modules:  # registered first: dataclasses look their module up
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return sys.modules[module_name]


def options_of(name: str, given: dict[str, str], inventory: Inventory) -> dict:
    """The experiment's options, typed and checked against the inventory (also for a dry run)."""
    return option_kinds.resolve(load(name).OPTIONS, given, inventory, name)


def run_named(name: str, ctx: ChaosContext, journal_path: Path | None, given: dict[str, str] | None = None,
              dry_run: bool = False, operator: Operator | None = None, companions: list | None = None,
              stops=None) -> Journal:
    module = load(name)
    chosen = option_kinds.resolve(module.OPTIONS, given or {}, ctx.inventory, name)
    experiment = module.build(ctx, **chosen)
    experiment.options = {key: value for key, value in chosen.items() if value is not None}
    return run(experiment, ctx.inventory, ctx.grant, journal_path, dry_run=dry_run, operator=operator,
               companions=companions, stops=stops)


# --- the test plan of `verify --chaos`, from what each experiment declares ---------------------------


@dataclass(frozen=True, eq=False)
class PlannedRun:
    experiment: str
    options: dict[str, str]  # as --option would give them
    claims: tuple[str, ...]
    not_applicable: str | None  # why this environment cannot run it (None: it can)
    touches: frozenset | None = None  # what it disturbs (None: everything, it runs alone)

    @property
    def label(self) -> str:
        return "-".join([self.experiment, *self.options.values()])


def plan(inventory: Inventory) -> list[PlannedRun]:
    """Every run `verify --chaos` makes: each experiment's RUNS, resolved on the inventory
    (a run "for each host of a role" becomes one run per such host)."""
    planned = []
    for name in names():
        module = load(name)
        missing = module.needs(inventory)
        for options in _expand(module.RUNS, inventory) if not missing else [{}]:
            touches = getattr(module, "touches", None)
            disturbed = frozenset(touches(options_of(name, options, inventory))) if touches and not missing else None
            planned.append(PlannedRun(name, options, tuple(module.CLAIMS), missing, disturbed))
    return planned


def batches(planned: list[PlannedRun]) -> list[list[PlannedRun]]:
    """The plan in batches that may run at the same time: consecutive runs that each declare
    what they touch, with nothing touched twice; any other run is a batch of its own."""
    result: list[list[PlannedRun]] = []
    for run in (r for r in planned if not r.not_applicable):
        last = result[-1] if result else None
        shareable = run.touches is not None and last and all(r.touches is not None for r in last)
        if shareable and not any(run.touches & r.touches for r in last):
            last.append(run)
        else:
            result.append([run])
    return result


def _expand(runs: tuple[dict, ...], inventory: Inventory) -> list[dict[str, str]]:
    expanded = []
    for run in runs:
        combos = [{}]
        for key, value in run.items():
            values = value(inventory) if callable(value) else [value]
            combos = [{**combo, key: str(v)} for combo in combos for v in values]
        expanded.extend(combos)
    return expanded


__all__ = ["names", "load", "options_of", "run_named", "plan", "PlannedRun", "ChaosContext"]
