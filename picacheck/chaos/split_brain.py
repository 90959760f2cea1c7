"""After a partition of a replicated GlusterFS volume: watch it heal, and resolve what it
cannot heal by itself (a split-brain), so that the target is as before the experiment."""

from __future__ import annotations

import time

from picacheck.facts import gluster
from picacheck.probes import cluster
from picacheck.probes.remote import HostPool
from picacheck.progress import say

HEAL_WAIT = 180.0  # seconds the volume gets to reconnect and heal once the link is back
HEAL_SETTLE = 45.0  # seconds with both bricks connected after which what is still pending stays so


def watch_heal(hosts: HostPool, node: str, volume: str) -> dict:
    """From the moment the link is back: seconds until nothing is pending, the most entries
    pending on the way, and what is left once both bricks have been connected for
    HEAL_SETTLE seconds (a split-brain stays: gluster will not choose between the copies)."""
    started = time.monotonic()
    figures = {"pending_max": 0, "pending_last": None, "pending": [], "split_brain": []}
    connected_since = None
    while time.monotonic() - started < HEAL_WAIT:
        hosts[node].run(f"gluster volume heal {volume}", timeout=30)  # start healing now, not at the next sweep
        try:
            heal = cluster.heal_info(hosts[node], volume, timeout=29)
            split = cluster.heal_info(hosts[node], volume, "split-brain", timeout=29)
        except (AssertionError, gluster.ParseError):
            time.sleep(2)
            continue
        _record(figures, heal, split)
        connected_since = None if heal.unreachable_bricks else (connected_since or time.monotonic())
        if heal.pending_entries == 0 and connected_since:
            figures["heal_seconds"] = round(time.monotonic() - started, 1)
            return figures
        if connected_since and time.monotonic() - connected_since > HEAL_SETTLE:
            say(f"volume {volume} does not heal by itself: pending {figures['pending']}, "
                f"in split-brain {figures['split_brain']}")
            return figures
        time.sleep(2)
    return figures


def _record(figures: dict, heal: gluster.HealInfo, split: gluster.HealInfo) -> None:
    figures["pending_last"] = heal.pending_entries
    if heal.pending_entries is not None:  # None: a brick's count is not stated (it is unreachable)
        figures["pending_max"] = max(figures["pending_max"], heal.pending_entries)
    figures["pending"] = sorted({e for b in heal.bricks for e in b.entries})
    figures["split_brain"] = sorted({e for info in (heal, split) for b in info.bricks for e in b.in_split_brain})


def resolve_split_brain(hosts: HostPool, node: str, volume: str, fallback_brick: str) -> dict[str, str]:
    """The newest copy wins, for every file still pending (a file created on both sides is in
    GFID split-brain without being listed as such); where both copies have the same mtime
    (both sides wrote within the same second) the fallback brick's copy wins. The directories
    above then heal by themselves. Returns what gluster answered per entry."""
    answers = {}
    pending = {e for b in cluster.heal_info(hosts[node], volume, timeout=29).bricks for e in (*b.entries, *b.in_split_brain)}
    for entry in sorted(pending - {"/"}):
        target = entry.strip("<>")  # "<gfid:…>" entries are named gfid:… here
        for policy in ("latest-mtime", f"source-brick {fallback_brick}"):
            result = hosts[node].run(f"gluster volume heal {volume} split-brain {policy} '{target}'", timeout=60)
            answers[entry] = f"{policy}: " + (result.stdout.strip() or result.stderr.strip() or f"exit {result.rc}")[:200]
            if result.rc == 0:
                break
    hosts[node].run(f"gluster volume heal {volume}", timeout=30)
    return answers
