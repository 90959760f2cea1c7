"""The host programs the hypervisors need, installed with apt-get when missing.

A fresh CI machine has none of them; when one cannot be installed the user gets one line
naming the package (UserError, exit 2).
"""

from __future__ import annotations

import os
import subprocess

from picacheck.errors import UserError
from picacheck.lab import engine

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
# Files that must exist (engine.ensure_host_tools takes absolute paths as files).
FILES = {
    "/usr/share/keyrings/debian-archive-keyring.gpg": "debian-archive-keyring",
}


def ensure_host_tools() -> None:
    """Install the missing host packages, or raise UserError naming them."""
    if os.geteuid() != 0:
        raise UserError("lab hypervisors: must run as root (user-mode-linux taps, bridges, debootstrap)")
    if not os.path.exists("/dev/net/tun"):
        raise UserError("lab hypervisors: no /dev/net/tun on this host",
                        hint="the machines' NICs are tap devices: load the tun module or use a kernel with TUN/TAP")
    engine.ensure_host_tools({**TOOLS, **FILES})


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
