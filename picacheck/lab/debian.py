"""Debian bookworm from `debootstrap --variant=minbase`, made once for the whole lab: the
container VMs' base image imports it, the hypervisors' root filesystem starts from it.

The tarball is cached under LAB_DIR/cache/debian, named after its recipe (suite, mirror,
included packages): `lab down` keeps it, a changed recipe makes a new one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab import engine
from picacheck.lab import topology as T
from picacheck.progress import step

CACHE = T.CACHE_DIR / "debian"
# Small tools every lab image gets (busybox gives tx-hello its web server).
INCLUDE = ("ca-certificates", "busybox", "curl")
RECIPE_VERSION = "v2"  # bump when the tree below changes

_lock = threading.Lock()  # the vms and hypervisors parts ask for it at the same time


def recipe() -> str:
    material = "\0".join((T.DEBIAN_SUITE, T.DEBIAN_MIRROR, ",".join(INCLUDE), RECIPE_VERSION))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def tarball() -> Path:
    """The minbase tree as a tarball (numeric owners), made if absent (about 40 s)."""
    path = CACHE / f"minbase-{T.DEBIAN_SUITE}-{recipe()}.tar"
    with _lock:
        if path.exists():
            return path
        engine.ensure_host_tools({"debootstrap": "debootstrap", "tar": "tar"})
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob("minbase-*.tar"):
            old.unlink()  # another recipe: useless now
        tree = CACHE / "tree"
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir()
        try:
            _debootstrap(tree)
            _tidy(tree)
            with step("Packing the Debian tree"):
                partial = path.with_suffix(".partial")
                engine.run(["tar", "--numeric-owner", "-C", str(tree), "-cf", str(partial), "."],
                           what="packing the Debian tree", timeout=600)
                partial.rename(path)
        finally:
            shutil.rmtree(tree, ignore_errors=True)
    return path


def _debootstrap(tree: Path) -> None:
    with step(f"debootstrap --variant=minbase {T.DEBIAN_SUITE} from {T.DEBIAN_MIRROR} (about 40 s, once)"):
        argv = ["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}",
                T.DEBIAN_SUITE, str(tree), T.DEBIAN_MIRROR]
        log = T.LOG_DIR / "debootstrap.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=1200)
        if done.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise UserError(f"lab: debootstrap failed (exit {done.returncode}): {' / '.join(tail)}",
                            hint=f"full log: {log}; the lab needs HTTP access to {T.DEBIAN_MIRROR}")


def _tidy(tree: Path) -> None:
    """What neither a container image nor a machine's root should carry."""
    for leftover in ("etc/resolv.conf", "etc/hostname"):
        (tree / leftover).unlink(missing_ok=True)
    for directory in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (tree / directory).glob("*"):
            if entry.is_file() and entry.name != "lock":
                entry.unlink()
    (tree / "etc/apt/apt.conf.d/90picalab").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n')
