"""Running the verification suite (tests/) through pytest, and planning it.

A run writes reports/<timestamp>/ (HTML with the claims matrix, junit.xml, summary.json)
and points reports/latest at it; earlier runs are kept.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from picacheck.claims import all_claims
from picacheck.errors import UserError
from picacheck.inventory import EnvironmentKind, Inventory, load_inventory
from picacheck import guard, secrets
from picacheck.inventory.default import default_inventory_path, inventory_path_or_default
from picacheck.kit.applicability import skipped_before_running
from picacheck.kit.grant import CommandGrant
from picacheck.kit.layers import claims_of
from picacheck.probes.remote import HostPool
from picacheck.progress import say
from picacheck.report import publish_run
from picacheck.report.history import DEFAULT_NAME as HISTORY_NAME

REPO = Path(__file__).resolve().parent.parent
SUITE = REPO / "tests"
EXPERIMENTS = REPO / "chaos"


def _suite() -> Path:
    if not SUITE.is_dir():
        raise UserError(f"the verification suite was not found at {SUITE}: run picacheck from a clone of the project")
    return SUITE


def verify(inventory_path: str | None, layers: list[str] | None, reports_root: str | None, extra: list[str],
           with_chaos: bool = False, fail_on: str | None = None, allow_production: bool = False,
           confirm: guard.Confirm | None = None, history: str | None = None,
           with_load: list[str] | None = None) -> int:
    inventory_path = inventory_path_or_default(inventory_path)
    inventory = load_inventory(inventory_path)
    changes = with_chaos or not layers or "load" in layers
    grant = guard.decide(inventory, guard.Access.change if changes else guard.Access.read,
                         allow_production=allow_production, confirm=confirm,
                         what="verify --chaos" if with_chaos else
                         "verify with the load layer (read only: --layer hosts --layer cluster --layer services "
                         "--layer backup)" if changes else "verify")
    preflight(inventory)
    root = Path(reports_root) if reports_root else REPO / "reports"
    run_dir = new_run_dir(root)
    suite = _suite()
    targets = [str(suite / layer) for layer in layers] if layers else [str(suite)]
    if with_chaos:
        targets.append(str(EXPERIMENTS))  # after the layers: the experiments break things
    say(f"verifying {inventory.environment.name} ({inventory.environment.kind.value}); report in {run_dir}")
    exit_status = pytest.main(
        [
            *targets,
            f"--rootdir={REPO}",
            f"--inventory={inventory_path}",
            f"--report-dir={run_dir}",
            f"--html={run_dir / 'tests.html'}",  # pytest-html's page: the detailed test log
            "--self-contained-html",
            f"--junitxml={run_dir / 'junit.xml'}",
            "-p",
            "no:cacheprovider",
            "-rfE",
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",
            "-p",
            "no:hypothesispytest",  # the project's own tests use hypothesis, the checks do not: 1 s per process
            *([f"--fail-on={fail_on}"] if fail_on else []),
            *([f"--with-load={','.join(with_load)}"] if with_load and with_chaos else []),
            *parallel_by_default(extra),
            *extra,
        ],
        plugins=[CommandGrant(grant)],
    )
    write_reports(run_dir, Path(history) if history else root / HISTORY_NAME)
    publish(run_dir, "summary.json")
    return int(exit_status)


def parallel_by_default(extra: list[str]) -> list[str]:
    """Hosts checked at the same time (picacheck/kit/parallel.py), unless the extra pytest
    arguments say how (`-n 0`: one check after another, in one process)."""
    said = any(arg in ("-n", "--numprocesses", "no:xdist") or arg.startswith(("-n", "--numprocesses="))
               for arg in extra)
    return [] if said else ["-n", "auto"]


def write_reports(run_dir: Path, history: Path) -> None:
    """The report people read (report.html, summary.md) and the run's line in the history."""
    try:
        report = publish_run(run_dir, history)
    except UserError as error:  # the run ended before it wrote its summary
        say(f"no report: {error}")
        return
    say(f"report: {report}")


