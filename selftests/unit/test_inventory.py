"""The inventory: the production transcription, and errors that name the file and the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from picacheck.errors import UserError
from picacheck.inventory import EnvironmentKind, load_inventory

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "inventory" / "picasoft.yml"


@pytest.fixture(scope="module")
def production():
    return load_inventory(PRODUCTION)


def test_production_is_marked_production(production):
    assert production.environment.kind == EnvironmentKind.production


def test_hypervisor_storage_matches_the_report(production):
    alice = production.hosts["alice"]
    arrays = {array.name: array for array in alice.raid}
    assert arrays["md0"].members == ("sda1", "sdb1") and arrays["md0"].mountpoint == "/boot"
    assert arrays["md0"].filesystem == "ext2" and arrays["md0"].claim == "H2"
    assert arrays["md1"].lvm_vg == "pve" and arrays["md2"].members == ("sdc1", "sdd1")
    assert [lv.name for lv in alice.volume_groups[0].lvs] == ["root", "data", "swap"]
    assert alice.mdadm_conf == "/etc/mdadm/mdadm.conf"
    assert alice.grub.install_disks == ("sda", "sdb")


def test_hypervisor_network_matches_the_report(production):
    alice, bob = production.hosts["alice"].network, production.hosts["bob"].network
    assert alice.configured_by == "/etc/rc.local"
    assert alice.nameservers == ("91.224.148.10", "91.224.149.254")
    assert alice.etc_hosts == {"alice": "192.168.10.1", "bob": "192.168.10.2"}
    assert alice.bridge.proxy_arp and alice.bridge.masquerade_source == "10.0.42.0/24"
    assert {forward.port for forward in alice.port_forwards} == {80, 443, 5000}
    assert bob.port_forwards == ()
    assert alice.ipv4 == "91.224.148.84/32" and bob.ipv4 == "91.224.148.85/32"


def test_cluster_matches_the_report(production):
    assert production.corosync.two_node and production.corosync.expected_votes == 2
    assert production.corosync.flags == ("2Node", "Quorate", "WaitForAll")
    assert production.corosync.unit_restart == "on-failure" and production.corosync.unit_restart_sec == "5s"
    volume = production.gluster.volumes[0]
    assert (volume.name, volume.type, volume.replica) == ("gluster-data", "Replicate", 2)
    assert volume.bricks == ("pica01:/gluster-data", "pica02:/gluster-data")
    assert production.swarm.managers == ("pica01", "pica02")


def test_backups_match_the_report(production):
    dumps = {dump.database: dump for dump in production.backups.dumps}
    assert dumps["mysql"].directory == "/DATA/BACKUP/mysql" and dumps["mysql"].period_hours == 6
    assert dumps["postgresql"].max_backups == 30
    assert production.backups.vzdump.schedule == "0 3 * * *"
    assert [mirror.schedule for mirror in production.backups.rsync] == ["0 5 * * *", "0 6 * * *"]
    assert production.backups.documented_loss_hours == (6, 24)


def test_relative_and_home_paths_are_resolved(production):
    assert Path(production.hosts["alice"].ssh.key_file).is_absolute()


def _broken_copy(tmp_path, old, new):
    text = PRODUCTION.read_text()
    assert old in text
    path = tmp_path / "broken.yml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_missing_key_names_file_and_key(tmp_path):
    path = _broken_copy(tmp_path, "address: 91.224.148.85, ", "")
    with pytest.raises(UserError) as error:
        load_inventory(path)
    assert str(error.value) == f"{path}: hosts.bob.ssh.address: missing (a value is required)"


def test_mistyped_key_names_file_and_key(tmp_path):
    path = _broken_copy(tmp_path, "  two_node: true", "  two_nodes: true")
    with pytest.raises(UserError) as error:
        load_inventory(path)
    assert f"{path}: " in str(error.value)
    assert "corosync.two_nodes: unknown key" in str(error.value)
    assert "corosync.two_node: missing" in str(error.value)


def test_wrong_type_names_the_key(tmp_path):
    path = _broken_copy(tmp_path, "max_backups: 30,", "max_backups: thirty,")
    with pytest.raises(UserError, match=r"backups\.dumps\.0\.max_backups: .*integer"):
        load_inventory(path)


def test_unknown_host_reference_is_named(tmp_path):
    path = _broken_copy(tmp_path, "jump: alice}", "jump: alicia}")
    with pytest.raises(UserError, match=r"hosts\.admin\.ssh\.jump: no host named 'alicia'"):
        load_inventory(path)


def test_invalid_yaml_gives_the_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("environment: {name: x\nhosts: [\n")
    with pytest.raises(UserError, match=r"line \d+, column \d+: not valid YAML"):
        load_inventory(path)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="inventory file not found"):
        load_inventory(tmp_path / "nope.yml")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_check_accepts_production():
    result = _cli("inventory", "check", str(PRODUCTION))
    assert result.returncode == 0, result.stderr
    assert "OK: picasoft (production)" in result.stdout


def test_cli_check_rejects_a_broken_copy_with_one_line(tmp_path):
    path = _broken_copy(tmp_path, "  cluster_name: picasoft", "  cluster_nam: picasoft")
    result = _cli("inventory", "check", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "corosync.cluster_nam" in lines[0]
    assert "Traceback" not in result.stderr
