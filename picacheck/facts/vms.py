"""A hypervisor's VMs: Proxmox's `qm list`, or the lab's stand-in list → (VM id, name).

`qm list` prints a header (VMID NAME STATUS MEM(MB) BOOTDISK(GB) PID) and one VM a line;
the lab's hypervisors, which cannot run Proxmox, keep their VMs in /etc/picalab/vzdump.conf
("VMID NAME ADDRESS PATH…", "#" comments). Both start with the id and the name, and that
is all that is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import numbered_lines
from .errors import ParseError

QM_LIST_HEADER = "VMID"


@dataclass(frozen=True)
class VmEntry:
    vmid: int
    name: str


def parse_vm_list(text: str) -> tuple[VmEntry, ...]:
    vms = []
    for number, raw in numbered_lines(text):
        words = raw.split("#", 1)[0].split()
        if not words or words[0] == QM_LIST_HEADER:
            continue
        if len(words) < 2 or not re.fullmatch(r"[0-9]{1,9}", words[0]):
            raise ParseError("vm list", "expected VMID NAME …", line_no=number, line=raw)
        vms.append(VmEntry(int(words[0]), words[1]))
    return tuple(vms)
