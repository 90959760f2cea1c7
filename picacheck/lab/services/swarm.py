"""The Swarm side: secrets, files on /DATA, and the services (Traefik, databases, apps).

Everything is done with the docker CLI of a Swarm manager over SSH, as the report does it
(`docker service create …`). Each service carries a label with the hash of the command
that made it: `up` leaves a service whose hash matches alone, and replaces one whose hash
differs (after its old containers are gone, so that two database servers never share their
data directory on /DATA).

All services are on pica-net with `--endpoint-mode dnsrr` (the lab's kernel has no IPVS:
no VIPs, no routing mesh) and Traefik publishes its ports in host mode.
"""

from __future__ import annotations

import hashlib
import json
import secrets as _secrets
import shlex
import time

from picacheck.errors import UserError
from picacheck.lab import keys
from picacheck.lab import topology as T
from picacheck.lab.ssh import Node, RemoteError
from picacheck.lab.services import build, plan
from picacheck.progress import say, step

SERVICE_FILTER = f"label={plan.LABEL}=services"


# --- local secrets -------------------------------------------------------------------------


def ensure_secret_files() -> bool:
    """Every password / key of plan.SECRETS as a file under SECRETS_DIR (made once)."""
    changed = False
    T.SECRETS_DIR.mkdir(parents=True, exist_ok=True)
    for name in plan.SECRETS:
        path = plan.secret_file(name)
        if path.exists() and path.read_text().strip():
            continue
        value = "p" + _secrets.token_urlsafe(24)  # never only digits (Etherpad's ${…} would make it a number)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(value + "\n")
        partial.chmod(0o600)
        partial.rename(path)
        changed = True
    return changed


def read_secret(name: str) -> str:
    return plan.secret_file(name).read_text().strip()


def swarm_secret_name(name: str) -> str:
    return f"{name}-{hashlib.sha256(read_secret(name).encode()).hexdigest()[:10]}"


# --- manager ---------------------------------------------------------------------------------


def manager() -> Node:
    """An SSH connection to a reachable Swarm manager (the leader first)."""
    errors = []
    for host in (T.SWARM_LEADER, *[h for h in T.SWARM_NODES if h != T.SWARM_LEADER]):
        node = Node(host, connect_timeout=5)
        try:
            if node.ok("docker node ls >/dev/null 2>&1", timeout=30):
                return node
            errors.append(f"{host}: not a working manager")
        except RemoteError as error:
            errors.append(str(error))
        node.close()
    raise UserError(f"lab services: no Swarm manager answers ({'; '.join(errors)})", hint="run `picacheck lab up`")


def ensure_swarm_secrets(node: Node) -> bool:
    existing = set(node.out(f"docker secret ls --filter {SERVICE_FILTER} --format '{{{{.Name}}}}'",
                            what="docker secret ls").split())
    changed = False
    for name in plan.SECRETS:
        wanted = swarm_secret_name(name)
        if wanted in existing:
            continue
        node.run(f"docker secret create --label {plan.LABEL}=services {wanted} -", stdin=read_secret(name).encode(),
                 what=f"creating the Swarm secret {name}", timeout=60)
        say(f"Swarm secret {wanted} created")
        changed = True
    return changed


def prune_swarm_secrets(node: Node) -> None:
    wanted = {swarm_secret_name(name) for name in plan.SECRETS}
    existing = node.out(f"docker secret ls --filter {SERVICE_FILTER} --format '{{{{.Name}}}}'", what="docker secret ls")
    for name in existing.split():
        if name not in wanted:
            node.run(f"docker secret rm {name}", check=False, timeout=60)


# --- files on /DATA ----------------------------------------------------------------------------


