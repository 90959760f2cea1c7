"""Stopping and starting machines for experiments, through the real interfaces.

`VmControl` is what an experiment needs; which implementation it gets depends on the
environment: Proxmox's `qm` over SSH on the VM's hypervisor for real infrastructure
(here), the lab's own engine for the embedded lab (picacheck.lab.control).
"""

from __future__ import annotations

from typing import Protocol

from picacheck.errors import UserError
from picacheck.inventory import Inventory
from picacheck.probes import ssh
from picacheck.probes.remote import HostPool


class VmControl(Protocol):
    def kill_vm(self, name: str) -> None:
        """Stop a VM at once, as a crash would (no clean shutdown)."""

    def start_vm(self, name: str) -> None:
        """Start it again and return once it answers SSH."""

    def kill_hypervisor(self, name: str) -> None:
        """Take a hypervisor down at once (its VMs stop with it)."""

    def start_hypervisor(self, name: str) -> None:
        """Boot it again and return once it answers SSH."""


class ProxmoxVms:
    """`qm stop|start VMID` on the VM's hypervisor, over SSH."""

    def __init__(self, inventory: Inventory, hosts: HostPool):
        self.inventory = inventory
        self.hosts = hosts

    def _qm(self, name: str, action: str) -> None:
        vm = self.inventory.hosts[name]
        if vm.hypervisor is None or vm.vmid is None:
            raise UserError(f"hosts.{name}: a VM needs `hypervisor` and `vmid` in the inventory for chaos")
        self.hosts[vm.hypervisor].check_output(f"qm {action} {vm.vmid}", timeout=180)

    def kill_vm(self, name: str) -> None:
        self._qm(name, "stop")  # qm stop is an immediate power-off, unlike qm shutdown

    def start_vm(self, name: str) -> None:
        self._qm(name, "start")

    def kill_hypervisor(self, name: str) -> None:
        raise UserError(f"killing the physical host {name} is not automated: run the experiment with "
                        "--manual-fault, and pull its power through vPro when you are told to")

    def start_hypervisor(self, name: str) -> None:
        """Done when it answers SSH again (after the operator powered it on); else say how."""
        connection = self.inventory.hosts[name].ssh
        if connection.jump or ssh.banner_check(connection.address, connection.port, connection.connect_timeout) is None:
            return
        raise UserError(f"{name} does not answer SSH: power it on again through vPro")
