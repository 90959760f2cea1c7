"""The lab's images, built offline.

- `picalab-base`: Debian bookworm from `debootstrap --variant=minbase`, imported into the
  lab's engine (no registry is ever asked). The tarball stays in LAB_DIR/share so that the
  admin node can import the same base for the project images it builds.
- `picalab-node`: the base plus the node software (sshd, dockerd, glusterd, registry, …)
  from Debian's mirror, built from picacheck/lab/node/Dockerfile.

Both carry a recipe hash label; an image whose recipe has not changed is not rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
from pathlib import Path

import docker
import docker.errors

from picacheck.errors import UserError
from picacheck.lab import engine
from picacheck.lab import topology as T
from picacheck.progress import say, step

NODE_DIR = Path(__file__).parent / "node"
SHARE_DIR = T.LAB_DIR / "share"  # mounted read-only on admin at /picalab
BASE_TARBALL = SHARE_DIR / "picalab-base.tar"
RECIPE_LABEL = f"{T.LABEL}.recipe"

# Small tools every lab image gets (busybox gives tx-hello its web server).
BASE_INCLUDE = ("ca-certificates", "busybox", "curl")


def _recipe(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def base_recipe() -> str:
    return _recipe(T.DEBIAN_SUITE.encode(), T.DEBIAN_MIRROR.encode(), ",".join(BASE_INCLUDE).encode(), b"v1")


def node_recipe(base_id: str) -> str:
    files = sorted(p for p in NODE_DIR.rglob("*") if p.is_file())
    return _recipe(base_id.encode(), *(p.name.encode() + p.read_bytes() for p in files))


def _image(client: docker.DockerClient, ref: str):
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _has_recipe(image, recipe: str) -> bool:
    return image is not None and (image.labels or {}).get(RECIPE_LABEL) == recipe


# --- base ------------------------------------------------------------------------------


def ensure_base(client: docker.DockerClient) -> bool:
    """The base image, and its tarball in SHARE_DIR. Returns whether anything was made."""
    recipe = base_recipe()
    image = _image(client, T.BASE_IMAGE)
    if _has_recipe(image, recipe) and BASE_TARBALL.exists():
        return False
    engine.ensure_host_tools({"debootstrap": "debootstrap", "tar": "tar"})
    SHARE_DIR.mkdir(parents=True, exist_ok=True)
    if not BASE_TARBALL.exists():
        _debootstrap()
    with step(f"Importing {T.BASE_IMAGE} into the lab's engine"):
        repository, tag = T.BASE_IMAGE.split(":")
        changes = [f"LABEL {RECIPE_LABEL}={recipe}", f"LABEL {T.LABEL}=1", 'CMD ["/bin/bash"]',
                   "ENV LANG=C.UTF-8"]
        try:
            client.api.import_image_from_file(str(BASE_TARBALL), repository=repository, tag=tag, changes=changes)
        except docker.errors.APIError as error:
            raise UserError(f"lab: importing the base image failed: {error.explanation or error}") from None
    return True


def _debootstrap() -> None:
    root = T.CACHE_DIR / "rootfs"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    with step(f"debootstrap --variant=minbase {T.DEBIAN_SUITE} from {T.DEBIAN_MIRROR} (about 30 s)"):
        argv = ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_INCLUDE)}",
                T.DEBIAN_SUITE, str(root), T.DEBIAN_MIRROR]
        log = T.LOG_DIR / "debootstrap.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1200)
        if done.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise UserError(f"lab: debootstrap failed (exit {done.returncode}): {' / '.join(tail)}",
                            hint=f"full log: {log}; the lab needs HTTP access to {T.DEBIAN_MIRROR}")
        # What a container image should not carry.
        for leftover in ("etc/resolv.conf", "etc/hostname"):
            (root / leftover).unlink(missing_ok=True)
        for directory in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / directory).glob("*"):
                if entry.is_file() and entry.name != "lock":
                    entry.unlink()
        (root / "etc/apt/apt.conf.d/90picalab").write_text(
            'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n')
    with step("Packing the base tree"):
        partial = BASE_TARBALL.with_suffix(".partial")
        engine.run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."],
                   what="packing the base tree", timeout=600)
        partial.rename(BASE_TARBALL)
    shutil.rmtree(root)


# --- node ------------------------------------------------------------------------------


def _context(directory: Path) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                info = tar.gettarinfo(str(path), arcname=str(path.relative_to(directory)))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
    buffer.seek(0)
    return buffer


def build(client: docker.DockerClient, directory: Path, tag: str, recipe: str, title: str) -> None:
    """Build a Dockerfile directory with the Docker API, showing its steps."""
    log_path = T.LOG_DIR / f"build-{tag.replace(':', '_').replace('/', '_')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with step(title), open(log_path, "w") as log:
        error = None
        stream = client.api.build(fileobj=_context(directory), custom_context=True, tag=tag, rm=True,
                                  forcerm=True, decode=True, network_mode="host",
                                  labels={RECIPE_LABEL: recipe, T.LABEL: "1"})
        for chunk in stream:
            text = chunk.get("stream") or ""
            log.write(text)
            if text.startswith("Step "):
                say("  " + text.strip()[:110])
            if "error" in chunk:
                error = chunk.get("error") or str(chunk.get("errorDetail"))
                log.write(f"ERROR: {error}\n")
        if error:
            raise UserError(f"lab: building {tag} failed: {error.strip().splitlines()[-1]}", hint=f"full log: {log_path}")


def ensure_node(client: docker.DockerClient) -> bool:
    base = _image(client, T.BASE_IMAGE)
    if base is None:
        raise UserError(f"lab: the base image {T.BASE_IMAGE} is missing")
    recipe = node_recipe(base.id)
    if _has_recipe(_image(client, T.NODE_IMAGE), recipe):
        return False
    build(client, NODE_DIR, T.NODE_IMAGE, recipe,
          f"Building {T.NODE_IMAGE} (sshd, dockerd, glusterd, registry from Debian; about 1 min the first time)")
    _prune_dangling(client)
    return True


def _prune_dangling(client: docker.DockerClient) -> None:
    try:
        client.images.prune(filters={"dangling": True, "label": T.LABEL})
    except docker.errors.APIError:
        pass


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
