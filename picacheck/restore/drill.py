"""The restore drill (B5, B9): the newest dump of a database, restored into a scratch server
that the drill starts for the purpose (picacheck/restore/scratch.py), compared with the live
database it was taken from (compare.py), then the report's own restore.sh replayed on it in
a fresh scratch server (replay.py).

The live database is only read: `docker exec` in its running Swarm task's container, in a
read-only session (PostgreSQL default_transaction_read_only, MySQL READ ONLY transactions),
with the inventory's user and password (in the exec's environment, never on a command line
nor in any output).
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from typing import Callable

import docker.errors

from picacheck.databases.dumps import started_epoch
from picacheck.databases.engines import ENGINES
from picacheck.databases.live import LiveDatabase, Location
from picacheck.errors import UserError
from picacheck.inventory.model import Database, DumpPolicy, Inventory
from picacheck.probes import backups
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool
from picacheck.restore.compare import Comparison
from picacheck.restore.replay import replay
from picacheck.restore.result import DrillResult
from picacheck.restore.scratch import Scratch, remove_leftovers
from picacheck.wait import NotYet, eventually

LIVE_TIMEOUT = 60.0  # a database being restarted by Swarm has no running task for a moment
API_TIMEOUT = 900  # seconds without an answer from the Docker API (a long restore says nothing)
QUERY_TIMEOUT = 600  # seconds for one query of the comparison on the live database

Query = Callable[[str], list[list[str]]]


def restore_drill(hosts: HostPool, inventory: Inventory, policy: DumpPolicy) -> DrillResult:
    """Restore the newest dump of `policy` into a scratch server and compare it with the live
    database. Raises AssertionError when the drill cannot run; the verdict is
    `DrillResult.problems()`."""
    database = inventory.database(policy.database)
    if database.engine not in ENGINES:
        raise UserError(f"databases.{database.name}.engine: the drill knows mysql and postgresql, "
                        f"not {database.engine!r}")
    result = DrillResult(database.name, database.engine, dump_host=policy.host, scratch_host=policy.host)
    newest, previous = _choose_dumps(hosts, policy, database, result)
    live = LiveDatabase(inventory, hosts, database)
    location = _running_task(live)
    result.live_host = location.node
    live_query = _read_only_query(live, location)
    with ExitStack() as stack:
        client = stack.enter_context(docker_client(hosts[policy.host], timeout=API_TIMEOUT))
        removed = remove_leftovers(client)
        if removed:
            result.notes.append(f"removed scratch servers left by an interrupted drill: {', '.join(removed)}")
        result.image = _local_image(client, location.image)

        def server(dump: str, restored: bool = True) -> Scratch:
            made = Scratch(client, live.engine, live.database, result.image, policy.directory, dump, owner=database.user)
            stack.callback(made.remove)  # removed whatever happens, last made first
            made.start()
            if restored:
                made.restore(live_query)
            return made

        scratch = server(newest)
        _record_restore(result, scratch)
        started = time.monotonic()
        Comparison(live.engine, live.database, scratch.query, live_query,
                   lambda: server(previous) if previous else None).run(result)
        result.compare_s = time.monotonic() - started
        result.report_script = replay(scratch, server(newest, restored=False), live_query)
    return result


def _choose_dumps(hosts: HostPool, policy: DumpPolicy, database: Database,
                  result: DrillResult) -> tuple[str, str | None]:
    """The newest dump (and the one before it, the witness), once no file is being written."""
    host = hosts[policy.host]
    listing = backups.settled_backups(host, policy.directory)
    if not listing.dumps:
        raise AssertionError(f"no dump in {policy.directory} on {policy.host}: nothing to restore")
    newest = listing.dumps[-1]
    previous = listing.dumps[-2] if len(listing.dumps) > 1 else None
    result.dump, result.dump_bytes = newest.name, newest.size
    result.previous_dump = previous.name if previous else None
    result.drill_started = listing.host_now
    result.dump_started = min(newest.mtime, started_epoch(policy, newest.name, fallback=newest.mtime))
    result.dump_complete = backups.dump_complete(host, policy.directory, newest.name, database.engine)
    return newest.name, result.previous_dump


def _running_task(live: LiveDatabase) -> Location:
    def found() -> Location:
        try:
            location = live.locate()
        except RuntimeError as error:  # no manager answered: not yet
            raise AssertionError(str(error)) from None
        assert location is not None, f"the Swarm service {live.service} has no running task"
        return location

    try:
        return eventually(found, timeout=LIVE_TIMEOUT, interval=3, what=f"a running task of the {live.service} service")
    except NotYet as error:
        raise AssertionError(str(error)) from None


def _read_only_query(live: LiveDatabase, location: Location) -> Query:
    """SQL on the live database in a read-only session, once it accepts connections (a
    database that has just (re)started takes a moment)."""

    def query(sql: str) -> list[list[str]]:
        answer = live.sql(sql, live.database, timeout=QUERY_TIMEOUT, location=location, read_only=True)
        if not answer.ok:
            raise AssertionError(f"reading the live {live.db.name} database on {location.node} failed "
                                 f"(exit {answer.rc}): {answer.output.strip()[:300]}")
        return answer.rows

    try:
        eventually(lambda: query("SELECT 1"), timeout=LIVE_TIMEOUT, interval=2, what=f"the live {live.db.name} database")
    except NotYet as error:
        raise AssertionError(str(error)) from None
    return query


def _local_image(client, reference: str) -> str:
    """The live task's image as the scratch host knows it (a digest-pinned reference may be
    known by its tag only)."""
    for candidate in (reference, reference.split("@", 1)[0]):
        try:
            client.images.get(candidate)
            return candidate
        except docker.errors.APIError:  # ImageNotFound included
            continue
    raise AssertionError(f"the database image {reference} is not on the scratch host")


def _record_restore(result: DrillResult, scratch: Scratch) -> None:
    result.server_start_s, result.copy_s, result.restore_s = scratch.start_s, scratch.copy_s, scratch.restore_s
    result.restore_status, result.restore_errors = scratch.status, scratch.errors
    result.tolerated_errors = scratch.tolerated
