"""The inventory the lab writes (picacheck/lab/inventory.py) passes the strict inventory rules.

`picacheck lab up` writes it section by section as the lab's parts come up (hypervisors,
services, backups). Here each combination is rendered without starting anything: the
"is that part up?" look-ups are replaced by the sections that part would add, and the
lab's own writer (write_lab_inventory, which loads what it wrote) must accept the result.
"""

import pytest

from picacheck.inventory import load_inventory
from picacheck.lab import inventory as lab_inventory

PARTS = ["hypervisors", "services", "backups"]


def _sections():
    from picacheck.lab import backups, hypervisors
    from picacheck.lab.services import lab_service_facts

    return {"hypervisors": hypervisors.inventory_section(), "services": lab_service_facts()["inventory"],
            "backups": backups.inventory_section()}


@pytest.mark.parametrize("up", [(), ("hypervisors",), ("services",), ("hypervisors", "services"), tuple(PARTS)],
                         ids=lambda up: "+".join(up) or "base")
def test_the_lab_inventory_fits_the_strict_model(tmp_path, monkeypatch, up):
    sections = _sections()
    for part, look_up in zip(PARTS, ("_hypervisor_facts", "_service_facts", "_backup_facts")):
        monkeypatch.setattr(lab_inventory, look_up, lambda part=part: sections[part] if part in up else None)
    path = lab_inventory.write_lab_inventory(tmp_path / "lab.yml")
    inventory = load_inventory(path)
    assert inventory.environment.kind.value == "lab"
    assert bool(inventory.corosync) == ("hypervisors" in up)
    assert bool(inventory.services) == ("services" in up)
    assert bool(inventory.backups.dumps) == ("backups" in up and "services" in up)
