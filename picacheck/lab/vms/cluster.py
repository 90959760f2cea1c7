"""What runs inside the lab's nodes, set up over SSH with the report's own commands:
GlusterFS (peers, replica-2 volume, auth.allow, /DATA), the private registry on admin (TLS
from the lab CA, htpasswd), Docker Swarm (init on pica01, join, promote pica02, pica-net),
and the project images (built on admin, pushed, pulled by both nodes).

Every `ensure_*` looks first and acts only when the state differs; it returns whether it
changed anything, so that `up` twice changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import time
from pathlib import Path

from picacheck.lab import debian, keys
from picacheck.lab import topology as T
from picacheck.lab.images import RECIPE_LABEL
from picacheck.lab.ssh import Node, RemoteError
from picacheck.lab.vms import nodes
from picacheck.progress import say, step

TX_DIR = Path(__file__).parent / "tx-chatons"
GLUSTER = "gluster --mode=script"


def _wait(what: str, condition, timeout: float = 60, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RemoteError(f"lab: {what}: not reached within {timeout:.0f}s")
        time.sleep(interval)


# --- every node ------------------------------------------------------------------------


def ensure_node_config(node: Node) -> bool:
    """The files written before boot are still right, and the node's services run."""
    # The node's init (picalab-init) marks the end of its boot; before that, its services
    # are still starting and must not be started twice.
    _wait(f"{node.name} finishes booting", lambda: node.ok("test -e /run/picalab-booted"), timeout=120)
    changed = False
    restart = set()
    for path, (data, mode) in nodes.preboot_files(node.name).items():
        if data is None or path == "etc/fstab" or path.endswith("/.ssh/authorized_keys"):
            continue  # fstab grows later (the /DATA line); the keys are the boot's (owner and all)
        if node.put("/" + path, data, mode):
            say(f"{node.name}: updated /{path}")
            changed = True
            if path.startswith("etc/docker/"):
                restart.add("docker")
            elif path.startswith("etc/ssh/"):
                restart.add("ssh")  # sessions survive: sshd only re-reads its host key
    for service in sorted(restart):
        node.run(f"service {service} restart", timeout=120, what=f"restarting {service}")
    for service in nodes.SERVICES[node.name].split():
        if not node.ok(f"service {service} status >/dev/null 2>&1"):
            with step(f"{node.name}: starting {service}"):
                node.run(f"service {service} start", timeout=120, what=f"starting {service}")
            changed = True
    _wait(f"{node.name}: dockerd answers", lambda: node.ok("docker version >/dev/null 2>&1"), timeout=60)
    return changed


# --- GlusterFS -------------------------------------------------------------------------


def _peers(node: Node) -> dict[str, str]:
    """peer hostname → state, as `gluster peer status` prints them."""
    text = node.out(f"{GLUSTER} peer status", what="gluster peer status")
    peers, current = {}, None
    for line in text.splitlines():
        if line.startswith("Hostname:"):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("State:") and current:
            peers[current] = line.split(":", 1)[1].strip()
    return peers


def _volume_info(node: Node) -> dict[str, str] | None:
    result = node.run(f"{GLUSTER} volume info {T.GLUSTER_VOLUME}", check=False)
    if not result.ok:
        return None
    info = {}
    for line in result.stdout.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            info[key.strip()] = value.strip()
    return info


