"""The experiments of the clone's chaos/ folder, by name, and how to run one as a user would."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from picacheck.chaos.observe import ChaosContext
from picacheck.chaos.runner import Journal, refuse_production, run
from picacheck.chaos.vms import ProxmoxVms
from picacheck.errors import UserError
from picacheck.inventory import Inventory
from picacheck.probes.remote import HostPool

EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "chaos"


def names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in EXPERIMENTS_DIR.glob("*.py")
                  if not p.stem.startswith(("test_", "_", "conftest")))


def load(name: str) -> ModuleType:
    path = EXPERIMENTS_DIR / f"{name.replace('-', '_')}.py"
    if not path.is_file():
        raise UserError(f"no experiment named {name!r} (known: {', '.join(names()) or 'none'})")
    spec = importlib.util.spec_from_file_location(f"picacheck_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def context(inventory: Inventory, vms=None, allow_production: bool = False) -> ChaosContext:
    if allow_production:
        os.environ["PICACHECK_ALLOW_PRODUCTION"] = "1"  # confirmed by the user just before
    hosts = HostPool(inventory)
    if vms is None:
        vms = ProxmoxVms(inventory, hosts)
    return ChaosContext(inventory, hosts, vms)


def run_named(name: str, ctx: ChaosContext, journal_path: Path, dry_run: bool = False, **options) -> Journal:
    experiment = load(name).build(ctx, **options)
    return run(experiment, ctx.inventory.environment.name, journal_path, dry_run=dry_run)


__all__ = ["context", "load", "names", "refuse_production", "run_named"]
