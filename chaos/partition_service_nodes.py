"""partition-service-nodes: cut pica01 from pica02 (every packet between them: the gluster
and the Swarm links), both VMs still running and still reachable by the suite. What does each
side report (gluster peers, Swarm, /DATA, every domain), and does the volume heal or split
once the link is back?

During the cut both sides write the same file on /DATA, as two applications would. A
replica-2 volume without quorum accepts both writes, and a split-brain follows; the report
promises none (C9). The rollback mends the link, measures the heal, resolves whatever split
(the newest copy wins) and removes the file, so the lab is as before.
"""

from __future__ import annotations

import time

from picacheck.chaos import network, observe
from picacheck.chaos.runner import ClaimVerdict, Experiment, Observation, Verdict, unavailable_seconds
from picacheck.facts import gluster
from picacheck.probes import cluster
from picacheck.progress import say

NAME = "partition-service-nodes"
CLAIMS = ["C9"]
CANARY = ".picacheck-partition-canary"  # the file both sides write during the cut
HEAL_WAIT = 180.0  # seconds the volume gets to reconnect and heal once the link is back
HEAL_SETTLE = 45.0  # seconds with both bricks connected after which what is still pending stays so


def build(ctx: observe.ChaosContext, side: str = "pica01", duration: str = "75") -> Experiment:
    inventory = ctx.inventory
    if inventory.swarm is None or inventory.gluster is None:
        raise AssertionError("partition-service-nodes needs a swarm and a gluster volume in the inventory")
    nodes = list(inventory.swarm.managers + inventory.swarm.workers)
    others = [node for node in nodes if node != side]
    volume = inventory.gluster.volumes[0]
    mount = volume.mount.path
    network.check_cuttable(inventory, side, others)
    after: dict = {}  # what the rollback measures once the link is back

    def inject() -> None:
        # The file exists on both bricks before the cut, as an application's file would.
        ctx.hosts[side].check_output(f"echo 'before the cut' > {mount}/{CANARY}", timeout=30)
        addresses = network.peer_addresses(inventory, ctx.hosts, side, others)
        after["cut_addresses"] = addresses
        # The cut mends itself on the host if this runner dies: fault, then rollback time.
        network.cut(ctx.hosts, side, addresses, expire_after=int(float(duration)) + 300)

    def rollback() -> None:
        network.mend(ctx.hosts, side)
        after.update(_watch_heal(ctx.hosts, nodes[0], volume.name))
        after["resolved"] = _resolve_split_brain(ctx.hosts, nodes[0], volume.name, fallback_brick=volume.bricks[0])
        ctx.hosts[nodes[0]].run(f"rm -f {mount}/{CANARY}", timeout=30)
        after["canary_removed"] = True

    observers = {}
    for node in nodes:
        observers[f"gluster peers seen from {node}"] = gluster_peers_connected(ctx.hosts, node)
        observers[f"swarm seen from {node}"] = swarm_whole(ctx.hosts, node, len(nodes))
        observers[f"{mount}/{CANARY} written on {node}"] = observe.data_writable(ctx.hosts, node, mount, CANARY)
        for service in inventory.services:
            observers[f"{service.domain} via {node}"] = observe.application_answers(inventory, service, node)

    steady = {f"{s.domain} via {n}": observe.application_answers(inventory, s, n)
              for s in inventory.services for n in nodes}
    for node in nodes:
        steady[f"gluster peers seen from {node}"] = gluster_peers_connected(ctx.hosts, node)
        steady[f"swarm seen from {node}"] = swarm_whole(ctx.hosts, node, len(nodes))
    steady[f"{volume.name}: no pending heal, no split-brain"] = volume_clean(ctx.hosts, nodes[0], volume.name)

    def measure(timeline: list[Observation]):
        figures = {
            "side": side, "cut_from": others, "cut_addresses": after.get("cut_addresses"),
            "fault_seconds": round(max(o.t for o in timeline), 1),
            "unavailable_seconds": {p: unavailable_seconds(timeline, p) for p in observers},
            "last_seen": {p: next((o.detail for o in reversed(timeline) if o.probe == p), None) for p in observers},
            "heal_seconds": after.get("heal_seconds"),
            "pending_entries_max": after.get("pending_max"),
            "split_brain_entries": after.get("split_brain", []),
            "pending_after_heal": after.get("pending", []),
            "resolved_by_latest_mtime": after.get("resolved", {}),
        }
        split = after.get("split_brain") or []
        healed = after.get("heal_seconds") is not None
        if split:
            verdict = Verdict.broken
            evidence = (f"after {figures['fault_seconds']} s of partition with writes on both sides, "
                        f"{len(split)} entries in split-brain on {volume.name}: {split[:5]} "
                        f"(the rollback's resolution, newest copy wins, or else {volume.bricks[0]}'s: {after.get('resolved')})")
        elif not healed:
            verdict = Verdict.broken
            evidence = (f"entries still pending once the bricks were connected again: {after.get('pending')}"
                        if "pending_last" in after else "the rollback did not get to measure the heal")
        else:
            verdict = Verdict.holds
            evidence = (f"the volume healed {after['heal_seconds']} s after the link came back "
                        f"({after.get('pending_max')} entries pending at most), no split-brain")
        sides = "; ".join(f"{n}: /DATA write failed {figures['unavailable_seconds'][f'{mount}/{CANARY} written on {n}']} s, "
                          f"swarm not whole {figures['unavailable_seconds'][f'swarm seen from {n}']} s"
                          for n in nodes)
        return figures, [ClaimVerdict("C9", verdict, f"{evidence}. During the cut: {sides}")]

    return Experiment(
        name=NAME,
        claims=CLAIMS,
        description=f"drop every packet between {side} and {', '.join(others)} (iptables on {side}); "
                    f"both sides write {mount}/{CANARY}; mend the link and watch the heal",
        steady_state=steady,
        inject=inject,
        rollback=rollback,
        observers=observers,
        fault_duration=float(duration),
        measure=measure,
        steady_state_timeout=420,
    )


