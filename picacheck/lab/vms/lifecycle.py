"""The container VMs (pica01, pica02, admin): up, status, down, reset.

    prepare() the lab's engine and the node image (nothing else needed: runs while the
              other parts prepare)
    up()      build what is missing, start what is stopped; idempotent (a second `up`
              changes nothing and reports so). Returns the list of steps that changed.
    status()  per host: container, SSH, daemons; then Gluster, Swarm, registry. Prints a
              table and returns it as a dict ({"ok": bool, "hosts": {...}, ...}).
    down()    removes every container, volume, network, loop device, file and process the
              lab made (and stops the lab's dockerd if the lab started it).
    reset()   a fresh lab without the cold build: removes the containers, volumes, disks
              and generated state but keeps the engine and its images, then runs up().

Everything reports progress on stderr (picacheck.progress); any failure is a UserError
that names the step.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


from picacheck.errors import UserError
from picacheck.lab import engine, hypervisors, images, keys, locks
from picacheck.lab import topology as T
from picacheck.lab.ssh import Node, RemoteError, wait_ssh
from picacheck.lab.steps import Steps
from picacheck.lab.vms import cluster, nodes
from picacheck.progress import say, step

NODE_IMAGE = images.Recipe(T.NODE_IMAGE.split(":")[0], Path(__file__).parent / "node",
                           extra=lambda: {"sudoers-picacheck": T.CI_SUDOERS.encode()}, identity=T.CI_SUDOERS,
                           build_args=(("CI_USER", T.CI_USER), ("CI_UID", str(T.CI_UID))))


def _locked():
    return locks.locked("vms", "`picacheck lab` command on the container VMs")


# --- up --------------------------------------------------------------------------------


def prepare() -> list[str]:
    """The lab's engine, running, and the node image (built, or loaded from the image cache)."""
    engine.require_root()
    changes = Steps("container VMs")
    with _locked(), changes.one_line_errors():
        _prepare(changes)
    return changes.changed


def start_engine(changes: Steps | None = None) -> bool:
    """The host tools and the lab's engine, running (every part builds its images in it).
    Returns whether the lab owns the engine (started it)."""
    changes = changes or Steps("container VMs")
    changes.run("host packages", engine.ensure_host_tools)
    for directory in (T.LAB_DIR, T.LOG_DIR, images.CACHE):
        directory.mkdir(parents=True, exist_ok=True)
    os.chmod(T.LAB_DIR, 0o755)
    was_up = engine.dockerd_pid() is not None or engine.explicit_engine_url() is not None
    client, owned = changes.run("engine", lambda: (*engine.connect(start=True), not was_up))[:2]
    client.close()
    return owned


def _prepare(changes: Steps):
    owned = start_engine(changes)
    changes.run("node image", images.ensure_built, NODE_IMAGE)
    return owned


def up(recreate: bool = False) -> list[str]:
    """Bring the lab up. Returns the names of the steps that changed something.

    `recreate`: also make running nodes again when the node image has changed (their
    volumes are kept); by default a running node is left as it is, with a warning."""
    engine.require_root()
    started = time.monotonic()
    changes = Steps("container VMs")
    with _locked(), changes.one_line_errors():
        owned = _prepare(changes)
        client, _ = engine.connect(start=False)
        try:
            changes.run("keys and secrets", keys.ensure_all)
            changes.run("known_hosts", _write_if_changed, T.SSH_KNOWN_HOSTS,
                        "\n".join(keys.known_hosts_lines()) + "\n", 0o644)
            changes.run("networks", nodes.ensure_networks, client)
            # admin's network is alice's vmbr1: its port joins the bridge (Docker may have made it
            # again), and the hypervisors' host guard goes back above the rules Docker just added
            hypervisors.attach_private_network()
            loops = {}
            for host in T.GLUSTER_NODES:
                loops[host] = changes.run(f"{host} disk", nodes.ensure_disk, host)[0]
            for host in T.CONTAINER_HOSTS:
                changes.run(f"{host} container", nodes.ensure_container, client, host, loops.get(host), recreate)
        finally:
            client.close()
        conns: dict[str, Node] = {}
        try:
            changes.current = "sshd on the nodes"
            with step("Waiting for sshd on " + ", ".join(T.CONTAINER_HOSTS)):
                for host in T.CONTAINER_HOSTS:
                    conns[host] = wait_ssh(host)
            for host in T.CONTAINER_HOSTS:
                changes.run(f"{host} services", cluster.ensure_node_config, conns[host])
            with step("GlusterFS: peers, volume gluster-data, /DATA"):
                changes.run("glusterfs", cluster.ensure_gluster, conns)
            with step(f"Registry on admin ({T.REGISTRY}, TLS, htpasswd)"):
                changes.run("registry", cluster.ensure_registry, conns[T.REGISTRY_HOST])
                for host in T.CONTAINER_HOSTS:
                    changes.run(f"{host} registry login", cluster.ensure_login, conns[host])
            with step("Docker Swarm: pica01 + pica02 managers, pica-net"):
                changes.run("swarm", cluster.ensure_swarm, conns)
            with step("Project images: build on admin, push, pull on both nodes"):
                changes.run("images", cluster.ensure_lab_images, conns[T.REGISTRY_HOST],
                            [conns[h] for h in T.SWARM_NODES])
        finally:
            for conn in conns.values():
                conn.close()
        changes.run("state", _write_state, owned)
    took = time.monotonic() - started
    if changes.changed:
        say(f"container VMs up in {took:.0f}s; changed: {', '.join(changes.changed)}")
    else:
        say(f"container VMs up in {took:.0f}s; nothing to change")
    return changes.changed