def traefik_toml() -> str:
    return f"""# Traefik's static configuration in the lab (Traefik v3; the report's traefik.toml was v1).
# /DATA/WEB/traefik/traefik.toml, bind-mounted at /etc/traefik/traefik.toml, as in the report.

[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "INFO"

[entryPoints]
  [entryPoints.web]
    address = ":80"
    # Every plain HTTP request: a permanent redirect to the same URL over HTTPS.
    [entryPoints.web.http.redirections.entryPoint]
      to = "websecure"
      scheme = "https"
      permanent = true
  [entryPoints.websecure]
    address = ":443"
  [entryPoints.traefik]
    address = ":{plan.DASHBOARD_PORT}"

# The dashboard and API on port {plan.DASHBOARD_PORT} (the report's --web), without authentication.
[api]
  dashboard = true
  insecure = true

[ping]
  entryPoint = "traefik"

# Routers and backends from the Swarm services' labels (the report's --docker.swarmmode).
[providers.swarm]
  endpoint = "unix:///var/run/docker.sock"
  exposedByDefault = false
  network = "{T.SWARM_OVERLAY}"
  refreshSeconds = 5

# Certificates from the lab's ACME CA (pebble on admin), http-01 through the nodes.
[certificatesResolvers.{plan.ACME_RESOLVER}.acme]
  email = "{plan.ACME_EMAIL}"
  storage = "/certs/acme.json"
  caServer = "{plan.ACME_DIRECTORY}"
  [certificatesResolvers.{plan.ACME_RESOLVER}.acme.httpChallenge]
    entryPoint = "web"
"""


# GlusterFS's own profile for databases on a volume (/var/lib/glusterd/groups/db-workload),
# without its thread counts: the client-side caches off, so that a file's size and content
# are what the last write made them. With the default caches (write-behind, stat-prefetch)
# PostgreSQL on /DATA failed with "unexpected data beyond EOF in block … of relation …".
DB_WORKLOAD_OPTIONS = {
    "performance.write-behind": "off",
    "performance.stat-prefetch": "off",
    "performance.quick-read": "off",
    "performance.read-ahead": "off",
    "performance.io-cache": "off",
    "performance.readdir-ahead": "off",
    "performance.strict-o-direct": "on",
    "performance.read-after-open": "yes",
}


def ensure_volume_options(node: Node) -> bool:
    """The db-workload options on the volume that holds the databases (/DATA)."""
    text = node.out(f"gluster --mode=script volume get {T.GLUSTER_VOLUME} all", what="gluster volume get", timeout=60)
    current = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            current[parts[0]] = parts[1]
    changed = False
    for option, value in DB_WORKLOAD_OPTIONS.items():
        if current.get(option) != value:
            node.run(f"gluster --mode=script volume set {T.GLUSTER_VOLUME} {option} {value}",
                     what=f"gluster volume set {option} {value}", timeout=60)
            say(f"gluster volume set {T.GLUSTER_VOLUME} {option} {value} (databases on {T.GLUSTER_MOUNT})")
            changed = True
    return changed


def ensure_data_files(node: Node) -> bool:
    directories = [db.data_dir for db in plan.DATABASES.values()]
    directories += [app.data_dir for app in plan.APPS.values() if app.data_dir]
    directories += [plan.TRAEFIK_CERTS]
    node.run("mkdir -p " + " ".join(shlex.quote(d) for d in directories), what="creating the service directories on /DATA",
             timeout=60)
    changed = node.put(plan.TRAEFIK_CONFIG, traefik_toml(), 0o644)
    changed |= node.put(f"{plan.TRAEFIK_DIR}/lab-ca.crt", keys.CA_CERT.read_bytes(), 0o644)
    if not node.ok(f"test -e {plan.ACME_STORAGE}"):
        node.run(f"install -m 600 /dev/null {plan.ACME_STORAGE}", what="creating acme.json", timeout=30)
        changed = True
    return changed


# --- service specs -----------------------------------------------------------------------------


