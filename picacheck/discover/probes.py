"""The few readings discovery needs that the checks' probes (picacheck.probes.*) do not make:
each one command that only reads, through `RemoteHost` (its timeout, its evidence) and a
pure parser of picacheck.facts.
"""

from __future__ import annotations

import shlex

from picacheck.facts import crontab, iproute, mounts
from picacheck.facts.blockdevices import LSBLK_COMMAND, BlockDevice, parse_lsblk
from picacheck.facts.errors import ParseError
from picacheck.facts.docker_services import SERVICE_INSPECT_COMMAND, ServiceSpec, parse_service_inspect
from picacheck.facts.grub import GrubDefaults, parse_default_grub
from picacheck.facts.vms import VmEntry, parse_vm_list
from picacheck.probes import system
from picacheck.probes.remote import RemoteHost

# The lab's hypervisors cannot run Proxmox: their vzdump stand-in keeps the node's VMs here.
LAB_VM_LIST = "/etc/picalab/vzdump.conf"
CRON_FILES = "/etc/crontab /etc/cron.d/*"


def block_devices(host: RemoteHost) -> tuple[BlockDevice, ...]:
    return host.parsed(LSBLK_COMMAND, parse_lsblk)


def all_mounts(host: RemoteHost) -> tuple[mounts.MountedFilesystem, ...]:
    return host.parsed("findmnt --list --json --bytes --output TARGET,SOURCE,FSTYPE,SIZE", mounts.parse_findmnt)


def bridges(host: RemoteHost) -> dict[str, tuple[str, ...]]:
    """Bridge → its addresses (CIDR)."""
    return host.parsed("ip -j addr show type bridge", iproute.parse_ip_addr)


def exists(host: RemoteHost, path: str, kind: str = "-e") -> bool:
    return host.run(f"test {kind} {shlex.quote(path)}").rc == 0


def vm_list(host: RemoteHost) -> tuple[VmEntry, ...] | None:
    """The hypervisor's VMs (None: neither Proxmox's `qm` nor the lab's list is there)."""
    if host.run("command -v qm").rc == 0:
        return host.parsed("qm list", parse_vm_list)
    if exists(host, LAB_VM_LIST, "-f"):
        return host.parsed(f"cat {LAB_VM_LIST}", parse_vm_list)
    return None


def grub_default(host: RemoteHost) -> GrubDefaults | None:
    text = system.file_text(host, "/etc/default/grub")
    return None if text is None else parse_default_grub(text)


def cron_files(host: RemoteHost, word: str) -> dict[str, crontab.Crontab]:
    """The system cron files (/etc/crontab, /etc/cron.d) that mention `word`, parsed."""
    # grep exits 1 when no file matches; -s: a missing /etc/cron.d is not an error.
    names = host.run(f"grep -lsw {shlex.quote(word)} {CRON_FILES}").stdout.split()
    return {name: host.parsed(f"cat {shlex.quote(name)}", lambda text: crontab.parse_crontab(text, system=True))
            for name in names}


def service_specs(manager: RemoteHost) -> tuple[ServiceSpec, ...]:
    """Every Swarm service's image, environment, mounts and labels (asked of a manager).

    Not through `parsed()`, which quotes the output it cannot read: these environments hold
    passwords (tutum's MYSQL_PASS), so no message here shows any of it."""
    result = manager.run(SERVICE_INSPECT_COMMAND)
    if result.rc != 0:
        raise AssertionError(f"{manager.name}: `{SERVICE_INSPECT_COMMAND}` exited {result.rc}: "
                             f"{result.stderr.strip()[:300]}")
    try:
        return parse_service_inspect(result.stdout)
    except ParseError as error:
        raise AssertionError(f"{manager.name}: `docker service inspect` answered what cannot be read: {error}") from None
