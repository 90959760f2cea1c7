"""The dumps of a dump policy, as a restore needs them: the newest complete one, with when
it began and ended on this machine's clock, and feeding one to a live server with its own
client (`mysql < dump`, `psql -f dump`), as an administrator would.

When a dump began is its name read in the zone the inventory documents for the dump job
(`facts.dumps.dump_started_epoch`): decided there once, for the drill and the experiments.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field

from picacheck.databases.live import LiveDatabase
from picacheck.facts import ParseError
from picacheck.facts.dumps import dump_started_epoch
from picacheck.inventory.model import DumpPolicy
from picacheck.probes import backups
from picacheck.probes.remote import RemoteHost

RESTORE_PATH = "/tmp/picacheck-restore.sql"  # in the database's container, removed after the restore


@dataclass
class DumpChoice:
    name: str
    path: str
    size: int
    ended: float  # mtime, on this machine's clock
    started: float  # when the dump tool began (its name), on this machine's clock
    listed_on: str


def started_epoch(policy: DumpPolicy, name: str, fallback: float) -> float:
    """When the dump named `name` began (epoch seconds), or `fallback` where the name says nothing."""
    try:
        return dump_started_epoch(name, policy.name_timezone)
    except ParseError:
        return fallback


def newest_complete_dump(host: RemoteHost, policy: DumpPolicy, engine: str,
                         checked: int = 3) -> tuple[DumpChoice | None, dict]:
    """The newest dump the dump tool finished (among the newest `checked`), and the listing's facts."""
    local_before = time.time()
    listing = backups.list_backups(host, policy.directory)
    offset = (local_before + time.time()) / 2 - listing.host_now  # this machine's clock minus the host's
    recent = listing.dumps[-7:]
    facts = {"directory": policy.directory, "dumps": len(listing.dumps),
             "newest": listing.dumps[-1].name if listing.dumps else None,
             # how far apart the recent dumps are: a failure just before the next dump loses that much
             "recent_gaps_seconds": [round(b.mtime - a.mtime, 1) for a, b in zip(recent, recent[1:])]}
    skipped = []
    for dump in reversed(listing.dumps[-checked:]):
        if dump.size > 0 and backups.dump_complete(host, policy.directory, dump.name, engine):
            ended = dump.mtime + offset
            named = started_epoch(policy, dump.name, ended - offset) + offset
            started = named if 0 <= ended - named <= 3600 else ended
            facts["incomplete_newer"] = skipped
            return DumpChoice(dump.name, f"{policy.directory.rstrip('/')}/{dump.name}", dump.size, ended, started,
                              policy.host), facts
        skipped.append(dump.name)
    facts["incomplete_newer"] = skipped
    return None, facts


@dataclass
class RestoreResult:
    ok: bool
    seconds: float
    rc: int | None
    errors: list[str] = field(default_factory=list)  # error lines that matter
    expected_errors: int = 0  # e.g. DROP of objects a new database does not have
    output_tail: str = ""


def restore_dump(live: LiveDatabase, dump: DumpChoice, timeout: int = 600) -> RestoreResult:
    """Feed the dump to the running server with its own client, as an administrator would."""
    started = time.monotonic()
    location = live.locate()
    if location is None:
        return RestoreResult(False, 0.0, None, [f"no running task of {live.service}"])
    host = live.hosts[location.node]
    copied = host.run(f"docker cp {shlex.quote(dump.path)} {shlex.quote(location.container)}:{RESTORE_PATH}",
                      timeout=min(timeout, 600))
    if copied.rc != 0:
        return RestoreResult(False, time.monotonic() - started, copied.rc,
                             [f"docker cp on {location.node}: {(copied.stderr or copied.stdout).strip()[:300]}"])
    if live.engine.name == "mysql":
        user = shlex.quote(live.user)
        argv = ["sh", "-c", f"mysql --user={user} < {RESTORE_PATH} && mysql --user={user} --execute='FLUSH PRIVILEGES'"]
    else:
        argv = live.engine.restore_argv(RESTORE_PATH, user=live.user, database=live.database, port=live.port)
    result = live.exec(argv, timeout=timeout, location=location)
    live.exec(["rm", "-f", RESTORE_PATH], timeout=30, location=location)
    lines = [line.strip() for line in result.output.splitlines() if "ERROR" in line]
    errors = [line[:300] for line in lines if "does not exist" not in line]  # pg_dump -c's DROPs on a new database
    if result.rc is None:
        errors.append(result.output.strip()[:300])
    tail = "\n".join(result.output.strip().splitlines()[-5:])[:800]
    return RestoreResult(result.ok and not errors, round(time.monotonic() - started, 1), result.rc, errors[:10],
                         sum(1 for line in lines if "does not exist" in line), tail)
