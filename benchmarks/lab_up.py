"""How long `picacheck lab up` takes, per part of the lab:

- cold: from nothing (--cold: the cache goes too: the Debian tree, the images, the downloads),
  or from the cache (what `lab down` keeps): no image is built again;
- warm: a second `up` on a running lab, which must change nothing;
then `lab down` (unless --keep).

    sudo .venv/bin/python benchmarks/lab_up.py [--cold] [--keep]
    scripts/lab-in-netns bench .venv/bin/python benchmarks/lab_up.py --cold   # beside a lab in use

Each part prepares at once (lab/whole.py), then comes up in order: "prepare" is the part's
own preparation (image builds, downloads), "up" its own up, "up at" the moment since the
start of `lab up` when it was up. Needs root (as the lab does). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def timed(function) -> tuple[float, object]:
    started = time.monotonic()
    result = function()
    return round(time.monotonic() - started, 1), result


def measure(cold: bool, keep: bool) -> dict:
    from picacheck.lab import topology as T
    from picacheck.lab import whole

    results: dict = {"cores": os.cpu_count(), "from": "nothing" if cold else "the cache"}
    results["down_before_s"], _ = timed(whole.down)
    if cold:
        shutil.rmtree(T.CACHE_DIR, ignore_errors=True)
    results["cold_up_s"], changed = timed(whole.up)
    results["cold_changed"] = len(changed)
    results["cold_parts"] = {name: dict(figures) for name, figures in whole.TIMINGS.items()}
    results["warm_up_s"], changed = timed(whole.up)
    results["warm_changed"] = changed
    results["warm_parts"] = {name: dict(figures) for name, figures in whole.TIMINGS.items()}
    if not keep:
        results["down_s"], _ = timed(whole.down)
    return results


def show(results: dict) -> None:
    print(f"lab up, cold (from {results['from']}): {results['cold_up_s']:7.1f} s  ({results['cold_changed']} steps changed)")
    for name, figures in results["cold_parts"].items():
        print(f"    {name:16} prepare {figures['prepare_s']:6.1f} s   up {figures['up_s']:6.1f} s   "
              f"up at {figures['up_at_s']:6.1f} s")
    print(f"lab up, warm (already up): {results['warm_up_s']:7.1f} s  "
          f"(changed: {', '.join(results['warm_changed']) or 'nothing'})")
    for name, figures in results["warm_parts"].items():
        print(f"    {name:16} prepare {figures['prepare_s']:6.1f} s   up {figures['up_s']:6.1f} s")
    if "down_s" in results:
        print(f"lab down:                  {results['down_s']:7.1f} s")
    print(json.dumps(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="empty the cache too: a lab from nothing")
    parser.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/lab_up.py: run as root (the lab starts dockerd, attaches loop devices)", file=sys.stderr)
        return 2
    show(measure(cold=args.cold, keep=args.keep))
    return 0


if __name__ == "__main__":
    sys.exit(main())
