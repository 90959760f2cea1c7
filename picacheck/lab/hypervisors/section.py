"""The hypervisors' section of the lab inventory, in the inventory model's shape
(picacheck.inventory.model: Host, Corosync, Backups), built from plan.LAB_VALUES: alice and
bob, where each VM runs (hypervisor, vmid), corosync, vzdump and the rsync mirror.

Same claims as inventory/picasoft.yml, lab values: member names as the lab's kernel
shows them (ubda1 for the report's sda1), lab addresses, lab sizes.
"""

from __future__ import annotations

from picacheck.lab import topology as T
from picacheck.lab.hypervisors import plan

# Array sizes as mdadm makes them from the lab's partitions (MiB, measured).
ARRAY_SIZE_MB = {"md0": 47, "md1": 206, "md2": 61}
CLAIM = {"md0": "H2", "md1": "H3", "md2": "H4"}
NOT_APPLICABLE = {
    "H7": "the lab's hypervisors are user-mode-linux machines: the kernel is started directly, there is no GRUB",
    "H8": "no GRUB in the lab (user-mode-linux boots its kernel directly), so no GRUB command line",
}


def _host(name: str) -> dict:
    v = plan.LAB_VALUES["hosts"][name]
    raid = []
    for array, spec in v["arrays"].items():
        entry = {"name": array, "claim": CLAIM[array], "level": spec["level"], "members": list(spec["members"]),
                 "size_mb": ARRAY_SIZE_MB[array]}
        for key, target in (("fstype", "filesystem"), ("mountpoint", "mountpoint"), ("lvm_vg", "lvm_vg")):
            if spec.get(key):
                entry[target] = spec[key]
        raid.append(entry)
    lvs = []
    for lv, spec in v["lvm"]["lvs"].items():
        entry = {"name": lv}
        if spec.get("swap"):
            entry["swap"] = True
        else:
            entry["filesystem"] = spec["fstype"]
            if spec.get("mountpoint"):
                entry["mountpoint"] = spec["mountpoint"]
        lvs.append(entry)
    network = {
        "configured_by": v["network_config"],
        "public_interface": v["public_interface"],
        "ipv4": v["public_ipv4"],
        "ipv6": v["public_ipv6"],
        "gateway4": {"via": v["default_route_v4"]["via"], "onlink": v["default_route_v4"]["onlink"]},
        "gateway6": {"via": v["default_route_v6"]["via"]},
        "ipv6_autoconf": bool(v["ipv6_autoconf"] or v["ipv6_accept_ra"]),
        "nameservers": list(v["nameservers"]),
        "etc_hosts": dict(v["etc_hosts"]),
        "bridge": {"name": "vmbr1", "address": v["vmbr1"]["address"], "proxy_arp": bool(v["vmbr1"]["proxy_arp"]),
                   "masquerade_source": v["masquerade"]["source"],
                   "masquerade_out_interface": v["masquerade"]["out_interface"]},
    }
    if v["dnat"]:
        network["port_forwards"] = [{"port": d["port"], "protocol": d["protocol"], "to": d["to"]} for d in v["dnat"]]
    return {
        "roles": ["hypervisor"],
        "ssh": {"address": v["ssh"]["address"], "user": T.CI_USER, "sudo": True, "key_file": v["ssh"]["key"],
                "connect_timeout": 10, "command_timeout": 120},
        "public_ipv4": v["ssh"]["address"],
        "public_ipv6": v["public_ipv6"].split("/")[0],
        "private_address": v["private_ipv4"].split("/")[0],
        "mdadm_conf": v["mdadm_conf"],
        "raid": raid,
        "volume_groups": [{"name": v["lvm"]["vg"], "lvs": lvs}],
        "mounts": [{"path": v["save"]["mountpoint"], "size_gb": 0.06, "filesystem": v["save"]["fstype"]}],
        "network": network,
        "daemons": ["sshd", "corosync"],
    }


def inventory_section() -> dict:
    """{"hosts": {alice, bob, and each VM's hypervisor and vmid}, "corosync": …, "backups": {"vzdump": …,
    "rsync": …}, "not_applicable": …} for the lab inventory."""
    c = plan.LAB_VALUES["corosync"]
    rsync = []
    for host, spec in plan.LAB_VALUES["backup"]["rsync"]["pulls"].items():
        rsync.append({"host": host, "source_host": spec["from"],
                      "source_address": T.HYPERVISOR_PRIVATE[spec["from"]],
                      "path": "/SAVE/dump", "schedule": f"0 {spec['hour']} * * *",
                      "cron_file": plan.LAB_VALUES["backup"]["rsync"]["cron_file"]})
    v = plan.LAB_VALUES["backup"]["vzdump"]
    vzdump = {"hosts": list(plan.MACHINES), "directory": v["dump_dir"], "schedule": v["schedule"],
              "cron_file": v["cron_file"], "max_age_hours": v["max_age_hours"]}
    hosts = {name: _host(name) for name in plan.MACHINES}
    hosts.update({vm: {"hypervisor": host, "vmid": vmid} for vm, (host, vmid) in T.VM_PLACEMENT.items()})
    for vm, jump in T.JUMP_HOSTS.items():  # admin sits behind alice's vmbr1: reached through it
        hosts[vm]["ssh"] = {"jump": jump}
    return {
        "hosts": hosts,
        "corosync": {
            "cluster_name": c["cluster_name"],
            "nodes": [{"name": name, "nodeid": node["nodeid"]} for name, node in c["nodes"].items()],
            "two_node": bool(c["two_node"]),
            "authenticated": True,
            "expected_votes": c["expected_votes"],
            "flags": list(c["quorum_flags"]),
            "unit_restart": c["unit"]["Restart"],
            "unit_restart_sec": c["unit"]["RestartSec"],
        },
        "backups": {"vzdump": vzdump, "rsync": rsync},
        "registry": {"forwarded_by": T.REGISTRY_FORWARDER, "public_ip": False},  # S10: alice's DNAT
        "not_applicable": dict(NOT_APPLICABLE),
    }
