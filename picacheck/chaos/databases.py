"""Reaching the databases for the database experiments (kill-db-container, lose-database).

The databases are Swarm services that publish nothing: the suite reaches them as an
administrator does, with the database's own client inside the task's container (`docker
exec` through the Docker API over the host's SSH connection). The container is found anew
each time, since Swarm replaces it when it dies. The password comes from the inventory
(`password_file` on this machine, or `password_env`) and travels in the exec's environment,
never on a command line.

- `DatabaseAccess`: where the task runs, SQL in its container, tables and row counts, the
  data directory (the service's bind mount), scaling and restarting services (the docker
  CLI on a manager, as an administrator would type it).
- `Canary`: a table of the application's database (so that the dumps hold it too) that a
  thread fills with numbered rows, one a second, remembering which inserts the server
  acknowledged; after the fault, which acknowledged rows are still there.
- `newest_complete_dump` and `restore_dump`: the newest dump of a policy, fed to the
  running server with its own client (`mysql < dump`, `psql -f dump`).

Every remote call has a timeout; every wait and loop is bounded.
"""

from __future__ import annotations

import datetime
import os
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from picacheck.chaos import observe
from picacheck.chaos.runner import Probe
from picacheck.errors import UserError
from picacheck.inventory.model import Database, DumpPolicy, Service
from picacheck.probes import backups
from picacheck.probes.docker_remote import docker_client
from picacheck.wait import eventually

CANARY_TABLE = "picacheck_canary"
RESTORE_PATH = "/tmp/picacheck-restore.sql"  # in the database's container, removed after the restore
DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432}
DEFAULT_USERS = {"mysql": "root", "postgresql": "postgres"}
TASK_STATES_ALIVE = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running")


@dataclass(frozen=True)
class Location:
    node: str  # inventory host name of the Swarm node that runs the task
    container: str  # container id
    task: str


@dataclass
class SqlResult:
    rc: int | None  # None: no running task, or the exec failed
    output: str
    location: Location | None

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def rows(self) -> list[list[str]]:
        return [line.split("\t") for line in self.output.splitlines() if line.strip()] if self.ok else []

    def describe(self) -> str:
        where = f"{self.location.container[:12]} on {self.location.node}" if self.location else "no task"
        if self.rc == 124:
            return f"{where}: timed out"
        if self.ok:
            return where
        return f"{where}: {' '.join(self.output.split())[:160] or f'exit {self.rc}'}"


def resolve_database(inventory, name: str) -> Database:
    found = [db for db in inventory.databases if db.name == name]
    if not found:
        known = ", ".join(db.name for db in inventory.databases) or "none"
        raise UserError(f"no database {name!r} in the inventory (known: {known})")
    if inventory.swarm is None:
        raise UserError("the database experiments need a Swarm in the inventory (the databases are Swarm services)")
    return found[0]


def dump_policy(inventory, database: str) -> DumpPolicy:
    policy = next((p for p in inventory.backups.dumps if p.database == database), None)
    if policy is None:
        raise UserError(f"no dump policy for {database!r} in the inventory (backups.dumps): nothing to restore from")
    return policy


def apps_of(inventory, database: str) -> list[Service]:
    """The services backed by this database (their Swarm services carry the same names)."""
    return [service for service in inventory.services if service.database == database]


def app_probes(ctx, apps: list[Service]) -> dict[str, Probe]:
    """Each application's health path (which reads its database) through each round-robin node."""
    probes = {}
    for app in apps:
        for node in ctx.inventory.round_robin_addresses():
            probes[f"{app.domain}{app.health_path} via {node}"] = observe.application_answers(ctx.inventory, app, node)
    return probes


