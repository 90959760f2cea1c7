"""Layers and claims: which layer a check belongs to (its folder, tests/<layer>/), which
claims it carries (`@pytest.mark.claim("H2", …)`), and the markers for both."""

from __future__ import annotations

from pathlib import Path

import pytest

LAYERS = ("hosts", "cluster", "services", "backup", "load")

_MARKERS = (
    "hosts: layer: the hypervisors",
    "cluster: layer: corosync, GlusterFS, Swarm",
    "services: layer: Traefik, DNS, applications, registry",
    "backup: layer: dumps, vzdump, rsync",
    "load: layer: locust load tests",
    "chaos: experiments that break the target",
    "claim(*ids): the documented claims a check tests",
    "not_applicable(reason): the claim cannot be shown here (see picacheck/kit/applicability.py)",
)


def claims_of(item: pytest.Item) -> list[str]:
    return [claim for mark in item.iter_markers("claim") for claim in mark.args]


def layer_of(item: pytest.Item) -> str | None:
    return layer_of_path(Path(str(item.path)))


def layer_of_path(path: Path) -> str | None:
    """"hosts" for …/tests/hosts/test_network.py (or the folder itself), else None."""
    parts = path.parts
    for index, part in enumerate(parts[:-1]):
        if part == "tests" and parts[index + 1] in LAYERS:
            return parts[index + 1]
    return None


def is_experiment(item: pytest.Item) -> bool:
    """A chaos experiment (chaos/test_experiments.py): it breaks the target on purpose."""
    return Path(str(item.path)).parent.name == "chaos"


def runs_checks(args: list[str]) -> bool:
    """Whether pytest's arguments name checks of the layers (tests/, or a layer, module or
    check in it): known before collection, where pytest-xdist's controller never collects."""
    for arg in args:
        path = Path(arg.split("::", 1)[0]).resolve()
        if layer_of_path(path) or (path.name == "tests" and any((path / layer).is_dir() for layer in LAYERS)):
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    for line in _MARKERS:
        config.addinivalue_line("markers", line)


@pytest.hookimpl(tryfirst=True)  # before -m deselection, which reads the layer markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = layer_of(item)
        if layer:
            item.add_marker(getattr(pytest.mark, layer))
