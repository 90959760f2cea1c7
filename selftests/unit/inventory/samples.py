"""What the inventory tests start from: the production file, the lab's rendered inventory,
and a bound so that a loader that hangs fails the test instead of the CI job."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

PRODUCTION = Path(__file__).resolve().parents[3] / "inventory" / "picasoft.yml"

LAB_PARTS = ("hypervisors", "services", "backups")


def lab_sections() -> dict:
    """The sections each part of the lab adds to its inventory once up (nothing is started)."""
    from picacheck.lab import backups, hypervisors, services

    return {"hypervisors": hypervisors.inventory_section(), "services": services.inventory_section(),
            "backups": backups.inventory_section()}


@contextmanager
def lab_parts_up(up: tuple[str, ...]):
    """picacheck.lab.inventory as if the parts `up` were up (and the others down)."""
    from picacheck.lab import inventory as lab_inventory
    from picacheck.lab import vms
    from picacheck.lab.parts import PARTS

    sections = {**lab_sections(), "vms": vms.inventory_section()}
    names = [part.__name__.rsplit(".", 1)[-1] for part in PARTS]  # in the lab's order
    chosen = [sections[name] for name in names if name == "vms" or name in up]
    with mock.patch.object(lab_inventory, "sections_of_parts_up", lambda: chosen):
        yield lab_inventory


@contextmanager
def bounded(seconds: int = 10):
    """Fail with TimeoutError instead of hanging (a FIFO opened for reading waits for a writer)."""

    def expired(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