def _quote_mysql_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _quote_pg_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class DatabaseAccess:
    """One database of the inventory, reached inside its Swarm task's container."""

    def __init__(self, ctx, db: Database):
        self.ctx = ctx
        self.db = db
        self.engine = db.engine
        self.service = db.host or db.name
        self.user = db.user or DEFAULT_USERS[db.engine]
        self.port = db.port or DEFAULT_PORTS[db.engine]
        self.database = db.database
        swarm = ctx.inventory.swarm
        self.managers = list(swarm.managers) if swarm else []
        self.nodes = list(swarm.managers + swarm.workers) if swarm else []
        self._hostnames: dict[str, str] = {}  # Swarm node id → hostname

    # --- credentials -----------------------------------------------------------------------

    def password(self) -> str:
        """Read at each use: a lab rebuilt under a running experiment has new secrets."""
        if self.db.password_file:
            path = Path(self.db.password_file)
            if not path.is_file():
                raise UserError(f"databases.{self.db.name}.password_file: {path} does not exist")
            return path.read_text().strip()
        if self.db.password_env and os.environ.get(self.db.password_env):
            return os.environ[self.db.password_env]
        raise UserError(f"no password for the database {self.db.name!r}: set "
                        f"{self.db.password_env or 'password_env'} or databases.{self.db.name}.password_file")

    def _environment(self) -> dict[str, str]:
        if self.engine == "mysql":
            return {"MYSQL_PWD": self.password()}
        return {"PGPASSWORD": self.password(), "PGCONNECT_TIMEOUT": "5"}

    # --- where the task runs ---------------------------------------------------------------

    def _on_a_manager(self, action: Callable, timeout: int = 8):
        """`action(docker_client)` on the first manager that answers."""
        errors = []
        for manager in self.managers:
            try:
                with docker_client(self.ctx.hosts[manager], timeout=timeout) as client:
                    return action(client)
            except Exception as error:  # noqa: BLE001 - try the next manager, keep the reason
                errors.append(f"{manager}: {type(error).__name__}: {error}"[:200])
        raise RuntimeError(f"no Swarm manager answered: {'; '.join(errors) or 'no manager in the inventory'}")

    def _host_of(self, client, node_id: str) -> str:
        if node_id not in self._hostnames:
            self._hostnames.update({n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()})
        hostname = self._hostnames.get(node_id, node_id)
        if hostname not in self.ctx.inventory.hosts:
            raise RuntimeError(f"Swarm node {hostname!r} is not a host of the inventory")
        return hostname

    def locate(self) -> Location | None:
        """The running task's node and container (None: no task is running)."""

        def find(client) -> Location | None:
            tasks = client.api.tasks(filters={"service": self.service, "desired-state": "running"})
            running = [t for t in tasks if t.get("ServiceID") and t["Status"]["State"] == "running"
                       and t["Status"].get("ContainerStatus", {}).get("ContainerID")]
            if not running:
                return None
            task = max(running, key=lambda t: t["Status"].get("Timestamp", ""))
            return Location(self._host_of(client, task["NodeID"]), task["Status"]["ContainerStatus"]["ContainerID"],
                            task["ID"])

        return self._on_a_manager(find)

    def alive_tasks(self) -> int:
        """Tasks of the service that exist or are on their way (any desired state)."""

        def count(client) -> int:
            tasks = client.api.tasks(filters={"service": self.service})
            return sum(1 for t in tasks if t["Status"]["State"] in TASK_STATES_ALIVE)

        return self._on_a_manager(count)

    def running_containers(self) -> list[tuple[str, str]]:
        """(node, container id) of every running container of the service, on every node."""
        found = []
        for node in self.nodes:
            with docker_client(self.ctx.hosts[node], timeout=8) as client:
                for container in client.containers.list(
                        filters={"label": f"com.docker.swarm.service.name={self.service}"}):
                    found.append((node, container.id))
        return found

    def kill(self, location: Location) -> None:
        """SIGKILL the task's container: no clean shutdown."""
        with docker_client(self.ctx.hosts[location.node], timeout=15) as client:
            client.containers.get(location.container).kill()

    # --- commands in the container ---------------------------------------------------------

    def exec(self, argv: list[str], timeout: int = 10, location: Location | None = None) -> SqlResult:
        try:
            location = location or self.locate()
        except Exception as error:  # noqa: BLE001 - an observation, not a crash
            return SqlResult(None, f"{type(error).__name__}: {error}", None)
        if location is None:
            return SqlResult(None, f"no running task of {self.service}", None)
        try:
            with docker_client(self.ctx.hosts[location.node], timeout=timeout + 10) as client:
                created = client.api.exec_create(location.container, ["timeout", str(timeout), *argv],
                                                 environment=self._environment())
                output = client.api.exec_start(created["Id"])
                rc = client.api.exec_inspect(created["Id"])["ExitCode"]
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 - the container may be dying under us
            return SqlResult(None, f"{type(error).__name__}: {error}", location)
        return SqlResult(rc, output.decode(errors="replace"), location)

    def client_argv(self, statement: str, database: str | None = None) -> list[str]:
        if self.engine == "mysql":
            argv = ["mysql", f"--user={self.user}", "--batch", "--skip-column-names", f"--execute={statement}"]
            return argv + ([database] if database else [])
        return ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", database or "postgres", "-X",
                "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", statement]

    def sql(self, statement: str, database: str | None = None, timeout: int = 10,
            location: Location | None = None) -> SqlResult:
        return self.exec(self.client_argv(statement, database), timeout=timeout, location=location)

    def answers(self) -> Probe:
        """`SELECT 1` in the current task's container."""

        def probe() -> tuple[bool, str]:
            result = self.sql("SELECT 1", timeout=5)
            ok = result.ok and result.rows == [["1"]]
            return ok, result.describe()

        return probe

    def accepts_writes(self) -> Probe:
        """Write and read back a row of a temporary table (nothing stays behind)."""
        statement = ("CREATE TEMPORARY TABLE picacheck_probe (x INT); INSERT INTO picacheck_probe VALUES (42); "
                     "SELECT x FROM picacheck_probe")

        def probe() -> tuple[bool, str]:
            result = self.sql(statement, self.database, timeout=8)
            ok = result.ok and result.rows[-1:] == [["42"]]
            return ok, ("wrote and read back a row; " if ok else "") + result.describe()

        return probe

    # --- tables --------------------------------------------------------------------------

    def tables(self, database: str, location: Location | None = None) -> list[str] | None:
        if self.engine == "mysql":
            statement = ("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
                         f"AND table_schema = {_literal(database)}")
        else:
            statement = ("SELECT schemaname || '.' || tablename FROM pg_tables "
                         "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
        result = self.sql(statement, database, timeout=20, location=location)
        return sorted(row[0] for row in result.rows) if result.ok else None

    def row_counts(self, database: str | None = None, exclude: tuple[str, ...] = (CANARY_TABLE,)) -> dict[str, int] | None:
        """Table → exact row count in the application's database (None: could not read)."""
        database = database or self.database
        location = self.locate()
        if location is None:
            return None
        names = self.tables(database, location)
        if names is None:
            return None
        names = [n for n in names if n.split(".")[-1] not in exclude]
        if not names:
            return {}
        counts: dict[str, int] = {}
        for start in range(0, len(names), 100):  # keeps each statement short
            parts = []
            for name in names[start:start + 100]:
                if self.engine == "mysql":
                    source = f"{_quote_mysql_identifier(database)}.{_quote_mysql_identifier(name)}"
                else:
                    schema, _, table = name.partition(".")
                    source = f"{_quote_pg_identifier(schema)}.{_quote_pg_identifier(table)}"
                parts.append(f"SELECT {_literal(name)}, COUNT(*) FROM {source}")
            result = self.sql(" UNION ALL ".join(parts), database, timeout=60, location=location)
            if not result.ok:
                return None
            counts.update({row[0]: int(row[1]) for row in result.rows if len(row) == 2})
        return counts

    # --- the service -------------------------------------------------------------------------

    def spec(self, service: str | None = None) -> dict | None:
        name = service or self.service

        def inspect(client):
            found = [s for s in client.api.services(filters={"name": name}) if s["Spec"]["Name"] == name]
            return found[0]["Spec"] if found else None

        return self._on_a_manager(inspect)

    def replicas(self, service: str | None = None) -> int | None:
        spec = self.spec(service)
        if spec is None:
            return None
        return spec["Mode"].get("Replicated", {}).get("Replicas")

    def data_directory(self) -> str:
        """Where the server keeps its data: the service's bind mount (on the shared volume)."""
        spec = self.spec()
        if spec is None:
            raise RuntimeError(f"no Swarm service {self.service}")
        binds = [m for m in spec["TaskTemplate"]["ContainerSpec"].get("Mounts", []) if m.get("Type") == "bind"]
        shared = [m["Source"] for m in binds
                  for volume in (self.ctx.inventory.gluster.volumes if self.ctx.inventory.gluster else ())
                  if m["Source"].startswith(volume.mount.path.rstrip("/") + "/")]
        sources = shared or [m["Source"] for m in binds]
        if not sources:
            raise RuntimeError(f"service {self.service} has no bind mount: where its data lives is unknown")
        source = sources[0].rstrip("/")
        if source.count("/") < 2 or source in ("/", "/DATA", "/var", "/var/lib"):
            raise RuntimeError(f"service {self.service}: refusing to move {source!r} (not a data directory of its own)")
        return source

    def manager_run(self, command: str, timeout: int = 60) -> str:
        """A docker CLI command on the first manager where it succeeds; its output."""
        errors = []
        for manager in self.managers:
            try:
                result = self.ctx.hosts[manager].run(command, timeout=timeout)
            except Exception as error:  # noqa: BLE001
                errors.append(f"{manager}: {error}")
                continue
            if result.rc == 0:
                return result.stdout
            errors.append(f"{manager}: exit {result.rc}: {(result.stderr or result.stdout).strip()[:200]}")
        raise RuntimeError(f"`{command}` failed on every manager: {'; '.join(errors)}")

    def scale(self, replicas: int, service: str | None = None) -> None:
        self.manager_run(f"docker service scale --detach {shlex.quote(service or self.service)}={int(replicas)}")

    def force_restart(self, service: str | None = None) -> None:
        self.manager_run(f"docker service update --force --detach {shlex.quote(service or self.service)}")

    def wait_stopped(self, timeout: float = 120) -> None:
        """Until no container of the service runs on any node (after a scale to 0)."""
        def stopped():
            running = self.running_containers()
            assert not running, f"still running: {running}"
            return True

        eventually(stopped, timeout=timeout, interval=1, what=f"every container of {self.service} stopped")

    def wait_answers(self, timeout: float) -> Location:
        def answered():
            result = self.sql("SELECT 1", timeout=5)
            assert result.ok, result.describe()
            return result.location

        return eventually(answered, timeout=timeout, interval=1, what=f"{self.service} answers")


# --- the canary ---------------------------------------------------------------------------------


@dataclass
class Attempt:
    seq: int
    started: float  # time.time() on this machine
    finished: float | None = None
    acked: bool | None = None  # None: still waiting for the server
    detail: str = ""


class Canary:
    """Numbered rows written one a second into a table of the application's database."""

    def __init__(self, access: DatabaseAccess, interval: float = 1.0, max_rows: int = 7200):
        self.access = access
        self.database = access.database
        self.interval = interval
        self.max_rows = max_rows  # the writer stops by itself after that many attempts
        self.attempts: list[Attempt] = []
        self.created = False
        self.finished = False  # stopped and verified: the probes stop using it
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def table(self) -> str:
        if self.access.engine == "mysql":
            return f"{_quote_mysql_identifier(self.database)}.{CANARY_TABLE}"
        return f"public.{CANARY_TABLE}"

    def create(self) -> None:
        if self.access.engine == "mysql":
            statement = (f"CREATE TABLE IF NOT EXISTS {self.table} (seq INT PRIMARY KEY, "
                         "written_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB")
        else:
            statement = (f"CREATE TABLE IF NOT EXISTS {self.table} (seq INT PRIMARY KEY, "
                         "written_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        result = self.access.sql(statement, self.database, timeout=15)
        if not result.ok:
            raise RuntimeError(f"cannot create the canary table {self.table}: {result.describe()}")
        self.created = True

    def start(self) -> None:
        if self._thread is not None:
            return
        self.create()
        self._thread = threading.Thread(target=self._run, name="canary", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        for seq in range(1, self.max_rows + 1):
            if self._stop.is_set():
                return
            tick = time.monotonic()
            self.insert(seq)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - tick)))

    def insert(self, seq: int) -> Attempt:
        attempt = Attempt(seq, time.time())
        with self._lock:
            self.attempts.append(attempt)
        result = self.access.sql(f"INSERT INTO {self.table} (seq) VALUES ({int(seq)})", self.database, timeout=5)
        with self._lock:
            attempt.finished = time.time()
            attempt.acked = result.ok
            attempt.detail = result.describe()
        return attempt

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=20)

    def acked(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if a.acked]

    def unanswered(self) -> list[Attempt]:
        with self._lock:
            return [a for a in self.attempts if not a.acked]

    def observer(self) -> Probe:
        """How the newest insert went (a pending one counts as failing after 2 s)."""

        def probe() -> tuple[bool, str]:
            with self._lock:
                attempts = list(self.attempts)
            if not attempts:
                return False, "no insert yet"
            newest = attempts[-1]
            if newest.acked is None:
                waiting = time.time() - newest.started
                if waiting > 2 or len(attempts) < 2:
                    return False, f"insert #{newest.seq} waiting for {waiting:.1f}s"
                newest = attempts[-2]
            verb = "acknowledged" if newest.acked else "failed"
            return bool(newest.acked), f"insert #{newest.seq} {verb}: {newest.detail}"

        return probe

    def present(self, timeout: float = 0) -> tuple[set[int] | None, str]:
        """The canary rows the server has now (None: could not read). A missing table is no rows."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.access.sql(f"SELECT seq FROM {self.table}", self.database, timeout=15)
            if result.ok:
                return {int(row[0]) for row in result.rows if row and row[0].isdigit()}, "read"
            text = result.output.lower()
            if result.rc not in (None, 124) and ("doesn't exist" in text or "does not exist" in text):
                return set(), "the canary table does not exist"
            if time.monotonic() >= deadline:
                return None, result.describe()
            time.sleep(1)

    def drop(self) -> None:
        result = self.access.sql(f"DROP TABLE IF EXISTS {self.table}", self.database, timeout=30)
        if not result.ok:
            raise RuntimeError(f"cannot drop the canary table {self.table}: {result.describe()}")

    def summary(self, present: set[int] | None) -> dict:
        """Acknowledged, present, lost (acknowledged but gone) and unacknowledged-but-present rows."""
        acked = {a.seq for a in self.acked()}
        with self._lock:
            total = len(self.attempts)
        figures = {"inserts_tried": total, "acknowledged": len(acked), "unacknowledged": total - len(acked)}
        if present is None:
            figures.update({"present": None, "lost": None})
            return figures
        lost = sorted(acked - present)
        figures.update({"present": len(present), "lost": len(lost), "lost_rows": _ranges(lost),
                        "present_but_unacknowledged": len(present - acked)})
        return figures


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] → '1-3, 7' (short evidence)."""
    if not numbers:
        return ""
    spans, start, previous = [], numbers[0], numbers[0]
    for n in numbers[1:]:
        if n != previous + 1:
            spans.append(f"{start}-{previous}" if start != previous else str(start))
            start = n
        previous = n
    spans.append(f"{start}-{previous}" if start != previous else str(start))
    return ", ".join(spans)


