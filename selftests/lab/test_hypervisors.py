"""The lab's hypervisors (picacheck.lab.hypervisors): alice and bob boot as user-mode-linux
machines, are built as the report says (RAID1, LVM, rc.local, NAT, corosync two_node), a
failed mirror member rebuilds, corosync stays quorate with one node gone, and down()
leaves nothing behind.

Needs root and about two minutes; runs only with PICACHECK_LAB_TESTS=1 (or all).
If the hypervisors were already running, the module leaves them running (fresh) at the end.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from picacheck.wait import eventually

from picacheck.errors import UserError
from picacheck.lab import engine
from picacheck.lab import topology as T
from picacheck.lab import hypervisors as hv
from picacheck.lab.hypervisors import hostdeps, hostnet, plan, seed, uml
from picacheck.lab.ssh import Node

VALUES = hv.lab_values()


def needs_lab(test):
    """Marked `lab`: selftests/conftest.py runs it with PICACHECK_LAB_TESTS=1 or all."""
    return pytest.mark.lab(test)


# --- without the lab: what up() would make ------------------------------------------------

def test_inventory_section_fits_the_inventory_model():
    from picacheck.inventory.model import Backups, Corosync, Host

    section = hv.inventory_section()
    hosts = {name: Host(**section["hosts"][name]) for name in plan.MACHINES}
    placed = {name: entry for name, entry in section["hosts"].items() if name not in plan.MACHINES}
    assert {vm: (entry["hypervisor"], entry["vmid"]) for vm, entry in placed.items()} == T.VM_PLACEMENT
    assert placed["admin"]["ssh"] == {"jump": "alice"}  # behind alice's vmbr1, as in the report
    assert [a.members for a in hosts["alice"].raid] == [("ubda1", "ubdb1"), ("ubda2", "ubdb2"), ("ubdc1", "ubdd1")]
    assert [f.to for f in hosts["alice"].network.port_forwards] == [
        f"{plan.ADMIN_PRIVATE_ADDRESS}:{port}" for port in (80, 443, 5000)]
    assert hosts["bob"].network.port_forwards == ()
    assert hosts["alice"].network.etc_hosts == {"alice": "172.30.44.1", "bob": "172.30.44.2"}
    assert Corosync(**section["corosync"]).two_node
    assert {r.host: r.source_host for r in Backups(**section["backups"]).rsync} == {"alice": "bob", "bob": "alice"}


def test_rc_local_is_the_reports_with_lab_values():
    alice, bob = (seed.rc_local(plan.MACHINES[n]) for n in ("alice", "bob"))
    order = ["sleep 3", "for i in /proc/sys/net/ipv6/conf/*", "ip link set eth1 up",
             "ip addr add 172.30.42.2/32 dev eth1", "ip route add default via 172.30.42.1 dev eth1 onlink",
             "ip -6 route add default via fe80::31 dev eth1",
             f"echo nameserver {plan.NAMESERVERS[0]} > /etc/resolv.conf",
             f"echo nameserver {plan.NAMESERVERS[1]} >> /etc/resolv.conf",
             "brctl addbr vmbr1", "echo 1 > /proc/sys/net/ipv4/conf/vmbr1/proxy_arp",
             "-o eth1 -j MASQUERADE", "--dport 5000 -j DNAT", "exit 0"]
    positions = [alice.index(line) for line in order]
    assert positions == sorted(positions)
    assert "DNAT" not in bob and "MASQUERADE" in bob and "172.30.42.3/32" in bob


def test_uml_command_line_gives_each_machine_its_disks_and_taps():
    alice = uml.command_line(plan.MACHINES["alice"], plan.CACHE_DIR / "root.img")
    disks = [arg.split("=", 1) for arg in alice if arg.startswith("ubd")]
    assert [d[0] for d in disks] == [f"ubd{i}" for i in range(6)]
    assert [os.path.basename(d[1]) for d in disks[:5]] == [f"ubd{c}.img" for c in "abcde"]
    assert disks[5][1].endswith(",%s" % (plan.CACHE_DIR / "root.img"))
    assert "root=/dev/ubdf" in alice and "con0=null,fd:1" in alice
    taps = [tap for m in plan.MACHINES.values() for tap in m.taps()]
    macs = [mac for m in plan.MACHINES.values() for *_, mac in m.nics()]
    assert all(len(tap) <= 15 for tap in taps) and len(set(taps)) == len(taps) == 5
    assert len(set(macs)) == len(macs)


def test_a_missing_host_tool_that_cannot_be_installed_is_a_user_error(monkeypatch):
    monkeypatch.setenv("PICACHECK_LAB_NO_INSTALL", "1")
    monkeypatch.setattr(hostdeps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(engine.shutil, "which", lambda name: None)
    monkeypatch.setattr(hostdeps.os.path, "exists", lambda path: path == "/dev/net/tun")
    with pytest.raises(UserError) as error:
        hostdeps.ensure_host_tools()
    assert "user-mode-linux" in str(error.value) and "debootstrap" in str(error.value)


# --- with the lab (PICACHECK_LAB_TESTS=1) ----------------------------------------------------


def sh(host: str, command: str, timeout: float = 30) -> str:
    node = Node(host)
    try:
        result = node.run(command, timeout=timeout, check=False)
    finally:
        node.close()
    assert result.ok, f"[{host}] $ {command}: exit {result.status}\n{result.stdout}{result.stderr}"
    return result.stdout


def mdstat_block(mdstat: str, array: str) -> str:
    match = re.search(rf"^{array} : .*?(?=^\S|\Z)", mdstat, re.M | re.S)
    assert match, f"{array} not in /proc/mdstat:\n{mdstat}"
    return match.group(0)


def uml_processes(umid: str) -> list[int]:
    """This lab's UML processes of a machine (another lab on the machine has the same umid,
    in its own uml_dir)."""
    ours = {f"umid={umid}".encode(), f"uml_dir={plan.UML_DIR}".encode()}
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if ours <= set(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")):
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.skip("lab test: needs root")
    was_up = hv.is_up()
    timings = hv.boot()
    # The last test of this module takes the hypervisors down on purpose; the lab tests
    # run it after every other one (selftests/lab/conftest.py), so nothing brings them back.
    yield {"timings": timings, "was_up": was_up}


@needs_lab
def test_both_boot_and_answer_ssh(lab):
    for name, state in hv.status(out=io.StringIO())["machines"].items():
        assert state["running"] and state["ssh"], f"{name}: {state}"
        assert sh(name, "hostname").strip() == name


@needs_lab
@pytest.mark.parametrize("host", plan.MACHINES)
def test_arrays_are_raid1_in_sync_with_the_lab_members(lab, host):
    mdstat = sh(host, "cat /proc/mdstat")
    for array, spec in VALUES["hosts"][host]["arrays"].items():
        block = mdstat_block(mdstat, array)
        assert re.match(rf"{array} : active (\(auto-read-only\) )?raid1 ", block), block
        assert "[2/2] [UU]" in block, block
        members = sorted(re.findall(r"(\w+)\[\d+\]", block.splitlines()[0]))
        assert members == sorted(spec["members"]), block
    conf = sh(host, "cat /etc/mdadm/mdadm.conf")
    for array in ("md0", "md1", "md2"):
        assert re.search(rf"^ARRAY /dev/{array} metadata=1.2 name={host}:{array[2:]} UUID=", conf, re.M), conf


@needs_lab
@pytest.mark.parametrize("host", plan.MACHINES)
def test_lvm_filesystems_and_swap(lab, host):
    lvs = sh(host, "lvs --noheadings -o vg_name,lv_name")
    assert sorted(tuple(line.split()) for line in lvs.strip().splitlines()) == [
        ("pve", "data"), ("pve", "root"), ("pve", "swap")]
    assert sh(host, "pvs --noheadings -o pv_name,vg_name").split() == ["/dev/md1", "pve"]
    assert sh(host, "blkid -o value -s TYPE /dev/pve/root").strip() == "ext4"
    mounts = sh(host, "findmnt -rn -o TARGET,SOURCE,FSTYPE")
    assert "/boot /dev/md0 ext2" in mounts
    assert "/var/lib/vz /dev/mapper/pve-data ext4" in mounts
    assert "/SAVE /dev/ubde1 ext4" in mounts
    assert "/dev/dm-" in sh(host, "swapon --show=NAME --noheadings")
    assert sh(host, "readlink -f /dev/pve/swap").strip() in sh(host, "swapon --show=NAME --noheadings")
    sh(host, "test -d /SAVE/dump")


@needs_lab
@pytest.mark.parametrize("host", plan.MACHINES)
def test_network_from_rc_local(lab, host):
    v = VALUES["hosts"][host]
    sh(host, "test -x /etc/rc.local && systemctl is-active rc-local")
    assert v["public_ipv4"] in sh(host, "ip -4 -o addr show dev eth1")
    assert v["public_ipv6"] in sh(host, "ip -6 -o addr show dev eth1")
    assert f"default via {v['default_route_v4']['via']} dev eth1 onlink" in sh(host, "ip route")
    assert f"default via {v['default_route_v6']['via']} dev eth1" in sh(host, "ip -6 route")
    ra = sh(host, "for f in /proc/sys/net/ipv6/conf/*/autoconf /proc/sys/net/ipv6/conf/*/accept_ra; "
                  "do echo $f $(cat $f); done")
    assert ra.count(" 0\n") == len(ra.strip().splitlines()) and "vmbr1" in ra, ra
    resolv = [line.split()[1] for line in sh(host, "cat /etc/resolv.conf").splitlines() if line.startswith("nameserver")]
    assert resolv == v["nameservers"]
    hosts = sh(host, "cat /etc/hosts")
    for name, address in v["etc_hosts"].items():
        assert re.search(rf"^{re.escape(address)}\s+{name}$", hosts, re.M), hosts
    assert v["private_ipv4"] in sh(host, "ip -4 -o addr show dev eth0")
    assert v["vmbr1"]["address"] in sh(host, "ip -4 -o addr show dev vmbr1")
    assert sh(host, "cat /proc/sys/net/ipv4/conf/vmbr1/proxy_arp").strip() == "1"
    nat = sh(host, "iptables-save -t nat")
    masq = v["masquerade"]
    assert f"-A POSTROUTING -s {masq['source']} -o {masq['out_interface']} -j MASQUERADE" in nat, nat
    dnat = [line for line in nat.splitlines() if "-j DNAT" in line]
    assert len(dnat) == len(v["dnat"]), nat
    for rule in v["dnat"]:
        assert (f"-A PREROUTING -i {rule['in_interface']} -p tcp -m tcp --dport {rule['port']} -j DNAT "
                f"--to-destination {rule['to']}") in nat, nat


@needs_lab
@pytest.mark.parametrize("host", plan.MACHINES)
def test_services_are_active(lab, host):
    assert sh(host, "systemctl is-active ssh corosync cron").split() == ["active"] * 3
    show = sh(host, "systemctl show corosync -p Restart -p RestartUSec")
    assert "Restart=on-failure" in show and "RestartUSec=5s" in show, show


@needs_lab
@pytest.mark.parametrize("host", plan.MACHINES)
def test_corosync_two_node_cluster_is_quorate(lab, host):
    conf = sh(host, "cat /etc/corosync/corosync.conf")
    for line in ("cluster_name: picasoft", "two_node: 1", "crypto_cipher: aes256", "crypto_hash: sha256",
                 "transport: knet", f"config_version: {plan.CONFIG_VERSION}"):
        assert line in conf
    quorum = sh(host, "corosync-quorumtool -s")
    assert re.search(r"^Flags:\s+2Node Quorate WaitForAll", quorum, re.M), quorum
    assert re.search(r"^Total votes:\s+2$", quorum, re.M), quorum
    assert re.search(r"^Nodes:\s+2$", quorum, re.M), quorum


@needs_lab
def test_a_failed_md2_member_on_bob_rebuilds(lab):
    """X7 rehearsal: fail → [2/1] [U_] with (F); remove; a blank disk is added; [UU] again."""
    failed = sh("bob", "mdadm /dev/md2 --fail /dev/ubdd1 >/dev/null 2>&1; cat /proc/mdstat")
    block = mdstat_block(failed, "md2")
    # The slot number depends on the array's history (a replaced member gets a new one).
    assert "[2/1] [U_]" in block and re.search(r"ubdd1\[\d+\]\(F\)", block), block
    sh("bob", "mdadm /dev/md2 --remove /dev/ubdd1 && mdadm --zero-superblock /dev/ubdd1 && "
              "mdadm /dev/md2 --add /dev/ubdd1")

    def rebuilt():
        block = mdstat_block(sh("bob", "cat /proc/mdstat"), "md2")
        assert "[2/2] [UU]" in block and "recovery" not in block, block
        return True

    eventually(rebuilt, timeout=60, interval=0.5, what="md2 on bob rebuilt")


@needs_lab
def test_alice_stays_quorate_when_corosync_stops_on_bob(lab):
    """X6 rehearsal (two_node): alice keeps quorum with its own vote."""
    sh("bob", "systemctl stop corosync")
    try:
        def alone():
            quorum = sh("alice", "corosync-quorumtool -s")
            assert re.search(r"^Total votes:\s+1$", quorum, re.M), quorum
            return quorum

        quorum = eventually(alone, timeout=30, interval=1, what="alice sees bob gone")
        assert re.search(r"^Quorate:\s+Yes$", quorum, re.M), quorum
        assert re.search(r"^Nodes:\s+1$", quorum, re.M), quorum
        assert re.search(r"^Flags:\s+2Node Quorate WaitForAll", quorum, re.M), quorum
    finally:
        sh("bob", "systemctl start corosync")

    def both():
        assert re.search(r"^Total votes:\s+2$", sh("alice", "corosync-quorumtool -s"), re.M)
        return True

    eventually(both, timeout=60, interval=1, what="bob back in the cluster")


@needs_lab
def test_up_again_changes_nothing(lab):
    before = {name: state["pid"] for name, state in hv.status(out=io.StringIO())["machines"].items()}
    assert hv.up() == [], "a second up changes nothing"
    assert {name: state["pid"] for name, state in hv.status(out=io.StringIO())["machines"].items()} == before


@needs_lab
def test_down_leaves_nothing(lab):
    hv.down()
    assert not hv.is_up()
    for m in plan.MACHINES.values():
        assert not uml_processes(m.umid), f"UML processes of {m.name} are left"
        for tap in m.taps():
            assert not hostnet.link_exists(tap), f"tap {tap} is left"
        assert not m.dir.exists(), f"{m.dir} is left"
    assert not hostnet.link_exists(plan.CLUSTER_BRIDGE)
    assert not hostnet.guard_present()
    assert not plan.HV_DIR.exists() and not plan.RUN_HV_DIR.exists()
    assert list(plan.CACHE_DIR.glob("rootfs-*.img")), "the root image stays in the cache for the next up"
    mounts = Path("/proc/mounts").read_text()
    assert str(plan.HV_DIR) not in mounts and str(plan.CACHE_DIR) not in mounts
