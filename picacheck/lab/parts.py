"""The lab's parts, in the order `picacheck lab up` brings them up (`down`: the reverse).

Each part is a package with the same small interface:

    NAME                  what progress lines call it
    prepare()             what needs no other part (image builds, downloads): whole.up runs
                          every part's prepare at once, then each part's up in order
    up() -> list[str]     idempotent; the steps that changed something ([]: nothing to do)
    down() -> bool        removes what the part made (not the cache); whether there was anything
    status(out) -> dict   prints the part's state; {"ok": bool, …}
    is_up() -> bool       quick: whether the part's inventory section describes something real
    inventory_section()   the part's section of the lab inventory (lab/inventory.py merges them)

A new part is a new folder with that interface, added here.
"""

from picacheck.lab import backups, hypervisors, services, vms

# The hypervisors come first: the VMs sit on them (admin behind alice's vmbr1, as in the
# report); the services run on the VMs; the backups dump the services' databases.
PARTS = (hypervisors, vms, services, backups)