def compare_counts(before: dict[str, int] | None, after: dict[str, int] | None) -> dict:
    """Tables and rows after vs before: missing tables, tables with fewer rows."""
    if before is None or after is None:
        return {"tables_before": None if before is None else len(before),
                "tables_after": None if after is None else len(after), "comparable": False}
    missing = sorted(set(before) - set(after))
    fewer = {t: [before[t], after[t]] for t in sorted(before) if t in after and after[t] < before[t]}
    return {"comparable": True, "tables_before": len(before), "tables_after": len(after),
            "rows_before": sum(before.values()), "rows_after": sum(after.values()),
            "missing_tables": missing, "tables_with_fewer_rows": fewer}


# --- dumps and restore ----------------------------------------------------------------------------


@dataclass
class DumpChoice:
    name: str
    path: str
    size: int
    ended: float  # mtime, on this machine's clock
    started: float  # when the dump tool began (its name), on this machine's clock
    listed_on: str

    def age_at(self, moment: float) -> float:
        return moment - self.ended


def newest_complete_dump(ctx, policy: DumpPolicy, engine: str, checked: int = 3) -> tuple[DumpChoice | None, dict]:
    """The newest dump the dump tool finished (among the newest `checked`), and the listing's facts."""
    host = ctx.hosts[policy.host]
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
            started = ended
            if dump.named_time is not None:  # the name is the start time, in the dump container's zone (UTC)
                named = dump.named_time.replace(tzinfo=datetime.timezone.utc).timestamp() + offset
                if 0 <= ended - named <= 3600:
                    started = named
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


