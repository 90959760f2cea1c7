"""A live database of the inventory: a Swarm service that publishes nothing, reached as an
administrator reaches it, with the database's own client inside the task's container
(`docker exec` through the Docker API over the host's SSH connection). The container is
found anew each time (Swarm replaces it when it dies). The password is the inventory's
Secret and travels in the exec's environment, never on a command line.

Used by the restore drill (read-only sessions) and by the database experiments (the
service is scaled, restarted and its container killed through here).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Callable

from picacheck import secrets
from picacheck.databases.engines import Engine, engine_of, quote_literal
from picacheck.errors import UserError
from picacheck.inventory.model import Database, Inventory
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool
from picacheck.wait import eventually

TASK_STATES_ALIVE = ("new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running")


@dataclass(frozen=True)
class Location:
    node: str  # inventory host name of the Swarm node that runs the task
    container: str  # container id
    task: str
    image: str = ""


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


def password(database: Database) -> secrets.Secret:
    """The inventory's password for a database (read at each use: a lab rebuilt under a
    running experiment has new secrets)."""
    return secrets.from_inventory(f"databases.{database.name}", database.password_file, database.password_env)


def resolve(inventory: Inventory, name: str) -> Database:
    found = [db for db in inventory.databases if db.name == name]
    if not found:
        known = ", ".join(db.name for db in inventory.databases) or "none"
        raise UserError(f"no database {name!r} in the inventory (known: {known})")
    if inventory.swarm is None:
        raise UserError("the databases are Swarm services: the inventory documents no Swarm")
    return found[0]


class LiveDatabase:
    """One database of the inventory, reached inside its Swarm task's container."""

    def __init__(self, inventory: Inventory, hosts: HostPool, db: Database):
        self.inventory = inventory
        self.hosts = hosts
        self.db = db
        self.engine: Engine = engine_of(db.engine)
        self.service = db.host or db.name
        self.user = db.user or self.engine.default_user
        self.port = db.port or self.engine.default_port
        self.database = db.database or db.name
        swarm = inventory.swarm
        self.managers = list(swarm.managers) if swarm else []
        self.nodes = list(swarm.managers + swarm.workers) if swarm else []
        self._hostnames: dict[str, str] = {}  # Swarm node id → hostname

    # --- where the task runs ---------------------------------------------------------------

    def on_a_manager(self, action: Callable, timeout: int = 8):
        """`action(docker_client)` on the first manager that answers."""
        errors = []
        for manager in self.managers:
            try:
                with docker_client(self.hosts[manager], timeout=timeout) as client:
                    return action(client)
            except Exception as error:  # noqa: BLE001 - try the next manager, keep the reason
                errors.append(f"{manager}: {type(error).__name__}: {error}"[:200])
        raise RuntimeError(f"no Swarm manager answered: {'; '.join(errors) or 'no manager in the inventory'}")

    def _host_of(self, client, node_id: str) -> str:
        if node_id not in self._hostnames:
            self._hostnames.update({n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()})
        hostname = self._hostnames.get(node_id, node_id)
        if hostname not in self.inventory.hosts:
            raise RuntimeError(f"Swarm node {hostname!r} is not a host of the inventory")
        return hostname

    def locate(self) -> Location | None:
        """The running task's node, container and image (None: no task is running)."""

        def find(client) -> Location | None:
            tasks = client.api.tasks(filters={"service": self.service, "desired-state": "running"})
            running = [t for t in tasks if t.get("ServiceID") and t["Status"]["State"] == "running"
                       and t["Status"].get("ContainerStatus", {}).get("ContainerID")]
            if not running:
                return None
            task = max(running, key=lambda t: t["Status"].get("Timestamp", ""))
            image = task["Spec"]["ContainerSpec"]["Image"]
            return Location(self._host_of(client, task["NodeID"]), task["Status"]["ContainerStatus"]["ContainerID"],
                            task["ID"], image)

        return self.on_a_manager(find)

    def alive_tasks(self) -> int:
        """Tasks of the service that exist or are on their way (any desired state)."""
        return self.on_a_manager(lambda client: sum(
            1 for t in client.api.tasks(filters={"service": self.service}) if t["Status"]["State"] in TASK_STATES_ALIVE))

    def running_containers(self) -> list[tuple[str, str]]:
        """(node, container id) of every running container of the service, on every node."""
        found = []
        for node in self.nodes:
            with docker_client(self.hosts[node], timeout=8) as client:
                for container in client.containers.list(
                        filters={"label": f"com.docker.swarm.service.name={self.service}"}):
                    found.append((node, container.id))
        return found

    def kill(self, location: Location) -> None:
        """SIGKILL the task's container: no clean shutdown."""
        with docker_client(self.hosts[location.node], timeout=15) as client:
            client.containers.get(location.container).kill()

    # --- commands in the container ---------------------------------------------------------

    def exec(self, argv: list[str], timeout: int = 10, location: Location | None = None,
             read_only: bool = False) -> SqlResult:
        try:
            location = location or self.locate()
        except Exception as error:  # noqa: BLE001 - an observation, not a crash
            return SqlResult(None, f"{type(error).__name__}: {error}", None)
        if location is None:
            return SqlResult(None, f"no running task of {self.service}", None)
        environment = self.engine.client_env(password(self.db), read_only=read_only)
        try:
            with docker_client(self.hosts[location.node], timeout=timeout + 10) as client:
                created = client.api.exec_create(location.container, ["timeout", str(timeout), *argv],
                                                 environment=environment)
                output = client.api.exec_start(created["Id"])
                rc = client.api.exec_inspect(created["Id"])["ExitCode"]
        except UserError:
            raise
        except Exception as error:  # noqa: BLE001 - the container may be dying under us
            return SqlResult(None, f"{type(error).__name__}: {error}", location)
        return SqlResult(rc, output.decode(errors="replace"), location)

    def client_argv(self, statement: str, database: str | None = None, read_only: bool = False) -> list[str]:
        if self.engine.name == "mysql":
            return self.engine.client_argv(statement, user=self.user, database=database, read_only=read_only)
        return self.engine.client_argv(statement, user=self.user, database=database, port=self.port)

    def sql(self, statement: str, database: str | None = None, timeout: int = 10,
            location: Location | None = None, read_only: bool = False) -> SqlResult:
        return self.exec(self.client_argv(statement, database, read_only), timeout=timeout, location=location,
                         read_only=read_only)

    def answers(self) -> Callable[[], tuple[bool, str]]:
        """An observer: `SELECT 1` in the current task's container."""

        def sample() -> tuple[bool, str]:
            result = self.sql("SELECT 1", timeout=5)
            return result.ok and result.rows == [["1"]], result.describe()

        return sample

    def accepts_writes(self) -> Callable[[], tuple[bool, str]]:
        """An observer: write and read back a row of a temporary table (nothing stays behind)."""
        statement = ("CREATE TEMPORARY TABLE picacheck_probe (x INT); INSERT INTO picacheck_probe VALUES (42); "
                     "SELECT x FROM picacheck_probe")

        def sample() -> tuple[bool, str]:
            result = self.sql(statement, self.database, timeout=8)
            ok = result.ok and result.rows[-1:] == [["42"]]
            return ok, ("wrote and read back a row; " if ok else "") + result.describe()

        return sample

    # --- tables --------------------------------------------------------------------------

    def tables(self, location: Location | None = None) -> list[str] | None:
        result = self.sql(self.engine.tables_sql(self.database), self.database, timeout=20, location=location)
        return sorted(row[0] for row in result.rows) if result.ok else None

    def row_counts(self, exclude: tuple[str, ...] = ()) -> dict[str, int] | None:
        """Table → exact row count in the application's database (None: could not read)."""
        location = self.locate()
        names = self.tables(location) if location else None
        if names is None:
            return None
        names = [n for n in names if n.split(".")[-1] not in exclude]
        counts: dict[str, int] = {}
        for start in range(0, len(names), 100):  # keeps each statement short
            statement = " UNION ALL ".join(self.engine.count_sql(self.database, n) for n in names[start:start + 100])
            result = self.sql(statement, self.database, timeout=60, location=location)
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

        return self.on_a_manager(inspect)

    def replicas(self, service: str | None = None) -> int | None:
        spec = self.spec(service)
        return None if spec is None else spec["Mode"].get("Replicated", {}).get("Replicas")

    def data_directory(self) -> str:
        """Where the server keeps its data: the service's bind mount (on the shared volume)."""
        spec = self.spec()
        if spec is None:
            raise RuntimeError(f"no Swarm service {self.service}")
        binds = [m for m in spec["TaskTemplate"]["ContainerSpec"].get("Mounts", []) if m.get("Type") == "bind"]
        volumes = self.inventory.gluster.volumes if self.inventory.gluster else ()
        shared = [m["Source"] for m in binds for volume in volumes
                  if volume.mount and m["Source"].startswith(volume.mount.path.rstrip("/") + "/")]
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
                result = self.hosts[manager].run(command, timeout=timeout)
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


__all__ = ["LiveDatabase", "Location", "SqlResult", "password", "resolve", "quote_literal"]
