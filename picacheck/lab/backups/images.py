"""The dump jobs' images, as recipes for the lab's image helper (picacheck.lab.images):
built FROM the database's own lab image (so that the dump tool matches the server), with
the report's run.sh (picacheck/documented), pushed by admin, pulled by both Swarm nodes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from picacheck import documented
from picacheck.lab import images
from picacheck.lab.backups import plan
from picacheck.lab.services import build as services_build
from picacheck.lab.services import plan as services_plan

RECIPES_DIR = Path(__file__).parent / "recipes"


def recipe_of(job: plan.DumpJob) -> images.Recipe:
    run_sh = documented.backup_run_script(job.recipe_dir).encode()
    return images.Recipe(job.repository, RECIPES_DIR / job.recipe_dir,
                         base=services_build.recipe_of(services_plan.IMAGES[job.base_image]),
                         extra=lambda: {"run.sh": run_sh}, identity=hashlib.sha256(run_sh).hexdigest(),
                         label=plan.LABEL_VALUE)


def recipe(job: plan.DumpJob) -> str:
    return recipe_of(job).hash()


def ref(job: plan.DumpJob, tag: str | None = None) -> str:
    return recipe_of(job).ref(tag)


def build_all() -> bool:
    """Both images in the lab's engine at their recipe. Returns whether one was made."""
    return any([images.ensure_built(recipe_of(job)) for job in plan.JOBS.values()])


def distribute_all() -> bool:
    """Both images in the registry and on both Swarm nodes (C12: Swarm may schedule the jobs anywhere)."""
    return images.distribute([recipe_of(job) for job in plan.JOBS.values()])