def preflight(inventory: Inventory) -> None:
    """Fail fast, with one line, on what the user must fix before any run: a missing key.
    An unreachable host is not that: it is a verdict on its claims (the plugin's pre-flight
    names it once, its checks fail with the reason, the report is written)."""
    for name, host in inventory.hosts.items():
        key = host.ssh.key_file
        if key and not Path(key).is_file():
            raise UserError(f"hosts.{name}.ssh.key_file: {key} does not exist")


def new_run_dir(root: Path) -> Path:
    """A new run folder under `root`. `reports/latest` is pointed at it only once the run
    has written its results (`publish`), so that an interrupted start never becomes latest."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_dir, suffix = root / stamp, 1
        while run_dir.exists():
            suffix += 1
            run_dir = root / f"{stamp}-{suffix}"
        run_dir.mkdir()
    except OSError as error:
        raise UserError(f"--reports {root}: cannot make a run folder there ({error.strerror or error})") from None
    return run_dir


def publish(run_dir: Path, written: str) -> None:
    """Point `latest` at `run_dir` if the run wrote `written` there (else leave it as it was);
    mask every known secret in the run folder's files first."""
    secrets.scrub_tree(run_dir)
    if not (run_dir / written).exists():
        return
    latest = run_dir.parent / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name)
    except OSError as error:
        say(f"could not point {latest} at {run_dir.name}: {error.strerror or error}")


# --- plan ------------------------------------------------------------------------------


class _Collector:
    def __init__(self) -> None:
        self.items: list[pytest.Item] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)


def plan(inventory_path: str) -> str:
    """Per host and per claim, the checks a run would make. Collection only: no connection."""
    inventory = load_inventory(inventory_path)
    collector = _Collector()
    status = pytest.main(
        [str(_suite()), str(EXPERIMENTS), f"--rootdir={REPO}", f"--inventory={inventory_path}", "--collect-only",
         "-p", "no:cacheprovider", "-p", "no:terminal"],
        plugins=[collector],
    )
    if status not in (0, 5):
        raise UserError(f"collecting the suite failed (pytest exit {int(status)})")
    return render_plan(inventory, collector.items)


def render_plan(inventory: Inventory, items: list[pytest.Item]) -> str:
    by_claim: dict[str, list[str]] = defaultdict(list)
    by_host: dict[str, list[str]] = defaultdict(list)
    for item in items:
        skip = skipped_before_running(item)
        label = item.nodeid + (f"  [skipped: {skip}]" if skip else "")
        for claim in claims_of(item):
            by_claim[claim].append(label)
        for host in _hosts_named(item, inventory):
            by_host[host].append(f"{item.nodeid}  ({', '.join(claims_of(item)) or 'no claim'})")
    lines = [f"Plan for {inventory.environment.name} ({inventory.environment.kind.value}): "
             f"{len(items)} checks; nothing is contacted.", "", "Per host:"]
    for host in inventory.hosts:
        lines.append(f"  {host}: {len(by_host[host])} checks")
        lines += [f"    {label}" for label in by_host[host]]
    lines += ["", "Per claim:"]
    for claim in all_claims():
        checks = by_claim.get(claim.id, [])
        if checks:
            lines.append(f"  {claim.id}: {len(checks)} checks")
            lines += [f"    {label}" for label in checks]
        elif claim.id in inventory.not_applicable:
            lines.append(f"  {claim.id}: not applicable here: {inventory.not_applicable[claim.id]}")
        else:
            lines.append(f"  {claim.id}: no check yet")
    return "\n".join(lines)


def _hosts_named(item: pytest.Item, inventory: Inventory) -> list[str]:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return []
    names = []
    for value in callspec.params.values():
        if isinstance(value, str) and value in inventory.hosts:
            names.append(value)
        elif isinstance(value, tuple) and value and value[0] in inventory.hosts:
            names.append(value[0])
    return names


