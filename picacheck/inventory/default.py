"""Which inventory a run reads when none is named.

The one home of that answer (the CLI, `picacheck verify`, the checks' kit and the load
layer all ask here): the file named by PICACHECK_INVENTORY, else the embedded lab's, which
`picacheck lab up` writes into the lab's folder (PICACHECK_LAB_DIR, /var/lib/picacheck-lab
by default).
"""

from __future__ import annotations

import os
from pathlib import Path

from picacheck.errors import UserError

LAB_DIR = Path(os.environ.get("PICACHECK_LAB_DIR", "/var/lib/picacheck-lab"))
LAB_INVENTORY = LAB_DIR / "inventory.yml"


def default_inventory_path() -> str:
    """PICACHECK_INVENTORY, else the lab's inventory."""
    return os.environ.get("PICACHECK_INVENTORY", str(LAB_INVENTORY))


def inventory_path_or_default(given: str | None) -> str:
    """The inventory to use: the one given (an empty string is an error, not the default),
    else the default."""
    if given is None:
        return default_inventory_path()
    if not given.strip():
        raise UserError("--inventory: an empty path (give a file, or leave the option out for the lab's inventory)")
    return given
