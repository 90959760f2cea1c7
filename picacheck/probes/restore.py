"""The restore drill (B5): the newest dump of a database, restored into a scratch database
server that the drill starts for the purpose, then compared with the live database it was
taken from.

- The scratch server is a throwaway container of the live database's own image, on the
  host that holds the dumps, started through that host's Docker API (over the suite's SSH
  connection) with no network at all (`--network none`): nothing but `docker exec` reaches
  it, and it reaches nothing. It carries the label SCRATCH_LABEL (and its drill's
  machine:pid and start time) and is removed in a `finally` (also on Ctrl-C); what an
  interrupted run (a killed process) leaves is removed at the start of the next drill
  (`remove_scratch_servers`), which leaves the servers of a drill still running alone.
- The dump directory is mounted read-only in it; the newest dump is copied into the
  scratch container and restored there with the engine's SQL client (mysql, psql), timed.
- The live database is only read: `docker exec` in the container of its running Swarm
  task, read-only sessions (PostgreSQL default_transaction_read_only, MySQL READ ONLY
  transactions), the inventory's user and password (in the exec environment, never on a
  command line nor in any output).
- Comparison: the tables, each table's row count, and a checksum of each table's rows (an
  order-independent sum of per-row MD5s). Where a table's checksum differs, its rows are
  compared one by one. The live database keeps changing after the dump, so only the rows
  older than the dump must come back: the rows that the previous dump already held and
  that are still live, unchanged (the previous dump is restored into a second scratch
  server as the witness, only when a table differs). A live row that both the previous
  dump and the live database hold, but the newest dump lacks, is data the dump lost; a
  live table that the previous dump held and the newest lacks, likewise.
- The report's own restore script (section 14) is replayed against the scratch server
  (its restore.sh, written by the report's heredoc with the scratch server's address):
  MySQL's feeds the dump to `mysql`, PostgreSQL's feeds a plain-SQL dump to `pg_restore`.
  Its outcome is evidence, not the drill's verdict.
"""

from __future__ import annotations

import datetime
import os
import re
import shlex
import socket
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Callable

import docker.errors

from picacheck import documented, secrets
from picacheck.errors import UserError
from picacheck.secrets import Secret
from picacheck.inventory.model import Database, DumpPolicy, Inventory
from picacheck.probes import backups
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool, HostUnreachable
from picacheck.wait import NotYet, eventually

SCRATCH_LABEL = "org.picasoft.picacheck.scratch"
SCRATCH_KIND = "restore-drill"
BACKUP_MOUNT = "/picacheck-backup"
WORK = "/var/tmp/picacheck-restore"
ROW_LIMIT = 200_000  # rows per table compared one by one (beyond: counts and checksums only)
TABLES_PER_QUERY = 40
SERVER_START_TIMEOUT = 120.0
LIVE_TIMEOUT = 60.0
API_TIMEOUT = 900  # seconds without an answer from the Docker API (a long restore says nothing)



# --- results ---------------------------------------------------------------------------


@dataclass
class TableCheck:
    name: str
    dump_rows: int
    live_rows: int
    identical: bool
    only_in_dump: int = 0  # rows of the dump that are no longer live (changed or deleted since)
    only_live: int = 0  # live rows that the dump lacks (added or changed since, or lost)
    missing_old: int = 0  # of those, rows the previous dump already held: lost by the dump
    note: str = ""


@dataclass
class ScriptReplay:
    """The report's restore.sh run on the newest dump in a fresh scratch server (B9)."""

    command: str
    succeeded: bool  # the script said "Restore succeeded" and exited 0
    output: list[str]
    differences: list[str] = field(default_factory=list)  # against what the drill restored

    @property
    def restores(self) -> bool:
        return self.succeeded and not self.differences

    def first_error(self) -> str | None:
        errors = [line for line in self.output if "error" in line.lower()]
        return errors[0] if errors else (self.output[-1] if self.output and not self.succeeded else None)

    def summary(self) -> str:
        if self.restores:
            return "restores the newest dump: the same tables, rows and checksums as the drill's restore"
        if not self.succeeded:
            return f"FAILS: {self.first_error() or 'no output'}"
        return "runs, but restores other data than the dump holds: " + "; ".join(self.differences)


