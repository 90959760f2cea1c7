"""up / status / down of the lab's backups (report section 14), on a lab whose services run.

    up()      the dump jobs: images built on admin and pushed (where their recipe changed),
              pulled by both nodes, a Swarm secret per job, /DATA/BACKUP/{mysql,postgresql},
              the two Swarm services (the report's scripts: a dump at start-up, then CRON_TIME);
              the hypervisors' vzdump: their key on the VMs, one run where an archive is
              missing or stale, then the rsync mirror once, so that each holds both sets;
              then waits until every job has made its first dumps. Idempotent.
    status()  prints and returns the jobs, the dumps and the archives.
    down()    removes the jobs, their secrets, /DATA/BACKUP and the VM archives (the vzdump
              job stays: it belongs to the hypervisors, whose `up` installs it).

Swarm objects are made through the Docker API of a manager (the Docker SDK over the lab's
SSH connection); every one carries the label topology.LABEL=backups.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shlex
import sys
import threading
import time

import docker.errors
from docker.types import EndpointSpec, Mount, RestartPolicy, SecretReference, ServiceMode

from picacheck.errors import UserError
from picacheck.lab import engine, hypervisors, locks
from picacheck.lab import topology as T
from picacheck.lab.backups import images, plan
from picacheck.lab.hypervisors import vzdump
from picacheck.lab.services import swarm
from picacheck.lab.ssh import Node, RemoteError
from picacheck.probes.docker_remote import docker_client
from picacheck.progress import say, step

# No state of its own on the host: what this part made lives in the Swarm (labelled jobs and
# secrets, /DATA/BACKUP) and on the hypervisors, and goes with them.
LOCK_NAME = "backups"
LOCK_FILE = locks.path(LOCK_NAME)  # there only while it works
LABEL_FILTER = {"label": f"{T.LABEL}={plan.LABEL_VALUE}"}
LAST_UP: dict = {}  # what the last up() in this process measured (benchmarks)


def _locked():
    return locks.locked(LOCK_NAME, "`up` or `down` of the lab's backups")


@contextlib.contextmanager
def manager_api():
    """The Docker API of a reachable Swarm manager (the leader first), and its SSH node."""
    node = swarm.manager()
    try:
        with docker_client(node, timeout=60) as client:
            yield client, node
    finally:
        node.close()


# --- secrets, directories, services ------------------------------------------------------


def _password(job: plan.DumpJob) -> bytes:
    path = job.password_file
    if not path.exists() or not path.read_text().strip():
        raise UserError(f"lab backups: no password file {path} for {job.database}",
                        hint="the services part makes it: run `picacheck lab up`")
    return path.read_text().strip().encode()


def ensure_secret(client, job: plan.DumpJob) -> str:
    """The job's Swarm secret (named after the hash of its value); returns its name."""
    value = _password(job)
    name = f"{job.secret}-{hashlib.sha256(value).hexdigest()[:10]}"
    if not client.secrets.list(filters={"name": name}):
        client.secrets.create(name=name, data=value, labels={T.LABEL: plan.LABEL_VALUE})
        say(f"Swarm secret {name} created")
    return name


def _secret_id(client, name: str) -> str:
    return next(s.id for s in client.secrets.list(filters={"name": name}) if s.name == name)


def ensure_directories(node: Node) -> bool:
    missing = [job.directory for job in plan.JOBS.values() if not node.ok(f"test -d {shlex.quote(job.directory)}")]
    if missing:
        node.run("mkdir -p " + " ".join(shlex.quote(d) for d in missing), what="creating the dump directories",
                 timeout=60)
    return bool(missing)


def service_spec(job: plan.DumpJob, secret: str) -> dict:
    """What the job's service is made of (hashed into its spec label)."""
    return {
        "image": images.ref(job),
        "env": plan.job_environment(job),
        "mount": f"{job.directory}:/backup",
        "secret": secret,
        "network": T.SWARM_OVERLAY,
        "init": True,  # cron as PID 1 ignores SIGTERM: a stop would wait for the grace period
    }


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def _service(client, name: str):
    try:
        return client.services.get(name)
    except docker.errors.NotFound:
        return None


def _containers_of(name: str) -> list[str]:
    """The Swarm nodes that still hold a container of a service (running or not)."""
    found = []
    for host in T.SWARM_NODES:
        node = Node(host, connect_timeout=5)
        try:
            with docker_client(node, timeout=30) as client:
                if client.containers.list(all=True, filters={"label": f"com.docker.swarm.service.name={name}"}):
                    found.append(host)
        except (RemoteError, OSError, docker.errors.APIError):
            pass  # a node that is down holds nothing that runs
        finally:
            node.close()
    return found