# --- probes ----------------------------------------------------------------------------------


def gluster_peers_connected(hosts, node: str):
    def probe() -> tuple[bool, str]:
        result = hosts[node].run("timeout -s KILL 5 gluster peer status", timeout=6)
        status = gluster.parse_peer_status(result.stdout)
        down = [p.hostname for p in status.disconnected]
        return not down and bool(status.peers), f"disconnected: {down}" if down else "all connected"

    return probe


def swarm_whole(hosts, node: str, expected: int):
    """This node's manager answers, with every node Ready and one leader."""

    def probe() -> tuple[bool, str]:
        members = cluster.swarm_members(hosts[node], timeout=4)
        ready = [m.hostname for m in members if m.state == "ready"]
        leaders = [m.hostname for m in members if m.leader]
        ok = len(ready) == expected and len(leaders) == 1
        return ok, f"ready {ready}, leader {leaders}"

    return probe


def volume_clean(hosts, node: str, volume: str):
    def probe() -> tuple[bool, str]:
        heal = _heal_info(hosts, node, volume)
        ok = heal.pending_entries == 0 and heal.split_brain_entries == 0 and not heal.unreachable_bricks
        return ok, f"{heal.pending_entries} pending, {heal.split_brain_entries} in split-brain"

    return probe


# --- after the cut ---------------------------------------------------------------------------


def _heal_info(hosts, node: str, volume: str, variant: str = "") -> gluster.HealInfo:
    command = f"gluster volume heal {volume} info {variant}".strip()
    return gluster.parse_heal_info(hosts[node].check_output(command, timeout=30))


def _watch_heal(hosts, node: str, volume: str) -> dict:
    """From the moment the link is back: seconds until nothing is pending, the most entries
    pending on the way, and what is left once both bricks have been connected for
    HEAL_SETTLE seconds (a split-brain stays: gluster will not choose between the copies)."""
    started = time.monotonic()
    figures = {"pending_max": 0, "pending_last": None, "pending": [], "split_brain": []}
    connected_since = None
    while time.monotonic() - started < HEAL_WAIT:
        hosts[node].run(f"gluster volume heal {volume}", timeout=30)  # start healing now, not at the next sweep
        try:
            heal = _heal_info(hosts, node, volume)
            split = _heal_info(hosts, node, volume, "split-brain")
        except (AssertionError, gluster.ParseError):
            time.sleep(2)
            continue
        figures["pending_last"] = heal.pending_entries
        if heal.pending_entries is not None:  # None: a brick's count is not stated (it is unreachable)
            figures["pending_max"] = max(figures["pending_max"], heal.pending_entries)
        figures["pending"] = sorted({e for b in heal.bricks for e in b.entries})
        figures["split_brain"] = sorted({e for info in (heal, split) for b in info.bricks for e in b.in_split_brain})
        connected_since = None if heal.unreachable_bricks else (connected_since or time.monotonic())
        if heal.pending_entries == 0 and connected_since:
            figures["heal_seconds"] = round(time.monotonic() - started, 1)
            return figures
        if connected_since and time.monotonic() - connected_since > HEAL_SETTLE:
            say(f"{NAME}: volume {volume} does not heal by itself: pending {figures['pending']}, "
                f"in split-brain {figures['split_brain']}")
            return figures
        time.sleep(2)
    return figures


def _resolve_split_brain(hosts, node: str, volume: str, fallback_brick: str) -> dict[str, str]:
    """The newest copy wins, for every file still pending (a file created on both sides is in
    GFID split-brain without being listed as such); where both copies have the same mtime
    (both sides wrote within the same second) the fallback brick's copy wins. The directories
    above then heal by themselves. Returns what gluster answered per entry."""
    answers = {}
    pending = {e for b in _heal_info(hosts, node, volume).bricks for e in (*b.entries, *b.in_split_brain)}
    for entry in sorted(pending - {"/"}):
        target = entry.strip("<>")  # "<gfid:…>" entries are named gfid:… here
        for policy in ("latest-mtime", f"source-brick {fallback_brick}"):
            result = hosts[node].run(f"gluster volume heal {volume} split-brain {policy} '{target}'", timeout=60)
            answers[entry] = f"{policy}: " + (result.stdout.strip() or result.stderr.strip() or f"exit {result.rc}")[:200]
            if result.rc == 0:
                break
    hosts[node].run(f"gluster volume heal {volume}", timeout=30)
    return answers
