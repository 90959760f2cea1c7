"""Checks of different hosts at the same time (pytest-xdist), a host's checks in order.

`picacheck verify` runs `pytest -n auto`; `-n 0` runs everything in one process, in order.

- **One group per host.** A check runs in the group of the host its parameters name
  (`[alice]`, `[alice-md0]`, a dump policy's host); a check that names no host runs in its
  layer's group ("cluster, across hosts"); the restore drill of one database (its B5 and B9
  checks share one drill) is a group of its own. A group runs on one worker, in collection
  order, so a host has one SSH connection per worker at most (in practice one in all).
- **Alone, last**: the load layer (CPU-bound locust runs) and the chaos experiments (they
  break the target) run after every other group is done, one after another, on one worker.
- **Once**: the controller asks every host for its SSH banner before the workers start, names
  the unreachable ones, and sends the answer (and the command's production grant) to its
  workers; each worker sends back the hosts it could not reach.
- `-n auto` is sized by the inventory (the work waits on the hosts, not on this machine's CPUs).
- Progress: a line per group when its checks are done.

How the groups reach the scheduler: pytest-xdist's own `--dist loadgroup` appends the group to
each node id, which pytest 9.2 no longer lets a plugin change (pytest-xdist #1386: the tests
are then spread one by one, silently). Here each worker writes its checks' groups to a file of
a folder the controller made, before it reports its collection; the controller's scheduler
reads it once every worker has collected. Node ids stay as they are, so the claims matrix,
the evidence and the report are those of a run in one process; what the report needs
travels with each check's report (picacheck/kit/outcome.py).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from picacheck.kit.grant import given_grant
from picacheck.kit.hosts import preflight_alone, record_unreachable, say
from picacheck.kit.inventory import inventory_of, loaded_inventory
from picacheck.kit.layers import is_experiment, layer_of, runs_checks
from picacheck.kit.params import hosts_named

ALONE = "load and chaos, alone"  # the group that runs after all others, with nothing beside it
MAX_WORKERS_PER_CPU = 4  # workers mostly wait on the hosts; each costs a process and a collection

_groups_dir_key = pytest.StashKey[Path]()
_preflight_key = pytest.StashKey[dict]()
_interrupted_key = pytest.StashKey[BaseException]()


def group_of(item: pytest.Item) -> str | None:
    """The group a check runs in (None: not a check of the target; placed on its own)."""
    layer = layer_of(item)
    if is_experiment(item) or layer == "load":
        return ALONE
    if layer is None:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    policy = params.get("dump_policy")
    if "restore_drills" in item.fixturenames and policy is not None:
        return f"restore drill of {policy.database}"
    named = hosts_named(params, inventory_of(item.config))
    return named[0] if named else f"{layer}, across hosts"


def distributed(config: pytest.Config) -> bool:
    """Whether this process is pytest-xdist's controller."""
    return bool(getattr(config.option, "tx", None)) and getattr(config.option, "dist", "no") != "no"


def auto_workers(config: pytest.Config) -> int | None:
    """Workers for `-n auto` in a run of the checks: about one per group, within bounds."""
    if not runs_checks(config.args):
        return None
    inventory = inventory_of(config)
    groups = len(inventory.hosts) + len(inventory.backups.dumps) + 4  # + the layers' groups, + alone
    return max(1, min(groups, MAX_WORKERS_PER_CPU * (os.cpu_count() or 1)))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if loaded_inventory(config) is None:
        return
    for item in items:
        group = group_of(item)
        if group is not None:
            item.add_marker(pytest.mark.picacheck_group(group))


def group_marked(item: pytest.Item) -> str | None:
    mark = item.get_closest_marker("picacheck_group")
    return mark.args[0] if mark else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "picacheck_group(name): the group a check runs in (picacheck/kit/parallel.py)")


# --- the controller ----------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    return auto_workers(config)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if _groups_dir_key in config.stash:
        return HostGroupScheduling(config, log, config.stash[_groups_dir_key])
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist starts its workers
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if not distributed(config) or config.option.collectonly:
        return
    config.stash[_groups_dir_key] = Path(tempfile.mkdtemp(prefix="picacheck-groups-"))
    if runs_checks(config.args):
        try:
            config.stash[_preflight_key] = preflight_alone(config)
        except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM while the hosts are asked
            config.stash[_interrupted_key] = interrupt
            return
        config.pluginmanager.register(HostProgress(config, config.stash[_groups_dir_key]), "picacheck-host-progress")


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """An interruption of the pre-flight, raised again here: from the session start pytest
    would end without its session's end, and the partial report would not be written."""
    interrupt = session.config.stash.get(_interrupted_key, None)
    if interrupt is not None:
        raise interrupt


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    config = node.config
    if _groups_dir_key in config.stash:
        node.workerinput["picacheck_groups_dir"] = str(config.stash[_groups_dir_key])
    if _preflight_key in config.stash:
        node.workerinput["picacheck_unreachable"] = config.stash[_preflight_key]
    grant = given_grant(config)
    if grant is not None:
        node.workerinput["picacheck_grant"] = {"environment": grant.environment, "access": int(grant.access)}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    record_unreachable(node.config, getattr(node, "workeroutput", {}).get("picacheck_unreachable", {}))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _groups_dir_key in config.stash:
        shutil.rmtree(config.stash[_groups_dir_key], ignore_errors=True)