@dataclass
class DrillResult:
    database: str
    engine: str
    dump: str = ""
    dump_host: str = ""
    dump_bytes: int = 0
    dump_complete: bool = False
    dump_started: float | None = None  # epoch seconds (the time in the dump's name)
    drill_started: float | None = None  # epoch seconds, dump host's clock
    previous_dump: str | None = None  # the witness of the rows older than the dump
    live_host: str = ""
    scratch_host: str = ""
    image: str = ""
    server_start_s: float = 0.0
    copy_s: float = 0.0
    restore_s: float = 0.0
    compare_s: float = 0.0
    restore_status: int | None = None
    restore_errors: list[str] = field(default_factory=list)
    tolerated_errors: int = 0  # pg_dump -c's DROPs on an empty database
    tables: list[TableCheck] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)  # live tables the previous dump held, the newest lacks
    new_tables: list[str] = field(default_factory=list)  # live tables in neither dump: created since
    dropped_tables: list[str] = field(default_factory=list)  # restored tables no longer live
    report_script: ScriptReplay | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rpo_s(self) -> float | None:
        """How much data a restore from this dump loses now: the dump's age."""
        if self.dump_started is None or self.drill_started is None:
            return None
        return max(0.0, self.drill_started - self.dump_started)

    def problems(self) -> list[str]:
        found = []
        if not self.dump_complete:
            found.append(f"the dump {self.dump} is incomplete (no end-of-dump line from the dump tool): truncated")
        if self.restore_status not in (0, None) or self.restore_errors:
            first = f": {self.restore_errors[0]}" if self.restore_errors else ""
            found.append(f"the restore reported {len(self.restore_errors) or 'an'} error(s) "
                         f"(exit {self.restore_status}){first}")
        if self.missing_tables:
            found.append(f"{len(self.missing_tables)} live table(s) older than the dump missing from the restore: "
                         f"{', '.join(self.missing_tables[:8])}")
        lost = [t for t in self.tables if t.missing_old]
        if lost:
            found.append("rows older than the dump missing from the restore: "
                         + ", ".join(f"{t.name} ({t.missing_old})" for t in lost[:8]))
        live_rows = sum(t.live_rows for t in self.tables)
        matched = sum(t.dump_rows - t.only_in_dump for t in self.tables)
        if live_rows and not matched:
            found.append(f"none of the {live_rows} live rows is in the restore")
        return found

    def summary(self) -> str:
        rows = sum(t.dump_rows for t in self.tables)
        identical = sum(1 for t in self.tables if t.identical)
        changed = [t for t in self.tables if not t.identical]
        rpo = f"{self.rpo_s / 60:.1f} min" if self.rpo_s is not None else "unknown"
        text = (f"{self.database}: restored {self.dump} ({_size(self.dump_bytes)}) into a scratch {self.engine} "
                f"server on {self.scratch_host}: restore time {self.restore_s:.1f} s (server start "
                f"{self.server_start_s:.1f} s, copy {self.copy_s:.1f} s, comparison {self.compare_s:.1f} s), "
                f"RPO {rpo} (the dump's age); {len(self.tables)} tables, {rows} rows restored, {identical} tables "
                f"identical to the live database on {self.live_host}")
        if changed:
            text += "; changed since the dump: " + ", ".join(
                f"{t.name} (+{t.only_live}/-{t.only_in_dump} rows)" for t in changed[:6])
            if len(changed) > 6:
                text += f" and {len(changed) - 6} more"
            witness = f"the previous dump {self.previous_dump}" if self.previous_dump else "no previous dump"
            text += (f"; rows older than the dump (in {witness} and still live) missing: "
                     f"{sum(t.missing_old for t in self.tables)}")
        if self.new_tables:
            text += f"; tables created since the dump: {', '.join(self.new_tables[:6])}"
        if self.dropped_tables:
            text += f"; tables dropped since the dump: {', '.join(self.dropped_tables[:6])}"
        if self.tolerated_errors:
            text += f"; {self.tolerated_errors} expected restore errors (pg_dump -c's DROPs on an empty database)"
        return text

    def report_script_note(self) -> str:
        if self.report_script is None:
            return f"{self.database}: the report's restore.sh was not replayed"
        replay = self.report_script
        return (f"{self.database}: the report's restore.sh ({replay.command}) in a fresh scratch server "
                f"{replay.summary()}")


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


# --- credentials ---------------------------------------------------------------------------


def database_password(database: Database) -> Secret:
    """The inventory's password for a database (a file, or an environment variable)."""
    return secrets.from_inventory(f"databases.{database.name}", database.password_file, database.password_env)


