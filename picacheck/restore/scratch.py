"""The drill's scratch server: a throwaway container of the live database's own image, on the
host that holds the dumps, started through that host's Docker API with no network at all
(`--network none`): nothing but `docker exec` reaches it, and it reaches nothing. It carries
the label SCRATCH_LABEL (and its drill's machine:pid and start time) and is removed when the
drill ends (also on Ctrl-C); what an interrupted run (a killed process) leaves is removed at
the start of the next drill (`remove_leftovers`), which leaves a running drill's alone.

The dump directory is mounted read-only in it; a dump is copied in and restored there with
the engine's own client, timed.
"""

from __future__ import annotations

import os
import shlex
import socket
import time
import uuid

import docker.errors

from picacheck.databases.engines import Engine, PostgreSQL, quote_literal
from picacheck.wait import NotYet, eventually

SCRATCH_LABEL = "org.picasoft.picacheck.scratch"
SCRATCH_KIND = "restore-drill"
OWNER_LABEL = f"{SCRATCH_LABEL}.owner"  # machine:pid of the drill that made it
CREATED_LABEL = f"{SCRATCH_LABEL}.created"  # epoch seconds
STALE_AFTER = 3600.0  # a scratch server of another machine is a leftover after this long
BACKUP_MOUNT = "/picacheck-backup"
WORK = "/var/tmp/picacheck-restore"
START_TIMEOUT = 120.0

# How each engine's server starts in a scratch container, as whom, and how it is asked.
SERVER_SCRIPTS = {
    # No grant tables: any client is root, and the restored mysql.* tables (an
    # --all-databases dump carries the live accounts) change nothing.
    "mysql": f"""set -e
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
""",
    "postgresql": f"""set -e
BIN=$(dirname "$(command -v initdb || ls -1 /usr/lib/postgresql/*/bin/initdb | tail -n 1)")
mkdir -p {WORK}/data
"$BIN/initdb" -D {WORK}/data -U postgres -E UTF8 --locale=C.UTF-8 --auth=trust > {WORK}/initdb.log 2>&1
exec "$BIN/postgres" -D {WORK}/data -c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories={WORK} \\
    -c fsync=off -c full_page_writes=off -c synchronous_commit=off
""",
}
SERVER_USERS = {"mysql": "root", "postgresql": "postgres"}
READY_ARGV = {"mysql": ["mysqladmin", "--protocol=socket", "-uroot", "ping"],
              "postgresql": ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]}


