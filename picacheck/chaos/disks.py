"""Disk faults through mdadm over SSH: fail a member of an array, then replace it.

Used by the lab tests and the fail-disk experiment; on real hardware the same commands mark
a disk failed and re-add it (a real replacement is a new disk in the same slot).
"""

from __future__ import annotations

from picacheck.facts.mdstat import MdArray
from picacheck.probes import system
from picacheck.probes.remote import RemoteHost
from picacheck.wait import eventually


def array_state(host: RemoteHost, array: str) -> MdArray:
    state = system.read_mdstat(host).array(array)
    assert state is not None, f"{host.name}: no {array} in /proc/mdstat"
    return state


def fail_member(host: RemoteHost, array: str, member: str) -> MdArray:
    """Mark `member` faulty; the array keeps serving degraded ([U_])."""
    host.check_output(f"mdadm --manage /dev/{array} --fail /dev/{member}")
    return eventually(lambda: _degraded(host, array, member), timeout=30, interval=0.5, what=f"{array} degraded")


def replace_member(host: RemoteHost, array: str, member: str, rebuild_timeout: float = 600) -> MdArray:
    """Remove the failed member, add it back as a fresh disk, and wait for the rebuild."""
    host.check_output(f"mdadm --manage /dev/{array} --remove /dev/{member}")
    host.check_output(f"mdadm --zero-superblock /dev/{member} && mdadm --manage /dev/{array} --add /dev/{member}")
    return eventually(lambda: _healthy(host, array), timeout=rebuild_timeout, interval=1, what=f"{array} rebuilt")


def _degraded(host: RemoteHost, array: str, member: str) -> MdArray | None:
    state = array_state(host, array)
    failed = {m.name for m in state.members if m.faulty}
    return state if member in failed and "_" in (state.status or "") else None


def _healthy(host: RemoteHost, array: str) -> MdArray | None:
    state = array_state(host, array)
    clean = state.sync is None and state.raid_disks == state.active_disks and "_" not in (state.status or "")
    return state if clean and not any(m.faulty for m in state.members) else None
