#!/usr/bin/env python3
"""How long the lab's hypervisors take: root image build (with --cold), boot of alice and
bob from nothing (start → SSH answers and first-boot provisioning done), until the
documented state (arrays in sync, corosync quorate), a reboot of bob from its disks, and
down().

    sudo .venv/bin/python benchmarks/hypervisor_boot.py [--cold] [--keep | --purge] [--json]

--cold        remove the cached root image first (measures debootstrap + apt + mkfs too)
--keep        leave alice and bob running at the end
--purge       end with down(purge=True): the root image leaves the cache too
Prints one line per figure (and a JSON object with --json). Needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from picacheck.errors import UserError  # noqa: E402
from picacheck.lab import hypervisors as hv  # noqa: E402
from picacheck.lab.hypervisors import plan, rootfs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="rebuild the root image (remove the cache first)")
    parser.add_argument("--keep", action="store_true", help="leave the hypervisors running")
    parser.add_argument("--purge", action="store_true", help="remove the cached root image at the end")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    figures: dict = {"cpus": os.cpu_count(), "memory_per_machine": plan.MEMORY}
    try:
        if hv.is_up() or plan.HV_DIR.exists():
            hv.down()
        if args.cold:
            shutil.rmtree(plan.CACHE_DIR, ignore_errors=True)
        t0 = time.monotonic()
        rootfs.ensure_image()
        figures["image_s"] = round(time.monotonic() - t0, 1)
        t0 = time.monotonic()
        timings = hv.boot()
        figures["up_s"] = round(time.monotonic() - t0, 1)
        for name, t in timings.items():
            figures[f"{name}_boot_s"] = t["boot_s"]
            figures[f"{name}_ready_s"] = t["ready_s"]
        t0 = time.monotonic()
        figures["bob_stop"] = hv.stop_machine("bob")
        figures["bob_stop_s"] = round(time.monotonic() - t0, 1)
        figures["bob_reboot_boot_s"] = hv.start_machine("bob")
        if not args.keep:
            t0 = time.monotonic()
            hv.down(purge=args.purge)
            figures["down_s"] = round(time.monotonic() - t0, 1)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    labels = {
        "image_s": "root image (cached unless --cold)",
        "up_s": "up() from nothing, both machines, until documented state",
        "alice_boot_s": "alice: start -> SSH + provisioned",
        "bob_boot_s": "bob: start -> SSH + provisioned",
        "alice_ready_s": "alice: start -> arrays in sync + corosync quorate",
        "bob_ready_s": "bob: start -> arrays in sync + corosync quorate",
        "bob_stop_s": "bob: clean stop",
        "bob_reboot_boot_s": "bob: boot from its disks -> SSH",
        "down_s": "down()",
    }
    print(f"hypervisor boot benchmark ({figures['cpus']} CPUs, {plan.MEMORY} per machine)")
    for key, label in labels.items():
        if key in figures:
            print(f"  {label:<60} {figures[key]:>6} s")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