# --- the Docker side ---------------------------------------------------------------------------


def _exec(container, argv: list[str], env: dict | None = None, user: str = "") -> tuple[int, str, str]:
    result = container.exec_run(argv, environment=env or {}, user=user, demux=True)
    out, err = result.output if isinstance(result.output, tuple) else (result.output, b"")
    return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")


OWNER_LABEL = f"{SCRATCH_LABEL}.owner"  # machine:pid of the drill that made it
CREATED_LABEL = f"{SCRATCH_LABEL}.created"  # epoch seconds
STALE_AFTER = 3600.0  # a scratch server of another machine is a leftover after this long


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftover(labels: dict) -> bool:
    """A scratch server whose drill is over: its process is gone (this machine), or it is
    older than STALE_AFTER (another machine). A running drill's servers are left alone."""
    machine, _, pid = (labels.get(OWNER_LABEL) or ":").rpartition(":")
    if machine == socket.gethostname() and pid.isdigit():
        return not _pid_alive(int(pid))
    try:
        return time.time() - float(labels.get(CREATED_LABEL, "0")) > STALE_AFTER
    except ValueError:
        return True


def remove_scratch_servers(client, everything: bool = False) -> list[str]:
    """Remove the scratch servers that interrupted drills left on this Docker engine (every
    one of them with `everything`). Returns their names."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{SCRATCH_LABEL}={SCRATCH_KIND}"}):
        if everything or _leftover(container.labels):
            try:
                container.remove(force=True, v=True)
            except docker.errors.APIError:  # gone meanwhile, or another drill removes it
                continue
            removed.append(container.name)
    return removed


@dataclass
class LiveTask:
    host: str  # inventory name of the node that runs the task
    container_id: str
    image: str


def live_task(hosts: HostPool, inventory: Inventory, database: Database) -> LiveTask:
    """The running container of a database's Swarm service (asked of a manager)."""
    if not database.host:
        raise UserError(f"databases.{database.name}.host: the drill needs the database's Swarm service name")
    managers = list(inventory.swarm.managers) if inventory.swarm else []
    if not managers:
        raise UserError("the restore drill finds the live database through a Swarm manager; the inventory has none")
    errors = []
    for manager in managers:
        try:
            with docker_client(hosts[manager], timeout=60) as client:
                try:
                    service = client.services.get(database.host)
                except docker.errors.NotFound:
                    raise AssertionError(f"no Swarm service {database.host!r} (database {database.name})") from None
                image = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
                running = [t for t in service.tasks(filters={"desired-state": "running"})
                           if t["Status"]["State"] == "running"]
                if not running:
                    raise AssertionError(f"the Swarm service {database.host} has no running task")
                task = running[0]
                hostname = client.nodes.get(task["NodeID"]).attrs["Description"]["Hostname"]
                if hostname not in inventory.hosts:
                    raise AssertionError(f"{database.host} runs on {hostname!r}, which is not an inventory host")
                return LiveTask(hostname, task["Status"]["ContainerStatus"]["ContainerID"], image)
        except (HostUnreachable, docker.errors.APIError, OSError) as error:
            errors.append(f"{manager}: {error}")
    raise AssertionError(f"no Swarm manager answered for {database.host}: {'; '.join(errors)}")


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


# --- engines ---------------------------------------------------------------------------------


def _quote_ident(name: str, engine: str) -> str:
    if engine == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".", 1))


def _quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


Query = Callable[[str], list[list[str]]]


class _Engine:
    name: str
    scratch_user: str
    scratch_script: str

    def __init__(self, database: Database, password: Secret):
        self.db = database
        self.password = password
        self.dbname = database.database or database.name


