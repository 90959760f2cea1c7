"""`lsblk --json --paths -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINT` → the host's block devices, flat.

lsblk prints a tree (a disk, its partitions, the array on them, the volumes on the array);
an array on two partitions appears under both. Here each device is listed once, in the
order it first appears, with the filesystem it holds even when nothing mounts it (the lab's
pve/root is ext4 but not mounted): what findmnt cannot say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import ParseError

LSBLK_COMMAND = "lsblk --json --paths -o NAME,KNAME,TYPE,FSTYPE,MOUNTPOINT"


@dataclass(frozen=True)
class BlockDevice:
    path: str  # /dev/sda, /dev/md0, /dev/mapper/pve-root
    kernel_path: str  # the kernel's name: /dev/dm-0 for /dev/mapper/pve-root (the others: the same)
    type: str  # disk, part, raid1, lvm, loop, rom…
    fstype: str | None  # ext4, swap, linux_raid_member, LVM2_member; None: nothing lsblk recognises
    mountpoint: str | None  # "[SWAP]" for an active swap


def parse_lsblk(text: str) -> tuple[BlockDevice, ...]:
    try:
        roots = json.loads(text)["blockdevices"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ParseError("lsblk", 'expected {"blockdevices": [...]}') from None
    if not isinstance(roots, list):
        raise ParseError("lsblk", '"blockdevices" is not a list')
    found: dict[str, BlockDevice] = {}
    pending = list(reversed(roots))
    while pending:
        entry = pending.pop()
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not isinstance(entry.get("type"), str):
            raise ParseError("lsblk", f"a device without name/type: {entry!r}"[:200])
        kernel = entry.get("kname") if isinstance(entry.get("kname"), str) else entry["name"]
        found.setdefault(entry["name"], BlockDevice(entry["name"], kernel, entry["type"], entry.get("fstype") or None,
                                                    entry.get("mountpoint") or None))
        children = entry.get("children") or []
        if not isinstance(children, list):
            raise ParseError("lsblk", f"{entry['name']}: children is not a list")
        pending.extend(reversed(children))
    return tuple(found.values())
