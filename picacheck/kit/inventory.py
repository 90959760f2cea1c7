"""The run's inventory (`--inventory PATH`, default: picacheck/inventory/default.py), loaded
once per process; the `inventory` fixture and one fixture per section a check may need
(`swarm`, `traefik`, …), which makes the check not applicable where the section is absent."""

from __future__ import annotations

import sys

import pytest

from picacheck.errors import UserError
from picacheck.inventory import Inventory, load_inventory
from picacheck.inventory.default import default_inventory_path
from picacheck.kit import applicability
from picacheck.kit.applicability import documented
from picacheck.kit.layers import claims_of

_inventory_key = pytest.StashKey[Inventory]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("picacheck").addoption("--inventory", default=None,
                                           help="inventory YAML (default: the embedded lab's)")


def inventory_path_of(config: pytest.Config) -> str:
    return config.getoption("--inventory") or default_inventory_path()


def inventory_of(config: pytest.Config) -> Inventory:
    """The run's inventory, loaded once; a bad one ends the run with exit status 2."""
    if _inventory_key not in config.stash:
        try:
            config.stash[_inventory_key] = load_inventory(inventory_path_of(config))
        except UserError as error:
            print(f"picacheck: {error}", file=sys.stderr)
            pytest.exit(str(error), returncode=2)
    return config.stash[_inventory_key]


def loaded_inventory(config: pytest.Config) -> Inventory | None:
    """The inventory if this run has loaded one (a run of the project's own tests has not)."""
    return config.stash.get(_inventory_key, None)


@pytest.hookimpl(tryfirst=True)  # before -m deselection, as the layer markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A check whose every claim the inventory lists under `not_applicable:` does not run."""
    inventory = loaded_inventory(config)
    if inventory is None:
        return
    reasons = inventory.not_applicable
    for item in items:
        claims = claims_of(item)
        if claims and all(claim in reasons for claim in claims):
            item.add_marker(applicability.marker("; ".join(f"{claim}: {reasons[claim]}" for claim in claims)))


@pytest.fixture(scope="session")
def inventory(request: pytest.FixtureRequest) -> Inventory:
    return inventory_of(request.config)


@pytest.fixture
def corosync(inventory):
    return documented(inventory.corosync, "corosync cluster")


@pytest.fixture
def swarm(inventory):
    return documented(inventory.swarm, "Docker Swarm")


@pytest.fixture
def traefik(inventory, swarm):
    return documented(inventory.traefik, "Traefik")


@pytest.fixture
def registry(inventory):
    return documented(inventory.registry, "registry")


@pytest.fixture
def monitoring(inventory):
    return documented(inventory.monitoring, "monitoring host")


@pytest.fixture
def vzdump(inventory):
    return documented(inventory.backups.vzdump, "vzdump policy")
