"""The backup policy as the inventory documents it: the dump jobs (B1–B3, from their Swarm
services' variables), the hypervisors' vzdump job (B6) and rsync mirrors (B7, from their
cron files). `describe_*` are pure; `read_*` ask the hosts.
"""

from __future__ import annotations

from datetime import timedelta

from picacheck.discover import probes as more
from picacheck.discover.services import ENV_PREFIX, engine_of, is_dump_job
from picacheck.discover.tree import Noted
from picacheck.facts.backup_commands import rsync_pull, vzdump_job
from picacheck.facts.crontab import Crontab, longest_wait, parse_schedule
from picacheck.facts.docker_services import ServiceSpec
from picacheck.probes.remote import RemoteHost

DUMP_TARGET = "/backup"  # where tutum's mysql-backup (and the report's PostgreSQL twin) write
VZDUMP_DEFAULT_DIR = "/var/lib/vz/dump"  # Proxmox's `local` storage, when the job names no --dumpdir


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


# --- dump jobs ------------------------------------------------------------------------------


def describe_dumps(specs: list[ServiceSpec], database_names: dict[str, str], readable_on) -> list[dict]:
    """`database_names`: database service → inventory name; `readable_on(directory)`: the
    inventory host where the directory can be read (None: none of them)."""
    engines = {spec.name: engine_of(spec) for spec in specs}
    found = []
    for job in specs:
        if not is_dump_job(job):
            continue
        target = next((job.env.get(f"{prefix}_HOST") for prefix in ENV_PREFIX.values() if job.env.get(f"{prefix}_HOST")),
                      None)
        if target not in database_names or not job.env.get("MAX_BACKUPS", "").isdigit() or "CRON_TIME" not in job.env:
            continue
        directory = job.bind_source(DUMP_TARGET)
        host = readable_on(directory) if directory else None
        if directory is None or host is None:
            continue
        schedule = job.env["CRON_TIME"]
        entry = {"database": database_names[target], "directory": directory, "host": host,
                 "period_hours": _hours(longest_wait(parse_schedule(schedule), parse_schedule(schedule))),
                 "max_backups": int(job.env["MAX_BACKUPS"]),
                 "name_timezone": job.env.get("TZ") or Noted("UTC", "no TZ in the job's environment"),
                 "cron_time": schedule}
        found.append(Noted(entry, f"the dump job {job.name} ({engines.get(target) or '?'})"))
    return found


# --- vzdump and rsync (cron files of the hypervisors) ----------------------------------------------


def describe_vzdump(jobs: dict[str, dict[str, Crontab]]) -> dict | None:
    """`jobs`: hypervisor → its cron files that run vzdump."""
    found = {}
    for host, files in jobs.items():
        for path, crontab in files.items():
            entry = next((e for e in crontab.entries if e.fields and vzdump_job(e.command)), None)
            if entry:
                found[host] = {"directory": vzdump_job(entry.command).dumpdir or VZDUMP_DEFAULT_DIR,
                               "schedule": " ".join(entry.fields), "cron_file": path}
                break
    if not found:
        return None
    first = next(iter(found.values()))
    differing = [host for host, job in found.items() if job != first]
    result = {"hosts": list(found), **first}
    if differing:
        result["hosts"] = Noted(list(found), f"{', '.join(differing)} run it otherwise: {found[differing[0]]}")
    return result


def describe_rsync(jobs: dict[str, dict[str, Crontab]], addresses_of) -> list[dict]:
    """`jobs`: hypervisor → its cron files that run rsync; `addresses_of(host, written)`: the
    (inventory host, address) that a name or address written in the host's job stands for."""
    found = []
    for host, files in jobs.items():
        for path, crontab in files.items():
            for entry in crontab.entries:
                pull = rsync_pull(entry.command) if entry.fields else None
                if pull is None:
                    continue
                source_host, address = addresses_of(host, pull.address)
                if source_host is None or address is None or source_host == host:
                    continue
                found.append({"host": host, "source_host": source_host, "source_address": address,
                              "path": pull.path, "schedule": " ".join(entry.fields), "cron_file": path})
    return found


def read_cron_jobs(host: RemoteHost, word: str) -> dict[str, Crontab]:
    return more.cron_files(host, word)
