"""The container VMs' section of the lab inventory: pica01, pica02 and admin, GlusterFS,
Swarm, the registry (inventory model: Host, Gluster, Swarm, Registry)."""

from __future__ import annotations

from picacheck.lab import topology as T

ROLES = {"pica01": ["swarm", "gluster"], "pica02": ["swarm", "gluster"], "admin": ["registry"]}
DAEMONS = {"pica01": ["sshd", "dockerd", "glusterd"], "pica02": ["sshd", "dockerd", "glusterd"],
           "admin": ["sshd", "dockerd"]}


def ssh(host: str) -> dict:
    """How the suite logs in: the CI user with sudo (root on pica01, so that both ways run)."""
    user = {"user": T.CI_USER, "sudo": True} if host in T.CI_USER_HOSTS else {"user": "root"}
    return {"address": T.ssh_address(host), **user, "key_file": str(T.SSH_KEY),
            "connect_timeout": 10, "command_timeout": 120}


def inventory_section() -> dict:
    hosts = {name: {"roles": ROLES[name], "ssh": ssh(name), "daemons": DAEMONS[name]} for name in T.CONTAINER_HOSTS}
    for name in hosts:
        if name in T.PUBLIC_HOSTS:  # admin has none: it lives behind alice's vmbr1 (S10) …
            hosts[name]["public_ipv4"] = T.HOSTS[name].address
        else:  # … where its address is a private one (what `inventory discover` finds there)
            hosts[name]["private_address"] = T.HOSTS[name].address
    return {
        "hosts": hosts,
        "gluster": {
            "peers": list(T.GLUSTER_NODES),
            "volumes": [{
                "name": T.GLUSTER_VOLUME, "type": "Replicate", "replica": 2,
                "bricks": [f"{node}:{T.GLUSTER_BRICK}" for node in T.GLUSTER_NODES],
                "auth_allow_required": True,
                "brick_filesystem": {"filesystem": "ext4", "mountpoint": T.GLUSTER_BRICK},
                "mount": {"path": T.GLUSTER_MOUNT, "hosts": list(T.GLUSTER_NODES), "fstab_options": ["_netdev"]},
            }],
        },
        "swarm": {"managers": list(T.SWARM_NODES), "networks": [{"name": T.SWARM_OVERLAY, "driver": "overlay"}],
                  "images_on_every_node": True},
        "tls": {"ca_file": str(T.CA_DIR / "ca.crt")},
        "registry": {
            "host": T.REGISTRY_HOST,
            "url": f"https://{T.REGISTRY}",
            "user": T.REGISTRY_USER,
            "password_file": str(T.REGISTRY_PASSWORD_FILE),
            "ca_file": str(T.CA_DIR / "ca.crt"),
            "expected_images": list(T.LAB_IMAGES),
        },
    }
