"""Backup probes: the dumps in a directory, their ages (by the host's clock), their tails.

A dump job writes its file for a few seconds: `settled_backups` lists a directory once no
file in it has changed for a moment, so that a dump being written is not mistaken for a
truncated one (nor counted twice against MAX_BACKUPS while the rotation catches up).
"""

from __future__ import annotations

import datetime
import shlex
from dataclasses import dataclass

from picacheck.facts import ParseError
from picacheck.facts.dumps import (
    WALL_CLOCK_COMMAND, VzdumpArchive, dump_is_complete, parse_dump_name, parse_vzdump_name, parse_wall_clock,
)
from picacheck.facts.listing import LISTING_FORMAT, parse_listing
from picacheck.probes.remote import RemoteHost
from picacheck.wait import NotYet, eventually


@dataclass(frozen=True)
class BackupFile:
    name: str
    size: int
    mtime: float  # seconds since the epoch, host clock
    named_time: datetime.datetime | None  # what the name says (None: not a dump name)


@dataclass(frozen=True)
class BackupDirectory:
    path: str
    host_now: float  # the host's clock when listed: ages are measured against it
    files: tuple[BackupFile, ...]

    @property
    def dumps(self) -> tuple[BackupFile, ...]:
        """Files named like dumps, oldest first (the names sort by time)."""
        return tuple(sorted((f for f in self.files if f.named_time), key=lambda f: f.name))

    @property
    def strangers(self) -> tuple[BackupFile, ...]:
        return tuple(f for f in self.files if f.named_time is None)

    def age_hours(self, backup: BackupFile) -> float:
        return (self.host_now - backup.mtime) / 3600


def list_backups(host: RemoteHost, directory: str) -> BackupDirectory:
    listing = host.parsed(f"date +%s.%N; find {shlex.quote(directory)} -maxdepth 1 -type f -printf '{LISTING_FORMAT}'",
                          parse_listing)
    files = tuple(BackupFile(f.name, f.size, f.mtime, _named_time(f.name)) for f in listing.files)
    return BackupDirectory(directory, listing.host_now, files)


def _named_time(name: str) -> datetime.datetime | None:
    try:
        return parse_dump_name(name)
    except ParseError:
        return None


def settled_backups(host: RemoteHost, directory: str, quiet_seconds: float = 5.0,
                    timeout: float = 90.0) -> BackupDirectory:
    """The directory's listing once no file in it changed during the last `quiet_seconds`
    (after `timeout`, the listing as it is)."""
    last: list[BackupDirectory] = []

    def settled() -> BackupDirectory:
        listing = list_backups(host, directory)
        last[:] = [listing]
        busy = [f.name for f in listing.files if listing.host_now - f.mtime < quiet_seconds]
        assert not busy, f"being written: {', '.join(busy)}"
        return listing

    try:
        return eventually(settled, timeout=timeout, interval=quiet_seconds / 2, what=f"{directory} settled")
    except NotYet:
        return last[0]


def dump_complete(host: RemoteHost, directory: str, name: str, engine: str) -> bool:
    # Only the comment lines of the tail come back: a dump holds data (and password hashes:
    # mysqldump --all-databases dumps mysql.global_priv) that must not reach the evidence.
    tail = host.check_output(f"tail -c 4096 {shlex.quote(directory + '/' + name)} | grep -a '^-- ' || true")
    return dump_is_complete(engine, tail)


def vzdump_archives(host: RemoteHost, directory: str) -> tuple[VzdumpArchive, ...]:
    names = host.check_output(f"find {shlex.quote(directory)} -maxdepth 1 -type f -name 'vzdump-*' -printf '%f\\n'")
    archives = []
    for name in names.split():
        try:
            archives.append(parse_vzdump_name(name))
        except ParseError:
            continue  # the .log files vzdump writes beside each archive
    return tuple(archives)


def host_time(host: RemoteHost) -> datetime.datetime:
    """The host's wall clock, in its own time zone (see WALL_CLOCK_COMMAND)."""
    return host.parsed(WALL_CLOCK_COMMAND, parse_wall_clock)
