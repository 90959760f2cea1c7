"""The embedded lab's fixed plan: names, addresses and paths shared by every lab module.

The lab mirrors the report's topology on one machine:

    alice, bob        hypervisors: user-mode-linux machines (real kernel: md, LVM, corosync)
    pica01, pica02    service VMs: Docker-in-Docker containers (sshd, dockerd, glusterd)
    admin             the private registry VM (TLS from the lab CA, htpasswd)

Every address below is inside the lab's own bridges on this machine; nothing here is ever
routed anywhere else. The DNS domain is under `.test` (RFC 2606), so it can never leak.
"""

import os
from dataclasses import dataclass
from pathlib import Path

# Where the lab keeps everything it makes (Docker data root, disks, keys, CA, inventory).
# `picacheck lab down` removes this directory.
LAB_DIR = Path(os.environ.get("PICACHECK_LAB_DIR", "/var/lib/picacheck-lab"))
RUN_DIR = Path(os.environ.get("PICACHECK_LAB_RUN_DIR", "/run/picacheck-lab"))

# The lab's own Docker engine (started by the lab when none is reachable).
DOCKER_SOCKET = RUN_DIR / "docker.sock"
DOCKER_DATA_ROOT = LAB_DIR / "docker"
DOCKER_EXEC_ROOT = RUN_DIR / "exec"
DOCKER_PIDFILE = RUN_DIR / "docker.pid"

# The lab's "public" network: every lab host has an address here.
NETWORK_NAME = "picalab"
BRIDGE_NAME = "picalab0"
SUBNET = "172.30.42.0/24"
GATEWAY = "172.30.42.1"  # the host side of the bridge

# The private network behind alice's vmbr1 (the report's 10.0.42.0/24).
PRIVATE_NETWORK_NAME = "picalab-vmbr1"
PRIVATE_BRIDGE_NAME = "picalab1"
PRIVATE_SUBNET = "172.30.43.0/24"

DOMAIN = "picasoft.test"

SSH_KEY = LAB_DIR / "ssh" / "id_ed25519"
CA_DIR = LAB_DIR / "ca"
INVENTORY_FILE = LAB_DIR / "inventory.yml"


@dataclass(frozen=True)
class LabHost:
    name: str
    address: str
    kind: str  # "container" (Docker-in-Docker) or "uml" (user-mode-linux)


HOSTS = {
    "alice": LabHost("alice", "172.30.42.2", "uml"),
    "bob": LabHost("bob", "172.30.42.3", "uml"),
    "pica01": LabHost("pica01", "172.30.42.11", "container"),
    "pica02": LabHost("pica02", "172.30.42.12", "container"),
    "admin": LabHost("admin", "172.30.42.20", "container"),
}

SWARM_NODES = ("pica01", "pica02")
HYPERVISORS = ("alice", "bob")

# Private cluster addresses of the hypervisors (the report's 192.168.10.0/24), lab range.
HYPERVISOR_PRIVATE = {"alice": "172.30.44.1", "bob": "172.30.44.2"}
