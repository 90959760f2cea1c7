"""The whole lab, in order: the container VMs (engine, pica01/pica02/admin, GlusterFS,
Swarm, registry), then the hypervisors (alice and bob under user-mode-linux), then the
public services (DNS, ACME CA, Traefik, the applications), then the backups (the dump
jobs, the VM archives and their mirror); down in the reverse order.
Each part is idempotent, so `up` on a lab that is up changes nothing.
"""

from __future__ import annotations

import importlib

from picacheck.lab import hypervisors, manage
from picacheck.lab.inventory import write_lab_inventory
from picacheck.progress import say, step


def _services():
    """The services part, once it exists in this checkout (None otherwise)."""
    try:
        module = importlib.import_module("picacheck.lab.services")
    except ImportError:
        return None
    return module if hasattr(module, "up") else None


def _backups():
    """The backups part (it needs the services' databases)."""
    try:
        module = importlib.import_module("picacheck.lab.backups")
    except ImportError:
        return None
    return module if hasattr(module, "up") else None


def up() -> None:
    with step("lab up: container VMs"):
        manage.up()
    with step("lab up: hypervisors"):
        hypervisors.up()
        hypervisors.attach_private_network()
    services = _services()
    if services:
        with step("lab up: public services"):
            services.up()
        backups = _backups()
        if backups:
            with step("lab up: backups"):
                backups.up()
    path = write_lab_inventory()
    say(f"lab up: inventory written to {path}")


def down() -> None:
    backups = _backups()
    if backups:
        with step("lab down: backups"):
            backups.down()
    services = _services()
    if services:
        with step("lab down: public services"):
            services.down()
    with step("lab down: hypervisors"):
        hypervisors.down()
    with step("lab down: container VMs"):
        manage.down()


def status() -> bool:
    """Prints the state of every part; True when the whole lab is up."""
    ok = manage.status()["ok"]
    for name, machine in hypervisors.status().items():
        print(f"{name:8} uml pid {machine['pid'] or '-':>7}  ssh {'ok' if machine['ssh'] else 'NO'}")
        ok &= machine["running"] and machine["ssh"]
    services = _services()
    if services:
        ok &= bool(services.status()["ok"])
    backups = _backups()
    if backups:
        ok &= bool(backups.status()["ok"])
    return ok


def reset() -> None:
    down()
    up()
