"""What an experiment works with: the documented state, the hosts, the machines' control,
and the grant that lets it change the target (see picacheck/guard.py)."""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.guard import Grant
from picacheck.inventory import Inventory
from picacheck.probes.remote import HostPool


@dataclass
class ChaosContext:
    inventory: Inventory
    hosts: HostPool  # reconnects to a host that was down: the experiments' victims come back
    vms: object  # picacheck.chaos.vms.VmControl: the lab's engine, or Proxmox's qm
    grant: Grant | None = None
