"""The backups (issue 6): the report's database dump jobs and the hypervisors' VM backups,
on a lab whose services run. See BACKUPS.md; plan.py for the lab's cadence and names,
lifecycle.py for the steps, picacheck.lab.hypervisors.vzdump for the VM backup job.

    prepare() / up() / down() / status(out) / is_up() / inventory_section()   (every part's interface)
"""

from picacheck.lab.backups.lifecycle import down, is_up, prepare, status, up
from picacheck.lab.backups.section import inventory_section

NAME = "backups"

__all__ = ["NAME", "prepare", "up", "down", "status", "is_up", "inventory_section"]
