"""The lab's backups, as data: the two dump jobs of the report's section 14 (MySQL and
PostgreSQL dumps into /DATA/BACKUP/{mysql,postgresql}) with the lab's own cadence, and
the hypervisors' nightly vzdump (see picacheck.lab.hypervisors.vzdump). No I/O here.

Cadence: production dumps every 6 hours and keeps 30 (7.5 days). The lab dumps every
minute and keeps 10 (10 minutes of history), so that a freshly built lab holds two dumps
(the one at start-up, then cron's) within a minute and a stopped job shows within minutes;
the checks read the policy from the lab inventory, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from picacheck.lab import topology as T
from picacheck.lab.services import plan as services_plan

LABEL_VALUE = "backups"  # every Docker object made here: label topology.LABEL=backups
SPEC_LABEL = f"{T.LABEL}.spec"
RECIPE_LABEL = f"{T.LABEL}.recipe"

BACKUP_ROOT = f"{T.GLUSTER_MOUNT}/BACKUP"  # the report's /DATA/BACKUP/{mysql,postgresql}
READ_HOST = T.SWARM_LEADER  # where the checks read the dump directories (any node with /DATA)

# The lab's policy (the report's: CRON_TIME every 6 hours, MAX_BACKUPS 30).
CRON_TIME = "* * * * *"
PERIOD_HOURS = 1 / 60
GRACE_MINUTES = 3.0  # the newest dump may be this much older than the period
MAX_BACKUPS = 10
# `up` waits until every job has made this many dumps (the one made at start-up, then one
# from cron), so that rotation, completeness and the loss window are measurable at once.
DUMPS_BEFORE_READY = 2
FIRST_DUMPS_TIMEOUT = 300.0  # seconds


@dataclass(frozen=True)
class DumpJob:
    name: str  # Swarm service and image (the report's registry.picasoft.net:5000/msql-backup, postgres-backup)
    database: str  # inventory name of the database (services_plan.DATABASES)
    base_image: str  # the database's own image (so the dump tool matches the server)
    recipe_dir: str  # picacheck/lab/backups/recipes/<recipe_dir>
    env_prefix: str  # MYSQL or POSTGRES: the report's variables
    log_file: str  # where backup.sh's output goes in the container (the report's)

    @property
    def db(self) -> services_plan.Database:
        return services_plan.DATABASES[self.database]

    @property
    def directory(self) -> str:
        return f"{BACKUP_ROOT}/{self.database}"

    @property
    def repository(self) -> str:
        return f"{T.REGISTRY}/{self.name}"

    @property
    def secret(self) -> str:
        """The Swarm secret's base name (its file: the database's admin password file)."""
        return f"{self.name}-password"

    @property
    def password_file(self):
        return services_plan.secret_file(self.db.admin_password_secret)


JOBS = {
    "mysql": DumpJob("mysql-backup", "mysql", "tx-mysql", "mysql-backup", "MYSQL", "/mysql_backup.log"),
    "postgresql": DumpJob("postgres-backup", "postgresql", "tx-postgres", "postgres-backup", "POSTGRES",
                          "/postgres_backup.log"),
}


def job_environment(job: DumpJob) -> dict[str, str]:
    """The report's variables for the job (the password comes from a Swarm secret file)."""
    db = job.db
    common = {"MAX_BACKUPS": str(MAX_BACKUPS), "CRON_TIME": CRON_TIME, "INIT_BACKUP": "yes"}
    if job.env_prefix == "MYSQL":
        return {"MYSQL_HOST": db.service, "MYSQL_PORT": str(db.port), "MYSQL_USER": db.admin_user,
                "MYSQL_PASS_FILE": f"/run/secrets/{job.secret}", **common}
    return {"POSTGRES_HOST": db.service, "POSTGRES_PORT": str(db.port), "POSTGRES_USER": db.admin_user,
            "POSTGRES_DB": db.database, "POSTGRES_PASS_FILE": f"/run/secrets/{job.secret}", **common}
