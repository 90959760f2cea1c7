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
    from picacheck.lab import backups, hypervisors
    from picacheck.lab.services import lab_service_facts

    return {"hypervisors": hypervisors.inventory_section(), "services": lab_service_facts()["inventory"],
            "backups": backups.inventory_section()}


@contextmanager
def lab_parts_up(up: tuple[str, ...]):
    """picacheck.lab.inventory as if the parts `up` were up (and the others down)."""
    from picacheck.lab import inventory as lab_inventory

    sections = lab_sections()
    look_ups = dict(zip(LAB_PARTS, ("_hypervisor_facts", "_service_facts", "_backup_facts")))
    with mock.patch.multiple(lab_inventory, **{look_ups[part]: (lambda part=part: sections[part] if part in up else None)
                                               for part in LAB_PARTS}):
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
