"""The hypervisors' root filesystem: Debian bookworm built offline into one ext4 image.

The lab's Debian tree (picacheck.lab.debian, shared with the container VMs' base image)
unpacked into a scratch tree under the cache, the report's packages installed by apt-get
inside a chroot, the UML kernel's modules copied in, a few lab settings, then
`mkfs.ext4 -d` turns the tree into a sparse image without mounting anything. The image is
read-only and shared: each machine boots from its own copy-on-write file over it.

The image is cached under CACHE_DIR, keyed by everything that goes into it; `down()`
keeps it for the next `up()`, `down(purge=True)` removes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab import debian
from picacheck.lab.hypervisors import hostdeps, plan
from picacheck.lab.hypervisors.seed import corosync_restart_dropin
from picacheck.progress import say, step

RECIPE_VERSION = 5  # bump when the build below changes


def _guest_file(name: str) -> str:
    return resources.files("picacheck.lab.hypervisors").joinpath("guest", name).read_text()


def image_key() -> str:
    kernel, _ = hostdeps.uml_modules_dir()
    material = json.dumps({
        "recipe": RECIPE_VERSION,
        "debian": debian.recipe(),
        "packages": plan.GUEST_PACKAGES,
        "kernel": kernel,
        "uml": hostdeps.uml_package_version(),
        "unit": _guest_file("picalab-firstboot.service.tmpl"),
        "wrapper": _guest_file("picalab-firstboot.sh"),
        "corosync_dropin": corosync_restart_dropin(),
        "size": plan.ROOTFS_SIZE,
    }, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def image_path() -> Path:
    return plan.CACHE_DIR / f"rootfs-{plan.DEBIAN_SUITE}-{image_key()}.img"


def _run(cmd: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")
    env.pop("PYTHONPATH", None)
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
        raise UserError(f"lab hypervisors: {what} failed (exit {result.returncode})", hint=tail)
    return result


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _symlink(target: str, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def ensure_image() -> Path:
    """The cached root filesystem image, built if absent (about a minute)."""
    image = image_path()
    if image.exists():
        return image
    hostdeps.ensure_host_tools()
    plan.CACHE_DIR.mkdir(parents=True, exist_ok=True)
    # Older images (another recipe) are useless now, unless a machine still runs on one.
    in_use = {m.backing_record.read_text().strip() for m in plan.MACHINES.values() if m.backing_record.exists()}
    for old in plan.CACHE_DIR.glob("rootfs-*.img"):
        if str(old) not in in_use:
            old.unlink()
    tree = plan.CACHE_DIR / f"tree-{image_key()}"
    if tree.exists():
        shutil.rmtree(tree)
    try:
        source = debian.tarball()
        with step("hypervisors: unpacking the lab's Debian tree"):
            tree.mkdir(parents=True)
            _run(["tar", "--numeric-owner", "-xf", str(source), "-C", str(tree)], "unpacking the Debian tree",
                 timeout=600)
        with step(f"hypervisors: apt-get install in the chroot ({len(plan.GUEST_PACKAGES)} packages)"):
            _install_packages(tree)
        _customize(tree)
        with step("hypervisors: root filesystem image (mkfs.ext4 -d)"):
            partial = image.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            _run(["mkfs.ext4", "-q", "-F", "-L", "picalab-root", "-d", str(tree), str(partial), plan.ROOTFS_SIZE],
                 "mkfs.ext4 -d (root image)", timeout=600)
            os.chmod(partial, 0o444)  # a backing file must never change (the COW files record its mtime)
            partial.rename(image)
    finally:
        if tree.exists():
            shutil.rmtree(tree, ignore_errors=True)
    say(f"hypervisors: root image {image} ({_used_mb(image)} MB used)")
    return image


def _used_mb(path: Path) -> int:
    return os.stat(path).st_blocks * 512 // (1024 * 1024)


def _install_packages(tree: Path) -> None:
    policy = tree / "usr/sbin/policy-rc.d"  # no daemon starts inside the chroot
    _write(policy, "#!/bin/sh\nexit 101\n", 0o755)
    resolv = tree / "etc/resolv.conf"
    if resolv.is_symlink():
        resolv.unlink()
    shutil.copyfile("/etc/resolv.conf", resolv)  # apt in the chroot resolves the mirror like the host
    sources = tree / "etc/apt/sources.list"
    _write(sources, f"deb {plan.DEBIAN_MIRROR} {plan.DEBIAN_SUITE} main\n")
    try:
        _run(["chroot", str(tree), "apt-get", "update"], "apt-get update (chroot)", timeout=600)
        _run(["chroot", str(tree), "apt-get", "install", "-y", "--no-install-recommends",
              "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
              *plan.GUEST_PACKAGES], "apt-get install (chroot)", timeout=1200)
        _run(["chroot", str(tree), "apt-get", "clean"], "apt-get clean (chroot)")
    finally:
        policy.unlink(missing_ok=True)
    # The machines have no route to any mirror: no sources, no package lists, no timers.
    _write(sources, "# picacheck lab: the hypervisors reach no mirror\n")
    shutil.rmtree(tree / "var/lib/apt/lists", ignore_errors=True)
    (tree / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)


def _customize(tree: Path) -> None:
    kernel, modules = hostdeps.uml_modules_dir()
    target = tree / "lib/modules" / kernel
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(modules, target, symlinks=True)

    etc = tree / "etc"
    _write(etc / "resolv.conf", "# written by /etc/rc.local at boot\n")
    _write(etc / "hostname", "picalab\n")
    _write(etc / "machine-id", "")  # each machine makes its own at first boot
    (tree / "var/lib/dbus/machine-id").unlink(missing_ok=True)
    for key in (etc / "ssh").glob("ssh_host_*"):
        key.unlink()  # made per machine at first boot
    _write(etc / "fstab", f"/dev/{plan.ROOT_DISK} / ext4 errors=remount-ro 0 1\n")

    # Modules: md and LVM, IPv6 (the rc.local loop walks /proc/sys/net/ipv6), bridge, NAT.
    _write(etc / "modules-load.d/picalab.conf",
           "# picacheck lab (UML kernel modules)\nipv6\nmd_mod\nraid1\ndm_mod\nbridge\nip_tables\niptable_nat\n")
    # The UML kernel has no nftables NAT chain type: iptables uses the legacy backend.
    for name in ("iptables", "ip6tables"):
        _run(["chroot", str(tree), "update-alternatives", "--set", name, f"/usr/sbin/{name}-legacy"],
             f"update-alternatives {name}")

    # UML's vector NICs are vec0, vec1, …; the report's names are eth0, eth1, eth2.
    for index in range(3):
        _write(etc / f"systemd/network/10-picalab-eth{index}.link",
               f"# picacheck lab: UML vector NIC vec{index} is the report's eth{index}\n"
               f"[Match]\nOriginalName=vec{index}\n\n[Link]\nName=eth{index}\n")

    system = etc / "systemd/system"
    # No terminal on the console (it is a log file), nothing that reaches out.
    for unit in ("getty@.service", "serial-getty@.service", "console-getty.service", "getty.target",
                 "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
                 "e2scrub_all.timer", "e2scrub_reap.service", "fstrim.timer", "systemd-timesyncd.service"):
        _symlink("/dev/null", system / unit)
    (system / "getty.target.wants/getty@tty1.service").unlink(missing_ok=True)
    (system / "multi-user.target.wants/e2scrub_reap.service").unlink(missing_ok=True)
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
                  "e2scrub_all.timer", "fstrim.timer"):
        (system / "timers.target.wants" / timer).unlink(missing_ok=True)
    # mconsole "cad" (ctrl-alt-del) is the host's clean shutdown button.
    _symlink("/lib/systemd/system/poweroff.target", system / "ctrl-alt-del.target")
    # rc.local runs at every boot (the report's network setup); the generator would only
    # enable it when /etc/rc.local exists at boot, which is not yet the case on the first one.
    _symlink("/lib/systemd/system/rc-local.service", system / "multi-user.target.wants/rc-local.service")
    _write(system / "rc-local.service.d/picalab.conf",
           "[Unit]\nAfter=picalab-firstboot.service\n")

    # First boot: the host's seed (hostfs) provisions the machine (disks, RAID, LVM, configs).
    _write(tree / "usr/local/sbin/picalab-firstboot", _guest_file("picalab-firstboot.sh"), 0o755)
    _write(system / "picalab-firstboot.service", _guest_file("picalab-firstboot.service.tmpl"))
    _symlink("/etc/systemd/system/picalab-firstboot.service",
             system / "sysinit.target.wants/picalab-firstboot.service")

    # The report's fix for the rc.local race (section 9), as a drop-in of Debian's unit.
    _write(system / "corosync.service.d/restart.conf", corosync_restart_dropin())

    _write(etc / "systemd/journald.conf.d/picalab.conf", "[Journal]\nStorage=volatile\nRuntimeMaxUse=16M\n")
    (etc / "corosync/corosync.conf").unlink(missing_ok=True)  # written at first boot
