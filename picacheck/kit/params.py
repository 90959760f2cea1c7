"""Parametrisation from the inventory: a check that takes one of the arguments below runs
once per such item of the inventory (`test_sshd_runs[alice]`, `[bob]`, …); where the
inventory has none, it runs once and is not applicable here.

    hypervisor       the hosts with the role hypervisor
    swarm_node       the Swarm's managers and workers
    gluster_peer     the GlusterFS peers
    gluster_volume   the GlusterFS volumes
    raid_array       (host, array) for every documented md array (with the array's claim)
    service          the public services
    dump_policy      the database dump policies
"""

from __future__ import annotations

import pytest

from picacheck.inventory import Inventory
from picacheck.kit import applicability
from picacheck.kit.inventory import inventory_of

PARAMETERS = ("hypervisor", "swarm_node", "gluster_peer", "gluster_volume", "raid_array", "service", "dump_policy")


def inventory_params(name: str, inventory: Inventory) -> list:
    if name == "hypervisor":
        return inventory.hosts_with_role("hypervisor")
    if name == "swarm_node":
        return list(inventory.swarm.managers + inventory.swarm.workers) if inventory.swarm else []
    if name == "gluster_peer":
        return list(inventory.gluster.peers) if inventory.gluster else []
    if name == "gluster_volume":
        return [pytest.param(v, id=v.name) for v in inventory.gluster.volumes] if inventory.gluster else []
    if name == "raid_array":
        return [
            pytest.param((host_name, array), id=f"{host_name}-{array.name}", marks=claim_marks(array.claim))
            for host_name, host in inventory.hosts.items()
            for array in host.raid
        ]
    if name == "service":
        return [pytest.param(s, id=s.name) for s in inventory.services]
    if name == "dump_policy":
        return [pytest.param(d, id=d.database) for d in inventory.backups.dumps]
    raise KeyError(name)


def claim_marks(claim: str | None) -> list:
    return [pytest.mark.claim(claim)] if claim else []


def none_documented(what: str) -> list:
    """The parametrisation of a check whose items the inventory does not have."""
    return [pytest.param(None, marks=applicability.marker(f"the inventory has no {what}"))]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name in metafunc.fixturenames:
        if name in PARAMETERS:
            params = inventory_params(name, inventory_of(metafunc.config))
            metafunc.parametrize(name, params or none_documented(name.replace("_", " ")))


def hosts_named(params: dict, inventory: Inventory) -> list[str]:
    """The inventory hosts a check's parameters name: a host's name, a (host, array) pair,
    or an item with a `host` that is an inventory host (a dump policy)."""
    names = []
    for value in params.values():
        if isinstance(value, tuple) and value:
            value = value[0]
        value = getattr(value, "host", value)
        if isinstance(value, str) and value in inventory.hosts:
            names.append(value)
    return names