def _write_if_changed(path: Path, text: str, mode: int) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    return True


def state() -> dict:
    """What `up` wrote about the lab (for the inventory writer); {} when the lab is down."""
    try:
        return json.loads(T.STATE_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _write_state(owned: bool) -> bool:
    data = {
        "engine": engine.explicit_engine_url() or engine.own_engine_url(),
        "engine_started_by_lab": owned,
        "network": {"name": T.NETWORK_NAME, "bridge": T.BRIDGE_NAME, "subnet": T.SUBNET, "gateway": T.GATEWAY},
        "hosts": {name: {"address": T.HOSTS[name].address, "container": T.container_name(name)}
                  for name in T.CONTAINER_HOSTS},
        "ssh": {"user": "root", "key_file": str(T.SSH_KEY), "known_hosts": str(T.SSH_KNOWN_HOSTS)},
        "ca_file": str(keys.CA_CERT),
        "registry": {"name": T.REGISTRY, "host": T.REGISTRY_HOST, "address": T.REGISTRY_ADDRESS,
                     "port": T.REGISTRY_PORT, "user_file": str(T.REGISTRY_USER_FILE),
                     "password_file": str(T.REGISTRY_PASSWORD_FILE), "images": list(T.LAB_IMAGES)},
        "gluster": {"volume": T.GLUSTER_VOLUME, "nodes": list(T.GLUSTER_NODES), "brick": T.GLUSTER_BRICK,
                    "mount": T.GLUSTER_MOUNT, "auth_allow": list(T.GLUSTER_NODES),
                    "brick_device": T.BRICK_DEVICE},
        "swarm": {"nodes": list(T.SWARM_NODES), "managers": list(T.SWARM_NODES), "overlay": T.SWARM_OVERLAY},
    }
    return _write_if_changed(T.STATE_FILE, json.dumps(data, indent=2) + "\n", 0o644)


# --- status ----------------------------------------------------------------------------

DAEMONS = {
    "pica01": ("ssh", "docker", "glusterd", "cron"),
    "pica02": ("ssh", "docker", "glusterd", "cron"),
    "admin": ("ssh", "docker", "docker-registry", "cron"),
}


def status(out=None) -> dict:
    """Print (to `out`, default stdout) and return the lab's state, host by host."""
    out = sys.stdout if out is None else out
    report: dict = {"engine": None, "hosts": {}, "gluster": None, "swarm": None, "registry": None, "ok": False}
    client, owned = engine.connect(start=False)
    if client is None:
        print("engine: not running (the lab is down)", file=out)
        return report
    report["engine"] = {"url": engine.explicit_engine_url() or engine.own_engine_url(), "started_by_lab": owned,
                        "pid": engine.dockerd_pid()}
    print(f"engine: {report['engine']['url']} (pid {report['engine']['pid']})", file=out)
    conns: dict[str, Node] = {}
    all_ok = True
    try:
        for host in T.CONTAINER_HOSTS:
            container = nodes.get(client, host)
            entry = {"address": T.HOSTS[host].address, "container": container.status if container else "absent",
                     "ssh": False, "daemons": {}}
            if container is not None and container.status == "running":
                try:
                    conn = Node(host, connect_timeout=5)
                    conn.run("true", timeout=10)
                    conns[host] = conn
                    entry["ssh"] = True
                    for daemon in DAEMONS[host]:
                        entry["daemons"][daemon] = conn.ok(f"service {daemon} status >/dev/null 2>&1", timeout=20)
                except RemoteError as error:
                    entry["error"] = str(error)
            all_ok &= entry["ssh"] and all(entry["daemons"].values()) and bool(entry["daemons"])
            report["hosts"][host] = entry
            daemons = " ".join(f"{d}={'up' if ok else 'DOWN'}" for d, ok in entry["daemons"].items())
            print(f"{host:7} {entry['address']:14} container={entry['container']:8} "
                  f"login={'ok' if entry['ssh'] else 'FAILED'} {daemons}", file=out)
        report["gluster"] = _status_gluster(conns)
        report["swarm"] = _status_swarm(conns)
        report["registry"] = _status_registry(conns)
    finally:
        for conn in conns.values():
            conn.close()
        client.close()
    for name in ("gluster", "swarm", "registry"):
        part = report[name]
        all_ok &= bool(part and part.get("ok"))
        print(f"{name}: {part.get('summary') if part else 'unknown'}", file=out)
    report["ok"] = all_ok
    print(f"lab: {'up' if all_ok else 'DEGRADED'}", file=out)
    return report


def _status_gluster(conns: dict[str, Node]) -> dict:
    node = next((conns[h] for h in T.GLUSTER_NODES if h in conns), None)
    if node is None:
        return {"ok": False, "summary": "no gluster node reachable"}
    try:
        info = cluster._volume_info(node) or {}
        peers = cluster._peers(node)
        mounted = {h: conns[h].ok(f"stat -f -c %T {T.GLUSTER_MOUNT} | grep -q fuse", timeout=15)
                   for h in T.GLUSTER_NODES if h in conns}
    except RemoteError as error:
        return {"ok": False, "summary": str(error)}
    ok = (info.get("Status") == "Started" and info.get("Type") == "Replicate"
          and all(state == "Peer in Cluster (Connected)" for state in peers.values()) and peers
          and len(mounted) == len(T.GLUSTER_NODES) and all(mounted.values()))
    summary = (f"{T.GLUSTER_VOLUME} {info.get('Type', '?')} {info.get('Status', 'absent')}, "
               f"bricks {info.get('Number of Bricks', '?')}, peers {peers or 'none'}, "
               f"{T.GLUSTER_MOUNT} mounted on {', '.join(h for h, m in mounted.items() if m) or 'none'}")
    return {"ok": bool(ok), "summary": summary, "volume": info, "peers": peers, "mounted": mounted}


def _status_swarm(conns: dict[str, Node]) -> dict:
    for host in T.SWARM_NODES:
        if host not in conns:
            continue
        try:
            members = cluster._nodes(conns[host])
        except RemoteError:
            continue
        leaders = [n for n, i in members.items() if i["manager"] == "Leader"]
        ok = (len(members) == len(T.SWARM_NODES) and len(leaders) == 1
              and all(i["status"] == "Ready" and i["manager"] for i in members.values()))
        summary = ", ".join(f"{n} {i['status']} {i['manager'] or 'worker'}" for n, i in sorted(members.items()))
        return {"ok": ok, "summary": summary, "nodes": members}
    return {"ok": False, "summary": "no swarm manager reachable"}


def _status_registry(conns: dict[str, Node]) -> dict:
    admin = conns.get(T.REGISTRY_HOST)
    if admin is None:
        return {"ok": False, "summary": "admin not reachable"}
    try:
        anonymous = cluster._registry_curl(admin, "/v2/", False)
        user = cluster._registry_curl(admin, "/v2/", True)
        images_ok = {name: cluster._registry_curl(admin, f"/v2/{name}/manifests/latest", True) == "200"
                     for name in T.LAB_IMAGES}
    except (RemoteError, OSError) as error:
        return {"ok": False, "summary": str(error)}
    ok = anonymous == "401" and user == "200" and all(images_ok.values())
    summary = (f"{T.REGISTRY}: anonymous {anonymous or 'no answer'}, user {user or 'no answer'}, "
               f"images {', '.join(n for n, present in images_ok.items() if present) or 'none'}")
    return {"ok": ok, "summary": summary, "images": images_ok}


def is_up() -> bool:
    """The lab's engine answers and every container VM runs (see status() for the rest)."""
    client, _ = engine.connect(start=False)
    if client is None:
        return False
    try:
        return all((c := nodes.get(client, host)) is not None and c.status == "running" for host in T.CONTAINER_HOSTS)
    finally:
        client.close()


# --- down / reset ----------------------------------------------------------------------


def _remove_lab_objects(client) -> bool:
    changed = nodes.remove_containers(client)
    changed |= nodes.remove_volumes(client)
    changed |= nodes.remove_networks(client)
    return changed


# What this part of the lab keeps under LAB_DIR and RUN_DIR. Other parts (the
# hypervisors) keep their own entries there; down() leaves those alone.
OWN_LAB_ENTRIES = {"docker", "disks", "logs", "ca", "secrets", "hostkeys", "state.json"}
SHARED_LAB_ENTRIES = {"ssh", "inventory.yml"}  # the lab key is the hypervisors' too
CLAIMED_LAB_ENTRIES = OWN_LAB_ENTRIES | SHARED_LAB_ENTRIES | {"cache"}  # anything else is another part's
OWN_RUN_ENTRIES = {"daemon.json", "docker.pid", "docker.sock", "dockerd.log", "engine.json", "exec"}


def _others(directory: Path, own: set[str]) -> list[str]:
    """Entries of another part of the lab (a lock file is nobody's: it goes with its holder)."""
    try:
        return sorted(e.name for e in directory.iterdir() if e.name not in own and not e.name.endswith(".lock"))
    except FileNotFoundError:
        return []


def down() -> bool:
    """Remove everything this part of the lab made. Returns whether there was anything.

    Another part of the lab that still runs (the hypervisors, under RUN_DIR/hypervisors)
    keeps what it shares with this one: the lab's SSH key, IP forwarding; restore_host()
    puts those back once it is down too (the whole lab's `down` does).
    """
    engine.require_root()
    changed = False
    existed = _existed()  # a second `down` finds nothing to remove
    with _locked():
        client, owned = engine.connect(start=False)
        if client is not None:
            try:
                _warn_foreign_ports()
                changed |= _remove_lab_objects(client)
                if not owned:
                    changed |= images.remove_all(client)
            finally:
                client.close()
        changed |= engine.stop_dockerd(restore=False)
        changed |= nodes.release_disks()
        changed |= _remove_leftovers()
        changed |= _remove_files(T.LAB_DIR / name for name in OWN_LAB_ENTRIES)
        changed |= _remove_files(T.RUN_DIR / name for name in OWN_RUN_ENTRIES - {"engine.json"})
        changed |= restore_host(existed)
    say("container VMs down: " + ("everything this part made is gone" if changed else "nothing was left"))
    return changed


def restore_host(existed: dict[Path, bool] | None = None, sweep: bool = False) -> bool:
    """Once no part of the lab runs: IP forwarding and the FORWARD policy as they were, the
    shared files (the lab key, the inventory) gone, and LAB_DIR and RUN_DIR when empty (but
    for the cache, which `down` keeps).

    `sweep` (the whole lab's `down`, once every part is down): whatever is still in those
    folders is nobody's (an older version's files, a part that forgot one) and goes too,
    named, rather than passing for a running part and keeping the host's changes forever."""
    existed = existed or _existed()
    swept = _sweep_unclaimed() if sweep else False
    running_others = _others(T.RUN_DIR, OWN_RUN_ENTRIES)
    if running_others:
        say(f"other parts of the lab still run ({', '.join(running_others)} in {T.RUN_DIR}): "
            "IP forwarding, the FORWARD policy and the lab key stay until they are down too")
        return _remove_files([T.SSH_KNOWN_HOSTS, T.INVENTORY_FILE]) or swept
    changed = swept | engine.restore_host_network()
    if _others(T.LAB_DIR, CLAIMED_LAB_ENTRIES):  # another part's files: its key too
        changed |= _remove_files([T.SSH_KNOWN_HOSTS, T.INVENTORY_FILE])
    else:
        changed |= _remove_files(T.LAB_DIR / name for name in SHARED_LAB_ENTRIES)
    for path in (T.RUN_DIR, T.LAB_DIR):
        left = _others(path, {"cache"})
        if left:
            say(f"left in {path} by other parts of the lab: {', '.join(left)}")
        elif path.exists() and not (path / "cache").exists():
            shutil.rmtree(path, ignore_errors=True)
            changed |= existed[path]
    return changed


def _sweep_unclaimed() -> bool:
    """What no part of the lab claims once all are down: RUN_DIR's entries but for this part's
    own (engine.json: the host's settings to put back) and LAB_DIR's but for the cache and
    this part's shared files."""
    unclaimed = [T.RUN_DIR / name for name in _others(T.RUN_DIR, OWN_RUN_ENTRIES)]
    unclaimed += [T.LAB_DIR / name for name in _others(T.LAB_DIR, CLAIMED_LAB_ENTRIES)]
    if unclaimed:
        say(f"every part of the lab is down; removing what none of them claims: {', '.join(map(str, unclaimed))}")
    return _remove_files(unclaimed)


def _warn_foreign_ports() -> None:
    ports = nodes.bridge_ports(T.BRIDGE_NAME)
    foreign = [p for p in ports if not p.startswith("veth")]
    if foreign:
        say(f"warning: {', '.join(foreign)} still on {T.BRIDGE_NAME} (the hypervisors?): "
            "they lose the bridge with the Docker network")


def _remove_leftovers() -> bool:
    """Mounts under the lab's engine directories, and a bridge a crashed engine left."""
    changed = False
    for _ in range(3):
        mounts = _mounts_under(T.DOCKER_DATA_ROOT, T.DOCKER_EXEC_ROOT)
        if not mounts:
            break
        for mountpoint in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", mountpoint], capture_output=True, timeout=30)
            say(f"unmounted leftover {mountpoint}")
            changed = True
    if engine.dockerd_pid() is None and engine.explicit_engine_url() is None \
            and T.BRIDGE_NAME in nodes.links() and not nodes.bridge_ports(T.BRIDGE_NAME) \
            and not _others(T.RUN_DIR, OWN_RUN_ENTRIES):
        # Docker removes its bridge with the network; one left by a crashed engine goes here.
        subprocess.run(["ip", "link", "del", T.BRIDGE_NAME], capture_output=True, timeout=30)
        say(f"removed leftover bridge {T.BRIDGE_NAME}")
        changed = True
    return changed


def _mounts_under(*roots: Path) -> list[str]:
    """Mount points at or below the roots. dockerd bind-mounts its data root onto itself
    when the host's / is private (it does here) and may leave that mount behind."""
    mountpoints = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return [m for m in mountpoints
            if any(m == str(root) or m.startswith(str(root) + "/") for root in roots)]


def _existed() -> dict[Path, bool]:
    """Whether LAB_DIR and RUN_DIR hold anything but lock files (the locks make RUN_DIR)."""
    return {path: bool(_others(path, set())) for path in (T.RUN_DIR, T.LAB_DIR)}


def _remove_files(paths) -> bool:
    existing = [path for path in paths if path.exists() or path.is_symlink()]
    if existing:
        with step(f"Removing the lab's files ({', '.join(p.name for p in existing)})"):
            for path in existing:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
    return bool(existing)


def reset() -> list[str]:
    """A fresh lab without the cold build: removes the containers, their volumes and disks,
    the CA, the registry secret and the lab's state, keeps the engine, its images, the
    network and the lab key, then runs up()."""
    engine.require_root()
    with _locked():
        client, _ = engine.connect(start=False)
        if client is not None:
            try:
                nodes.remove_containers(client)
                nodes.remove_volumes(client)
            finally:
                client.close()
        nodes.release_disks()
        with step("Removing the lab's state (disks, CA, secrets, known_hosts, state)"):
            for path in (T.DISKS_DIR, T.SECRETS_DIR, T.CA_DIR, T.SSH_KNOWN_HOSTS, T.STATE_FILE, T.INVENTORY_FILE):
                if path.is_dir():
                    shutil.rmtree(path)
                elif path.exists():
                    path.unlink()
    return up()
