"""The lab's backups (issue 6): the report's database dump jobs and the hypervisors' VM
backups, on a lab whose services run.

    up()                 the MySQL and PostgreSQL dump jobs (Swarm services running the
                         report's scripts), VM archives on alice and bob, the rsync mirror
                         once; waits for the first dumps. Idempotent.
    status(out=None)     print and return their state (dict with "ok")
    down()               remove the jobs, their secrets, /DATA/BACKUP and the VM archives
    is_up()              the part has been brought up
    inventory_section()  the lab's dump policies for the lab inventory

See plan.py for the lab's cadence and names, manage.py for the steps, and
picacheck.lab.hypervisors.vzdump for the VM backup job.
"""

from picacheck.lab.backups.manage import down, inventory_section, is_up, status, up

__all__ = ["up", "status", "down", "is_up", "inventory_section"]
