"""The lab's one image-build helper: every image the lab makes (the node image, the services'
and the dump jobs' images) is built here, in the lab's own Docker engine, once per recipe.

    recipe = Recipe("registry.picasoft.test:5000/tx-mysql", RECIPES / "tx-mysql", base=TX_DEBIAN)
    ensure_built(recipe)        # built, or loaded from LAB_DIR/cache/images (kept by `lab down`)
    distribute([recipe])        # admin pushes it (`docker load` from the cache, `docker push`),
                                # both Swarm nodes pull it from the registry (through alice)

A recipe's hash covers its Dockerfile folder, the files added to its context, its build
arguments and its base image's hash; images are tagged <name>:<hash> and <name>:latest and
carry the hash as a label. `picalab-base` (the Debian tree of picacheck.lab.debian,
imported) is the root of every recipe.
"""

from __future__ import annotations

import hashlib
import io
import shlex
import tarfile
import tempfile
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import docker
import docker.errors
import requests

from picacheck.errors import UserError
from picacheck.lab import debian, engine, keys
from picacheck.lab import topology as T
from picacheck.lab.ssh import Node
from picacheck.progress import say, step

CACHE = T.CACHE_DIR / "images"  # image tarballs by recipe; admin sees them at MOUNT
MOUNT = "/picalab-cache/images"  # (vms/nodes.py mounts LAB_DIR/cache on admin, read-only)
RECIPE_LABEL = f"{T.LABEL}.recipe"

