"""The container part of the embedded lab (pica01, pica02, admin): `up` twice changes
nothing, the lab answers over SSH as the report's hosts would, and `down` leaves nothing.

The tests marked `lab` build and tear down the real lab on this machine (root, a few
minutes cold): they run only with PICACHECK_LAB_TESTS=1. They leave the lab DOWN. Point
PICACHECK_LAB_DIR / PICACHECK_LAB_RUN_DIR elsewhere to keep them off a lab in use (the
network names and addresses are fixed, so two labs cannot run in one network namespace).
The other tests need nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from picacheck.errors import UserError
from picacheck.lab import engine, keys, vms
from picacheck.lab import topology as T
from picacheck.lab import ssh as lab_ssh
from picacheck.lab.vms import cluster, nodes

needs_lab = [
    pytest.mark.lab,  # selftests/conftest.py runs it with PICACHECK_LAB_TESTS=1 or all
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root"),
]


def _ssh(host: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The way a person (or the suite) reaches a lab host: OpenSSH, root, the lab key."""
    return subprocess.run(
        [*lab_ssh.openssh_argv(host, known_hosts=T.SSH_KNOWN_HOSTS), command],
        capture_output=True, text=True, timeout=timeout)


def _curl(path: str, auth: bool) -> tuple[str, str]:
    argv = ["curl", "-s", "--max-time", "10", "--cacert", str(keys.CA_CERT), "-w", "\n%{http_code}"]
    if auth:
        user, password = keys.registry_credentials()
        argv += ["-u", f"{user}:{password}"]
    done = subprocess.run(argv + [f"https://{T.REGISTRY_ADDRESS}:{T.REGISTRY_PORT}{path}"],
                          capture_output=True, text=True, timeout=20)
    body, _, code = done.stdout.rpartition("\n")
    return code, body


# --- no lab needed ---------------------------------------------------------------------


def test_missing_host_tool_is_one_clear_message(monkeypatch):
    monkeypatch.setenv("PICACHECK_LAB_NO_INSTALL", "1")
    with pytest.raises(UserError) as caught:
        engine.ensure_host_tools({"picalab-no-such-tool": "picalab-fake-package"})
    assert "picalab-no-such-tool" in str(caught.value)
    assert "apt-get install picalab-fake-package" in str(caught.value)


def test_failed_host_command_names_the_step():
    with pytest.raises(UserError) as caught:
        engine.run(["false"], what="the step under test")
    assert "the step under test failed" in str(caught.value)


def test_node_files_follow_the_report():
    assert nodes.brick_fstab_line().split() == ["/dev/mapper/vg01-data", "/gluster-data", "ext4", "defaults", "0", "2"]
    assert "systemctl start glusterfs-server" in cluster.rc_local() and "mount -a" in cluster.rc_local()
    daemon = json.loads(nodes.inner_daemon_json())
    assert daemon["dns"] == [T.INNER_DNS]  # inner containers never ask an outside resolver
    config = cluster.registry_config()
    assert f"addr: :{T.REGISTRY_PORT}" in config and "htpasswd:" in config and "tls:" in config
    # Through alice's DNAT everywhere, but on admin itself (alice forwards only what reaches its eth1).
    assert T.host_aliases("pica01")[T.REGISTRY_HOSTNAME] == T.HOSTS["alice"].address
    assert T.host_aliases("admin")[T.REGISTRY_HOSTNAME] == T.HOSTS["admin"].address


# --- the real lab ----------------------------------------------------------------------


def _lab_only(function):
    for mark in needs_lab:
        function = mark(function)
    return function


@_lab_only
def test_up_twice_changes_nothing(lab):
    vms.up()
    assert vms.up() == [], "a second `lab up` must change nothing"
    with open(os.devnull, "w") as quiet:
        report = vms.status(out=quiet)
    assert report["ok"], report


@_lab_only
def test_gluster_volume_over_ssh():
    done = _ssh("pica01", "gluster volume info gluster-data")
    assert done.returncode == 0, done.stderr
    assert "Type: Replicate" in done.stdout and "Status: Started" in done.stdout
    assert "Number of Bricks: 1 x 2 = 2" in done.stdout
    assert "auth.allow: pica01,pica02" in done.stdout


@_lab_only
def test_data_written_on_pica01_is_read_on_pica02():
    token = os.urandom(8).hex()
    assert _ssh("pica01", f"echo {token} > /DATA/.picalab-selftest").returncode == 0
    try:
        done = _ssh("pica02", "cat /DATA/.picalab-selftest")
        assert done.stdout.strip() == token
    finally:
        _ssh("pica01", "rm -f /DATA/.picalab-selftest")


