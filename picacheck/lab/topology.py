"""The embedded lab's fixed plan: names, addresses and paths shared by every lab module.

The lab mirrors the report's topology on one machine:

    alice, bob        hypervisors: user-mode-linux machines (real kernel: md, LVM, corosync)
    pica01, pica02    service VMs: Docker-in-Docker containers (sshd, dockerd, glusterd)
    admin             the private registry VM (TLS from the lab CA, htpasswd), only on the
                      private network behind alice's vmbr1, reached through alice's DNAT
                      (registry, 80, 443) and, over SSH, with alice as jump host
    ns, acme          the lab's stand-ins for the Internet's DNS and Let's Encrypt
                      (containers of the lab's engine on the public lab network)

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

# The private network behind alice's vmbr1 (the report's 10.0.42.0/24): alice's vmbr1 is
# its gateway (.1); the host has no address there.
PRIVATE_NETWORK_NAME = "picalab-vmbr1"
PRIVATE_BRIDGE_NAME = "picalab1"
PRIVATE_SUBNET = "172.30.43.0/24"
VMBR1_ADDRESS = "172.30.43.1"  # the report's 10.0.42.1

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
    "admin": LabHost("admin", "172.30.43.2", "container"),  # private: the report's 10.0.42.2
}
PUBLIC_HOSTS = tuple(name for name, host in HOSTS.items() if host.address.startswith(SUBNET.rsplit(".", 1)[0] + "."))

# The Internet's stand-ins on the public lab network: DNS (bind9, authoritative for DOMAIN)
# and the ACME CA (pebble), run by the services part.
DNS_ADDRESS = "172.30.42.53"
ACME_ADDRESS = "172.30.42.54"

# The user the suite logs in as on these hosts, with the lab key and sudo (issue 17): what a
# staging or production CI gets. pica01 keeps root, so both ways are proven on every run.
CI_USER = "picacheck"
CI_UID = 2000
CI_USER_HOSTS = ("alice", "bob", "pica02", "admin")
CI_SUDOERS = ("# picacheck: the suite runs each privileged command as `sudo -n /bin/sh -c …` and reaches\n"
              "# the Docker API with `sudo -n docker system dial-stdio`\n"
              f"{CI_USER} ALL=(root) NOPASSWD: /bin/sh, /usr/bin/docker\n")

SWARM_NODES = ("pica01", "pica02")
HYPERVISORS = ("alice", "bob")

# Private cluster addresses of the hypervisors (the report's 192.168.10.0/24), lab range.
HYPERVISOR_PRIVATE = {"alice": "172.30.44.1", "bob": "172.30.44.2"}

# Where each VM "runs" (its hypervisor) and its VM id (the vzdump archives' names).
VM_PLACEMENT = {"pica01": ("alice", 100), "admin": ("alice", 101), "pica02": ("bob", 102)}

# Hosts reached through another one over SSH (ProxyCommand `ssh -W`), as in the report.
JUMP_HOSTS = {"admin": "alice"}

# --- the container part of the lab (pica01, pica02, admin) -----------------------------

CONTAINER_HOSTS = tuple(name for name, host in HOSTS.items() if host.kind == "container")
CONTAINER_PREFIX = "picalab-"  # Docker object names: picalab-pica01, picalab-pica01-docker, …
LABEL = "org.picasoft.picalab"  # every Docker object the lab makes carries this label

# Everything else the lab writes under LAB_DIR.
STATE_FILE = LAB_DIR / "state.json"  # which engine, whether the lab started it, what it changed
SSH_KNOWN_HOSTS = LAB_DIR / "ssh" / "known_hosts"
SECRETS_DIR = LAB_DIR / "secrets"
DISKS_DIR = LAB_DIR / "disks"  # ext4 images on loop devices: the LV vg01/data of each node
CACHE_DIR = LAB_DIR / "cache"  # what `lab down` keeps: the Debian tree, images by recipe, downloads
LOG_DIR = LAB_DIR / "logs"

# Images in the lab's engine (picacheck.lab.debian imported, then Dockerfiles: lab/images.py).
BASE_IMAGE = "picalab-base:bookworm"
NODE_IMAGE = "picalab-node:latest"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("PICACHECK_LAB_MIRROR", "http://deb.debian.org/debian")

# GlusterFS, as in the report (LV vg01/data on /gluster-data, volume mounted on /DATA).
GLUSTER_NODES = SWARM_NODES
GLUSTER_VOLUME = "gluster-data"
GLUSTER_BRICK = "/gluster-data"
GLUSTER_MOUNT = "/DATA"
BRICK_DEVICE = "/dev/mapper/vg01-data"  # inside the container: the host's loop device
BRICK_SIZE_MB = 2048  # sparse file

# Docker Swarm.
SWARM_LEADER = "pica01"
SWARM_OVERLAY = "pica-net"

# The private registry on admin (the report's registry.picasoft.net:5000).
REGISTRY_HOST = "admin"
REGISTRY_HOSTNAME = f"registry.{DOMAIN}"
REGISTRY_PORT = 5000
REGISTRY = f"{REGISTRY_HOSTNAME}:{REGISTRY_PORT}"
REGISTRY_USER = "pica"
REGISTRY_USER_FILE = SECRETS_DIR / "registry_user"
REGISTRY_PASSWORD_FILE = SECRETS_DIR / "registry_password"
REGISTRY_DIR = "/DOCKER/registry"  # on admin: data, certs, auth (as in the report)
DOCKERFILES_DIR = "/DOCKER/tx-chatons"  # on admin: the image sources, as in the report
# The project images the lab builds on admin and pushes: tx-debian (the report's base
# image) and a small web service built on it, to prove that pushes and pulls work.
LAB_IMAGES = ("tx-debian", "tx-hello")

# The DNS server that the inner Docker engines give their containers (Swarm services
# included): the lab's DNS. Without it an inner container would fall back to a public
# resolver; with it, nothing leaves the lab, and until it runs, lookups fail fast.
INNER_DNS = DNS_ADDRESS


# Where the registry is reached: alice's public address, which forwards 5000 to admin (its
# certificate names this address too). On admin itself: admin (alice forwards only what
# comes in on its public interface).
REGISTRY_FORWARDER = "alice"
REGISTRY_ADDRESS = HOSTS[REGISTRY_FORWARDER].address


def ssh_address(host: str) -> str:
    """The address a host is reached at over SSH (through its jump host, if it has one)."""
    return HOSTS[host].address


def container_name(host: str) -> str:
    return f"{CONTAINER_PREFIX}{host}"


def host_aliases(on: str) -> dict[str, str]:
    """Name → address lines of the lab container `on`'s /etc/hosts (not its own name)."""
    aliases = {}
    for name, host in HOSTS.items():
        if name != on:
            aliases[name] = host.address
            aliases[f"{name}.{DOMAIN}"] = host.address
    aliases[REGISTRY_HOSTNAME] = HOSTS[REGISTRY_HOST].address if on == REGISTRY_HOST else REGISTRY_ADDRESS
    return aliases
