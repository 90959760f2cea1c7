"""fail-disk: fail one member of a hypervisor's LVM mirror (md1 on alice by default), keep
writing to the volume on top of it, then replace the member and wait for the rebuild (X7)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from picacheck.chaos import disks, observe, options
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, unchanged_for
from picacheck.chaos.journal import ClaimVerdict, Observation
from picacheck.claims import Verdict

NAME = "fail-disk"
CLAIMS = ["X7"]


def _mirror_host(inventory, chosen=None) -> str | None:
    """The first hypervisor with an array under LVM (the report's md1 on alice)."""
    return next((name for name in options.hosts_with_role(inventory, "hypervisor")
                 if any(a.lvm_vg for a in inventory.hosts[name].raid)), None)


def _mirror(inventory, chosen: dict) -> str | None:
    host = chosen.get("host") or _mirror_host(inventory)
    return next((a.name for a in inventory.hosts[host].raid if a.lvm_vg), None) if host else None


OPTIONS = (options.host("host", "hypervisor", _mirror_host, "the hypervisor whose disk fails"),
           options.array("array", "the md array of that host", _mirror))
RUNS = ({},)

def touches(options: dict) -> set[str]:
    """What the experiment disturbs: one disk of one hypervisor's mirror. A degraded mirror
    keeps serving (that is X7), so experiments on the VMs may run at the same time."""
    return {f"disk {options['array']} of {options['host']}"}



def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    return None if _mirror_host(inventory) else "no hypervisor documents an md array under LVM"


@dataclass
class State:
    member: str
    data_volume: str
    rebuild_seconds: float | None = None
    after_rebuild: str | None = None


def build(ctx: ChaosContext, host: str, array: str) -> Experiment:
    documented = {a.name: a for a in ctx.inventory.hosts[host].raid}[array]
    state = State(member=documented.members[-1], data_volume=_data_volume(ctx.inventory, host, documented))
    remote = ctx.hosts[host]
    healthy, writes = f"{array} healthy", "writes served"

    def replace() -> None:
        started = time.monotonic()
        if any(m.name == state.member and m.faulty for m in disks.array_state(remote, array).members):
            disks.replace_member(remote, array, state.member)
        state.rebuild_seconds = round(time.monotonic() - started, 1)
        state.after_rebuild = observe.md_array(ctx.hosts, host, array)()[1]

    return Experiment(
        name=NAME, claims=CLAIMS,
        fault=Fault(f"mdadm --fail {state.member} in {array} on {host}", lambda: disks.fail_member(remote, array, state.member),
                    manual=f"pull the disk of {state.member} out of {host} (or `mdadm --fail /dev/{state.member}`)",
                    repair=f"put a disk back in {state.member}'s slot"),
        steady_state={f"{array} healthy on {host}": observe.md_array(ctx.hosts, host, array)},
        observers={healthy: observe.md_array(ctx.hosts, host, array),
                   writes: observe.writes_served(ctx.hosts, host, state.data_volume)},
        rollbacks=[Rollback(f"replace {state.member} in {array} and wait for the rebuild", replace)],
        measure=lambda timeline: _measure(timeline, state, host, array),
        # Degraded and still serving writes, steadily for 5 s: nothing more to learn.
        window=Window(maximum=15, minimum=5, settled=unchanged_for([healthy, writes], 5)),
    )


def _data_volume(inventory, host: str, documented) -> str:
    return next((lv.mountpoint for vg in inventory.hosts[host].volume_groups if vg.name == documented.lvm_vg
                 for lv in vg.lvs if lv.mountpoint and lv.mountpoint != "/"), "/")


def _measure(timeline: list[Observation], state: State, host: str, array: str):
    io = [o for o in timeline if o.probe == "writes served"]
    states = [o.detail for o in timeline if o.probe == f"{array} healthy"]
    degraded_seen = any("_" in detail for detail in states)
    served = bool(io) and all(o.ok for o in io)
    back = (state.after_rebuild or "").endswith("[UU]")
    figures = {"write_samples": len(io), "write_failures": sum(not o.ok for o in io),
               "degraded_states_seen": sorted(set(states)), "rebuild_seconds": state.rebuild_seconds,
               "after_rebuild": state.after_rebuild}
    evidence = (f"{host} {array}: member {state.member} failed; {len(io)} writes to {state.data_volume} during the "
                f"fault, {figures['write_failures']} failed; states seen {figures['degraded_states_seen']}; "
                f"after replacement {state.after_rebuild} in {state.rebuild_seconds} s")
    holds = served and degraded_seen and back
    return figures, [ClaimVerdict("X7", Verdict.holds if holds else Verdict.broken, evidence)]