def remove_service(client, name: str, timeout: float = 120) -> bool:
    service = _service(client, name)
    if service is None:
        return False
    with step(f"docker service rm {name}"):
        service.remove()
        deadline = time.monotonic() + timeout
        while (left := _containers_of(name)) and time.monotonic() < deadline:
            time.sleep(1)
        if left:
            raise UserError(f"lab backups: the containers of {name} are still there on {', '.join(left)}")
    return True


def ensure_service(client, job: plan.DumpJob, secret: str, node: Node | None = None) -> bool:
    spec = service_spec(job, secret)
    wanted = spec_hash(spec)
    service = _service(client, job.name)
    if service is not None:
        if (service.attrs["Spec"].get("Labels") or {}).get(plan.SPEC_LABEL) == wanted:
            return False
        remove_service(client, job.name)  # never two dump jobs writing into one directory
        secrets = service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []
        if secrets and secrets[0].get("SecretName") != secret and node is not None:
            # A new password: the services part made the database again (its `down` removes
            # the databases' data and passwords). The dumps of the old one are history of a
            # database that no longer exists: the new one starts its own.
            say(f"lab backups: {job.database} was made again (new password): removing the dumps of the old one")
            node.run(f"find {shlex.quote(job.directory)} -maxdepth 1 -type f -delete", what="removing old dumps",
                     timeout=120)
    with step(f"docker service create {job.name}"):
        client.services.create(
            spec["image"], name=job.name,
            env=[f"{key}={value}" for key, value in spec["env"].items()],
            mounts=[Mount(target="/backup", source=job.directory, type="bind")],
            secrets=[SecretReference(_secret_id(client, secret), secret, filename=job.secret, mode=0o400)],
            networks=[T.SWARM_OVERLAY],
            endpoint_spec=EndpointSpec(mode="dnsrr"),
            mode=ServiceMode("replicated", replicas=1),
            restart_policy=RestartPolicy(condition="any", delay=5_000_000_000),
            labels={T.LABEL: plan.LABEL_VALUE, plan.SPEC_LABEL: wanted},
            container_labels={T.LABEL: plan.LABEL_VALUE},
            init=spec["init"],
        )
    return True


def running_tasks(client, name: str) -> list[dict]:
    service = _service(client, name)
    if service is None:
        return []
    return [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]


