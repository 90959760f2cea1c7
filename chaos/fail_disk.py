"""fail-disk: fail one member of md1 (the SSD mirror under LVM `pve`) on alice, keep writing
to the volume on top of it, then replace the member and wait for the rebuild (claim X7)."""

from __future__ import annotations

import time

from picacheck.chaos import disks, observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Verdict

NAME = "fail-disk"
CLAIMS = ["X7"]


def build(ctx: observe.ChaosContext, host: str = "alice", array: str = "md1") -> Experiment:
    documented = {a.name: a for a in ctx.inventory.hosts[host].raid}[array]
    member = documented.members[-1]
    data_volume = next((lv.mountpoint for vg in ctx.inventory.hosts[host].volume_groups if vg.name == documented.lvm_vg
                        for lv in vg.lvs if lv.mountpoint and lv.mountpoint != "/"), "/")
    remote = ctx.hosts[host]
    rebuild = {}

    def replace() -> None:
        started = time.monotonic()
        state = disks.array_state(remote, array)
        if any(m.name == member and m.faulty for m in state.members):
            disks.replace_member(remote, array, member)
        rebuild["seconds"] = round(time.monotonic() - started, 1)
        rebuild["final"] = observe.md_array(ctx.hosts, host, array)()[1]

    def measure(timeline):
        io = [o for o in timeline if o.probe == "writes served"]
        states = [o.detail for o in timeline if o.probe == f"{array} healthy"]
        degraded_seen = any("_" in detail for detail in states)
        served = bool(io) and all(o.ok for o in io)
        back = rebuild.get("final", "").endswith("[UU]")
        figures = {"write_samples": len(io), "write_failures": sum(not o.ok for o in io),
                   "degraded_states_seen": sorted(set(states)), "rebuild_seconds": rebuild.get("seconds"),
                   "after_rebuild": rebuild.get("final")}
        holds = served and degraded_seen and back
        evidence = (f"{host} {array}: member {member} failed; {len(io)} writes to {data_volume} during the fault, "
                    f"{figures['write_failures']} failed; states seen {figures['degraded_states_seen']}; "
                    f"after replacement {rebuild.get('final')} in {rebuild.get('seconds')} s")
        return figures, [ClaimVerdict("X7", Verdict.holds if holds else Verdict.broken, evidence)]

    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=f"mdadm --fail {member} in {array} on {host}; later --remove, --add and wait for the rebuild",
        steady_state={f"{array} healthy on {host}": observe.md_array(ctx.hosts, host, array)},
        inject=lambda: disks.fail_member(remote, array, member),
        rollback=replace,
        observers={f"{array} healthy": observe.md_array(ctx.hosts, host, array),
                   "writes served": observe.writes_served(ctx.hosts, host, data_volume)},
        fault_duration=15,
        measure=measure,
    )
