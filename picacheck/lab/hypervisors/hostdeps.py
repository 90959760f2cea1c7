"""The host programs the hypervisors need, installed with apt-get when missing.

A fresh CI machine has none of them; when one cannot be installed the user gets one line
naming the package (UserError, exit 2).
"""

from __future__ import annotations

import os
import shutil
import subprocess

from picacheck.errors import UserError
from picacheck.progress import say

# command → Debian package that provides it
TOOLS = {
    "linux.uml": "user-mode-linux",
    "debootstrap": "debootstrap",
    "mkfs.ext4": "e2fsprogs",
    "ip": "iproute2",
    "iptables": "iptables",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "setsid": "util-linux",
}
# Binaries that are not on PATH but must exist.
FILES = {
    "/usr/share/keyrings/debian-archive-keyring.gpg": "debian-archive-keyring",
}


def _missing() -> list[str]:
    packages = [pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd) is None]
    packages += [pkg for path, pkg in FILES.items() if not os.path.exists(path)]
    return sorted(set(packages))


def _apt_install(packages: list[str]) -> tuple[bool, str]:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:  # stale or absent package lists: refresh once, then retry
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True)
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
    return result.returncode == 0, tail[0]


def ensure_host_tools() -> None:
    """Install the missing host packages, or raise UserError naming them."""
    if os.geteuid() != 0:
        raise UserError("lab hypervisors: must run as root (user-mode-linux taps, bridges, debootstrap)")
    if not os.path.exists("/dev/net/tun"):
        raise UserError("lab hypervisors: no /dev/net/tun on this host",
                        hint="the machines' NICs are tap devices: load the tun module or use a kernel with TUN/TAP")
    packages = _missing()
    if not packages:
        return
    if shutil.which("apt-get") is None:
        raise UserError(f"lab hypervisors: missing host packages {', '.join(packages)}",
                        hint="install them; this machine has no apt-get")
    say(f"hypervisors: installing host packages {' '.join(packages)}")
    ok, detail = _apt_install(packages)
    still = _missing()
    if not ok or still:
        raise UserError(f"lab hypervisors: cannot install host packages {', '.join(still or packages)}",
                        hint=f"apt-get install {' '.join(still or packages)} failed: {detail}")


def uml_modules_dir() -> tuple[str, str]:
    """(kernel version, directory) of the UML kernel's modules."""
    base = "/usr/lib/uml/modules"
    versions = sorted(os.listdir(base)) if os.path.isdir(base) else []
    if not versions:
        raise UserError("lab hypervisors: no UML kernel modules under /usr/lib/uml/modules",
                        hint="reinstall the user-mode-linux package")
    return versions[-1], os.path.join(base, versions[-1])


def uml_package_version() -> str:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "user-mode-linux"],
                            capture_output=True, text=True)
    return result.stdout.strip() or "unknown"