def wait_running(client, names: list[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        pending = [name for name in pending if not running_tasks(client, name)]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise UserError(f"lab backups: {', '.join(pending)} not running after {timeout:.0f}s",
                            hint="see `docker service ps` on pica01")
        time.sleep(2)


# --- dumps ----------------------------------------------------------------------------


def dump_counts(node: Node) -> dict[str, int]:
    """database → number of dump files (named like the report's) in its directory."""
    counts = {}
    for database, job in plan.JOBS.items():
        result = node.run(f"ls -1 {shlex.quote(job.directory)} 2>/dev/null | grep -cE "
                          r"'^[0-9]{4}\.[0-9]{2}\.[0-9]{2}\.[0-9]{6}\.sql$'", check=False, timeout=30)
        counts[database] = int(result.stdout.strip() or 0)
    return counts


def wait_for_dumps(count: int = plan.DUMPS_BEFORE_READY, timeout: float = plan.FIRST_DUMPS_TIMEOUT) -> dict[str, int]:
    node = Node(plan.READ_HOST)
    try:
        deadline = time.monotonic() + timeout
        while True:
            counts = dump_counts(node)
            if all(n >= count for n in counts.values()):
                return counts
            if time.monotonic() > deadline:
                raise UserError(f"lab backups: after {timeout:.0f}s the dump jobs have made only "
                                + ", ".join(f"{n} {db} dump(s)" for db, n in counts.items()),
                                hint=f"see {', '.join(j.log_file for j in plan.JOBS.values())} in the jobs' containers")
            time.sleep(3)
    finally:
        node.close()


# --- the hypervisors' vzdump -------------------------------------------------------------


def ensure_vm_backups() -> dict:
    """Archives of every VM on its hypervisor (vzdump run where missing or stale), then the
    rsync mirror once, so that each hypervisor holds both sets."""

    if not hypervisors.is_up():
        say("lab backups: the hypervisors are not running; no VM backups")
        return {}
    done: dict = {}
    with step("VM backups: the hypervisors' key on the VMs, vzdump where stale, rsync mirror"):
        vzdump.install()
        vzdump.authorize_on_vms()
        stale = vzdump.stale()
        if stale:
            done["vzdump_s"] = vzdump.run(stale)
        sets = {name: set(vzdump.archives(name)) for name in hypervisors.MACHINES}
        if stale or len({frozenset(s) for s in sets.values()}) > 1:
            done["rsync_s"] = vzdump.mirror()
    return done


# --- up --------------------------------------------------------------------------------------


def prepare() -> list[str]:
    """Both dump images in the lab's engine (built FROM the databases' images, or from the cache)."""
    engine.require_lab("backups")
    with _locked():
        return ["images"] if images.build_all() else []


def up() -> list[str]:
    """Bring the backups up (idempotent). Returns the names of the steps that changed something."""
    engine.require_lab("backups")
    started = time.monotonic()
    changed: list[str] = []
    with _locked():
        with step("Backup images: mysql-backup, postgres-backup (pushed by admin, pulled by both nodes)"):
            if images.build_all():
                changed.append("images")
            if images.distribute_all():
                changed.append("registry and pulls")
        # The VM backups run meanwhile (they only read the VMs).
        vm_result: dict = {}
        vm_error: list[BaseException] = []

        def vm_backups() -> None:
            try:
                vm_result.update(ensure_vm_backups())
            except BaseException as error:  # noqa: BLE001 - re-raised below
                vm_error.append(error)

        vm_thread = threading.Thread(target=vm_backups, name="vm-backups", daemon=True)
        vm_thread.start()
        try:
            with manager_api() as (client, node):
                if ensure_directories(node):
                    changed.append("directories")
                for job in plan.JOBS.values():
                    secret = ensure_secret(client, job)
                    if ensure_service(client, job, secret, node):
                        changed.append(f"service {job.name}")
                with step("Waiting for the dump jobs to run"):
                    wait_running(client, [job.name for job in plan.JOBS.values()])
            with step(f"Waiting for {plan.DUMPS_BEFORE_READY} dumps of each database (at start-up, then cron "
                      f"{plan.CRON_TIME!r})"):
                counts = wait_for_dumps()
        finally:
            vm_thread.join()
        if vm_error:
            raise vm_error[0]
        if vm_result:
            changed.append("vm backups")
        LAST_UP.clear()
        LAST_UP.update({"dumps_at_up": counts, "vm_backups": vm_result})
    say(f"lab backups up in {time.monotonic() - started:.0f}s; "
        + (f"changed: {', '.join(changed)}" if changed else "nothing to change"))
    return changed


def is_up() -> bool:
    """The dump jobs exist in the lab's Swarm (False when the lab or its Swarm is down)."""
    if not engine.running():
        return False
    try:
        with manager_api() as (api, _node):
            names = {service.name for service in api.services.list(filters=LABEL_FILTER)}
    except (UserError, OSError, docker.errors.APIError):
        return False
    return {job.name for job in plan.JOBS.values()} <= names


# --- status ----------------------------------------------------------------------------------


def status(out=None) -> dict:
    out = sys.stdout if out is None else out
    report: dict = {"ok": False, "jobs": {}, "dumps": {}, "archives": {}}
    if not engine.running():
        print("backups: the lab is down", file=out)
        return report
    ok = True
    try:
        with manager_api() as (api, node):
            for job in plan.JOBS.values():
                tasks = running_tasks(api, job.name)
                report["jobs"][job.name] = len(tasks)
                ok &= bool(tasks)
            report["dumps"] = dump_counts(node)
    except UserError as error:
        print(f"backups: {error}", file=out)
        ok = False
    for job in plan.JOBS.values():
        count = report["dumps"].get(job.database, 0)
        ok &= count >= 1
        print(f"  {job.name:16} {'running' if report['jobs'].get(job.name) else 'NOT RUNNING':11} "
              f"{count} dumps in {job.directory} (cron {plan.CRON_TIME!r}, MAX_BACKUPS {plan.MAX_BACKUPS})", file=out)
    try:
        if hypervisors.is_up():
            for name in hypervisors.MACHINES:
                report["archives"][name] = vzdump.archives(name)
                print(f"  {name:16} {len(report['archives'][name])} vzdump archives in {vzdump.DUMP_DIR}", file=out)
    except UserError as error:
        print(f"backups: {error}", file=out)
        ok = False
    report["ok"] = bool(ok)
    print(f"backups: {'up' if ok else 'DEGRADED'}", file=out)
    return report


# --- down --------------------------------------------------------------------------------------


def down() -> bool:
    """Remove the jobs, their secrets, /DATA/BACKUP and the VM archives."""
    engine.require_root()
    changed = False
    with _locked():
        if engine.running():
            try:
                with manager_api() as (api, node):
                    for job in plan.JOBS.values():
                        changed |= remove_service(api, job.name)
                    for secret in api.secrets.list(filters=LABEL_FILTER):
                        secret.remove()
                        changed = True
                    if node.ok(f"test -e {plan.BACKUP_ROOT}"):
                        node.run(f"rm -rf {plan.BACKUP_ROOT}", what="removing the dumps", timeout=300)
                        changed = True
            except UserError as error:
                say(f"lab backups: {error}; the jobs stay")
        try:
            if hypervisors.is_up():
                changed |= vzdump.remove_archives()
        except UserError as error:
            say(f"lab backups: {error}")
    say("lab backups down: " + ("removed" if changed else "nothing was there"))
    return changed
