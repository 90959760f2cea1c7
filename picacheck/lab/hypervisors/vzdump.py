"""The hypervisors' nightly VM backups (report section 14, "Sauvegarde des machines"):
each node backs up its VMs into /SAVE/dump every night at 03:00, and the rsync mirror
(/etc/cron.d/picasoft-save, already provisioned) copies each node's set to the other.

Proxmox's vzdump cannot be installed in the lab: `/usr/local/sbin/vzdump` (guest/vzdump.sh)
stands in for it, with vzdump's archive names and logs, driven by `/etc/cron.d/vzdump`
("0 3 * * *", Proxmox's vzdump.cron line) and `/etc/picalab/vzdump.conf` (this node's
VMs: id, name, address, what to archive). The lab's VMs are containers on the lab host:
the hypervisors read them over SSH with their own root key, which `authorize_on_vms()`
adds to the VMs' authorized_keys (limited to the hypervisors' addresses, no forwarding).

    install(names)      the script, its configuration and the cron file on running hypervisors
    authorize_on_vms()  the hypervisors' key in each VM's root authorized_keys
    run(names)          one vzdump --all on each (in parallel); returns seconds per node
    mirror()            the rsync pulls of picasoft-save once, alice then bob
    remove_archives()   the archives (the job stays)
    archives(name)      the vzdump archive names in a node's /SAVE/dump
    stale(names)        the nodes where a VM has no archive younger than MAX_AGE_HOURS
"""

from __future__ import annotations

import datetime
import hashlib
import shlex
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.lab.hypervisors import plan, seed
from picacheck.lab.ssh import Node, RemoteError, Result

_VALUES = plan.LAB_VALUES["backup"]["vzdump"]
SCRIPT_PATH = _VALUES["script"]  # /usr/local/sbin/vzdump
CONF_PATH = _VALUES["conf"]
CRON_FILE = _VALUES["cron_file"]  # Proxmox: /etc/pve/vzdump.cron, linked as /etc/cron.d/vzdump
SCHEDULE = _VALUES["schedule"]  # "chaque jour à 3h du matin"
DUMP_DIR = _VALUES["dump_dir"]
MAX_AGE_HOURS = _VALUES["max_age_hours"]  # "every night": the newest archive of each VM is at most this old
RUN_TIMEOUT = 300.0

# VM id and hypervisor of each lab VM (the lab inventory's placement) and what its archive
# holds: the service VMs' system configuration and GlusterFS brick (the services' data and
# the database dumps), admin's configuration, registry credentials and service files.
VM_PATHS = {
    "pica01": "/etc /gluster-data",
    "pica02": "/etc /gluster-data",
    "admin": "/etc /DOCKER/registry/auth /DOCKER/registry/certs /DOCKER/services",
}


def vms_of(hypervisor: str) -> dict[str, int]:
    return {vm: vmid for vm, (host, vmid) in T.VM_PLACEMENT.items() if host == hypervisor}


def script() -> str:
    return resources.files("picacheck.lab.hypervisors").joinpath("guest", "vzdump.sh").read_text()


def conf(hypervisor: str) -> str:
    lines = ["# picacheck lab: the VMs of this node for /usr/local/sbin/vzdump (VMID NAME ADDRESS PATH...)"]
    for vm, vmid in sorted(vms_of(hypervisor).items(), key=lambda item: item[1]):
        lines.append(f"{vmid} {vm} {T.HOSTS[vm].address} {VM_PATHS[vm]}")
    return "\n".join(lines) + "\n"


def cron() -> str:
    return ("# picacheck lab: Proxmox's vzdump.cron (report section 14: every night at 3:00, into /SAVE/dump)\n"
            'PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n\n'
            f"{SCHEDULE}           root vzdump --all --mode snapshot --compress zstd --dumpdir {DUMP_DIR} "
            "--quiet 1 >> /var/log/vzdump.log 2>&1\n")


def files(hypervisor: str) -> dict[str, tuple[str, int]]:
    return {SCRIPT_PATH: (script(), 0o755), CONF_PATH: (conf(hypervisor), 0o644), CRON_FILE: (cron(), 0o644)}


def _ssh(name: str, command: str, timeout: float = 60, stdin: str | None = None) -> Result:
    node = Node(name, connect_timeout=5)
    try:
        return node.run(command, timeout=timeout, check=False, stdin=stdin.encode() if stdin is not None else None)
    finally:
        node.close()


def _check(name: str, command: str, what: str, timeout: float = 60, stdin: str | None = None) -> str:
    try:
        result = _ssh(name, command, timeout, stdin)
    except RemoteError as error:
        raise UserError(f"lab hypervisors: {what} on {name} failed: {error}") from None
    if not result.ok:
        detail = (result.stderr.strip() or result.stdout.strip() or f"exit {result.status}").splitlines()[-1]
        raise UserError(f"lab hypervisors: {what} on {name} failed: {detail}")
    return result.stdout


