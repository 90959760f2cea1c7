"""The inventory room: the documented state as data (YAML → typed model, validated)."""

from picacheck.inventory.loader import load_inventory
from picacheck.inventory.model import EnvironmentKind, Inventory

__all__ = ["EnvironmentKind", "Inventory", "load_inventory"]
