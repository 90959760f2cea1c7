"""The hypervisors alice and bob: user-mode-linux machines (a real Linux kernel with md,
LVM, netfilter, corosync) built as the hand-over report describes them. See NOTES.md.

    prepare() / up() / down() / status(out) / is_up() / inventory_section()   (every part's interface)
    stop_machine(name) / start_machine(name)   one hypervisor down and back (chaos)
    attach_private_network()   join alice's vmbr1 to the host's private bridge
    boot()    up(), returning the measured boot times (benchmarks)
"""

from picacheck.lab.hypervisors.lifecycle import (attach_private_network, boot, down, is_up, prepare, start_machine,
                                                 status, stop_all, stop_machine, up)
from picacheck.lab.hypervisors.plan import LAB_VALUES, MACHINES, lab_values
from picacheck.lab.hypervisors.section import inventory_section

NAME = "hypervisors"

__all__ = ["NAME", "prepare", "up", "down", "status", "is_up", "inventory_section", "boot", "stop_all",
           "stop_machine", "start_machine", "attach_private_network", "LAB_VALUES", "lab_values", "MACHINES"]