def install(names=tuple(plan.MACHINES)) -> list[str]:
    """The vzdump stand-in, its configuration and cron file on each running hypervisor.
    Returns the nodes where a file changed."""
    changed = []
    for name in names:
        have = _check(name, "command -v zstd >/dev/null && echo zstd; "
                            f"sha256sum {SCRIPT_PATH} {CONF_PATH} {CRON_FILE} 2>/dev/null; true",
                      "reading the vzdump job", timeout=30)
        if "zstd" not in have.split():
            raise UserError(f"lab hypervisors: {name} has no zstd (its root image predates the vzdump job)",
                            hint="make the hypervisors again: `picacheck lab down` then `picacheck lab up`")
        sums = {line.split()[1]: line.split()[0] for line in have.splitlines() if len(line.split()) == 2}
        for path, (text, mode) in files(name).items():
            if sums.get(path) == hashlib.sha256(text.encode()).hexdigest():
                continue
            directory = path.rsplit("/", 1)[0]
            _check(name, f"mkdir -p {directory} && cat > {path}.new && chmod {mode:o} {path}.new && mv {path}.new {path}",
                   f"writing {path}", stdin=text)
            if name not in changed:
                changed.append(name)
    return changed


def authorized_key_line() -> str:
    """The hypervisors' root key as the VMs accept it: from their lab addresses (alice reaches
    admin from its vmbr1 address), no forwarding."""
    seed.ensure_shared_secrets()
    public = seed.CLUSTER_KEY.with_name(seed.CLUSTER_KEY.name + ".pub").read_text().strip()
    sources = ",".join([*(m.public_address for m in plan.MACHINES.values()), plan.VMBR1_ADDRESS])
    return f'from="{sources}",restrict {public}'


def authorize_on_vms() -> list[str]:
    """The hypervisors' key in every lab VM's /root/.ssh/authorized_keys. Returns the VMs changed."""
    line = authorized_key_line()
    changed = []
    for vm in T.VM_PLACEMENT:
        node = Node(vm)
        try:
            result = node.run(f"grep -qxF {shlex.quote(line)} /root/.ssh/authorized_keys || "
                              f"{{ echo {shlex.quote(line)} >> /root/.ssh/authorized_keys && echo added; }}",
                              what="authorizing the hypervisors' key", timeout=30)
            if "added" in result.stdout:
                changed.append(vm)
        finally:
            node.close()
    return changed


def archives(name: str) -> list[str]:
    out = _check(name, f"ls -1 {DUMP_DIR} 2>/dev/null | grep -E '^vzdump-.*\\.vma\\.zst$' || true", "listing /SAVE/dump",
                 timeout=30)
    return sorted(out.split())


def stale(names=tuple(plan.MACHINES)) -> list[str]:
    """The hypervisors where one of their VMs has no archive younger than MAX_AGE_HOURS."""
    from picacheck.facts.dumps import WALL_CLOCK_COMMAND, parse_vzdump_name, parse_wall_clock

    found = []
    for name in names:
        now = parse_wall_clock(_check(name, WALL_CLOCK_COMMAND, "reading the clock", timeout=30))
        recent = set()
        for archive in archives(name):
            parsed = parse_vzdump_name(archive)
            if now - parsed.taken_at <= datetime.timedelta(hours=MAX_AGE_HOURS):
                recent.add(parsed.vmid)
        if set(vms_of(name).values()) - recent:
            found.append(name)
    return found


def run(names=tuple(plan.MACHINES)) -> dict[str, float]:
    """`vzdump --all` once on each node (in parallel), as the 03:00 cron job runs it."""
    command = cron().strip().splitlines()[-1].split(" root ", 1)[1]

    def one(name: str) -> float:
        started = time.monotonic()
        result = _ssh(name, command, timeout=RUN_TIMEOUT)
        if not result.ok:
            tail = _ssh(name, "tail -n 3 /var/log/vzdump.log", timeout=30).stdout.strip().replace("\n", " / ")
            raise UserError(f"lab hypervisors: vzdump on {name} failed (exit {result.status}): {tail}")
        return round(time.monotonic() - started, 1)

    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        return dict(zip(names, pool.map(one, names)))


def mirror() -> dict[str, float]:
    """The report's rsync pulls once (the command of each node's picasoft-save cron line):
    alice pulls bob's set, then bob pulls alice's (which now holds both)."""
    cron_file = plan.LAB_VALUES["backup"]["rsync"]["cron_file"]
    took = {}
    for name in plan.MACHINES:
        text = _check(name, f"cat {cron_file}", f"reading {cron_file}", timeout=30)
        jobs = [line for line in text.splitlines() if " rsync " in f" {line} " and not line.lstrip().startswith("#")]
        if not jobs:
            raise UserError(f"lab hypervisors: no rsync job in {cron_file} on {name}")
        command = jobs[0].split(None, 6)[6]  # after the five time fields and the user
        started = time.monotonic()
        _check(name, command, f"the rsync pull of {cron_file}", timeout=RUN_TIMEOUT)
        took[name] = round(time.monotonic() - started, 1)
    return took


def remove_archives(names=tuple(plan.MACHINES)) -> bool:
    """The archives and their logs (for the backups part's own down; the job stays: it is
    part of the hypervisors' documented state). Returns whether there were any."""
    removed = False
    for name in names:
        result = _ssh(name, f"ls {DUMP_DIR}/vzdump-* >/dev/null 2>&1 && rm -f {DUMP_DIR}/vzdump-* && echo removed",
                      timeout=60)
        removed |= "removed" in result.stdout
    return removed
