"""Each machine's seed folder: the configuration files that the report documents, written
with the lab's values, plus the provisioning script. The machine reads the folder through
hostfs at first boot (the kernel line limits hostfs to it)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from picacheck.errors import UserError
from picacheck.lab import topology as T
from picacheck.lab.hypervisors import plan
from picacheck.lab.hypervisors.plan import Machine

SSH_PUBLIC = T.SSH_KEY.with_name(T.SSH_KEY.name + ".pub")
AUTHKEY = plan.SHARED_DIR / "corosync-authkey"
CLUSTER_KEY = plan.SHARED_DIR / "cluster_id_ed25519"


def _write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    os.chmod(partial, mode)
    partial.rename(path)


def _keygen(path: Path, comment: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    result = subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"lab hypervisors: ssh-keygen for {path} failed", hint=result.stderr.strip())


def ensure_lab_ssh_key() -> str:
    """The lab's SSH key (topology.SSH_KEY, ed25519, no passphrase), made if absent; its public line."""
    if not T.SSH_KEY.exists():
        _keygen(T.SSH_KEY, "picacheck-lab")
    if not SSH_PUBLIC.exists():
        result = subprocess.run(["ssh-keygen", "-y", "-f", str(T.SSH_KEY)], capture_output=True, text=True)
        if result.returncode != 0:
            raise UserError(f"lab hypervisors: cannot read the lab key {T.SSH_KEY}", hint=result.stderr.strip())
        _write(SSH_PUBLIC, result.stdout.strip() + " picacheck-lab\n")
    return SSH_PUBLIC.read_text().strip()


def ensure_shared_secrets() -> None:
    """corosync's authkey (corosync-keygen's size: 256 random bytes) and alice/bob's root key."""
    plan.SHARED_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(plan.SHARED_DIR, 0o700)
    if not AUTHKEY.exists():
        _write(AUTHKEY, secrets.token_bytes(256), 0o400)
    if not CLUSTER_KEY.exists():
        _keygen(CLUSTER_KEY, "root@picasoft-hypervisors")


def rc_local(m: Machine) -> str:
    """The report's /etc/rc.local (section 8) with lab addresses, plus section 13 (vmbr1, NAT)."""
    lines = [
        "#!/bin/sh",
        "# picacheck lab: the hand-over report's /etc/rc.local (section 8) with the lab's",
        "# addresses, then the private bridge vmbr1 and NAT of section 13.",
        "",
        "sleep 3",
        "for i in /proc/sys/net/ipv6/conf/*; do \\",
        "  for j in autoconf accept_ra; do echo 0 > $i/$j; done;done",
        "",
        "ip link set eth0 up",
        f"# lab: the private cluster address (/etc/hosts: {m.name}) is on eth0",
        f"ip addr add {m.cluster_address}/24 dev eth0",
        "ip link set eth1 up",
        f"ip addr add {m.public_address}/32 dev eth1",
        f"ip route add default via {T.GATEWAY} dev eth1 onlink",
        f"ip -6 addr add {m.ipv6} dev eth1",
        f"ip -6 addr add {m.link_local} dev eth1",
        f"ip -6 route add default via {plan.IPV6_GATEWAY} dev eth1",
        "",
        f"echo nameserver {plan.NAMESERVERS[0]} > /etc/resolv.conf",
        f"echo nameserver {plan.NAMESERVERS[1]} >> /etc/resolv.conf",
        "",
        "#Interface de bridge privée pour les VM",
        "brctl addbr vmbr1",
        "ip link set vmbr1 up",
        f"ip addr add {plan.VMBR1_ADDRESS}/24 dev vmbr1",
        "echo 1 > /proc/sys/net/ipv4/conf/vmbr1/proxy_arp",
        "# lab: the report masquerades out of vmbr0; the lab's public interface is eth1",
        f"iptables -t nat -A POSTROUTING -s '{T.PRIVATE_SUBNET}' -o eth1 -j MASQUERADE",
        "# lab: routing for NAT (the report does not show where production enables it)",
        "echo 1 > /proc/sys/net/ipv4/ip_forward",
    ]
    if m.uplink:
        lines += [
            "# lab: vmbr1's port to the host's private network, where the admin VM lives",
            "ip link set eth2 up",
            "brctl addif vmbr1 eth2",
            "# Redirection de port: 80, 443 and 5000 to the admin VM",
        ]
        for port in plan.DNAT_PORTS:
            lines.append(f"iptables -t nat -A PREROUTING -i eth1 -p tcp --dport {port} -j DNAT "
                         f"--to-destination {plan.ADMIN_PRIVATE_ADDRESS}:{port}")
    lines += ["", "exit 0", ""]
    return "\n".join(lines)


