"""Load an inventory file into the typed model, with errors a person can act on.

Every failure becomes a `UserError` whose one line names the file, the key and what was
expected, e.g. ``inventory/x.yml: hosts.alice.ssh.address: missing (a value is required)``.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from picacheck.errors import UserError
from picacheck.inventory.model import Inventory

_EXPLAINED = {
    "missing": "missing (a value is required)",
    "extra_forbidden": "unknown key (a typo? see picacheck/inventory/model.py for the keys)",
}


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    data = _read_yaml(path)
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as error:
        raise UserError(f"{path}: {describe_validation_error(error)}") from None
    return _resolve_paths(inventory, path.parent)


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: inventory file not found") from None
    except OSError as error:
        raise UserError(f"{path}: cannot read the inventory ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UserError(f"{path}: {where}not valid YAML ({problem})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping with 'environment' and 'hosts' at the top")
    # Top-level "x-" keys only hold YAML anchors shared by several hosts (as in compose files).
    return {key: value for key, value in data.items() if not str(key).startswith("x-")}


def describe_validation_error(error: ValidationError) -> str:
    """All problems on one line: `key: what was expected; key: …`."""
    parts = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = _EXPLAINED.get(problem["type"], problem["msg"])
        if problem["type"] == "value_error":
            # Our own cross-reference errors already carry their key.
            parts.append(problem["msg"].removeprefix("Value error, "))
        else:
            parts.append(f"{key}: {message}")
    return "; ".join(parts)


def _resolve_paths(inventory: Inventory, base: Path) -> Inventory:
    """Key and CA files may be written relative to the inventory or with `~`."""

    def resolve(value: str | None) -> str | None:
        if value is None:
            return None
        candidate = Path(value).expanduser()
        return str(candidate if candidate.is_absolute() else (base / candidate).resolve())

    hosts = {
        name: host.model_copy(
            update={"ssh": host.ssh.model_copy(update={"key_file": resolve(host.ssh.key_file)})}
        )
        for name, host in inventory.hosts.items()
    }
    updates: dict = {"hosts": hosts}
    updates["tls"] = inventory.tls.model_copy(update={"ca_file": resolve(inventory.tls.ca_file)})
    if inventory.registry:
        updates["registry"] = inventory.registry.model_copy(
            update={
                "ca_file": resolve(inventory.registry.ca_file),
                "password_file": resolve(inventory.registry.password_file),
            }
        )
    return inventory.model_copy(update=updates)
