"""up / status / down of the hypervisors alice and bob: user-mode-linux machines (a real
Linux 6.1 kernel with md, LVM, netfilter) built as the hand-over report describes them.

    prepare() the root filesystem image (cached by recipe), while the other parts prepare
    up()      boot both from nothing (or finish what is missing); twice changes nothing
    boot()    the same, returning the measured boot times (benchmarks)
    down()    stop them (poweroff, then halt, then kill) and remove their files, taps
              (the root image stays in the cache unless purge=True)
    status()  per machine: running, ssh reachable
    stop_machine(name) / start_machine(name)   one hypervisor down and back (chaos)
    attach_private_network()   join alice's vmbr1 to the host's private bridge once it exists
    is_up()   both machines run

The machines: Debian bookworm with systemd, each with its own disks (sparse files:
ubda..ubdd stand for the report's sda..sdd, ubde holds /SAVE), eth0 on the host-only
cluster bridge (corosync, rsync), eth1 on the lab's public bridge at topology.HOSTS'
address, eth2 (alice) as vmbr1's port to the private network; networking from rc.local,
RAID1 md0/md1/md2, VG pve, corosync 3 (knet, two_node).
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from picacheck.errors import UserError
from picacheck.lab import locks
from picacheck.lab import topology as T
from picacheck.lab.hypervisors import hostdeps, hostnet, plan, rootfs, seed, uml, vzdump
from picacheck.lab.hypervisors.plan import CACHE_DIR, HV_DIR, MACHINES, RUN_HV_DIR, SHARED_DIR, Machine
from picacheck.lab.ssh import Node, RemoteError, wait_ssh
from picacheck.progress import say, step


def _locked():
    """One operation on the hypervisors at a time (a chaos restart waits for `lab up`)."""
    return locks.locked("hypervisors", "operation on the lab's hypervisors", wait=True)


def _machine(name: str) -> Machine:
    try:
        return MACHINES[name]
    except KeyError:
        raise UserError(f"lab hypervisors: no hypervisor {name!r} (there are {', '.join(MACHINES)})") from None


# --- machine files -------------------------------------------------------------------

def _prepare_files(m: Machine, image) -> bool:
    """Disks, COW root and seed of `m`; True when the machine is new (first boot)."""
    backing = f"{image}\n"
    if m.cow.exists() and (not m.backing_record.exists() or m.backing_record.read_text() != backing):
        say(f"hypervisors: {m.name}'s disks were made over another root image: starting it afresh")
        _remove_files(m)
    m.dir.mkdir(parents=True, exist_ok=True)
    new = not m.cow.exists()
    sizes = [(lab, size) for _, lab, size, _ in plan.DISKS] + [plan.SAVE_DISK]
    for lab_name, size in sizes:
        path = m.disk_file(lab_name)
        if new or not path.exists():
            with open(path, "wb") as handle:  # sparse: a new, blank disk
                handle.truncate(_bytes(size))
    m.backing_record.write_text(backing)
    seed.write_seed(m)
    return new


def _bytes(size: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)


def _remove_files(m: Machine) -> None:
    if m.dir.exists():
        shutil.rmtree(m.dir)


def _ensure_taps(m: Machine) -> None:
    for _, tap, bridge, _ in m.nics():
        hostnet.ensure_tap(tap, bridge)


# --- readiness -----------------------------------------------------------------------

def _wait_booted(m: Machine, started: float, timeout: float) -> float:
    """Seconds from start until SSH answers and the first-boot provisioning is done."""

    def died() -> str | None:
        return None if uml.running_pid(m) is not None else f"stopped while booting (see {m.console_log})"

    try:
        wait_ssh(m.name, timeout=started + timeout - time.monotonic(), until="cat /var/lib/picalab/provisioned",
                 give_up=died).close()
    except RemoteError as error:
        raise UserError(f"lab hypervisors: {m.name} not up: {error}", hint=f"see {m.console_log}") from None
    return time.monotonic() - started


def _ready_problem(node: Node, expect_votes: int) -> str | None:
    """Why the machine is not in its documented steady state yet (None: it is)."""
    try:
        result = node.run("cat /proc/mdstat; echo ===; corosync-quorumtool -s", timeout=15, check=False)
    except RemoteError as error:
        return str(error)
    mdstat, _, quorum = result.stdout.partition("===")
    for array in ("md0", "md1", "md2"):
        # "(auto-read-only)": an array that nothing has written to since it was assembled
        if not re.search(rf"^{array} : active (\(auto-read-only\) )?raid1 ", mdstat, re.M):
            return f"{array} is not an active raid1"
    if "resync" in mdstat or "recovery" in mdstat or mdstat.count("[UU]") < 3:
        return "arrays not in sync yet"
    if not re.search(r"^Quorate:\s+Yes", quorum, re.M):
        return "corosync not quorate: " + " / ".join(quorum.strip().splitlines()[-3:])
    total = [line for line in quorum.splitlines() if line.strip().startswith("Total votes:")]
    if not total or int(total[0].split(":")[1]) != expect_votes:
        return f"corosync total votes {total[0].split(':')[1].strip() if total else '?'}, want {expect_votes}"
    return None


def _wait_ready(machines: list[Machine], timeout: float) -> float:
    started = time.monotonic()
    deadline = started + timeout
    expect = len([m for m in MACHINES.values() if uml.running_pid(m) is not None])
    connections = {m.name: Node(m.name, connect_timeout=5) for m in machines}
    try:
        while True:
            problems = {name: _ready_problem(node, expect) for name, node in connections.items()}
            problems = {name: why for name, why in problems.items() if why}
            if not problems:
                return time.monotonic() - started
            if time.monotonic() >= deadline:
                raise UserError("lab hypervisors: not in their documented state after "
                                f"{timeout:.0f}s: " + "; ".join(f"{n}: {w}" for n, w in problems.items()),
                                hint="see " + ", ".join(str(MACHINES[n].console_log) for n in problems))
            time.sleep(1)
    finally:
        for node in connections.values():
            node.close()


# --- API -----------------------------------------------------------------------------

def prepare() -> list[str]:
    """The host tools and the root filesystem image (built from the lab's Debian tree)."""
    with _locked():
        with step("hypervisors: host tools"):
            hostdeps.ensure_host_tools()
        built = not rootfs.image_path().exists()
        rootfs.ensure_image()
    return ["root image"] if built else []


def up() -> list[str]:
    """Boot alice and bob (idempotent). Returns the steps that changed something."""
    changed = prepare()
    timings = boot()
    return changed + [f"{name} booted" for name, t in timings.items() if t["boot_s"] is not None]


def boot() -> dict:
    """Boot alice and bob (build the root image first if needed). Already running
    machines are left alone, so a second call changes nothing. Returns per machine the
    measured seconds: boot (start → SSH answers, provisioned) and ready (arrays in sync,
    corosync quorate), or None for a machine that was already running."""
    with _locked():
        with step("hypervisors: host tools"):
            hostdeps.ensure_host_tools()
        image = rootfs.ensure_image()
        seed.ensure_lab_ssh_key()
        hostnet.ensure_public_bridge()
        hostnet.ensure_cluster_bridge()
        hostnet.ensure_bridge(plan.VMBR1_UPLINK_BRIDGE, None)  # admin's network (Docker adopts it)
        hostnet.ensure_guard()
        started: dict[str, float] = {}
        for m in MACHINES.values():
            _ensure_taps(m)
            if uml.running_pid(m) is not None:
                continue
            new = _prepare_files(m, image)
            say(f"hypervisors: starting {m.name} ({'first boot' if new else 'existing disks'})")
            uml.start(m, image)
            started[m.name] = time.monotonic()
        timings = {name: {"boot_s": None, "ready_s": None} for name in MACHINES}
        if not started:
            say("hypervisors: alice and bob already running")
            _install_vzdump()
            return timings
        for name, t0 in started.items():
            with step(f"hypervisors: {name} boots (SSH, provisioning)"):
                timings[name]["boot_s"] = round(_wait_booted(MACHINES[name], t0, plan.BOOT_TIMEOUT), 1)
        with step("hypervisors: arrays in sync, corosync quorate"):
            waited = _wait_ready(list(MACHINES.values()), plan.READY_TIMEOUT)
        for name, t0 in started.items():
            timings[name]["ready_s"] = round(timings[name]["boot_s"] + waited, 1)
        say("hypervisors: " + ", ".join(f"{n} boot {t['boot_s']}s" for n, t in timings.items() if t["boot_s"]))
        _install_vzdump()
        return timings


def _install_vzdump() -> None:
    """The nightly VM backup job (vzdump's stand-in and its cron file) on both machines.
    Running it needs the VMs: the lab's backups part does that (picacheck.lab.backups)."""
    with step("hypervisors: vzdump job (/etc/cron.d/vzdump, 0 3 * * *)"):
        changed = vzdump.install()
    if changed:
        say(f"hypervisors: vzdump job installed on {', '.join(changed)}")


def down(purge: bool = False) -> bool:
    """Stop both machines and remove what they made (see stop_all). Returns whether there
    was anything."""
    before = is_up() or HV_DIR.exists()
    stop_all(purge=purge)
    return before


def stop_all(purge: bool = False) -> dict:
    """Stop both machines (poweroff, then halt, then kill) and remove their files, taps,
    the cluster bridge, the host guard; the public bridge only if this module made it (and
    Docker has not taken it over). The root image stays in the cache (the next up() skips
    its build) unless `purge`. Returns per machine how it stopped."""
    with _locked():
        with step("hypervisors: stop " + " and ".join(MACHINES)):
            with ThreadPoolExecutor(len(MACHINES)) as pool:  # both power off at once
                how = dict(zip(MACHINES, pool.map(uml.stop, MACHINES.values())))
        for m in MACHINES.values():
            for tap in m.taps():
                hostnet.remove_tap(tap)
            _remove_files(m)
        shutil.rmtree(SHARED_DIR, ignore_errors=True)
        if HV_DIR.exists() and not any(HV_DIR.iterdir()):
            HV_DIR.rmdir()
        hostnet.remove_guard()
        hostnet.remove_created_bridges()
        shutil.rmtree(plan.UML_DIR, ignore_errors=True)
        if purge:
            shutil.rmtree(CACHE_DIR, ignore_errors=True)
            if CACHE_DIR.parent.exists() and not any(CACHE_DIR.parent.iterdir()):
                CACHE_DIR.parent.rmdir()
            _remove_shared_if_alone()
    shutil.rmtree(RUN_HV_DIR, ignore_errors=True)
    if T.RUN_DIR.exists() and not any(T.RUN_DIR.iterdir()):
        T.RUN_DIR.rmdir()
    return how


def _remove_shared_if_alone() -> None:
    """The lab key (and the lab folders) when no other part of the lab has anything left."""
    lab_left = {p.name for p in T.LAB_DIR.iterdir()} if T.LAB_DIR.exists() else set()
    run_left = {p.name for p in T.RUN_DIR.iterdir()} if T.RUN_DIR.exists() else set()
    if lab_left <= {"ssh"} and run_left <= {"hypervisors", "lock"}:
        shutil.rmtree(T.SSH_KEY.parent, ignore_errors=True)
        if T.LAB_DIR.exists() and not any(T.LAB_DIR.iterdir()):
            T.LAB_DIR.rmdir()


def status(out=None) -> dict:
    """Print (to `out`, default stdout) and return, per machine: running (pid), ssh
    reachable, address, console log; "ok" when both run and answer."""
    out = sys.stdout if out is None else out
    machines = {}
    for m in MACHINES.values():
        pid = uml.running_pid(m)
        machines[m.name] = {"running": pid is not None, "pid": pid, "ssh": bool(pid) and _answers(m.name),
                            "address": m.public_address, "console_log": str(m.console_log)}
        print(f"{m.name:8} uml pid {pid or '-':>7}  ssh {'ok' if machines[m.name]['ssh'] else 'NO'}", file=out)
    return {"ok": all(m["running"] and m["ssh"] for m in machines.values()), "machines": machines}


def _answers(name: str) -> bool:
    node = Node(name, connect_timeout=5)
    try:
        return node.ok("true", timeout=6)
    except RemoteError:
        return False
    finally:
        node.close()


def is_up() -> bool:
    """Both hypervisors run (their UML kernels; see status() for SSH)."""
    return all(uml.running_pid(m) is not None for m in MACHINES.values())


def stop_machine(name: str, clean: bool = True) -> str:
    """Take one hypervisor down (its disks stay): "poweroff", "halt", "killed" or "not running".
    `clean=False` pulls the plug (halt at once)."""
    m = _machine(name)
    with _locked():
        return uml.stop(m, clean_timeout=30.0 if clean else 0)


def start_machine(name: str, timeout: float = plan.BOOT_TIMEOUT) -> float:
    """Boot one hypervisor again from its disks (arrays assemble from mdadm.conf, LVM and
    fstab mount, rc.local sets the network); seconds until SSH answers."""
    m = _machine(name)
    with _locked():
        if uml.running_pid(m) is not None:
            return 0.0
        if not m.cow.exists():
            raise UserError(f"lab hypervisors: {name} has no disks; run the lab's up first")
        image = rootfs.ensure_image()
        if m.backing_record.read_text() != f"{image}\n":
            raise UserError(f"lab hypervisors: {name}'s disks were made over an older root image",
                            hint="run the lab's down, then up")
        _ensure_taps(m)
        uml.start(m, image)
        return round(_wait_booted(m, time.monotonic(), timeout), 1)


def attach_private_network() -> bool:
    """Put alice's vmbr1 port on the host's private bridge (topology.PRIVATE_BRIDGE_NAME)
    if that bridge exists now, and the host guard first in line again (Docker puts its own
    rules, its MASQUERADE among them, above it when it makes its networks); True when the
    port is attached."""
    if is_up():
        hostnet.ensure_guard()
    attached = True
    for m in MACHINES.values():
        for _, tap, bridge, _ in m.nics():
            if bridge == plan.VMBR1_UPLINK_BRIDGE and hostnet.link_exists(tap):
                hostnet.ensure_tap(tap, bridge)
                attached &= hostnet.master_of(tap) == bridge
    return attached
