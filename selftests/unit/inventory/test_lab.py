"""The inventory the lab writes (picacheck/lab/inventory.py) passes the strict inventory rules.

`picacheck lab up` merges the sections of the lab's parts that are up (the container VMs'
always, then hypervisors, services, backups). Here each combination is rendered without
starting anything: the "which parts are up?" look-up is replaced by the sections those
parts would add, and the lab's own writer (write_lab_inventory, which loads what it wrote)
must accept the result.
"""

import pytest

from picacheck.inventory import load_inventory

from .samples import lab_parts_up


@pytest.mark.parametrize("up", [(), ("hypervisors",), ("services",), ("hypervisors", "services"),
                                ("hypervisors", "services", "backups")], ids=lambda up: "+".join(up) or "base")
def test_the_lab_inventory_fits_the_strict_model(tmp_path, up):
    with lab_parts_up(up) as lab_inventory:
        path = lab_inventory.write_lab_inventory(tmp_path / "lab.yml")
    inventory = load_inventory(path)
    assert inventory.environment.kind.value == "lab"
    assert bool(inventory.corosync) == ("hypervisors" in up)
    assert bool(inventory.services) == ("services" in up)
    assert bool(inventory.backups.dumps) == ("backups" in up)