def _labels_of_route(app: plan.App, router: str) -> dict[str, str]:
    prefix = f"traefik.http.routers.{router}"
    return {
        "traefik.enable": "true",
        f"{prefix}.rule": f"Host(`{app.domain}`)",
        f"{prefix}.entrypoints": "websecure",
        f"{prefix}.tls": "true",
        f"{prefix}.tls.certresolver": plan.ACME_RESOLVER,
        f"traefik.http.services.{router}.loadbalancer.server.port": str(app.port),
        "traefik.swarm.network": T.SWARM_OVERLAY,
    }


def _common(name: str) -> list[str]:
    return ["--name", name, "--network", T.SWARM_OVERLAY, "--endpoint-mode", "dnsrr", "--with-registry-auth",
            "--label", f"{plan.LABEL}=services"]


def _secret_args(names: tuple[str, ...]) -> list[str]:
    args = []
    for name in names:
        args += ["--secret", f"source={swarm_secret_name(name)},target={name},mode=0400"]
    return args


def _bind(source: str, target: str, readonly: bool = False) -> list[str]:
    return ["--mount", f"type=bind,source={source},target={target}" + (",readonly" if readonly else "")]


def database_args(db: plan.Database) -> list[str]:
    secrets = (db.admin_password_secret, db.password_secret)
    return [*_common(db.service), "--replicas", "1", "--stop-grace-period", "60s",
            "--restart-condition", "any", "--restart-delay", "5s",
            *_secret_args(secrets), *_bind(db.data_dir, db.mount_target),
            "--label", f"{T.LABEL}.database={db.engine}",
            build.ref(plan.IMAGES[db.image])]


def app_args(app: plan.App) -> list[str]:
    args = [*_common(app.name), "--replicas", str(app.replicas), "--restart-condition", "any",
            "--restart-delay", "5s", *_secret_args(app.secrets)]
    if app.replicas > 1:
        args += ["--replicas-max-per-node", "1"]
    if app.data_dir:
        args += _bind(app.data_dir, app.mount_target)
    if app.name == "synapse":
        args += ["--env", f"SERVER_NAME={app.domain}"]
    for key, value in _labels_of_route(app, app.name).items():
        args += ["--label", f"{key}={value}"]
    return args + [build.ref(plan.IMAGES[app.image])]


def traefik_args(only_on: str | None = None) -> list[str]:
    args = [*_common(plan.TRAEFIK_SERVICE), "--mode", "global", "--constraint", "node.role==manager",
            "--restart-condition", "any", "--restart-delay", "5s", "--stop-grace-period", "5s"]
    if only_on:
        args += ["--constraint", f"node.hostname=={only_on}"]
    for port in (*plan.TRAEFIK_PORTS, plan.DASHBOARD_PORT):
        args += ["--publish", f"mode=host,target={port},published={port},protocol=tcp"]
    args += _bind("/var/run/docker.sock", "/var/run/docker.sock")
    args += _bind(plan.TRAEFIK_CONFIG, "/etc/traefik/traefik.toml", readonly=True)
    args += _bind(plan.TRAEFIK_CERTS, "/certs")
    args += _bind(f"{plan.TRAEFIK_DIR}/lab-ca.crt", "/etc/traefik/lab-ca.crt", readonly=True)
    args += ["--env", "LEGO_CA_CERTIFICATES=/etc/traefik/lab-ca.crt"]
    labels = _labels_of_route(plan.DASHBOARD, plan.DASHBOARD.name)
    labels[f"traefik.http.routers.{plan.DASHBOARD.name}.service"] = "api@internal"
    for key, value in labels.items():
        args += ["--label", f"{key}={value}"]
    return args + [build.ref(plan.IMAGES["tx-traefik"])]


def wanted_args() -> dict[str, list[str]]:
    """Service name → `docker service create` arguments, in creation order (Traefik last, final form)."""
    specs: dict[str, list[str]] = {}
    for db in plan.DATABASES.values():
        specs[db.service] = database_args(db)
    for app in plan.APPS.values():
        specs[app.name] = app_args(app)
    specs[plan.TRAEFIK_SERVICE] = traefik_args()
    return specs