def _expected_error(line: str) -> bool:
    """pg_dump -c starts with DROP statements, which fail on a new, empty database."""
    return "does not exist" in line


def restore_dump(access: DatabaseAccess, dump: DumpChoice, timeout: int = 600) -> RestoreResult:
    """Feed the dump to the running server with its own client, as an administrator would."""
    started = time.monotonic()
    location = access.locate()
    if location is None:
        return RestoreResult(False, 0.0, None, [f"no running task of {access.service}"])
    host = access.ctx.hosts[location.node]
    copied = host.run(f"docker cp {shlex.quote(dump.path)} {shlex.quote(location.container)}:{RESTORE_PATH}",
                      timeout=min(timeout, 600))
    if copied.rc != 0:
        return RestoreResult(False, time.monotonic() - started, copied.rc,
                             [f"docker cp on {location.node}: {(copied.stderr or copied.stdout).strip()[:300]}"])
    if access.engine == "mysql":
        argv = ["sh", "-c", f"mysql --user={shlex.quote(access.user)} < {RESTORE_PATH} && "
                            f"mysql --user={shlex.quote(access.user)} --execute='FLUSH PRIVILEGES'"]
    else:
        argv = ["psql", "-h", "127.0.0.1", "-p", str(access.port), "-U", access.user, "-d", access.database or "postgres",
                "-X", "-q", "-f", RESTORE_PATH]
    result = access.exec(argv, timeout=timeout, location=location)
    access.exec(["rm", "-f", RESTORE_PATH], timeout=30, location=location)
    lines = [line.strip() for line in result.output.splitlines() if "ERROR" in line]
    errors = [line[:300] for line in lines if not _expected_error(line)]
    if result.rc is None:
        errors.append(result.output.strip()[:300])
    tail = "\n".join(result.output.strip().splitlines()[-5:])[:800]
    return RestoreResult(result.ok and not errors, round(time.monotonic() - started, 1), result.rc, errors[:10],
                         sum(1 for line in lines if _expected_error(line)), tail)