def read_groups(directory: Path) -> dict[str, str]:
    """Node id → group, as the first worker to collect wrote them (every worker collects the same)."""
    for path in sorted(directory.glob("*.json")):
        return json.loads(path.read_text())
    return {}


class HostGroupScheduling(LoadScopeScheduling):
    """pytest-xdist's scheduling by scope, the scope of a check being its group; the group
    ALONE goes, once it is the only work left, to one worker, after every other worker has
    finished and stopped.

    (A worker runs the last check it was sent only once it knows what comes next, or that
    nothing does: so the others are told to stop, and ALONE waits until they have.)"""

    def __init__(self, config: pytest.Config, log, groups_dir: Path):
        super().__init__(config, log)
        self.groups_dir = groups_dir
        self._groups: dict[str, str] | None = None
        self._alone_runner = None

    def schedule(self) -> None:
        if self._groups is None:  # every worker has collected: their groups are written
            self._groups = read_groups(self.groups_dir)
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        return (self._groups or {}).get(nodeid, nodeid)

    def _assign_work_unit(self, node) -> None:
        if ALONE in self.workqueue and len(self.workqueue) > 1:
            self.workqueue.move_to_end(ALONE)
        if list(self.workqueue) != [ALONE]:
            super()._assign_work_unit(node)
            return
        if self._alone_runner is None:
            self._alone_runner = node
            for other in self.nodes:
                if other is not node and not other.shutting_down:
                    other.shutdown()  # it runs what it was sent, then stops
        self._start_alone_once_alone()

    def remove_node(self, node):
        crashed = super().remove_node(node)
        self._start_alone_once_alone()
        return crashed

    def _start_alone_once_alone(self) -> None:
        runner = self._alone_runner
        if runner is None or list(self.workqueue) != [ALONE] or runner not in self.assigned_work:
            return
        if any(other is not runner for other in self.assigned_work):
            return  # another worker is still finishing its checks
        super()._assign_work_unit(runner)


# --- the workers ------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which reports the collection
def pytest_collection_finish(session: pytest.Session) -> None:
    directory = getattr(session.config, "workerinput", {}).get("picacheck_groups_dir")
    if not directory:
        return
    groups = {item.nodeid: group for item in session.items if (group := group_marked(item))}
    target = Path(directory) / f"{session.config.workerinput['workerid']}.json"
    partial = target.with_suffix(".part")
    partial.write_text(json.dumps(groups))
    partial.replace(target)  # whole or absent: the controller never reads half a file


# --- progress per group --------------------------------------------------------------------


class HostProgress:
    """A line per group on the controller's terminal when its last check is done:
    "[picacheck] alice: 27 checks done in 8.1 s (26 passed, 1 skipped)" (from the start of
    its first check)."""

    def __init__(self, config: pytest.Config, groups_dir: Path):
        self.config = config
        self.groups_dir = groups_dir
        self._groups: dict[str, str] | None = None
        self.started: dict[str, float] = {}
        self.phases: dict[str, list[str]] = {}  # node id → outcomes of its phases so far
        self.done: dict[str, Counter] = {}  # group → outcomes of its finished checks

    @property
    def groups(self) -> dict[str, str]:
        if self._groups is None:  # written before any check starts
            self._groups = read_groups(self.groups_dir)
        return self._groups

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        group = self.groups.get(nodeid)
        if group is not None:
            self.started.setdefault(group, time.monotonic())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        group = self.groups.get(report.nodeid)
        if group is None:
            return
        self.phases.setdefault(report.nodeid, []).append(report.outcome)
        if report.when != "teardown":
            return
        phases = self.phases.pop(report.nodeid)
        final = next((word for word in ("failed", "skipped") if word in phases), "passed")
        done = self.done.setdefault(group, Counter())
        done[final] += 1
        total = sum(done.values())
        if total == Counter(self.groups.values())[group]:
            counts = ", ".join(f"{number} {word}" for word, number in done.most_common())
            seconds = time.monotonic() - self.started.get(group, time.monotonic())
            say(self.config, f"[picacheck] {group}: {total} check{'s' if total > 1 else ''} done in {seconds:.1f} s "
                             f"({counts})", colour=False)
