"""The lab's inventory: the documented state, in the lab's own values.

Written by `picacheck lab up` to topology.INVENTORY_FILE, and used by `picacheck verify` by
default. It says the same things as inventory/picasoft.yml (same arrays, same cluster, same
services and policies) with the lab's addresses, sizes and device names, and lists under
`not_applicable` the claims the lab cannot show, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from picacheck.inventory.loader import load_inventory
from picacheck.lab import topology as T
from picacheck.load.slo import PROPOSED_LAB_SLOS as LAB_SLOS

# Claims that no part of the lab can show, and why (the report counts them as such).
NOT_APPLICABLE = {
    "H7": "the lab's hypervisors are user-mode-linux machines: the kernel is started directly, there is no GRUB",
    "H8": "no GRUB in the lab (user-mode-linux boots its kernel directly), so no GRUB command line",
    "S8": "Kanboard is not in the lab (no offline package); the lab's applications are open",
    "S10": "the lab's admin VM sits on the lab network, not behind alice's vmbr1: alice has the DNAT (H12) "
           "but the registry is reached directly",
    "S11": "the lab has no monitoring VM (metricbeat/Elasticsearch/Kibana are not installable offline)",
}


def _ssh(host: str) -> dict:
    return {"address": T.HOSTS[host].address, "user": "root", "key_file": str(T.SSH_KEY),
            "connect_timeout": 10, "command_timeout": 120}


# Where each lab VM "runs" once the hypervisors are up, and its VM id (vzdump archive names).
VM_PLACEMENT = {"pica01": ("alice", 100), "admin": ("alice", 101), "pica02": ("bob", 102)}


def _vm(host: str, roles: list[str], daemons: list[str], with_hypervisors: bool) -> dict:
    entry = {"roles": roles, "ssh": _ssh(host), "public_ipv4": T.HOSTS[host].address, "daemons": daemons}
    if with_hypervisors:
        entry["hypervisor"], entry["vmid"] = VM_PLACEMENT[host]
    return entry


def _hypervisor_facts() -> dict | None:
    """The hypervisors' documented state, when that part of the lab is up."""
    try:
        from picacheck.lab import hypervisors
    except ImportError:
        return None
    if not hasattr(hypervisors, "inventory_section") or not hypervisors.is_up():
        return None
    return hypervisors.inventory_section()


def _service_facts() -> dict | None:
    """Traefik, DNS, the applications and their databases, once that part of the lab was brought up."""
    try:
        from picacheck.lab.services import lab_service_facts, plan
    except ImportError:
        return None
    if not plan.ACME_ROOTS_FILE.exists():  # the ACME CA's roots: fetched once the services run
        return None
    return lab_service_facts()["inventory"]


def _backup_facts() -> dict | None:
    """The dump jobs' policies, once the backups part of the lab was brought up."""
    try:
        from picacheck.lab import backups
    except ImportError:
        return None
    return backups.inventory_section() if backups.is_up() else None


def lab_inventory() -> dict:
    hypervisor_facts = _hypervisor_facts()
    with_hypervisors = hypervisor_facts is not None
    hosts = {
        "pica01": _vm("pica01", ["swarm", "gluster"], ["sshd", "dockerd", "glusterd"], with_hypervisors),
        "pica02": _vm("pica02", ["swarm", "gluster"], ["sshd", "dockerd", "glusterd"], with_hypervisors),
        "admin": _vm("admin", ["registry"], ["sshd", "dockerd"], with_hypervisors),
    }
    inventory: dict = {
        "environment": {"name": "picalab", "kind": "lab",
                        "description": "The embedded lab: the report's topology on one machine (picacheck lab up)"},
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
        "not_applicable": dict(NOT_APPLICABLE),
    }
    if hypervisor_facts:
        inventory["hosts"].update(hypervisor_facts["hosts"])
        inventory["corosync"] = hypervisor_facts["corosync"]
        inventory["registry"].update(hypervisor_facts.get("registry", {}))
    service_facts = _service_facts()
    if service_facts:
        for key in ("traefik", "dns", "tls", "services", "databases"):
            inventory[key] = service_facts[key]
        for service in inventory["services"]:  # the lab's load objectives (measured on 2 shared cores)
            if service["name"] in LAB_SLOS:
                service["slo"] = LAB_SLOS[service["name"]]
        inventory["registry"]["expected_images"] = sorted(
            set(inventory["registry"]["expected_images"]) | set(service_facts.get("registry_expected_images", [])))
    backups: dict = {}
    if hypervisor_facts:
        backups.update(hypervisor_facts.get("backups", {}))  # vzdump (B6) and the rsync mirror (B7)
    backup_facts = _backup_facts()
    if backup_facts and service_facts:  # the dump policies name the services' databases
        backups["dumps"] = backup_facts["dumps"]
        inventory["registry"]["expected_images"] = sorted(
            set(inventory["registry"]["expected_images"]) | set(backup_facts.get("registry_images", [])))
    if backups:
        inventory["backups"] = backups
    return inventory


def write_lab_inventory(path: Path = T.INVENTORY_FILE) -> Path:
    """Write the lab's inventory and check that it loads (a lab bug must not reach a run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `picacheck lab up`: the embedded lab's documented state. Do not edit.\n"
    path.write_text(header + yaml.safe_dump(lab_inventory(), sort_keys=False, width=120))
    load_inventory(path)
    return path
