"""kill-hypervisor: pull a hypervisor's plug (bob by default; its VMs go down with it) and
watch the other's quorum (X6: with two_node, the survivor stays quorate). On real hardware
the suite cannot pull the plug itself: `--manual-fault` asks an operator to do it (vPro)."""

from __future__ import annotations

from picacheck.chaos import observe, options
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window, unchanged_for
from picacheck.chaos.journal import ClaimVerdict, Observation, unavailable_seconds
from picacheck.claims import Verdict

NAME = "kill-hypervisor"
CLAIMS = ["X6"]
OPTIONS = (options.host("victim", "corosync", options.last_with_role("corosync"), "the hypervisor that loses power"),)
RUNS = ({},)


def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    return None if inventory.corosync and len(inventory.corosync.nodes) >= 2 else "no corosync cluster of two nodes"


def build(ctx: ChaosContext, victim: str) -> Experiment:
    survivor = next(node.name for node in ctx.inventory.corosync.nodes if node.name != victim)
    vms = list(ctx.inventory.vms_of(victim))
    quorum = f"quorum on {survivor}"

    def inject() -> None:
        ctx.vms.kill_hypervisor(victim)
        for vm in vms:
            ctx.vms.kill_vm(vm)

    observers = {quorum: observe.quorum(ctx.hosts, survivor)}
    for vm in vms:
        observers[f"ssh {vm}"] = lambda vm=vm: (ctx.hosts[vm].run("true", timeout=3).rc == 0, "")
    return Experiment(
        name=NAME, claims=CLAIMS,
        fault=Fault(f"power {victim} off at once (and its VMs {vms})", inject,
                    manual=f"cut {victim}'s power through vPro (or pull its plug); its VMs {vms} go down with it",
                    repair=f"power {victim} on again through vPro and wait until it answers SSH"),
        # Its VMs are part of the steady state: the rollback is over only once they answer
        # again (else the next drill starts on a cluster still booting).
        steady_state={f"quorum on {survivor} with every vote": observe.quorum(ctx.hosts, survivor,
                                                                              len(ctx.inventory.corosync.nodes)),
                      **{f"ssh {vm}": observers[f"ssh {vm}"] for vm in vms}},
        observers=observers,
        rollbacks=[Rollback(f"start {victim} again", lambda: ctx.vms.start_hypervisor(victim)),
                   *[Rollback(f"start {vm} again", lambda vm=vm: ctx.vms.start_vm(vm)) for vm in vms]],
        measure=lambda timeline: _measure(timeline, victim, survivor, vms),
        # corosync notices a lost node within its token timeout (seconds): the quorum that
        # has not changed for 10 s after the first 15 s is the outcome.
        window=Window(maximum=30, minimum=15, settled=unchanged_for([quorum], 10)),
    )


def _measure(timeline: list[Observation], victim: str, survivor: str, vms: list[str]):
    samples = [o for o in timeline if o.probe == f"quorum on {survivor}"]
    quorate = [o for o in samples if "quorate=True" in o.detail]
    figures = {"samples": len(samples), "quorate_samples": len(quorate),
               "seconds_not_quorate": float(len(samples) - len(quorate)),
               "last_state": samples[-1].detail if samples else None, "vms_stopped_with_it": vms,
               "vm_unavailable_s": {vm: unavailable_seconds(timeline, f"ssh {vm}") for vm in vms}}
    holds = bool(samples) and len(quorate) == len(samples)
    evidence = (f"{victim} killed with its VMs {vms}: {survivor} quorate in {len(quorate)}/{len(samples)} samples; "
                f"last: {figures['last_state']}")
    return figures, [ClaimVerdict("X6", Verdict.holds if holds else Verdict.broken, evidence)]
