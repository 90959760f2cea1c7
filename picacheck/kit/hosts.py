"""The hosts a run talks to, and what the run says about them on the terminal.

- `hosts` (fixture): one SSH connection per host for the whole run (per worker under
  pytest-xdist), opened on first use (picacheck/probes/remote.py's HostPool).
- The pre-flight: before the first check, every host is asked for its SSH banner, all at
  once. An unreachable host is named once, its checks fail at once with the reason, and the
  run goes on (the report is written; the run exits 1). Under pytest-xdist the controller
  asks, once, and sends the answer to its workers (picacheck/kit/parallel.py).
- `say(config, line)`: a line on the terminal now, past pytest's capture of the checks'
  output (the lab's and the drills' progress lines go through it).
"""

from __future__ import annotations

import contextlib
import sys
import threading

import pytest

from picacheck import guard, progress
from picacheck.errors import UserError
from picacheck.kit.grant import given_grant, run_grant
from picacheck.kit.inventory import inventory_of
from picacheck.kit.layers import layer_of
from picacheck.probes.remote import HostPool

_pool_key = pytest.StashKey[HostPool]()
_unreachable_key = pytest.StashKey[dict]()


def is_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker (its controller collects the outcomes and writes the report)."""
    return hasattr(config, "workerinput")


def unreachable_hosts(config: pytest.Config) -> dict[str, str]:
    """Host → why it could not be reached, for this run so far (every worker's, on the controller)."""
    return config.stash.setdefault(_unreachable_key, {})


def record_unreachable(config: pytest.Config, unreachable: dict[str, str]) -> None:
    unreachable_hosts(config).update(unreachable)


_say_lock = threading.Lock()  # experiments running together report from their threads


def say(config: pytest.Config, line: str, colour: bool = True) -> None:
    """A line on the terminal now, past pytest's capture of the checks' output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    with _say_lock, capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        if reporter is None or is_worker(config):  # a worker's stdout is its channel to the controller
            print(line, file=sys.stderr, flush=True)
            return
        reporter.ensure_newline()
        reporter.write_line(line, **({"yellow": True, "bold": True} if colour else {}))


def pytest_configure(config: pytest.Config) -> None:
    progress.set_writer(lambda line: say(config, line, colour=False))


def host_pool(config: pytest.Config) -> HostPool:
    """This process's hosts, with the pre-flight's unreachable ones marked as such."""
    if _pool_key not in config.stash:
        pool = HostPool(inventory_of(config), remember_unreachable=True, grant=run_grant(config))
        config.stash[_pool_key] = pool
        sent = getattr(config, "workerinput", {}).get("picacheck_unreachable")
        if sent is None:
            preflight(config, pool)
        else:  # the controller's pre-flight, named there already
            for name, reason in sent.items():
                pool[name].backend.mark_unreachable(reason)
            record_unreachable(config, sent)
    return config.stash[_pool_key]


def preflight(config: pytest.Config, pool: HostPool) -> dict[str, str]:
    unreachable = pool.preflight()
    record_unreachable(config, unreachable)
    for name, reason in unreachable.items():
        say(config, f"picacheck: {name} is unreachable: {reason}; its checks fail with that reason")
    return unreachable


def preflight_alone(config: pytest.Config) -> dict[str, str]:
    """The pre-flight without a pool for the checks (pytest-xdist's controller runs none)."""
    inventory = inventory_of(config)
    pool = None
    try:
        grant = given_grant(config) or guard.decide(inventory, guard.Access.read, what="this run")
        pool = HostPool(inventory, remember_unreachable=True, grant=grant)
        return preflight(config, pool)
    except UserError as error:  # the production guard: exit 2, as the workers would
        print(f"picacheck: {error}", file=sys.stderr)
        pytest.exit(str(error), returncode=2)
    finally:
        if pool is not None:
            pool.close()


@pytest.fixture(scope="session")
def hosts(request: pytest.FixtureRequest, inventory) -> HostPool:
    """One SSH connection per host for the whole run."""
    return host_pool(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Checks of the layers talk to hosts: the pre-flight runs before the first of them,
    also where no check of a host runs (an unreachable host still fails the run)."""
    config = session.config
    if not config.option.collectonly and not is_worker(config) and any(layer_of(item) for item in session.items):
        host_pool(config)


@pytest.hookimpl(tryfirst=True)  # before the report's hooks, which write the exit status
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    pool = config.stash.get(_pool_key, None)
    if pool is not None:
        record_unreachable(config, pool.unreachable())
        pool.close()
    if is_worker(config):
        config.workeroutput["picacheck_unreachable"] = unreachable_hosts(config)
    elif unreachable_hosts(config) and session.exitstatus == 0:
        session.exitstatus = 1  # an unreachable host is a verdict, and not a healthy one


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    progress.set_writer(None)