# --- chaos -----------------------------------------------------------------------------


def machine_control(inventory: Inventory, hosts):
    """How experiments stop and start machines: the lab's engine, or Proxmox's qm."""
    if inventory.environment.kind == EnvironmentKind.lab:
        from picacheck.lab.control import LabVms

        return LabVms()
    from picacheck.chaos.vms import ProxmoxVms

    return ProxmoxVms(inventory, hosts)


def chaos(name: str, inventory_path: str | None, dry_run: bool, allow_production: bool,
          options: dict[str, str], reports_root: str | None = None, manual_fault: bool = False,
          operator: guard.Confirm | None = None, with_load: list[str] | None = None) -> int:
    """Run one experiment as `picacheck chaos NAME`: journal and timeline in a run folder.
    The name and the options are checked before anything (also for a dry run, which touches
    nothing and needs no grant, on production too)."""
    from picacheck.chaos import catalog
    from picacheck.chaos.context import ChaosContext
    from picacheck.report.timeline import render_timeline

    inventory = load_inventory(inventory_path_or_default(inventory_path))
    catalog.options_of(name, options, inventory)
    grant = None if dry_run else guard.decide(inventory, guard.Access.change, allow_production=allow_production,
                                              what=f"chaos {name}")
    if manual_fault and operator is None:
        if not dry_run and not sys.stdin.isatty():
            raise UserError("--manual-fault asks an operator on a terminal: there is none")
        operator = guard.terminal_confirm
    hosts = HostPool(inventory, grant=grant)
    run_dir = None if dry_run else new_run_dir(Path(reports_root) if reports_root else REPO / "reports")
    journal_path = run_dir / "chaos" / f"{name}.json" if run_dir else None
    companions = []
    if with_load and not dry_run:
        from picacheck.load.users_view import UsersDuringFault

        companions.append(UsersDuringFault(inventory, inventory_path_or_default(inventory_path), with_load,
                                           run_dir / "chaos" / f"{name}-users", grant))
    elif with_load:
        say(f"[dry-run] {name}: the users of {', '.join(with_load)} at their SLO's pace during the whole experiment")
    try:
        ctx = ChaosContext(inventory, hosts, None if dry_run else machine_control(inventory, hosts), grant)
        journal = catalog.run_named(name, ctx, journal_path, options, dry_run=dry_run,
                                    operator=operator if manual_fault else None, companions=companions)
    finally:
        hosts.close()
        if run_dir:
            publish(run_dir, f"chaos/{name}.json")
    if dry_run:
        return 0
    if journal.timeline:
        render_timeline(journal.as_dict(), journal_path.with_suffix(".png"))
    for verdict in journal.verdicts:
        print(f"{verdict.claim}: {verdict.verdict.value}: {verdict.evidence}")
    print(f"journal: {journal_path}")
    broken = any(v.verdict.value == "broken" for v in journal.verdicts)
    return 0 if journal.outcome == "completed" and not broken else 1


# --- load ------------------------------------------------------------------------------


def load(service: str, inventory_path: str | None, options, reports_root: str | None = None,
         master_host: str | None = None, master_port: int | None = None, allow_production: bool = False) -> int:
    """`picacheck load SERVICE`: the capacity search in a run folder (or, with master_host,
    this machine as a remote worker of that master)."""
    from picacheck.load import command

    inventory_path = inventory_path_or_default(inventory_path)
    grant = guard.decide(load_inventory(inventory_path), guard.Access.change, allow_production=allow_production,
                         what=f"load {service}")
    root = Path(reports_root) if reports_root else REPO / "reports"
    if master_host:
        root.mkdir(parents=True, exist_ok=True)
        return command.worker(service, inventory_path, master_host, master_port, root, grant=grant)
    run_dir = new_run_dir(root)
    say(f"load: capacity search of {service}; report in {run_dir}")
    return command.capacity_search(service, inventory_path, options, run_dir, grant=grant)
