"""The whole lab (`picacheck lab up | status | down | reset`): every part of lab/parts.py,
in order. `up` first runs every part's prepare() at once (the hypervisors' root image, the
node and service images, the host downloads need nothing of each other), then each part's
up() as soon as its own preparation and the parts before it are done. Each part is
idempotent, so `up` on a lab that is up changes nothing; `down` runs in the reverse order
and leaves nothing but the cache (LAB_DIR/cache: the Debian tree, images by recipe,
downloads).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from picacheck.lab import locks, vms
from picacheck.lab.inventory import write_lab_inventory
from picacheck.lab.parts import PARTS
from picacheck.progress import say, step

# The last up() in this process, per part (benchmarks): seconds of its prepare(), of its up(),
# and from the start of `lab up` until it was up.
TIMINGS: dict[str, dict[str, float]] = {}


def _locked():
    return locks.locked("lab", "`picacheck lab` command")


def up() -> list[str]:
    """Bring every part up. Returns the steps that changed something, prefixed by part."""
    changed: list[str] = []
    started = time.monotonic()
    TIMINGS.clear()
    with _locked(), ThreadPoolExecutor(len(PARTS), thread_name_prefix="prepare") as pool:
        vms.lifecycle.start_engine()  # first: the parts build their images in it
        prepared = {part.NAME: pool.submit(_timed, part.prepare) for part in PARTS}
        try:
            for part in PARTS:
                with step(f"lab up: {part.NAME}"):
                    prepare_s, steps = prepared[part.NAME].result()
                    up_s, more = _timed(part.up)
                changed += [f"{part.NAME}: {s}" for s in steps + more]
                TIMINGS[part.NAME] = {"prepare_s": prepare_s, "up_s": up_s,
                                      "up_at_s": round(time.monotonic() - started, 1)}
        finally:
            for future in prepared.values():
                future.cancel()
        path = write_lab_inventory()
    took = time.monotonic() - started
    say(f"lab up in {took:.0f}s; inventory written to {path}; "
        + (f"{len(changed)} steps changed something" if changed else "nothing to change: the lab was already up"))
    return changed


def _timed(function) -> tuple[float, list[str]]:
    started = time.monotonic()
    result = function()
    return round(time.monotonic() - started, 1), result


def down() -> bool:
    changed = False
    with _locked():
        for part in reversed(PARTS):
            with step(f"lab down: {part.NAME}"):
                changed |= bool(part.down())
        changed |= vms.lifecycle.restore_host(sweep=True)  # nothing runs now: what is left is nobody's
    say("lab down: everything the lab made is gone (the cache stays)" if changed else "lab down: nothing was left")
    return changed


def status() -> bool:
    """Prints the state of every part; True when the whole lab is up."""
    return all([bool(part.status()["ok"]) for part in PARTS])


def reset() -> list[str]:
    down()
    return up()
