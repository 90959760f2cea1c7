"""The backups' section of the lab inventory: the dump policies (inventory model:
Backups.dumps; vzdump and rsync are the hypervisors' section) and the jobs' images."""

from __future__ import annotations

from picacheck.lab.backups import plan


def inventory_section() -> dict:
    dumps = [{"database": job.database, "directory": job.directory, "host": plan.READ_HOST,
              "period_hours": plan.PERIOD_HOURS, "grace_minutes": plan.GRACE_MINUTES,
              "max_backups": plan.MAX_BACKUPS, "cron_time": plan.CRON_TIME}
             for job in plan.JOBS.values()]
    return {"backups": {"dumps": dumps}, "registry": {"expected_images": [job.name for job in plan.JOBS.values()]}}