@_lab_only
def test_swarm_two_managers_one_leader():
    done = _ssh("pica01", "docker node ls --format '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'")
    rows = sorted(line.split() for line in done.stdout.splitlines())
    assert [row[0] for row in rows] == ["pica01", "pica02"]
    assert all(row[1] == "Ready" for row in rows)
    assert sorted(row[2] for row in rows) == ["Leader", "Reachable"]
    assert _ssh("pica01", "docker network inspect -f '{{.Driver}} {{.Attachable}}' pica-net").stdout.split() \
        == ["overlay", "true"]


@_lab_only
def test_registry_refuses_anonymous_and_lists_the_images():
    code, _ = _curl("/v2/_catalog", auth=False)
    assert code == "401"
    code, body = _curl("/v2/_catalog", auth=True)
    assert code == "200"
    assert set(T.LAB_IMAGES) <= set(json.loads(body)["repositories"])
    for host in T.SWARM_NODES:
        images = _ssh(host, "docker images --format '{{.Repository}}'").stdout.split()
        assert all(f"{T.REGISTRY}/{name}" in images for name in T.LAB_IMAGES), (host, images)


@_lab_only
def test_service_daemons_stop_and_start_like_on_a_vm():
    assert _ssh("pica02", "systemctl is-active glusterd").stdout.strip() == "active"
    assert _ssh("pica02", "service glusterd stop").returncode == 0
    try:
        assert _ssh("pica02", "systemctl is-active glusterd").stdout.strip() == "inactive"
        assert _ssh("pica02", "pgrep -x glusterfsd").returncode == 1  # bricks stop with it
    finally:
        assert _ssh("pica02", "systemctl start glusterd").returncode == 0
    vms.up()  # brings the brick back and re-checks everything


def _lab_processes() -> list[str]:
    found = []
    markers = (str(T.LAB_DIR).encode(), str(T.RUN_DIR).encode())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if any(marker in cmdline for marker in markers) and b"pytest" not in cmdline:
                found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _lab_dir_entries() -> set[str]:
    return {p.name for p in T.LAB_DIR.iterdir()} if T.LAB_DIR.exists() else set()


def _loop_devices() -> list[str]:
    return subprocess.run(["losetup", "-a"], capture_output=True, text=True, timeout=30).stdout.splitlines()


@_lab_only
def test_down_leaves_nothing():
    # Run after the hypervisors' down test (selftests/lab/conftest.py): the VMs still run,
    # but admin, behind alice, is out of reach; down needs only the lab's engine.
    disks = [str(nodes.disk_image(host)) for host in T.GLUSTER_NODES]
    # Ours, not a stale device an earlier, killed lab left on a file of the same name.
    attached = {line.split(":")[0] for line in _loop_devices()
                if any(disk in line for disk in disks) and not line.endswith("(deleted))")}
    assert len(attached) == len(disks), _loop_devices()
    vms.down()
    assert _lab_processes() == []
    still = [line for line in _loop_devices() if line.split(":")[0] in attached and any(d in line for d in disks)]
    assert not still, still
    mounts = Path("/proc/mounts").read_text()
    assert str(T.LAB_DIR) + "/" not in mounts and str(T.RUN_DIR) + "/" not in mounts
    leftovers = _lab_dir_entries()
    others_running = T.RUN_DIR.exists()  # e.g. the hypervisors part, which shares the bridge
    if not others_running:
        assert T.BRIDGE_NAME not in nodes.links()
        # What another part keeps (the services' files, the shared key) is that part's to remove.
        assert leftovers <= {"cache", "services", "ssh"}, leftovers
    assert not leftovers & (vms.lifecycle.OWN_LAB_ENTRIES | {"state.json"}), leftovers
    assert vms.down() is False, "a second `down` finds nothing to remove"


@_lab_only
def test_whole_lab_down_leaves_nothing():
    """Last of all: `picacheck lab down`, as a user runs it, removes every part's files
    (the services', the shared key) and keeps only the download cache; a second one finds
    nothing."""

    def lab_down() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "picacheck.cli", "lab", "down"],
                              capture_output=True, text=True, timeout=600)

    first = lab_down()
    assert first.returncode == 0, first.stderr
    left = sorted(str(p) for p in T.RUN_DIR.rglob("*")) if T.RUN_DIR.exists() else []
    assert not T.RUN_DIR.exists(), f"left in {T.RUN_DIR}: {left}; `lab down` said:\n{first.stderr[-3000:]}"
    assert _lab_dir_entries() <= {"cache"}, _lab_dir_entries()
    assert _lab_processes() == []
    assert T.BRIDGE_NAME not in nodes.links()
    swept = [line for line in first.stderr.splitlines() if "none of them claims" in line]
    if swept:  # the user's promise holds; which part forgot what shows in the warnings summary
        warnings.warn(f"`lab down` swept what no part removed: {swept}")
    second = lab_down()
    assert second.returncode == 0, second.stderr
    assert "lab down: nothing was left" in second.stderr, second.stderr