def run_in(container, argv: list[str], env: dict | None = None, user: str = "") -> tuple[int, str, str]:
    result = container.exec_run(argv, environment=env or {}, user=user, demux=True)
    out, err = result.output if isinstance(result.output, tuple) else (result.output, b"")
    return result.exit_code, (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")


class Scratch:
    """One throwaway server of the live database's image, one dump in it."""

    def __init__(self, client, engine: Engine, database: str, image: str, directory: str, dump: str,
                 owner: str | None = None):
        self.engine = engine
        self.database = database  # the application's database (its name inside the server)
        self.owner = owner  # the live database's user: a role the dump's objects may need
        self.dump = dump
        self.dump_path = f"{WORK}/{dump}"
        self.container = client.containers.create(
            image, entrypoint=["/bin/sh", "-c", SERVER_SCRIPTS[engine.name]], command=[],
            user=SERVER_USERS[engine.name], name=f"picacheck-restore-{database}-{uuid.uuid4().hex[:8]}",
            network_mode="none",
            labels={SCRATCH_LABEL: SCRATCH_KIND, f"{SCRATCH_LABEL}.database": database, f"{SCRATCH_LABEL}.dump": dump,
                    OWNER_LABEL: _owner(), CREATED_LABEL: f"{time.time():.0f}"},
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
            code, _, _ = run_in(self.container, READY_ARGV[self.engine.name], self.env())
            assert code == 0, "the scratch server does not answer yet"
            return True

        try:
            eventually(ready, timeout=START_TIMEOUT, interval=0.5, what="the scratch database server")
        except NotYet as error:
            raise AssertionError(str(error)) from None
        self.start_s = time.monotonic() - started

    # --- talking to it -------------------------------------------------------------------------

    def env(self) -> dict:
        return self.engine.client_env(None)

    def argv(self, sql: str, database: str | None = None) -> list[str]:
        if self.engine.name == "mysql":
            return self.engine.client_argv(sql, user="root", database=database, socket=True)
        return self.engine.client_argv(sql, user="postgres", database=database or self.database)

    def query(self, sql: str) -> list[list[str]]:
        code, out, err = run_in(self.container, self.argv(sql), self.env())
        if code != 0:
            raise AssertionError(f"reading the restored database failed (exit {code}): {err.strip()[:300]}")
        return [line.split("\t") for line in out.splitlines() if line]

    # --- the dump ------------------------------------------------------------------------------

    def copy_dump_in(self) -> None:
        """The backup directory is mounted read-only: the dump is copied in, timed."""
        started = time.monotonic()
        code, _, err = run_in(self.container, ["cp", f"{BACKUP_MOUNT}/{self.dump}", self.dump_path])
        if code != 0:
            raise AssertionError(f"copying {self.dump} into the scratch server failed: {err.strip()[:300]}")
        self.copy_s = time.monotonic() - started

    def prepare(self, live_query) -> str:
        """What a restore needs that the dump does not carry; returns the database the client
        restores into ('' for a MySQL dump that creates its own)."""
        if self.engine.name == "mysql":
            code, _, _ = run_in(self.container, ["grep", "-q", "-m1", "^CREATE DATABASE", self.dump_path])
            if code == 0:
                return ""
            run_in(self.container, self.argv(f"CREATE DATABASE IF NOT EXISTS {self.engine.quote_ident(self.database)}"))
            return self.database
        return self._prepare_postgresql(live_query)

    def _prepare_postgresql(self, live_query) -> str:
        """The database (with the live one's encoding and collation) and the roles the dump
        names: pg_dump carries neither."""
        encoding, collate, ctype = live_query(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
            "WHERE datname = current_database()")[0][:3]
        _, out, _ = run_in(self.container, ["sh", "-c", "sed -nE 's/^ALTER .* OWNER TO (.+);$/\\1/p' "
                                                         f"{shlex.quote(self.dump_path)} | sort -u"])
        roles = {line.strip().strip('"') for line in out.splitlines() if line.strip()} | ({self.owner} - {None})
        statements = [f"CREATE ROLE {self.engine.quote_ident(role)}" for role in sorted(roles - {"postgres"})]
        statements.append(f"CREATE DATABASE {self.engine.quote_ident(self.database)} TEMPLATE template0 "
                          f"ENCODING {quote_literal(encoding)} LC_COLLATE {quote_literal(collate)} "
                          f"LC_CTYPE {quote_literal(ctype)}")
        for statement in statements:
            code, _, err = run_in(self.container, self.argv(statement, "postgres"), self.env())
            if code != 0 and "already exists" not in err:
                raise AssertionError(f"scratch server: `{statement}` failed: {err.strip()[:300]}")
        return self.database

    def restore(self, live_query) -> None:
        """Copy the dump in and restore it with the engine's own client, timed."""
        self.copy_dump_in()
        into = self.prepare(live_query)
        started = time.monotonic()
        if self.engine.name == "mysql":
            target = f" {shlex.quote(into)}" if into else ""
            argv = ["sh", "-c", f"mysql --protocol=socket -uroot{target} < {shlex.quote(self.dump_path)}"]
        else:
            argv = self.engine.restore_argv(self.dump_path, user="postgres", database=into)
        code, _, err = run_in(self.container, argv, self.env())
        self.restore_s = time.monotonic() - started
        self.status = code
        errors = self.engine.error_lines(err)
        if code != 0 and not errors and err.strip():
            errors = [err.strip().splitlines()[-1]]
        errors, self.tolerated = self._tolerated(errors)
        self.errors = [line[:240] for line in errors[:5]] + ([f"… and {len(errors) - 5} more"] if len(errors) > 5 else [])

    def _tolerated(self, errors: list[str]) -> tuple[list[str], int]:
        if not isinstance(self.engine, PostgreSQL):
            return errors, 0
        command = PostgreSQL.DROP_LINES_COMMAND.format(dump=shlex.quote(self.dump_path))
        _, out, _ = run_in(self.container, ["sh", "-c", command])
        drop_lines = set(out.split())
        unexpected = [line for line in errors if not PostgreSQL.expected_drop_error(line, drop_lines)]
        return unexpected, len(errors) - len(unexpected)


# --- leftovers of interrupted drills ---------------------------------------------------------------


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


def is_leftover(labels: dict) -> bool:
    """A scratch server whose drill is over: its process is gone (this machine), or it is
    older than STALE_AFTER (another machine). A running drill's servers are left alone."""
    machine, _, pid = (labels.get(OWNER_LABEL) or ":").rpartition(":")
    if machine == socket.gethostname() and pid.isdigit():
        return not _pid_alive(int(pid))
    try:
        return time.time() - float(labels.get(CREATED_LABEL, "0")) > STALE_AFTER
    except ValueError:
        return True


def remove_leftovers(client, everything: bool = False) -> list[str]:
    """Remove the scratch servers that interrupted drills left on this Docker engine (every
    one of them with `everything`). Returns their names."""
    removed = []
    for container in client.containers.list(all=True, filters={"label": f"{SCRATCH_LABEL}={SCRATCH_KIND}"}):
        if everything or is_leftover(container.labels):
            try:
                container.remove(force=True, v=True)
            except docker.errors.APIError:  # gone meanwhile, or another drill removes it
                continue
            removed.append(container.name)
    return removed