def ensure_gluster(conns: dict[str, Node]) -> bool:
    changed = False
    first, second = (conns[name] for name in T.GLUSTER_NODES)
    for node in (first, second):
        if not node.ok(f"mountpoint -q {T.GLUSTER_BRICK}"):
            with step(f"{node.name}: mounting the brick filesystem on {T.GLUSTER_BRICK}"):
                node.run(f"mkdir -p {T.GLUSTER_BRICK} && mount {T.GLUSTER_BRICK}", what="mounting the brick")
            changed = True
        _wait(f"{node.name}: glusterd answers", lambda n=node: n.ok(f"{GLUSTER} pool list >/dev/null 2>&1"), 60)

    # Peers, by name both ways (the report probes pica02 from pica01; probing back names pica01).
    for node, other in ((first, second), (second, first)):
        if _peers(node).get(other.name) != "Peer in Cluster (Connected)":
            with step(f"gluster peer probe {other.name} (on {node.name})"):
                node.run(f"{GLUSTER} peer probe {other.name}", what="gluster peer probe")
                _wait(f"{other.name} is a connected peer of {node.name}",
                      lambda n=node, o=other: _peers(n).get(o.name) == "Peer in Cluster (Connected)", 60)
            changed = True

    info = _volume_info(first)
    if info is None:
        bricks = " ".join(f"{name}:{T.GLUSTER_BRICK}" for name in T.GLUSTER_NODES)
        with step(f"gluster volume create {T.GLUSTER_VOLUME} replica 2"):
            first.run(f"{GLUSTER} volume create {T.GLUSTER_VOLUME} replica 2 transport tcp {bricks} force",
                      what="gluster volume create", timeout=120)
        info = _volume_info(first)
        changed = True
    if info.get("Status") != "Started":
        with step(f"gluster volume start {T.GLUSTER_VOLUME}"):
            first.run(f"{GLUSTER} volume start {T.GLUSTER_VOLUME}", what="gluster volume start", timeout=120)
        changed = True

    allow = ",".join(T.GLUSTER_NODES)
    current = first.out(f"{GLUSTER} volume get {T.GLUSTER_VOLUME} auth.allow", what="gluster volume get")
    if not re.search(rf"^auth\.allow\s+{re.escape(allow)}\s*$", current, re.MULTILINE):
        with step(f"gluster volume set {T.GLUSTER_VOLUME} auth.allow {allow}"):
            first.run(f"{GLUSTER} volume set {T.GLUSTER_VOLUME} auth.allow {allow}", what="setting auth.allow")
        changed = True

    for node in (first, second):
        changed |= _ensure_data_mount(node)
    return changed


def rc_local() -> str:
    # The report's fallback for the boot-time mount that did not work.
    return "#!/bin/sh\n# as in the report\nsystemctl start glusterfs-server\nmount -a\nexit 0\n"


def _ensure_data_mount(node: Node) -> bool:
    changed = False
    line = f"{node.name}:/{T.GLUSTER_VOLUME} {T.GLUSTER_MOUNT} glusterfs defaults,_netdev 0 0"
    fstab = (node.read("/etc/fstab") or b"").decode()
    if line not in fstab.splitlines():
        fstab = fstab if fstab.endswith("\n") or not fstab else fstab + "\n"
        node.put("/etc/fstab", fstab + line + "\n")
        say(f"{node.name}: /etc/fstab += {line}")
        changed = True
    changed |= node.put("/etc/rc.local", rc_local(), 0o755)
    if not node.ok(f"mountpoint -q {T.GLUSTER_MOUNT}"):
        with step(f"{node.name}: mounting {T.GLUSTER_VOLUME} on {T.GLUSTER_MOUNT}"):
            node.run(f"mkdir -p {T.GLUSTER_MOUNT} && mount {T.GLUSTER_MOUNT}", what="mounting /DATA", timeout=120)
            _wait(f"{node.name}: {T.GLUSTER_MOUNT} is a glusterfs mount",
                  lambda: node.ok(f"stat -f -c %T {T.GLUSTER_MOUNT} | grep -q fuse"), 30)
        changed = True
    return changed


# --- registry (admin) ------------------------------------------------------------------


