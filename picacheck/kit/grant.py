"""The production guard in a pytest run: what this run may do to its environment.

`picacheck verify` decides before pytest starts (flags, a typed name) and hands its decision
in as the plugin named GRANT_PLUGIN. Run through pytest directly, the run gets what the guard
allows without a typed confirmation. Either way a run that may not do what its checks need
ends with exit status 2 before any check runs. Under pytest-xdist the command's decision
travels to each worker with the worker's input (picacheck/kit/parallel.py).
"""

from __future__ import annotations

import sys

import pytest

from picacheck import guard
from picacheck.errors import UserError
from picacheck.kit.inventory import inventory_of
from picacheck.kit.layers import is_experiment, layer_of

GRANT_PLUGIN = "picacheck-grant"  # run.verify registers the command's decision under this name
_grant_key = pytest.StashKey[guard.Grant]()


class CommandGrant:
    """The decision `picacheck verify` took (flags, typed name) before starting pytest."""

    def __init__(self, grant: guard.Grant):
        self.grant = grant


def given_grant(config: pytest.Config) -> guard.Grant | None:
    """The command's decision, if a command took one (in this process, or sent to this worker)."""
    given = config.pluginmanager.get_plugin(GRANT_PLUGIN)
    if given is not None:
        return given.grant
    sent = getattr(config, "workerinput", {}).get("picacheck_grant")
    return guard.Grant(sent["environment"], guard.Access(sent["access"])) if sent else None


def run_grant(config: pytest.Config) -> guard.Grant | None:
    """This run's grant, once the checks to run are known (None: no check of the target)."""
    return config.stash.get(_grant_key, None)


def _access_needed(items: list[pytest.Item]) -> guard.Access | None:
    """Chaos and load change the target; the other layers only read it."""
    if any(is_experiment(item) or layer_of(item) == "load" for item in items):
        return guard.Access.change
    return guard.Access.read if any(layer_of(item) for item in items) else None


def _authorise(config: pytest.Config, items: list[pytest.Item]) -> None:
    access = _access_needed(items)
    if access is None:
        return
    inventory = inventory_of(config)
    try:
        grant = given_grant(config) or guard.decide(inventory, access, what="this run")
        guard.require(inventory, grant, access, "this run")
    except UserError as error:
        print(f"picacheck: {error}", file=sys.stderr)
        pytest.exit(str(error), returncode=2)
    config.stash[_grant_key] = grant


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: the guard weighs what will really run
def pytest_collection_finish(session: pytest.Session) -> None:
    if not session.config.option.collectonly:
        _authorise(session.config, session.items)


@pytest.fixture(scope="session")
def grant(request: pytest.FixtureRequest) -> guard.Grant | None:
    """What this run may do to its environment (see picacheck/guard.py)."""
    return run_grant(request.config)
