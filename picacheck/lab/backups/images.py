"""The dump jobs' images: built on admin from /DOCKER/tx-chatons/<name> (as the report keeps
its image sources), FROM the database's own lab image, pushed to the lab registry as
<name>:<recipe> and <name>:latest, pulled by both Swarm nodes.

An image's recipe is a hash of its recipe files and of its base image's recipe: an image
whose recipe is in the registry is not built again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import shlex
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from picacheck import documented
from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.lab.backups import plan
from picacheck.lab.remote import Node
from picacheck.lab.services import build as services_build
from picacheck.lab.services import plan as services_plan
from picacheck.progress import step

RECIPES_DIR = Path(__file__).parent / "recipes"


def base_tag(job: plan.DumpJob) -> str:
    """The tag of the database image the job's image is built FROM (its recipe)."""
    return services_build.recipe(services_plan.IMAGES[job.base_image])


def _recipe_files(job: plan.DumpJob) -> dict[str, bytes]:
    """The recipe folder's files, and the report's run.sh of the image (picacheck/documented)."""
    directory = RECIPES_DIR / job.recipe_dir
    files = {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
    files["run.sh"] = documented.backup_run_script(job.recipe_dir).encode()
    return dict(sorted(files.items()))


def recipe(job: plan.DumpJob) -> str:
    digest = hashlib.sha256(f"{job.name}\0{base_tag(job)}\0".encode())
    for name, data in _recipe_files(job).items():
        digest.update(name.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()[:16]


def ref(job: plan.DumpJob, tag: str | None = None) -> str:
    return f"{job.repository}:{tag or recipe(job)}"


def _local_recipe(node: Node, reference: str) -> str:
    result = node.run(f"docker image inspect --format '{{{{index .Config.Labels \"{plan.RECIPE_LABEL}\"}}}}' "
                      f"{shlex.quote(reference)}", check=False, timeout=30)
    return result.stdout.strip() if result.ok else ""


def _mirror_host_arg(admin: Node) -> str:
    """--add-host for Debian's mirror: build containers ask the lab DNS, which knows only the lab."""
    host = urlsplit(T.DEBIAN_MIRROR).hostname or ""
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    result = admin.run(f"getent ahostsv4 {shlex.quote(host)}", check=False, timeout=30)
    address = result.stdout.split()[0] if result.ok and result.stdout.split() else ""
    if not address:
        raise UserError(f"lab backups: admin cannot resolve Debian's mirror {host}")
    return f" --add-host {host}:{address}"


def _build_one(job: plan.DumpJob) -> bool:
    tag = recipe(job)
    if services_build.in_registry(job.name, tag):
        return False
    admin = Node(T.REGISTRY_HOST)
    try:
        reference, latest = ref(job, tag), ref(job, "latest")
        if _local_recipe(admin, reference) != tag:
            directory = f"{T.DOCKERFILES_DIR}/{job.name}"
            with step(f"admin: docker build {job.name} (recipe {tag})"):
                admin.run(f"rm -rf {directory} && mkdir -p {directory}", what=f"preparing {directory}", timeout=60)
                for name, data in _recipe_files(job).items():
                    admin.put(f"{directory}/{name}", data, 0o755 if name.endswith(".sh") else 0o644)
                args = (f"--build-arg REGISTRY={T.REGISTRY} --build-arg BASE_TAG={base_tag(job)}"
                        f"{_mirror_host_arg(admin)} --label {plan.RECIPE_LABEL}={tag} --label {T.LABEL}={plan.LABEL_VALUE}")
                result = admin.run(f"docker build --network host {args} -t {reference} -t {latest} {directory} 2>&1",
                                   check=False, timeout=900, what=f"building {job.name}")
                log = T.LOG_DIR / f"backups-build-{job.name}.log"
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(result.stdout)
                if not result.ok:
                    tail = " / ".join(result.stdout.strip().splitlines()[-3:])
                    raise UserError(f"lab backups: building {job.name} on admin failed: {tail}", hint=f"full log: {log}")
        with step(f"admin: docker push {job.name}:{tag}"):
            admin.run(f"docker push -q {reference} && docker push -q {latest}", what=f"pushing {job.name}", timeout=600)
    finally:
        admin.close()
    return True


def build_all() -> bool:
    """Both images in the registry at their current recipe. Returns whether one was built."""
    jobs = list(plan.JOBS.values())
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return any(list(pool.map(_build_one, jobs)))


def pull_all() -> bool:
    """Both Swarm nodes hold both images (C12: Swarm may schedule the jobs anywhere)."""

    def pull(host: str) -> bool:
        node = Node(host)
        changed = False
        try:
            for job in plan.JOBS.values():
                reference = ref(job)
                if _local_recipe(node, reference) == recipe(job):
                    continue
                with step(f"{host}: docker pull {reference}"):
                    node.run(f"docker pull -q {reference}", what=f"pulling {reference}", timeout=600)
                changed = True
        finally:
            node.close()
        return changed

    with ThreadPoolExecutor(max_workers=len(T.SWARM_NODES)) as pool:
        return any(list(pool.map(pull, T.SWARM_NODES)))