class _MySQL(_Engine):
    name = "mysql"
    scratch_user = "root"
    # A server without grant tables: any client is root, and the restored mysql.* tables
    # (an --all-databases dump carries the live accounts) change nothing.
    scratch_script = f"""set -e
mkdir -p /run/mysqld {WORK}/data
chown -R mysql:mysql /run/mysqld {WORK}
if command -v mariadb-install-db >/dev/null; then
    mariadb-install-db --user=mysql --datadir={WORK}/data --skip-test-db > {WORK}/install.log 2>&1
elif command -v mysql_install_db >/dev/null; then
    mysql_install_db --user=mysql --datadir={WORK}/data > {WORK}/install.log 2>&1
else
    mysqld --initialize-insecure --user=mysql --datadir={WORK}/data > {WORK}/install.log 2>&1
fi
exec mysqld --user=mysql --datadir={WORK}/data --skip-grant-tables --bind-address=127.0.0.1 --port=3306 \\
    --socket=/run/mysqld/mysqld.sock --innodb-flush-log-at-trx-commit=0
"""

    def scratch_env(self) -> dict:
        return {"MYSQL_PWD": self.password.reveal()}  # ignored without grant tables; right if they came back

    def live_env(self) -> dict:
        return {"MYSQL_PWD": self.password.reveal()}

    def live_argv(self, sql: str) -> list[str]:
        return ["mysql", "--protocol=socket", f"-u{self.db.user or 'root'}", "-N", "-B",
                "-e", "SET SESSION TRANSACTION READ ONLY; SET time_zone = '+00:00'; " + sql]

    def scratch_argv(self, sql: str) -> list[str]:
        return ["mysql", "--protocol=socket", "-uroot", "-N", "-B", "-e", "SET time_zone = '+00:00'; " + sql]

    def ready(self) -> list[str]:
        return ["mysqladmin", "--protocol=socket", "-uroot", "ping"]

    def prepare(self, scratch, dump_path: str, live: Query) -> str:
        """Create the database when the dump does not (a dump of one database); returns the
        database the client restores into ('' for a dump that says itself)."""
        code, _, _ = _exec(scratch, ["grep", "-q", "-m1", "^CREATE DATABASE", dump_path])
        if code == 0:
            return ""
        _exec(scratch, self.scratch_argv(f"CREATE DATABASE IF NOT EXISTS {_quote_ident(self.dbname, 'mysql')}"))
        return self.dbname

    def restore_argv(self, dump_path: str, into: str) -> list[str]:
        target = shlex.quote(into) if into else ""
        return ["sh", "-c", f"mysql --protocol=socket -uroot {target} < {shlex.quote(dump_path)}"]

    def error_lines(self, stderr: str) -> list[str]:
        return [line.strip() for line in stderr.splitlines() if line.startswith("ERROR")]

    def tolerated(self, errors: list[str], scratch, dump_path: str) -> tuple[list[str], int]:
        return errors, 0

    def tables_sql(self) -> str:
        return ("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                f"{_quote_literal(self.dbname)} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")

    def columns_sql(self) -> str:
        return ("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                f"{_quote_literal(self.dbname)} ORDER BY TABLE_NAME, ORDINAL_POSITION")

    def _row(self, columns: list[str]) -> str:
        parts = ", ".join(f"QUOTE({_quote_ident(c, 'mysql')})" for c in columns)
        return f"MD5(CONCAT_WS(0x1f, {parts}))"

    def _qualified(self, table: str) -> str:
        return f"{_quote_ident(self.dbname, 'mysql')}.{_quote_ident(table, 'mysql')}"

    def aggregate_sql(self, table: str, columns: list[str]) -> str:
        return (f"SELECT {_quote_literal(table)}, COUNT(*), "
                f"COALESCE(SUM(CAST(CONV(SUBSTRING({self._row(columns)}, 1, 15), 16, 10) AS DECIMAL(40))), 0) "
                f"FROM {self._qualified(table)}")

    def rows_sql(self, table: str, columns: list[str]) -> str:
        return f"SELECT {_quote_literal(table)}, {self._row(columns)} FROM {self._qualified(table)}"


class _PostgreSQL(_Engine):
    name = "postgresql"
    scratch_user = "postgres"
    scratch_script = f"""set -e
BIN=$(dirname "$(command -v initdb || ls -1 /usr/lib/postgresql/*/bin/initdb | tail -n 1)")
mkdir -p {WORK}/data
"$BIN/initdb" -D {WORK}/data -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust > {WORK}/initdb.log 2>&1
exec "$BIN/postgres" -D {WORK}/data -c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories={WORK} \\
    -c fsync=off -c full_page_writes=off -c synchronous_commit=off
"""
    # The same text for the same values on both servers.
    SESSION = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=1 -c bytea_output=hex -c IntervalStyle=postgres"

    def _psql(self, dbname: str, user: str, sql: str) -> list[str]:
        return ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-U", user, "-d", dbname, "-c", sql]

    def scratch_env(self) -> dict:
        return {"PGOPTIONS": self.SESSION}

    def live_env(self) -> dict:
        return {"PGPASSWORD": self.password.reveal(), "PGOPTIONS": "-c default_transaction_read_only=on " + self.SESSION,
                "PGCONNECT_TIMEOUT": "10"}

    def live_argv(self, sql: str) -> list[str]:
        return self._psql(self.dbname, self.db.user or "postgres", sql)

    def scratch_argv(self, sql: str, dbname: str | None = None) -> list[str]:
        return self._psql(dbname or self.dbname, "postgres", sql)

    def ready(self) -> list[str]:
        return ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]

    def prepare(self, scratch, dump_path: str, live: Query) -> str:
        """The database (with the live one's encoding and collation) and the roles the dump
        names: pg_dump carries neither."""
        encoding, collate, ctype = live(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database()")[0][:3]
        _, out, _ = _exec(scratch, ["sh", "-c", "sed -nE 's/^ALTER .* OWNER TO (.+);$/\\1/p' "
                                                f"{shlex.quote(dump_path)} | sort -u"])
        roles = {line.strip().strip('"') for line in out.splitlines() if line.strip()}
        if self.db.user:
            roles.add(self.db.user)
        statements = [f"CREATE ROLE {_quote_ident(role, 'postgresql')}" for role in sorted(roles - {"postgres"})]
        statements.append(f"CREATE DATABASE {_quote_ident(self.dbname, 'postgresql')} TEMPLATE template0 "
                          f"ENCODING {_quote_literal(encoding)} LC_COLLATE {_quote_literal(collate)} "
                          f"LC_CTYPE {_quote_literal(ctype)}")
        for statement in statements:
            code, _, err = _exec(scratch, self.scratch_argv(statement, "postgres"), self.scratch_env())
            if code != 0 and "already exists" not in err:
                raise AssertionError(f"scratch server: `{statement}` failed: {err.strip()[:300]}")
        return self.dbname

    def restore_argv(self, dump_path: str, into: str) -> list[str]:
        return ["psql", "-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", into, "-v", "ON_ERROR_STOP=0",
                "-f", dump_path]

    def error_lines(self, stderr: str) -> list[str]:
        return [line.strip() for line in stderr.splitlines() if "ERROR:" in line]

    def tolerated(self, errors: list[str], scratch, dump_path: str) -> tuple[list[str], int]:
        """pg_dump -c starts by dropping what it will create (DROP …, ALTER TABLE … DROP
        CONSTRAINT …), which fails on an empty database: expected."""
        _, out, _ = _exec(scratch, ["sh", "-c", "grep -nE '^(DROP |ALTER [^;]* DROP )' "
                                                f"{shlex.quote(dump_path)} | cut -d: -f1"])
        drop_lines = set(out.split())
        unexpected, tolerated = [], 0
        for line in errors:
            match = re.match(r"psql:[^:]*:(\d+): ERROR:", line)
            if match and match.group(1) in drop_lines and "does not exist" in line:
                tolerated += 1
            else:
                unexpected.append(line)
        return unexpected, tolerated

    def tables_sql(self) -> str:
        return ("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1")

    def aggregate_sql(self, table: str, columns: list[str]) -> str:
        return (f"SELECT {_quote_literal(table)}, count(*), "
                f"coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0) "
                f"FROM {_quote_ident(table, 'postgresql')} t")

    def rows_sql(self, table: str, columns: list[str]) -> str:
        return f"SELECT {_quote_literal(table)}, md5(t::text) FROM {_quote_ident(table, 'postgresql')} t"


ENGINES = {"mysql": _MySQL, "postgresql": _PostgreSQL}


# --- a scratch server ------------------------------------------------------------------------


class Scratch:
    """One throwaway server of the live database's image, one dump restored into it."""

    def __init__(self, client, engine: _Engine, image: str, directory: str, dump: str):
        self.engine = engine
        self.dump = dump
        self.dump_path = f"{WORK}/{dump}"
        self.container = client.containers.create(
            image, entrypoint=["/bin/sh", "-c", engine.scratch_script], command=[], user=engine.scratch_user,
            name=f"picacheck-restore-{engine.db.name}-{uuid.uuid4().hex[:8]}", network_mode="none",
            labels={SCRATCH_LABEL: SCRATCH_KIND, f"{SCRATCH_LABEL}.database": engine.db.name,
                    f"{SCRATCH_LABEL}.dump": dump, OWNER_LABEL: _owner(), CREATED_LABEL: f"{time.time():.0f}"},
            volumes={directory: {"bind": BACKUP_MOUNT, "mode": "ro"}}, detach=True)
        self.start_s = self.copy_s = self.restore_s = 0.0
        self.status: int | None = None
        self.errors: list[str] = []
        self.tolerated = 0

    def remove(self) -> None:
        try:
            self.container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass

    def start(self) -> None:
        started = time.monotonic()
        self.container.start()

        def ready():
            self.container.reload()
            if self.container.status != "running":
                logs = self.container.logs(tail=5).decode(errors="replace").strip().replace("\n", " / ")
                raise AssertionError(f"the scratch server stopped: {logs[:300]}")
            code, _, _ = _exec(self.container, self.engine.ready(), self.engine.scratch_env())
            assert code == 0, "the scratch server does not answer yet"
            return True

        try:
            eventually(ready, timeout=SERVER_START_TIMEOUT, interval=0.5, what="the scratch database server")
        except NotYet as error:
            raise AssertionError(str(error)) from None
        self.start_s = time.monotonic() - started

    def copy_dump_in(self) -> None:
        """The backup directory is mounted read-only: the dump is copied in, timed."""
        started = time.monotonic()
        code, _, err = _exec(self.container, ["cp", f"{BACKUP_MOUNT}/{self.dump}", self.dump_path])
        if code != 0:
            raise AssertionError(f"copying {self.dump} into the scratch server failed: {err.strip()[:300]}")
        self.copy_s = time.monotonic() - started

    def restore(self, live: Query) -> None:
        """Copy the dump in and restore it with the engine's SQL client, timed."""
        self.copy_dump_in()
        into = self.engine.prepare(self.container, self.dump_path, live)
        started = time.monotonic()
        code, _, err = _exec(self.container, self.engine.restore_argv(self.dump_path, into), self.engine.scratch_env())
        self.restore_s = time.monotonic() - started
        self.status = code
        errors = self.engine.error_lines(err)
        if code != 0 and not errors and err.strip():
            errors = [err.strip().splitlines()[-1]]
        errors, self.tolerated = self.engine.tolerated(errors, self.container, self.dump_path)
        self.errors = [line[:240] for line in errors[:5]] + ([f"… and {len(errors) - 5} more"] if len(errors) > 5 else [])

    def query(self, sql: str) -> list[list[str]]:
        code, out, err = _exec(self.container, self.engine.scratch_argv(sql), self.engine.scratch_env())
        if code != 0:
            raise AssertionError(f"reading the restored database failed (exit {code}): {err.strip()[:300]}")
        return [line.split("\t") for line in out.splitlines() if line]

    def replay_report_script(self, live: Query) -> ScriptReplay:
        """The report's restore.sh, made by its own heredoc with this (fresh) scratch
        server's address, run on the dump as the report's procedure would: into a server
        that has the database (PostgreSQL) but none of the data."""
        self.copy_dump_in()
        engine = self.engine
        engine.prepare(self.container, self.dump_path, live)
        if engine.name == "mysql":
            env = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "3306", "MYSQL_USER": "root",
                   "MYSQL_PASS": "scratch-server-without-grants"}
            command = "mysql < dump"
        else:
            env = {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
                   "POSTGRES_DB": engine.dbname, "POSTGRES_PASS": "scratch-server-trusts-local"}
            command = "pg_restore -w -d DB < dump"
        script = documented.restore_script_maker(engine.name) + f"/restore.sh {shlex.quote(self.dump_path)}\n"
        code, out, err = _exec(self.container, ["bash", "-c", script], env, user="root")
        output = [line.rstrip() for line in (out + err).splitlines() if line.strip()]
        succeeded = code == 0 and any("Restore succeeded" in line for line in output)
        return ScriptReplay(command, succeeded, [line[:240] for line in output[:12]])


# --- the drill -------------------------------------------------------------------------------


def restore_drill(hosts: HostPool, inventory: Inventory, policy: DumpPolicy) -> DrillResult:
    """Restore the newest dump of `policy` into a scratch server and compare it with the live
    database. Raises AssertionError when the drill cannot run; the verdict is
    `DrillResult.problems()`."""
    database = inventory.database(policy.database)
    if database.engine not in ENGINES:
        raise UserError(f"databases.{database.name}.engine: the drill knows mysql and postgresql, "
                        f"not {database.engine!r}")
    engine = ENGINES[database.engine](database, database_password(database))
    result = DrillResult(database.name, database.engine, dump_host=policy.host, scratch_host=policy.host)

    # The newest dump, once no file of the directory is being written.
    host = hosts[policy.host]
    listing = backups.settled_backups(host, policy.directory)
    if not listing.dumps:
        raise AssertionError(f"no dump in {policy.directory} on {policy.host}: nothing to restore")
    newest = listing.dumps[-1]
    previous = listing.dumps[-2] if len(listing.dumps) > 1 else None
    result.dump, result.dump_bytes = newest.name, newest.size
    result.previous_dump = previous.name if previous else None
    result.drill_started = listing.host_now
    result.dump_started = min(newest.mtime, _named_epoch(host, newest.named_time))
    result.dump_complete = backups.dump_complete(host, policy.directory, newest.name, database.engine)

    try:  # a database being restarted by Swarm has no running task for a moment
        live = eventually(lambda: live_task(hosts, inventory, database), timeout=LIVE_TIMEOUT, interval=3,
                          what=f"a running task of the {database.host} service")
    except NotYet as error:
        raise AssertionError(str(error)) from None
    result.live_host = live.host
    with ExitStack() as stack:
        client = stack.enter_context(docker_client(hosts[policy.host], timeout=API_TIMEOUT))
        live_client = client if live.host == policy.host else stack.enter_context(
            docker_client(hosts[live.host], timeout=API_TIMEOUT))
        live_container = live_client.containers.get(live.container_id)

        def live_query(sql: str) -> list[list[str]]:
            code, out, err = _exec(live_container, engine.live_argv(sql), engine.live_env())
            if code != 0:
                raise AssertionError(f"reading the live {database.name} database on {live.host} failed "
                                     f"(exit {code}): {err.strip()[:300]}")
            return [line.split("\t") for line in out.splitlines() if line]

        try:  # a database that has just (re)started takes a moment to accept connections
            eventually(lambda: live_query("SELECT 1"), timeout=LIVE_TIMEOUT, interval=2,
                       what=f"the live {database.name} database")
        except NotYet as error:
            raise AssertionError(str(error)) from None

        removed = remove_scratch_servers(client)
        if removed:
            result.notes.append(f"removed scratch servers left by an interrupted drill: {', '.join(removed)}")
        result.image = _local_image(client, live.image)

        def scratch_for(dump: str, restored: bool = True) -> Scratch:
            server = Scratch(client, engine, result.image, policy.directory, dump)
            stack.callback(server.remove)  # removed whatever happens, last made first
            server.start()
            if restored:
                server.restore(live_query)
            return server

        scratch = scratch_for(newest.name)
        result.server_start_s, result.copy_s, result.restore_s = scratch.start_s, scratch.copy_s, scratch.restore_s
        result.restore_status, result.restore_errors = scratch.status, scratch.errors
        result.tolerated_errors = scratch.tolerated

        witness: list[Scratch] = []

        def previous_dump() -> Scratch | None:
            """The previous dump, restored in a second scratch server (once, when needed)."""
            if previous is None:
                return None
            if not witness:
                witness.append(scratch_for(previous.name))
            return witness[0]

        started = time.monotonic()
        _compare(engine, scratch.query, live_query, previous_dump, result)
        result.compare_s = time.monotonic() - started
        result.report_script = _replay_report_script(engine, scratch, lambda: scratch_for(newest.name, restored=False),
                                                     live_query)
    return result


def _replay_report_script(engine: _Engine, drilled: Scratch, fresh: Callable[[], Scratch],
                          live: Query) -> ScriptReplay:
    """B9: the report's restore.sh on the newest dump, in a fresh scratch server; what it
    restored is compared with what the drill restored (tables, row counts, checksums)."""
    replay_server = fresh()
    replay = replay_server.replay_report_script(live)
    tables = [row[0] for row in drilled.query(engine.tables_sql())]
    replayed_tables = {row[0] for row in replay_server.query(engine.tables_sql())} if replay.succeeded else set()
    missing = [t for t in tables if t not in replayed_tables]
    common = [t for t in tables if t in replayed_tables]
    columns: dict[str, list[str]] = {}
    if engine.name == "mysql" and common:
        for table, column in drilled.query(engine.columns_sql()):
            columns.setdefault(table, []).append(column)
    expected = _aggregates(engine, drilled.query, common, columns)
    got = _aggregates(engine, replay_server.query, common, columns)
    differing = [t for t in common if expected[t] != got[t]]
    replay.differences = ([f"{len(missing)} of {len(tables)} tables not restored"] if missing else []) + \
        [f"{t}: {got[t][0]} rows, the dump holds {expected[t][0]}" for t in differing[:5]]
    return replay


def _named_epoch(host, named: datetime.datetime | None) -> float:
    """The dump's name (local time of the dump host) as epoch seconds."""
    if named is None:
        return float("inf")
    offset = host.check_output("date +%z").strip()
    sign = -1 if offset.startswith("-") else 1
    delta = datetime.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
    return (named - delta).replace(tzinfo=datetime.timezone.utc).timestamp()


# --- comparison ------------------------------------------------------------------------------


def _chunks(items: list, size: int):
    for index in range(0, len(items), size):
        yield items[index:index + size]


def _aggregates(engine: _Engine, query: Query, tables: list[str], columns: dict) -> dict[str, tuple[int, str]]:
    found = {}
    for chunk in _chunks(tables, TABLES_PER_QUERY):
        for row in query(" UNION ALL ".join(engine.aggregate_sql(t, columns.get(t, [])) for t in chunk)):
            found[row[0]] = (int(row[1]), row[2])
    return found


def _rows(engine: _Engine, query: Query, tables: list[str], columns: dict) -> dict[str, Counter]:
    """Each table's rows, as a multiset of row digests (a few tables per query)."""
    found: dict[str, Counter] = {table: Counter() for table in tables}
    for chunk in _chunks(tables, TABLES_PER_QUERY):
        for table, digest in query(" UNION ALL ".join(engine.rows_sql(t, columns.get(t, [])) for t in chunk)):
            found[table][digest] += 1
    return found


def _compare(engine: _Engine, restored: Query, live: Query, previous: Callable[[], Scratch | None],
             result: DrillResult) -> None:
    live_tables = [row[0] for row in live(engine.tables_sql())]
    restored_tables = [row[0] for row in restored(engine.tables_sql())]
    absent = [t for t in live_tables if t not in set(restored_tables)]
    result.dropped_tables = sorted(set(restored_tables) - set(live_tables))
    common = [t for t in live_tables if t in set(restored_tables)]
    columns: dict[str, list[str]] = {}
    if engine.name == "mysql":
        for table, column in live(engine.columns_sql()):
            columns.setdefault(table, []).append(column)
    live_agg = _aggregates(engine, live, common, columns)
    dump_agg = _aggregates(engine, restored, common, columns)

    witness_tables: set[str] | None = None

    def witness() -> Scratch | None:
        nonlocal witness_tables
        server = previous()
        if server is not None and witness_tables is None:
            witness_tables = {row[0] for row in server.query(engine.tables_sql())}
        return server

    differing: list[TableCheck] = []
    for table in common:
        (live_rows, live_sum), (dump_rows, dump_sum) = live_agg[table], dump_agg[table]
        check = TableCheck(table, dump_rows, live_rows, live_rows == dump_rows and live_sum == dump_sum)
        result.tables.append(check)
        if check.identical:
            continue
        if max(live_rows, dump_rows) > ROW_LIMIT:
            check.note = f"more than {ROW_LIMIT} rows: counts and checksums only"
            continue
        differing.append(check)
    names = [check.name for check in differing]
    live_sets, dump_sets = _rows(engine, live, names, columns), _rows(engine, restored, names, columns)
    only_live = {name: live_sets[name] - dump_sets[name] for name in names}
    for check in differing:
        check.only_live = sum(only_live[check.name].values())
        check.only_in_dump = sum((dump_sets[check.name] - live_sets[check.name]).values())
    suspects = [name for name in names if only_live[name]]
    server = witness() if suspects else None
    if server is not None:
        older = _rows(engine, server.query, [n for n in suspects if n in witness_tables], columns)
        for check in differing:
            if check.name in older:  # in the previous dump, still live, not restored
                check.missing_old = sum((only_live[check.name] & older[check.name]).values())

    for table in absent:
        server = witness()
        if server is not None and table in witness_tables:
            result.missing_tables.append(table)  # the previous dump had it: the newest lost it
        elif server is None:
            result.missing_tables.append(table)  # nothing tells it is new
        else:
            result.new_tables.append(table)