def spec_hash(args: list[str]) -> str:
    return hashlib.sha256("\0".join(args).encode()).hexdigest()[:16]


# --- services ---------------------------------------------------------------------------------


def current_spec(node: Node, name: str) -> str | None:
    """The spec label of a service (None when it does not exist)."""
    result = node.run(f"docker service inspect --format '{{{{index .Spec.Labels \"{plan.SPEC_LABEL}\"}}}}' {name}",
                      check=False, timeout=30)
    return result.stdout.strip() if result.ok else None


def _services_with_containers() -> dict[str, set[str]]:
    """Swarm service name → nodes that still hold a container of it (running or not)."""
    found: dict[str, set[str]] = {}
    for host in T.SWARM_NODES:
        node = Node(host, connect_timeout=5)
        try:
            result = node.run("docker ps -a --format '{{.Label \"com.docker.swarm.service.name\"}}'",
                              check=False, timeout=30)
            for name in result.stdout.split() if result.ok else []:
                found.setdefault(name, set()).add(host)
        except RemoteError:
            pass  # a node that is down runs nothing
        finally:
            node.close()
    return found


def _containers_left(name: str) -> list[str]:
    return sorted(_services_with_containers().get(name, ()))


def remove_service(node: Node, name: str, timeout: float = 120) -> bool:
    if current_spec(node, name) is None:
        return False
    with step(f"docker service rm {name}"):
        node.run(f"docker service rm {name}", what=f"removing service {name}", timeout=60, check=False)
        deadline = time.monotonic() + timeout
        while (left := _containers_left(name)) and time.monotonic() < deadline:
            time.sleep(1)
        if left:
            raise UserError(f"lab services: the containers of {name} are still there on {', '.join(left)} "
                            f"after {timeout:.0f}s")
    return True


def ensure_service(node: Node, name: str, args: list[str]) -> bool:
    """The service exists with exactly these arguments. Returns whether it changed."""
    spec = spec_hash(args)
    current = current_spec(node, name)
    if current == spec:
        return False
    if current is not None:
        remove_service(node, name)
    command = ["docker", "service", "create", "--detach", "--quiet", "--label", f"{plan.SPEC_LABEL}={spec}", *args]
    with step(f"docker service create {name}"):
        node.run(" ".join(shlex.quote(part) for part in command), what=f"creating service {name}", timeout=180)
    return True


def tasks(node: Node, name: str) -> list[dict[str, str]]:
    """The service's tasks that Swarm wants running: node, state, error."""
    result = node.run(f"docker service ps {name} --filter desired-state=running --no-trunc "
                      "--format '{{.Node}}\t{{.CurrentState}}\t{{.Error}}'", check=False, timeout=30)
    if not result.ok:
        return []
    found = []
    for line in result.stdout.splitlines():
        parts = (line.split("\t") + ["", "", ""])[:3]
        found.append({"node": parts[0], "state": parts[1].split(" ")[0].lower(), "error": parts[2]})
    return found


def expected_tasks(name: str, only_on: str | None = None) -> int:
    if name == plan.TRAEFIK_SERVICE:
        return 1 if only_on else len(T.SWARM_NODES)
    if name in plan.APPS:
        return plan.APPS[name].replicas
    return 1