def etc_hosts() -> str:
    lines = ["127.0.0.1 localhost"]
    lines += [f"{m.cluster_address} {m.name}" for m in plan.MACHINES.values()]
    return "\n".join(lines) + "\n"


def corosync_conf() -> str:
    c = plan.LAB_VALUES["corosync"]
    nodes = "".join(
        f"  node {{\n    name: {name}\n    nodeid: {node['nodeid']}\n    quorum_votes: 1\n"
        f"    ring0_addr: {node['ring0_addr']}\n  }}\n"
        for name, node in c["nodes"].items())
    return (
        "# picacheck lab: the report's corosync.conf (section 9) for corosync 3:\n"
        "# knet with crypto_cipher/crypto_hash replaces udpu + secauth (gone in corosync 3).\n"
        "logging {\n  debug: off\n  to_syslog: yes\n}\n\n"
        f"nodelist {{\n{nodes}}}\n\n"
        f"quorum {{\n  provider: corosync_votequorum\n  two_node: {c['two_node']}\n}}\n\n"
        "totem {\n"
        f"  cluster_name: {c['cluster_name']}\n"
        f"  config_version: {c['config_version']}\n"
        "  ip_version: ipv4\n"
        f"  crypto_cipher: {c['crypto_cipher']}\n"
        f"  crypto_hash: {c['crypto_hash']}\n"
        f"  transport: {c['transport']}\n"
        "  version: 2\n"
        "  interface {\n    linknumber: 0\n  }\n"
        "}\n"
    )


def corosync_restart_dropin() -> str:
    unit = plan.LAB_VALUES["corosync"]["unit"]
    return ("# picacheck lab: the report's fix for the rc.local network race (section 9)\n"
            f"[Service]\nRestart={unit['Restart']}\nRestartSec={unit['RestartSec']}\n")


def cron_save(m: Machine) -> str:
    b = plan.LAB_VALUES["backup"]["rsync"]["pulls"][m.name]
    source = plan.MACHINES[b["from"]].cluster_address
    return ("# picacheck lab: report section 14, pull the other host's /SAVE/dump over its private address\n"
            "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n"
            f"0 {b['hour']} * * * root rsync -avzh --progress {source}:/SAVE/dump/* /SAVE/dump/ "
            f">> /var/log/picasoft-save.log 2>&1\n")


def ssh_config() -> str:
    names = " ".join([*plan.MACHINES, *(m.cluster_address for m in plan.MACHINES.values())])
    return (f"Host {names}\n  User root\n  IdentityFile /root/.ssh/id_ed25519\n"
            "  StrictHostKeyChecking accept-new\n  ConnectTimeout 5\n")


def write_seed(m: Machine) -> Path:
    """(Re)write the machine's seed folder; returns it."""
    ensure_shared_secrets()
    seed = m.seed_dir
    seed.mkdir(parents=True, exist_ok=True)
    os.chmod(seed, 0o700)
    guest = resources.files("picacheck.lab.hypervisors").joinpath("guest")
    _write(seed / "provision.sh", guest.joinpath("provision.sh").read_text(), 0o755)
    _write(seed / "machine.env", f"NAME={m.name}\n")
    _write(seed / "hosts", etc_hosts())
    _write(seed / "rc.local", rc_local(m), 0o755)
    _write(seed / "corosync.conf", corosync_conf())
    _write(seed / "cron-picasoft-save", cron_save(m))
    _write(seed / "ssh_config", ssh_config())
    _write(seed / "authorized_keys", ensure_lab_ssh_key() + "\n", 0o600)
    _write(seed / "ci_user.env", f"CI_USER={T.CI_USER}\nCI_UID={T.CI_UID}\n")  # the suite's login (sudo)
    _write(seed / "sudoers-ci-user", T.CI_SUDOERS, 0o440)
    shutil.copyfile(AUTHKEY, seed / "authkey")
    os.chmod(seed / "authkey", 0o400)
    # SSH host keys made here (natively fast; key generation under UML takes seconds).
    for kind in ("rsa", "ecdsa", "ed25519"):
        key = seed / f"ssh_host_{kind}_key"
        if not key.exists():
            result = subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"root@{m.name}",
                                     "-f", str(key)], capture_output=True, text=True)
            if result.returncode != 0:
                raise UserError(f"lab hypervisors: ssh-keygen -t {kind} failed", hint=result.stderr.strip())
    for suffix in ("", ".pub"):
        source = CLUSTER_KEY.with_name(CLUSTER_KEY.name + suffix)
        target = seed / ("cluster_id_ed25519" + suffix)
        shutil.copyfile(source, target)
        os.chmod(target, 0o600 if not suffix else 0o644)
    return seed