def registry_config() -> str:
    d = T.REGISTRY_DIR
    return f"""# The lab's private registry (Debian's docker-registry), as the report's registry:2:
# TLS with the registry's certificate, htpasswd authentication, data under {d}.
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: {d}/data
  delete:
    enabled: true
http:
  addr: :{T.REGISTRY_PORT}
  tls:
    certificate: {d}/certs/domain.crt
    key: {d}/certs/domain.key
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: Registry Realm
    path: {d}/auth/htpasswd
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""


def _registry_curl(node: Node, path: str, auth: bool) -> str:
    """The HTTP status of a registry request made on `node` (credentials on stdin, never
    on a command line)."""
    config = ""
    if auth:
        user, password = keys.registry_credentials()
        config = 'user = "' + f"{user}:{password}".replace("\\", "\\\\").replace('"', '\\"') + '"\n'
    command = (f"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 -K - "
               f"--cacert /etc/docker/certs.d/{T.REGISTRY}/ca.crt https://{T.REGISTRY}{path}")
    return node.run(command, check=False, timeout=15, stdin=config.encode()).stdout.strip()


def ensure_registry(admin: Node) -> bool:
    changed = False
    d = T.REGISTRY_DIR
    user, password = keys.registry_credentials()
    admin.run(f"mkdir -p {d}/data {d}/certs {d}/auth && chown -R docker-registry:docker-registry {d}/data",
              what="preparing the registry directories")
    files = {
        f"{d}/certs/domain.crt": (keys.REGISTRY_CERT.read_bytes(), 0o644),
        f"{d}/certs/domain.key": (keys.REGISTRY_KEY.read_bytes(), 0o640),
        "/etc/docker/registry/config.yml": (registry_config().encode(), 0o644),
    }
    for path, (data, mode) in files.items():
        changed |= admin.put(path, data, mode)
    admin.run(f"chgrp docker-registry {d}/certs/domain.key", what="registry key ownership")
    htpasswd = f"{d}/auth/htpasswd"
    # The password goes on stdin (-i), never on a command line.
    if not admin.run(f"htpasswd -vi {htpasswd} {shlex.quote(user)} >/dev/null 2>&1", check=False,
                     stdin=password.encode()).ok:
        with step(f"admin: htpasswd -B for user {user}"):
            admin.run(f"htpasswd -Bic {htpasswd} {shlex.quote(user)}", stdin=password.encode(),
                      what="writing the htpasswd file")
            admin.run(f"chgrp docker-registry {htpasswd} && chmod 640 {htpasswd}", what="htpasswd ownership")
        changed = True
    running = admin.ok("service docker-registry status >/dev/null 2>&1")
    if changed or not running:
        with step("admin: (re)starting docker-registry"):
            if running:
                admin.run("service docker-registry stop", what="stopping docker-registry", check=False)
                time.sleep(0.5)
            admin.run("service docker-registry start", what="starting docker-registry")
        changed = True
    _wait("the registry answers 401 to anonymous requests", lambda: _registry_curl(admin, "/v2/", False) == "401", 30)
    if _registry_curl(admin, "/v2/", True) != "200":
        raise RemoteError("lab: the registry refuses the lab's htpasswd user",
                          hint=f"see /var/log/docker-registry.log on admin and {T.REGISTRY_PASSWORD_FILE}")
    return changed


def ensure_login(node: Node) -> bool:
    user, password = keys.registry_credentials()
    wanted = base64.b64encode(f"{user}:{password}".encode()).decode()
    current = node.read("/root/.docker/config.json")
    try:
        auths = json.loads(current or b"{}").get("auths", {})
    except ValueError:
        auths = {}
    if auths.get(T.REGISTRY, {}).get("auth") == wanted:
        return False
    with step(f"{node.name}: docker login {T.REGISTRY}"):
        node.run(f"docker login -u {shlex.quote(user)} --password-stdin {T.REGISTRY}", stdin=password.encode(),
                 what="docker login", timeout=60)
    return True


# --- Docker Swarm ----------------------------------------------------------------------


def _swarm(node: Node) -> dict[str, str]:
    text = node.out("docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}} {{.Swarm.ControlAvailable}}'",
                    what="docker info")
    state, node_id, control = (text.split() + ["", "", ""])[:3]
    return {"state": state, "id": node_id, "manager": control}


def _settled(node: Node) -> dict[str, str]:
    """The node's swarm state once it is no longer `pending` (a restarted manager waits
    for its peer before the raft quorum is back)."""
    last = {}

    def settled():
        nonlocal last
        last = _swarm(node)
        return last["state"] != "pending"

    try:
        _wait(f"{node.name}: swarm state settles", settled, timeout=120, interval=1)
    except RemoteError:
        raise RemoteError(f"lab: {node.name}'s swarm stays `pending` (no raft quorum)",
                          hint="run `picacheck lab reset` for a fresh lab") from None
    return last


def _nodes(leader: Node) -> dict[str, dict[str, str]]:
    text = leader.out("docker node ls --format '{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}'",
                      what="docker node ls")
    result = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            result[parts[1]] = {"id": parts[0], "status": parts[2], "manager": parts[3] if len(parts) > 3 else ""}
    return result


def ensure_swarm(conns: dict[str, Node]) -> bool:
    changed = False
    leader = conns[T.SWARM_LEADER]
    others = [conns[name] for name in T.SWARM_NODES if name != T.SWARM_LEADER]
    for node in (leader, *others):
        _settled(node)
    if _swarm(leader)["state"] != "active":
        with step(f"{leader.name}: docker swarm init"):
            leader.run(f"docker swarm init --advertise-addr {leader.address}", what="docker swarm init", timeout=120)
        changed = True
    for node in others:
        mine = _swarm(node)
        members = _nodes(leader)
        if mine["state"] == "active" and mine["id"] and members.get(node.name, {}).get("id") != mine["id"]:
            with step(f"{node.name}: leaving a swarm that is not {leader.name}'s"):
                node.run("docker swarm leave --force", what="docker swarm leave", timeout=60)
            mine = _swarm(node)
        if mine["state"] != "active":
            # Stale entries of an earlier incarnation of this node.
            for name, info in _nodes(leader).items():
                if name == node.name and info["status"] == "Down":
                    leader.run(f"docker node demote {info['id']}", check=False, timeout=60)
                    leader.run(f"docker node rm --force {info['id']}", check=False, timeout=60)
            token = leader.out("docker swarm join-token -q worker", what="docker swarm join-token").strip()
            with step(f"{node.name}: docker swarm join {leader.address}:2377"):
                node.run(f"docker swarm join --token {token} --advertise-addr {node.address} {leader.address}:2377",
                         what="docker swarm join", timeout=120)
            changed = True
        if not _nodes(leader).get(node.name, {}).get("manager"):
            with step(f"docker node promote {node.name}"):
                leader.run(f"docker node promote {node.name}", what="docker node promote", timeout=60)
            changed = True
    _wait("both swarm nodes Ready, both managers", lambda: all(
        info["status"] == "Ready" and info["manager"] in ("Leader", "Reachable")
        for info in _nodes(leader).values()) and len(_nodes(leader)) == len(T.SWARM_NODES), 60)
    if not leader.ok(f"docker network inspect {T.SWARM_OVERLAY} >/dev/null 2>&1"):
        with step(f"docker network create --driver overlay --attachable {T.SWARM_OVERLAY}"):
            leader.run(f"docker network create --driver overlay --attachable {T.SWARM_OVERLAY}",
                       what="creating the overlay network", timeout=60)
        changed = True
    return changed


# --- project images --------------------------------------------------------------------


def images_recipe() -> str:
    digest = hashlib.sha256(debian.recipe().encode())
    for path in sorted(TX_DIR.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(TX_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _image_recipe(node: Node, ref: str) -> str:
    result = node.run(f"docker image inspect --format '{{{{index .Config.Labels \"{RECIPE_LABEL}\"}}}}' {ref}",
                      check=False, timeout=30)
    return result.stdout.strip() if result.ok else ""


def ensure_lab_images(admin: Node, pullers: list[Node]) -> bool:
    changed = False
    recipe = images_recipe()
    refs = [f"{T.REGISTRY}/{name}:latest" for name in T.LAB_IMAGES]
    in_registry = all(_registry_curl(admin, f"/v2/{name}/manifests/latest", True) == "200" for name in T.LAB_IMAGES)
    if not in_registry or any(_image_recipe(admin, ref) != recipe for ref in refs):
        changed = True
        if not admin.ok(f"docker image inspect {T.BASE_IMAGE} >/dev/null 2>&1"):
            with step(f"admin: docker import of the lab base as {T.BASE_IMAGE}"):
                tree = f"{nodes.CACHE_MOUNT}/{debian.tarball().relative_to(T.CACHE_DIR)}"
                admin.run(f"docker import --change 'CMD [\"/bin/bash\"]' --change 'ENV LANG=C.UTF-8' "
                          f"{tree} {T.BASE_IMAGE}", what="docker import", timeout=300)
        for name in T.LAB_IMAGES:
            directory = f"{T.DOCKERFILES_DIR}/{name}"
            for path in sorted((TX_DIR / name).rglob("*")):
                if path.is_file():
                    admin.put(f"{directory}/{path.relative_to(TX_DIR / name)}", path.read_bytes())
            ref = f"{T.REGISTRY}/{name}:latest"
            with step(f"admin: docker build -t {ref} and push"):
                admin.run(f"docker build -q --build-arg REGISTRY={T.REGISTRY} --label {RECIPE_LABEL}={recipe} "
                          f"-t {ref} {directory}", what=f"building {name} on admin", timeout=600)
                admin.run(f"docker push -q {ref}", what=f"pushing {name}", timeout=600)
    for node in pullers:
        for ref in refs:
            if _image_recipe(node, ref) != recipe:
                with step(f"{node.name}: docker pull {ref}"):
                    node.run(f"docker pull -q {ref}", what=f"pulling {ref}", timeout=600)
                changed = True
    return changed
