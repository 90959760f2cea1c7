"""The lab's inventory: the documented state, in the lab's own values.

Written by `picacheck lab up` to topology.INVENTORY_FILE, and used by `picacheck verify` by
default. It says the same things as inventory/picasoft.yml (same arrays, same cluster, same
services and policies) with the lab's addresses, sizes and device names, and lists under
`not_applicable` the claims the lab cannot show, with the reason.

Each part of the lab gives its own section (`<part>.inventory_section()`); the container
VMs' is the base, every other part's is added once that part is up. Sections merge key by
key: mappings merge, lists gain the items they lack, a later part's value wins.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from picacheck.inventory.loader import load_inventory
from picacheck.lab import topology as T
from picacheck.lab import vms
from picacheck.lab.parts import PARTS

HEADER = {"environment": {"name": "picalab", "kind": "lab",
                          "description": "The embedded lab: the report's topology on one machine (picacheck lab up)"}}


def merge(into: dict, section: dict) -> dict:
    for key, value in section.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            into[key] += [item for item in value if item not in into[key]]
        else:
            into[key] = value
    return into


def sections_of_parts_up() -> list[dict]:
    """The base (the container VMs) and the section of every other part that is up, in order."""
    return [part.inventory_section() for part in PARTS if part is vms or part.is_up()]


def lab_inventory(sections: list[dict] | None = None) -> dict:
    inventory: dict = {**HEADER, "hosts": {}}
    for section in sections_of_parts_up() if sections is None else sections:
        merge(inventory, section)
    return inventory


def write_lab_inventory(path: Path = T.INVENTORY_FILE, sections: list[dict] | None = None) -> Path:
    """Write the lab's inventory and check that it loads (a lab bug must not reach a run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `picacheck lab up`: the embedded lab's documented state. Do not edit.\n"
    path.write_text(header + yaml.safe_dump(lab_inventory(sections), sort_keys=False, width=120))
    load_inventory(path)
    return path
