"""kill-hypervisor: pull bob's plug (its VM goes down with it) and watch alice's quorum
(claim X6: with two_node, the survivor stays quorate)."""

from __future__ import annotations

from picacheck.chaos import observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Verdict, unavailable_seconds

NAME = "kill-hypervisor"
CLAIMS = ["X6"]


def build(ctx: observe.ChaosContext, victim: str = "bob") -> Experiment:
    corosync = ctx.inventory.corosync
    survivor = next(node.name for node in corosync.nodes if node.name != victim)
    vms = list(ctx.inventory.vms_of(victim))

    def inject() -> None:
        ctx.vms.kill_hypervisor(victim)
        for vm in vms:
            ctx.vms.kill_vm(vm)

    def rollback() -> None:
        ctx.vms.start_hypervisor(victim)
        for vm in vms:
            ctx.vms.start_vm(vm)

    def measure(timeline):
        probe = f"quorum on {survivor}"
        samples = [o for o in timeline if o.probe == probe]
        quorate = [o for o in samples if "quorate=True" in o.detail]
        figures = {"samples": len(samples), "quorate_samples": len(quorate),
                   "seconds_not_quorate": round(len(samples) - len(quorate), 1),
                   "last_state": samples[-1].detail if samples else None, "vms_stopped_with_it": vms,
                   "vm_unavailable_s": {vm: unavailable_seconds(timeline, f"ssh {vm}") for vm in vms}}
        holds = bool(samples) and len(quorate) == len(samples)
        evidence = (f"{victim} killed with its VMs {vms}: {survivor} quorate in {len(quorate)}/{len(samples)} samples; "
                    f"last: {figures['last_state']}")
        return figures, [ClaimVerdict("X6", Verdict.holds if holds else Verdict.broken, evidence)]

    observers = {f"quorum on {survivor}": observe.quorum(ctx.hosts, survivor)}
    for vm in vms:
        observers[f"ssh {vm}"] = lambda vm=vm: (ctx.hosts[vm].run("true", timeout=3).rc == 0, "")
    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=f"power {victim} off at once (and its VMs {vms}); start them again afterwards",
        steady_state={f"quorum on {survivor} with every vote": observe.quorum(ctx.hosts, survivor, len(corosync.nodes))},
        inject=inject,
        rollback=rollback,
        observers=observers,
        fault_duration=30,
        measure=measure,
    )
