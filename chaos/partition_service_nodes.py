"""partition-service-nodes: cut one Swarm node from the others (every packet between them:
the gluster and the Swarm links), all VMs still running and still reachable by the suite.
What does each side report (gluster peers, Swarm, /DATA, every domain), and does the volume
heal or split once the link is back?

During the cut both sides write the same file on /DATA, as two applications would. A
replica-2 volume without quorum accepts both writes, and a split-brain follows; the report
promises none (C9). The rollback mends the link, measures the heal, resolves whatever split
(the newest copy wins) and removes the file, so that the target is as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from picacheck.chaos import network, observe, options, split_brain
from picacheck.chaos.context import ChaosContext
from picacheck.chaos.experiment import Experiment, Fault, Rollback, Window
from picacheck.chaos.journal import ClaimVerdict, Observation, last_detail, unavailable_seconds
from picacheck.claims import Verdict

NAME = "partition-service-nodes"
CLAIMS = ["C9"]
CANARY = ".picacheck-partition-canary"  # the file both sides write during the cut
OPTIONS = (options.host("side", "swarm", options.first_with_role("swarm"), "the node cut from the others"),
           options.seconds("duration", 75, "how long the cut lasts (gluster's ping-timeout is 42 s)", maximum=600))
RUNS = ({},)


def needs(inventory) -> str | None:
    """Why this environment cannot run the experiment (None: it can)."""
    if not (inventory.gluster and inventory.gluster.volumes and inventory.gluster.volumes[0].mount):
        return "no mounted gluster volume"
    return None if len(options.hosts_with_role(inventory, "swarm")) >= 2 else "fewer than two Swarm nodes"


@dataclass
class State:
    cut_addresses: list[str] = field(default_factory=list)
    after: dict = field(default_factory=dict)  # what the rollback measures once the link is back


def build(ctx: ChaosContext, side: str, duration: float) -> Experiment:
    inventory = ctx.inventory
    nodes = options.hosts_with_role(inventory, "swarm")
    others = [node for node in nodes if node != side]
    volume = inventory.gluster.volumes[0]
    mount = volume.mount.path
    network.check_cuttable(inventory, side, others)
    state = State()

    def inject() -> None:
        # The file exists on both bricks before the cut, as an application's file would.
        ctx.hosts[side].check_output(f"echo 'before the cut' > {mount}/{CANARY}", timeout=30)
        state.cut_addresses = network.peer_addresses(inventory, ctx.hosts, side, others)
        # The cut mends itself on the host if this runner dies: fault, then rollback time.
        network.cut(ctx.hosts, side, state.cut_addresses, expire_after=int(duration) + 300)

    def heal() -> None:
        state.after.update(split_brain.watch_heal(ctx.hosts, nodes[0], volume.name))
        state.after["resolved"] = split_brain.resolve_split_brain(ctx.hosts, nodes[0], volume.name,
                                                                  fallback_brick=volume.bricks[0])

    observers = {}
    for node in nodes:
        observers[f"gluster peers seen from {node}"] = observe.gluster_peers_connected(ctx.hosts, node)
        observers[f"swarm seen from {node}"] = observe.swarm_whole(ctx.hosts, node, len(nodes))
        observers[f"{mount}/{CANARY} written on {node}"] = observe.data_writable(ctx.hosts, node, mount, CANARY)
        for service in inventory.services:
            observers[f"{service.domain} via {node}"] = observe.application_answers(inventory, service, node)
    steady = {f"{s.domain} via {n}": observe.application_answers(inventory, s, n)
              for s in inventory.services for n in nodes}
    for node in nodes:
        steady[f"gluster peers seen from {node}"] = observe.gluster_peers_connected(ctx.hosts, node)
        steady[f"swarm seen from {node}"] = observe.swarm_whole(ctx.hosts, node, len(nodes))
    steady[f"{volume.name}: no pending heal, no split-brain"] = observe.volume_clean(ctx.hosts, nodes[0], volume.name)
    return Experiment(
        name=NAME, claims=CLAIMS,
        fault=Fault(f"drop every packet between {side} and {', '.join(others)} (iptables on {side}); both sides "
                    f"write {mount}/{CANARY}", inject),
        steady_state=steady, observers=observers,
        rollbacks=[Rollback(f"mend the link of {side}", lambda: network.mend(ctx.hosts, side)),
                   Rollback(f"watch {volume.name} heal and resolve any split-brain", heal),
                   Rollback(f"remove {mount}/{CANARY}", lambda: ctx.hosts[nodes[0]].run(f"rm -f {mount}/{CANARY}",
                                                                                       timeout=30))],
        measure=lambda timeline: _measure(timeline, state, side, others, nodes, volume, mount, list(observers)),
        # A split-brain needs both sides writing after gluster's ping-timeout: the whole cut.
        window=Window(maximum=duration),
        steady_state_after_timeout=420,
    )


def _measure(timeline: list[Observation], state: State, side: str, others: list[str], nodes: list[str], volume,
             mount: str, observers: list[str]):
    after = state.after
    unavailable = {p: unavailable_seconds(timeline, p) for p in observers}
    figures = {
        "side": side, "cut_from": others, "cut_addresses": state.cut_addresses,
        "fault_seconds": round(max(o.t for o in timeline), 1), "unavailable_seconds": unavailable,
        "last_seen": {p: last_detail(timeline, p) for p in observers},
        "heal_seconds": after.get("heal_seconds"), "pending_entries_max": after.get("pending_max"),
        "split_brain_entries": after.get("split_brain", []), "pending_after_heal": after.get("pending", []),
        "resolved_by_latest_mtime": after.get("resolved", {}),
    }
    split = after.get("split_brain") or []
    if split:
        verdict, evidence = Verdict.broken, (
            f"after {figures['fault_seconds']} s of partition with writes on both sides, {len(split)} entries in "
            f"split-brain on {volume.name}: {split[:5]} (the rollback's resolution, newest copy wins, or else "
            f"{volume.bricks[0]}'s: {after.get('resolved')})")
    elif after.get("heal_seconds") is None:
        verdict, evidence = Verdict.broken, (
            f"entries still pending once the bricks were connected again: {after.get('pending')}"
            if "pending_last" in after else "the rollback did not get to measure the heal")
    else:
        verdict, evidence = Verdict.holds, (f"the volume healed {after['heal_seconds']} s after the link came back "
                                            f"({after.get('pending_max')} entries pending at most), no split-brain")
    sides = "; ".join(f"{n}: /DATA write failed {unavailable[f'{mount}/{CANARY} written on {n}']} s, "
                      f"swarm not whole {unavailable[f'swarm seen from {n}']} s" for n in nodes)
    return figures, [ClaimVerdict("C9", verdict, f"{evidence}. During the cut: {sides}")]
