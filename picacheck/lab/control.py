"""The lab's machines for chaos experiments: its VMs are containers of the lab's Docker
engine, its hypervisors user-mode-linux processes. Implements picacheck.chaos.vms.VmControl."""

from __future__ import annotations

from picacheck.errors import UserError
from picacheck.lab import engine, hypervisors
from picacheck.lab import topology as T
from picacheck.lab.ssh import wait_ssh


class LabVms:
    def __init__(self) -> None:
        self.client, _ = engine.connect(start=False)
        if self.client is None:
            raise UserError("lab: its Docker engine is not running", hint="run `picacheck lab up` first")

    def _container(self, name: str):
        return self.client.containers.get(T.container_name(name))

    def kill_vm(self, name: str) -> None:
        self._container(name).kill()

    def start_vm(self, name: str) -> None:
        self._container(name).start()
        wait_ssh(name, timeout=180).close()

    def kill_hypervisor(self, name: str) -> None:
        hypervisors.stop_machine(name, clean=False)

    def start_hypervisor(self, name: str) -> None:
        hypervisors.start_machine(name)
