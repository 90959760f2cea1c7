"""How long the lab's backups part takes (`picacheck.lab.backups.up`), on a running lab:
cold (its images gone from the registry, admin and the nodes; no job, no dump, no VM
archive) and warm (a second `up`, which must change nothing).

    python benchmarks/backups_up.py          # down, remove the images, up (cold), up (warm)

It takes the lab's backups down first: the dumps and VM archives are made again.
Needs root and a lab whose services run (`picacheck lab up`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def remove_images() -> None:
    """The jobs' images out of the registry (manifests), admin and both nodes."""
    from picacheck.lab import engine, images
    from picacheck.lab import topology as T
    from picacheck.lab.backups import plan
    from picacheck.lab.backups.images import recipe_of
    from picacheck.lab.ssh import Node

    images.remove_from_registry([job.name for job in plan.JOBS.values()])
    for job in plan.JOBS.values():  # and from the image cache and the lab's engine
        recipe_of(job).cache_file().unlink(missing_ok=True)
    with engine.lab_client() as client:
        for image in client.images.list(filters={"label": f"{T.LABEL}={plan.LABEL_VALUE}"}):
            client.images.remove(image.id, force=True)
    for host in (T.REGISTRY_HOST, *T.SWARM_NODES):
        node = Node(host)
        try:
            node.run(f"docker images --filter label={T.LABEL}={plan.LABEL_VALUE} -q | sort -u | "
                     "xargs -r docker rmi -f", check=False, timeout=120)
        finally:
            node.close()


def main() -> int:
    if os.geteuid() != 0:
        print("benchmarks/backups_up.py: run as root (as the lab)", file=sys.stderr)
        return 2
    from picacheck.lab import backups

    results = {}
    started = time.monotonic()
    backups.down()
    remove_images()
    results["down_s"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    results["cold_changed"] = backups.up()
    results["cold_up_s"] = round(time.monotonic() - started, 1)
    results["vm_backups"] = backups.lifecycle.LAST_UP.get("vm_backups")
    started = time.monotonic()
    results["warm_changed"] = backups.up()
    results["warm_up_s"] = round(time.monotonic() - started, 1)
    print(f"backups up, cold: {results['cold_up_s']:6.1f} s  ({', '.join(results['cold_changed'])})")
    print(f"backups up, warm: {results['warm_up_s']:6.1f} s  (changed: {', '.join(results['warm_changed']) or 'nothing'})")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