_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)  # one build per image at a time
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Recipe:
    name: str  # repository, e.g. registry.picasoft.test:5000/tx-mysql (tags: the hash, latest)
    directory: Path  # the Dockerfile folder
    base: "Recipe | None" = None  # the lab image it is built FROM (None: picalab-base)
    extra: Callable[[], dict[str, Path | bytes]] | None = field(default=None, compare=False)  # more context files
    identity: str = ""  # what `extra` holds (pinned versions), hashed instead of its bytes
    build_args: tuple[tuple[str, str], ...] = ()
    label: str = "1"  # the value of topology.LABEL on the image: the part it belongs to

    @property
    def short(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    def hash(self) -> str:
        digest = hashlib.sha256(self.name.encode() + b"\0" + self.identity.encode() + b"\0")
        digest.update((self.base.hash() if self.base else debian.recipe()).encode())
        for key, value in self.build_args:
            digest.update(f"{key}={value}\0".encode())
        for path in sorted(self.directory.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(self.directory)).encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()[:16]

    def ref(self, tag: str | None = None) -> str:
        return f"{self.name}:{tag or self.hash()}"

    def cache_file(self) -> Path:
        return CACHE / f"{self.short}-{self.hash()}.tar"


# The report's base of every project image, as the lab's engine builds it (admin builds its
# own from the same folder and pushes it: picacheck.lab.vms.cluster).
TX_DEBIAN = Recipe(f"{T.REGISTRY}/tx-debian", Path(__file__).parent / "vms" / "tx-chatons" / "tx-debian")


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks[name]


def _image(client: docker.DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


# --- the base ------------------------------------------------------------------------------


def ensure_base(client: docker.DockerClient) -> bool:
    """picalab-base: the Debian tree imported into the lab's engine."""
    with _lock(T.BASE_IMAGE):
        recipe = debian.recipe()
        image = _image(client, T.BASE_IMAGE)
        if image is not None and (image.labels or {}).get(RECIPE_LABEL) == recipe:
            return False
        tree = debian.tarball()
        with step(f"Importing {T.BASE_IMAGE} into the lab's engine"):
            repository, tag = T.BASE_IMAGE.split(":")
            changes = [f"LABEL {RECIPE_LABEL}={recipe}", f"LABEL {T.LABEL}=1", 'CMD ["/bin/bash"]', "ENV LANG=C.UTF-8"]
            try:
                client.api.import_image_from_file(str(tree), repository=repository, tag=tag, changes=changes)
            except docker.errors.APIError as error:
                raise UserError(f"lab: importing the base image failed: {error.explanation or error}") from None
        return True


# --- building in the lab's engine ----------------------------------------------------------


def ensure_built(recipe: Recipe) -> bool:
    """The image in the lab's engine at its recipe: already there, loaded from the cache, or
    built (then saved to the cache). Returns whether anything was done."""
    with engine.lab_client() as client:
        if recipe.base:
            ensure_built(recipe.base)
        else:
            ensure_base(client)
        with _lock(recipe.name):
            tag = recipe.hash()
            if _image(client, recipe.ref(tag)) is not None:
                return False
            cached = recipe.cache_file()
            if cached.exists():
                with step(f"Loading {recipe.short} from the image cache"), open(cached, "rb") as handle:
                    client.images.load(handle)
            else:
                _build(client, recipe, tag)
                _save(client, recipe, tag)
            client.images.get(recipe.ref(tag)).tag(recipe.name, "latest")
        return True


def _context(recipe: Recipe) -> tempfile.SpooledTemporaryFile:
    """The build context: the recipe folder and the extra files, as a tar (root-owned)."""
    buffer = tempfile.SpooledTemporaryFile(max_size=64 * 2**20)
    files: dict[str, Path | bytes] = {str(p.relative_to(recipe.directory)): p
                                      for p in sorted(recipe.directory.rglob("*")) if p.is_file()}
    files.update(recipe.extra() if recipe.extra else {})
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, source in sorted(files.items()):
            if isinstance(source, bytes):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(source), 0o755 if name.endswith(".sh") else 0o644
                tar.addfile(info, io.BytesIO(source))
                continue
            info = tar.gettarinfo(str(source), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with open(source, "rb") as handle:
                tar.addfile(info, handle)
    buffer.seek(0)
    return buffer


def _build(client: docker.DockerClient, recipe: Recipe, tag: str) -> None:
    log_path = T.LOG_DIR / f"build-{recipe.short}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    args = {"REGISTRY": T.REGISTRY, "BASE_TAG": recipe.base.hash() if recipe.base else "", **dict(recipe.build_args)}
    with step(f"Building {recipe.short} (recipe {tag})"), open(log_path, "w") as log, _context(recipe) as context:
        error = None
        stream = client.api.build(fileobj=context, custom_context=True, tag=recipe.ref(tag), rm=True, forcerm=True,
                                  decode=True, network_mode="host", buildargs=args,
                                  labels={RECIPE_LABEL: tag, T.LABEL: recipe.label})
        for chunk in stream:
            text = chunk.get("stream") or ""
            log.write(text)
            if text.startswith("Step "):
                say(f"  {recipe.short}: " + text.strip()[:100])
            if "error" in chunk:
                error = chunk.get("error") or str(chunk.get("errorDetail"))
                log.write(f"ERROR: {error}\n")
        if error:
            raise UserError(f"lab: building {recipe.short} failed: {error.strip().splitlines()[-1]}",
                            hint=f"full log: {log_path}")
    # No pruning of dangling images: the intermediate images of the builds running beside
    # this one are dangling too (and images are tagged by recipe: no tag ever moves but latest).


def _save(client: docker.DockerClient, recipe: Recipe, tag: str) -> None:
    """The image into the cache (so that a lab made again skips the build); older recipes out."""
    CACHE.mkdir(parents=True, exist_ok=True)
    target = recipe.cache_file()
    partial = target.with_suffix(".partial")
    with step(f"Saving {recipe.short} to the image cache"), open(partial, "wb") as out:
        for chunk in client.images.get(recipe.ref(tag)).save(named=recipe.ref(tag)):
            out.write(chunk)
    partial.rename(target)
    for old in CACHE.glob(f"{recipe.short}-*.tar"):
        if old != target:
            old.unlink()


def remove_all(client: docker.DockerClient) -> bool:
    """Remove every image the lab made (only needed on an engine the lab does not own)."""
    changed = False
    for image in client.images.list(filters={"label": T.LABEL}):
        try:
            client.images.remove(image.id, force=True)
            changed = True
        except docker.errors.APIError:
            pass
    return changed


# --- the registry, admin, the Swarm nodes --------------------------------------------------

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])


def registry_url(path: str) -> str:
    # The host does not resolve the registry's name; its certificate also names this address.
    return f"https://{T.REGISTRY_ADDRESS}:{T.REGISTRY_PORT}{path}"


def in_registry(repository: str, tag: str) -> bool:
    user, password = keys.registry_credentials()
    try:
        response = requests.head(registry_url(f"/v2/{repository}/manifests/{tag}"), auth=(user, password),
                                 headers={"Accept": MANIFEST_TYPES}, verify=str(keys.CA_CERT), timeout=10)
    except requests.RequestException as error:
        raise UserError(f"lab: the registry ({T.REGISTRY}) does not answer: {error}") from None
    return response.status_code == 200


def registry_tags(repository: str) -> list[str]:
    user, password = keys.registry_credentials()
    try:
        response = requests.get(registry_url(f"/v2/{repository}/tags/list"), auth=(user, password),
                                verify=str(keys.CA_CERT), timeout=10)
    except requests.RequestException:
        return []
    return list(response.json().get("tags") or []) if response.status_code == 200 else []


def remove_from_registry(repositories: list[str]) -> bool:
    """Delete every tag of these repositories from the lab registry (blobs stay until a GC)."""
    user, password = keys.registry_credentials()
    changed = False
    for repository in repositories:
        for tag in registry_tags(repository):
            try:
                head = requests.head(registry_url(f"/v2/{repository}/manifests/{tag}"), auth=(user, password),
                                     headers={"Accept": MANIFEST_TYPES}, verify=str(keys.CA_CERT), timeout=10)
                digest = head.headers.get("Docker-Content-Digest")
                if head.status_code == 200 and digest:
                    requests.delete(registry_url(f"/v2/{repository}/manifests/{digest}"), auth=(user, password),
                                    verify=str(keys.CA_CERT), timeout=10)
                    changed = True
            except requests.RequestException:
                continue
    return changed


def local_recipe(node, reference: str) -> str:
    """The recipe label of an image in a node's engine ('' when it has no such image)."""
    result = node.run(f"docker image inspect --format '{{{{index .Config.Labels \"{RECIPE_LABEL}\"}}}}' "
                      f"{shlex.quote(reference)}", check=False, timeout=30)
    return result.stdout.strip() if result.ok else ""


def publish(admin, recipes: list[Recipe]) -> bool:
    """Each image in the registry at its recipe, pushed by admin from the cache (admin mounts
    it at MOUNT). Returns whether one was pushed."""
    changed = False
    for recipe in recipes:
        tag = recipe.hash()
        if in_registry(recipe.short, tag):
            continue
        reference, latest = recipe.ref(tag), recipe.ref("latest")
        with step(f"admin: docker load and push {recipe.short}:{tag}"):
            if local_recipe(admin, reference) != tag:
                admin.run(f"docker load -q -i {MOUNT}/{recipe.cache_file().name}", what=f"loading {recipe.short}",
                          timeout=600)
            admin.run(f"docker tag {reference} {latest} && docker push -q {reference} && docker push -q {latest}",
                      what=f"pushing {recipe.short}", timeout=900)
        changed = True
    return changed


def pull(node, recipes: list[Recipe]) -> bool:
    """Each image on a Swarm node, pulled from the registry. Returns whether one was pulled."""
    changed = False
    for recipe in recipes:
        reference = recipe.ref()
        if local_recipe(node, reference) == recipe.hash():
            continue
        with step(f"{node.name}: docker pull {reference}"):
            node.run(f"docker pull -q {reference}", what=f"pulling {reference}", timeout=900)
        changed = True
    return changed


def distribute(recipes: list[Recipe], nodes: tuple[str, ...] = T.SWARM_NODES) -> bool:
    """Each image in the registry and on every Swarm node: admin pushes them one after the
    other, and the nodes pull each one while admin pushes the next. Returns whether anything
    was pushed or pulled."""
    pullers = {host: ThreadPoolExecutor(1, thread_name_prefix=f"pull-{host}") for host in nodes}
    pulls = []
    admin = Node(T.REGISTRY_HOST)
    try:
        pushed = False
        for recipe in recipes:
            pushed |= publish(admin, [recipe])
            pulls += [pool.submit(_pull_on, host, recipe) for host, pool in pullers.items()]
        return any([future.result() for future in pulls]) or pushed
    finally:
        admin.close()
        for pool in pullers.values():
            pool.shutdown(wait=True)


def _pull_on(host: str, recipe: Recipe) -> bool:
    node = Node(host)
    try:
        return pull(node, [recipe])
    finally:
        node.close()