def wait_running(node: Node, names: list[str], timeout: float = 300, only_on: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    last: dict[str, list] = {}
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            found = tasks(node, name)
            last[name] = found
            running = [t for t in found if t["state"] == "running"]
            if len(running) >= expected_tasks(name, only_on):
                pending.remove(name)
        if pending:
            time.sleep(2)
    if pending:
        detail = "; ".join(f"{n}: " + (", ".join(f"{t['node'] or '?'} {t['state']} {t['error']}".strip()
                                                 for t in last.get(n, [])) or "no task") for n in pending)
        raise UserError(f"lab services: not running after {timeout:.0f}s: {detail}")


def our_services(node: Node) -> list[str]:
    result = node.run(f"docker service ls --filter {SERVICE_FILTER} --format '{{{{.Name}}}}'", check=False, timeout=30)
    return result.stdout.split() if result.ok else []


def service_summary(node: Node) -> dict[str, dict]:
    """name → {mode, replicas, image, tasks:[{node,state}]} of the services made here."""
    summary = {}
    result = node.run(f"docker service ls --filter {SERVICE_FILTER} --format '{{{{json .}}}}'", check=False, timeout=30)
    for line in result.stdout.splitlines() if result.ok else []:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        summary[item["Name"]] = {"mode": item.get("Mode"), "replicas": item.get("Replicas"),
                                 "image": item.get("Image"), "tasks": tasks(node, item["Name"])}
    return summary


# --- ACME certificates in acme.json ---------------------------------------------------------


def acme_store(node: Node) -> dict:
    raw = node.read(plan.ACME_STORAGE) or b""
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {}


def stored_certificates(store: dict) -> dict[str, str]:
    """domain → PEM chain of the certificates in Traefik's acme.json."""
    import base64

    found = {}
    for cert in (store.get(plan.ACME_RESOLVER) or {}).get("Certificates") or []:
        domain = (cert.get("domain") or {}).get("main")
        if domain and cert.get("certificate"):
            try:
                found[domain] = base64.b64decode(cert["certificate"]).decode()
            except ValueError:
                continue
    return found


def write_acme_store(node: Node, store: dict, keep: set[str]) -> None:
    """Rewrite acme.json with only the certificates of `keep` and no ACME account (Traefik
    registers a new one: pebble forgets its accounts when it restarts)."""
    resolver = store.get(plan.ACME_RESOLVER) or {}
    kept = [cert for cert in resolver.get("Certificates") or []
            if (cert.get("domain") or {}).get("main") in keep]
    data = {plan.ACME_RESOLVER: {"Account": None, "Certificates": kept}} if kept else {}
    node.put(plan.ACME_STORAGE, json.dumps(data, indent=2) + "\n" if data else "", 0o600)


# --- removal ------------------------------------------------------------------------------------


def remove_all(node: Node, timeout: float = 180) -> bool:
    changed = False
    names = our_services(node)
    if names:
        with step(f"docker service rm {' '.join(names)}"):
            node.run(f"docker service rm {' '.join(names)}", what="removing the services", timeout=120, check=False)
            deadline = time.monotonic() + timeout
            while (left := sorted(set(names) & set(_services_with_containers()))) and time.monotonic() < deadline:
                time.sleep(1)
            if left:
                raise UserError(f"lab services: containers of {', '.join(left)} still there after {timeout:.0f}s")
        changed = True
    result = node.run(f"docker secret ls --filter {SERVICE_FILTER} -q", check=False, timeout=30)
    if result.ok and result.stdout.split():
        node.run(f"docker secret rm {' '.join(result.stdout.split())}", check=False, timeout=60)
        changed = True
    return changed


def remove_data(node: Node) -> bool:
    paths = [db.data_dir for db in plan.DATABASES.values()]
    paths += [app.data_dir for app in plan.APPS.values() if app.data_dir]
    paths += [plan.TRAEFIK_DIR]
    existing = [p for p in paths if node.ok(f"test -e {shlex.quote(p)}")]
    if not existing:
        return False
    with step(f"Removing the services' data on {T.GLUSTER_MOUNT} ({', '.join(existing)})"):
        node.run("rm -rf " + " ".join(shlex.quote(p) for p in existing), what="removing service data", timeout=300)
        node.run(f"rmdir {T.GLUSTER_MOUNT}/WEB 2>/dev/null || true", check=False, timeout=30)
    return True


