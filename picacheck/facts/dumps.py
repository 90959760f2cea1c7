"""Backup files: the 6-hourly database dumps and the vzdump archives.

- Dump names follow the report's scripts: `date +%Y.%m.%d.%H%M%S`.sql
  (e.g. 2016.12.07.230000.sql). `parse_dump_name` gives the time it encodes.
- A dump is complete when it ends the way its tool ends a finished dump: mysqldump writes
  "-- Dump completed on …" as its last line, pg_dump's plain format ends with
  "-- PostgreSQL database dump complete". A dump cut short (disk full, killed, network
  lost) lacks that line. `dump_is_complete` reads the tail of a file.
- vzdump archives are named `vzdump-{qemu|lxc}-VMID-YYYY_MM_DD-HH_MM_SS.{vma|tar}[.zst|.gz|.lzo]`
  (Proxmox VE's naming); `parse_vzdump_name` gives the VM id, kind and time.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

from picacheck.facts.errors import ParseError

DUMP_NAME = re.compile(r"^(?P<stamp>\d{4}\.\d{2}\.\d{2}\.\d{6})\.sql$")
VZDUMP_NAME = re.compile(
    r"^vzdump-(?P<kind>qemu|lxc)-(?P<vmid>\d+)-(?P<stamp>\d{4}_\d{2}_\d{2}-\d{2}_\d{2}_\d{2})"
    r"\.(?P<format>vma|tar)(?:\.(?P<compression>zst|gz|lzo))?$"
)
COMPLETION_MARKERS = {
    "mysql": re.compile(r"^-- Dump completed( on .*)?$", re.MULTILINE),
    "postgresql": re.compile(r"^-- PostgreSQL database dump complete$", re.MULTILINE),
}


def parse_dump_name(name: str) -> datetime.datetime:
    """The time a dump's name encodes (naive: the dump job's local time)."""
    match = DUMP_NAME.match(name)
    if not match:
        raise ParseError("dump name", f"expected YYYY.MM.DD.HHMMSS.sql, got {name!r}")
    try:
        return datetime.datetime.strptime(match["stamp"], "%Y.%m.%d.%H%M%S")
    except ValueError as error:
        raise ParseError("dump name", f"{name!r} is not a valid date ({error})") from None


def dump_started_epoch(name: str, zone: str = "UTC") -> float:
    """When the dump began, in seconds since the epoch. Its name is the dump job's local time
    (`date` in the job's container), so it is read in the zone the inventory documents for the
    job (a container's zone is UTC unless TZ is set), never in the zone of the host that keeps
    the files: the two differ on a host outside UTC."""
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ParseError("dump name", f"unknown time zone {zone!r}") from None
    return parse_dump_name(name).replace(tzinfo=tz).timestamp()


def dump_is_complete(engine: str, tail: str) -> bool:
    """Whether the last lines of a dump show that its tool finished writing it."""
    if engine not in COMPLETION_MARKERS:
        raise ParseError("dump", f"unknown database engine {engine!r}")
    return bool(COMPLETION_MARKERS[engine].search(tail))


@dataclass(frozen=True)
class VzdumpArchive:
    name: str
    kind: str  # qemu or lxc
    vmid: int
    taken_at: datetime.datetime
    format: str
    compression: str | None


def parse_vzdump_name(name: str) -> VzdumpArchive:
    match = VZDUMP_NAME.match(name)
    if not match:
        raise ParseError("vzdump name", f"expected vzdump-qemu-VMID-YYYY_MM_DD-HH_MM_SS.vma[.zst], got {name!r}")
    try:
        taken_at = datetime.datetime.strptime(match["stamp"], "%Y_%m_%d-%H_%M_%S")
    except ValueError as error:
        raise ParseError("vzdump name", f"{name!r} is not a valid date ({error})") from None
    return VzdumpArchive(name, match["kind"], int(match["vmid"]), taken_at, match["format"], match["compression"])


# A host's wall clock in its own time zone, the zone vzdump names its archives in (the
# machine running the suite may be in another one).
WALL_CLOCK_COMMAND = "date '+%Y-%m-%d %H:%M:%S'"


def parse_wall_clock(output: str) -> datetime.datetime:
    """The output of WALL_CLOCK_COMMAND, as a naive datetime comparable with VzdumpArchive.taken_at."""
    try:
        return datetime.datetime.strptime(output.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ParseError("wall clock", f"expected YYYY-MM-DD HH:MM:SS, got {output.strip()!r}") from None


def render_dump_name(when: datetime.datetime) -> str:
    return when.strftime("%Y.%m.%d.%H%M%S") + ".sql"


def render_vzdump_name(kind: str, vmid: int, when: datetime.datetime, fmt: str = "vma", compression: str | None = "zst") -> str:
    suffix = f".{compression}" if compression else ""
    return f"vzdump-{kind}-{vmid}-{when.strftime('%Y_%m_%d-%H_%M_%S')}.{fmt}{suffix}"
