"""The strict inventory (issue 13): each input that used to be accepted, crash or hang is
now refused with one line that starts with the file name.

Most cases change one thing in a copy of inventory/picasoft.yml, so each test shows the one
rule it is about; the production file itself must still load (test_inventory.py).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from picacheck import cli
from picacheck.errors import UserError
from picacheck.inventory import load_inventory
from picacheck.inventory.loader import MAX_BYTES, MAX_DEPTH

from .samples import PRODUCTION, bounded


def refusal(path) -> str:
    """The one-line message `load_inventory(path)` refuses the file with."""
    with bounded(), pytest.raises(UserError) as error:
        load_inventory(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message


def changed(tmp_path, old: str, new: str) -> Path:
    """A copy of the production inventory with its first `old` replaced by `new`."""
    text = PRODUCTION.read_text()
    assert old in text, old
    path = tmp_path / "changed.yml"
    path.write_text(text.replace(old, new, 1))
    return path


def written(tmp_path, content: str | bytes, name: str = "inventory.yml") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


# --- files that are not a readable UTF-8 inventory ----------------------------------------


def test_an_empty_path_is_an_error_not_the_current_directory():
    with pytest.raises(UserError) as error:
        load_inventory("")
    assert str(error.value) == "'': no inventory file given (an empty path)"


def test_a_directory(tmp_path):
    assert refusal(tmp_path) == f"{tmp_path}: is a directory, not an inventory file"


def test_a_fifo_does_not_hang(tmp_path):
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    assert refusal(fifo) == f"{fifo}: not a regular file (a device, FIFO or socket?), not an inventory"


def test_dev_zero_is_not_read():
    assert refusal("/dev/zero") == "/dev/zero: not a regular file (a device, FIFO or socket?), not an inventory"


def test_a_file_larger_than_the_limit(tmp_path):
    path = written(tmp_path, "#" * MAX_BYTES + "\n")
    assert refusal(path) == f"{path}: larger than 1 MiB, not an inventory"


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = written(tmp_path, b"environment:\n  name: caf\xe9\n")
    assert refusal(path) == f"{path}: line 2: not UTF-8 text (byte 0xe9)"


def test_a_5000_digit_number(tmp_path):
    path = written(tmp_path, "environment: {name: x, kind: lab}\nhosts: " + "9" * 5000 + "\n")
    assert refusal(path) == f"{path}: line 2: a number with too many digits"


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000, "{a: " * 5000 + "1" + "}" * 5000, "- " * 400 + "x"])
def test_deep_nesting_is_refused_without_recursion_error(tmp_path, nested):
    path = written(tmp_path, f"hosts: {nested}\n" if not nested.startswith("-") else nested + "\n")
    assert f"nested deeper than {MAX_DEPTH} levels" in refusal(path)


def test_an_alias_bomb_is_refused(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]  # 9^9 values
    assert "values once aliases are expanded" in refusal(written(tmp_path, "\n".join(lines) + "\n"))


def test_an_alias_inside_its_own_value(tmp_path):
    assert "an alias inside the value it refers to" in refusal(written(tmp_path, "hosts: &h {a: *h}\n"))


@pytest.mark.parametrize("content", ["", "just a string\n", "- a list\n", "---\na: 1\n---\nb: 2\n", "a: [\n", "\x00"])
def test_not_an_inventory_mapping(tmp_path, content):
    refusal(written(tmp_path, content))


@pytest.mark.parametrize("kind", ["empty path", "directory", "fifo", "/dev/zero"])
def test_a_real_process_exits_2_with_one_line(tmp_path, kind):
    path = {"empty path": "", "directory": str(tmp_path), "fifo": str(tmp_path / "fifo"), "/dev/zero": "/dev/zero"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    result = subprocess.run([sys.executable, "-m", "picacheck.cli", "inventory", "check", path],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"picacheck: error: {path or repr(path)}: ") and result.stderr.count("\n") == 1


def test_cli_check_of_an_empty_path_is_exit_2_with_one_line(capsys):
    assert cli.main(["inventory", "check", ""]) == 2
    captured = capsys.readouterr()
    assert captured.err == "picacheck: error: '': no inventory file given (an empty path)\n" and captured.out == ""


# --- repeated keys -------------------------------------------------------------------------


def test_a_second_environment_block_names_both_lines(tmp_path):
    text = PRODUCTION.read_text()
    path = written(tmp_path, text + "environment:\n  name: picalab\n  kind: lab\n")
    first = text.splitlines().index("environment:") + 1
    second = len(text.splitlines()) + 1
    assert refusal(path) == f"{path}: line {second}: duplicate key 'environment' (first at line {first})"


def test_a_second_host_of_the_same_name(tmp_path):
    path = changed(tmp_path, "  bob:\n", "  alice:\n")
    lines = path.read_text().splitlines()
    first, second = (i + 1 for i, line in enumerate(lines) if line.split("#")[0].rstrip() == "  alice:")
    assert refusal(path) == f"{path}: line {second}: duplicate key 'alice' (first at line {first})"


def test_a_repeated_key_in_a_flow_mapping(tmp_path):
    path = changed(tmp_path, "{port: 80, to:", "{port: 80, port: 81, to:")
    assert "duplicate key 'port'" in refusal(path)


def test_a_repeated_key_inside_an_anchor(tmp_path):
    path = changed(tmp_path, "  mdadm_conf: /etc/mdadm/mdadm.conf ", "  roles: [hypervisor]\n  mdadm_conf: /etc/mdadm/mdadm.conf ")
    assert "duplicate key 'roles'" in refusal(path)


def test_a_repeated_key_too_long_to_show(tmp_path):
    huge = "0x" + "f" * 5000  # an int whose decimal form Python refuses to write
    path = written(tmp_path, f"environment: {{name: x, kind: lab}}\n? {huge}\n: 1\n? {huge}\n: 2\n")
    assert refusal(path) == f"{path}: line 4: duplicate key <a number too long to show> (first at line 2)"


def test_merge_keys_still_work_and_may_be_overridden(tmp_path):
    # The production file shares x-hypervisor and x-network through <<: (test_inventory.py);
    # a key written next to a merge replaces the merged one, as YAML says.
    path = changed(tmp_path, "  bob:\n    <<: *hypervisor\n", "  bob:\n    <<: *hypervisor\n    daemons: [sshd]\n")
    inventory = load_inventory(path)
    assert inventory.hosts["bob"].daemons == ("sshd",) and inventory.hosts["alice"].daemons == ("sshd", "corosync")
    assert inventory.hosts["bob"].raid == inventory.hosts["alice"].raid


# --- every reference names something that exists --------------------------------------------

REFERENCES = [
    ("  host: monitoring\n", "  host: monitorin\n", "monitoring.host: no host named 'monitorin' in hosts"),
    ("shippers: [pica01, pica02]", "shippers: [pica01, pica03]", "monitoring.shippers.1: no host named 'pica03' in hosts"),
    ("hosts: [alice, bob]", "hosts: [alice, carol]", "backups.vzdump.hosts.1: no host named 'carol' in hosts"),
    ("hosts: [alice, bob]", "hosts: [alice, pica01]",
     "backups.vzdump.hosts.1: pica01 does not have the role hypervisor (its roles: swarm, gluster)"),
    ("{host: alice, source_host: bob", "{host: alicia, source_host: bob",
     "backups.rsync.0.host: no host named 'alicia' in hosts"),
    ("{host: alice, source_host: bob", "{host: alice, source_host: bobby",
     "backups.rsync.0.source_host: no host named 'bobby' in hosts"),
    ("{host: alice, source_host: bob", "{host: alice, source_host: alice",
     "backups.rsync.0.source_host: a host cannot pull its own archives"),
    ("round_robin_hosts: [pica01, pica02]", "round_robin_hosts: [pica01, pica03]",
     "dns.round_robin_hosts.1: no host named 'pica03' in hosts"),
    ("round_robin_hosts: [pica01, pica02]", "round_robin_hosts: [pica01, pica01]",
     "dns.round_robin_hosts.1: 'pica01' is already dns.round_robin_hosts.0"),
    ("  host: admin\n", "  host: admni\n", "registry.host: no host named 'admni' in hosts"),
    ("forwarded_by: alice", "forwarded_by: admin",
     "registry.forwarded_by: admin does not have the role hypervisor (its roles: registry)"),
    ("jump: alice}", "jump: admin}", "hosts.admin.ssh.jump: a host cannot be its own jump host"),
    ("jump: alice}", "jump: alicia}", "hosts.admin.ssh.jump: no host named 'alicia' in hosts"),
    ("    hypervisor: alice\n    vmid: 100", "    hypervisor: admin\n    vmid: 100",
     "hosts.pica01.hypervisor: admin does not have the role hypervisor (its roles: registry)"),
    ("    hypervisor: alice\n    vmid: 100", "    hypervisor: pica01\n    vmid: 100",
     "hosts.pica01.hypervisor: a host cannot run on itself"),
    ("    hypervisor: alice\n    vmid: 100", "    vmid: 100", "hosts.pica01.vmid: a VM id needs the hypervisor"),
    ("vmid: 102 ", "vmid: 100 ", "hosts.pica02.vmid: 100 is already the id of pica01 on the cluster"),
    ("    database: mysql\n", "    database: mariadb\n", "services.0.database: no database named 'mariadb' in databases"),
    ("{database: mysql, directory", "{database: mariadb, directory",
     "backups.dumps.0.database: no database named 'mariadb' in databases"),
    ("host: pica01, period", "host: pica03, period", "backups.dumps.0.host: no host named 'pica03' in hosts"),
    ("{name: bob, nodeid: 2}", "{name: bobb, nodeid: 2}", "corosync.nodes.1: no host named 'bobb' in hosts"),
    ("{name: bob, nodeid: 2}", "{name: pica01, nodeid: 2}",
     "corosync.nodes.1: pica01 does not have the role hypervisor (its roles: swarm, gluster)"),
    ("{name: bob, nodeid: 2}", "{name: bob, nodeid: 1}", "corosync.nodes.1.nodeid: 1 is already corosync.nodes.0.nodeid"),
    ("{name: bob, nodeid: 2}]", "{name: bob, nodeid: 2}, {name: bob, nodeid: 3}]",
     "corosync.nodes.2: 'bob' is already corosync.nodes.1"),
    ("peers: [pica01, pica02]", "peers: [pica01, pica03]", "gluster.peers.1: no host named 'pica03' in hosts"),
    ('"pica02:/gluster-data"]', '"pica03:/gluster-data"]', "gluster.volumes.0.bricks.1: no host named 'pica03' in hosts"),
    ('"pica02:/gluster-data"]', '"admin:/gluster-data"]', "gluster.volumes.0.bricks.1: admin is not one of gluster.peers"),
    ('"pica02:/gluster-data"]', '"pica02:/gluster-data", "pica02:/more"]',
     "gluster.volumes.0.bricks: 3 bricks is not a multiple of replica 2"),
    ("hosts: [pica01, pica02], fstab", "hosts: [pica01, pica09], fstab",
     "gluster.volumes.0.mount.hosts.1: no host named 'pica09' in hosts"),
    ("managers: [pica01, pica02]", "managers: [pica01, pica03]", "swarm.managers.1: no host named 'pica03' in hosts"),
    ("managers: [pica01, pica02]", "managers: [pica01, pica02]\n  workers: [pica02]",
     "swarm.workers.0: pica02 is already a manager"),
    ("  network: pica-net\n", "  network: pica-nett\n", "traefik.network: no network named 'pica-nett' in swarm.networks"),
    ("lvm_vg: pve}", "lvm_vg: pv}", "hosts.alice.raid.1.lvm_vg: no volume group named 'pv' in volume_groups"),
    ("claim: H3,", "claim: H33,", "hosts.alice.raid.1.claim: no claim 'H33' in picacheck/claims.yml"),
    ("monitoring:                                                   # S11\n",
     "not_applicable: {H99: not a claim}\nmonitoring:\n", "not_applicable.H99: no claim with this ID in picacheck/claims.yml"),
    ("  - name: mattermost\n", "  - name: etherpad\n", "services.1.name: 'etherpad' is already services.0.name"),
    ("domain: team.picasoft.net", "domain: pad.picasoft.net", "services.1.domain: 'pad.picasoft.net' is already services.0.domain"),
    ("{name: postgresql, engine", "{name: mysql, engine", "databases.1.name: 'mysql' is already databases.0.name"),
    ("  volumes:\n    - name: gluster-data\n",
     "  volumes:\n    - {name: gluster-data, type: Replicate, replica: 1, bricks: ['pica01:/other']}\n    - name: gluster-data\n",
     "gluster.volumes.1.name: 'gluster-data' is already gluster.volumes.0.name"),
]


@pytest.mark.parametrize(("old", "new", "expected"), REFERENCES, ids=[case[2].split(":")[0] for case in REFERENCES])
def test_every_reference_is_checked(tmp_path, old, new, expected):
    path = changed(tmp_path, old, new)
    assert refusal(path).startswith(f"{path}: {expected}")


def test_a_jump_host_loop(tmp_path):
    path = changed(tmp_path, "jump: alice}", "jump: pica01}")
    text = path.read_text().replace("key_file: ~/.ssh/picasoft_ed25519}\n    public_ipv4: 91.224.148.57",
                                    "key_file: ~/.ssh/picasoft_ed25519, jump: admin}\n    public_ipv4: 91.224.148.57")
    path.write_text(text)
    assert refusal(path) == f"{path}: hosts.pica01.ssh.jump: the jump hosts loop: pica01 -> admin -> pica01"


# --- values ----------------------------------------------------------------------------------

VALUES = [
    ("address: 91.224.148.85,", "address: 999.1.1.1,", "hosts.bob.ssh.address: not an IP address or host name: '999.1.1.1'"),
    ("address: 91.224.148.85,", "address: not_a_name,", "hosts.bob.ssh.address: not an IP address or host name"),
    ("address: 91.224.148.85,", "address: '',", "hosts.bob.ssh.address: not an IP address or host name: ''"),
    ("public_ipv4: 91.224.148.57", "public_ipv4: not-an-ip", "hosts.pica01.public_ipv4: not an IPv4 address: 'not-an-ip'"),
    ("public_ipv4: 91.224.148.57", "public_ipv4: '2a03::1'", "hosts.pica01.public_ipv4: not an IPv4 address"),
    ('public_ipv6: "2a03:7220:8080:5500::1"', "public_ipv6: 91.224.148.85", "hosts.bob.public_ipv6: not an IPv6 address"),
    ("ipv4: 91.224.148.84/32", "ipv4: 91.224.148.84/99", "hosts.alice.network.ipv4: not an IPv4 address/prefix: '91.224.148.84/99'"),
    ("ipv4: 91.224.148.84/32", "ipv4: 91.224.148.84", "hosts.alice.network.ipv4: not an IPv4 address/prefix"),
    ("ipv4: 91.224.148.84/32", "ipv4: 91.224.148.84/255.255.255.255", "hosts.alice.network.ipv4: not an IPv4 address/prefix"),
    ("address: 10.0.42.1/24", "address: 10.0.42.1/33", "hosts.alice.network.bridge.address: not an IP address/prefix"),
    ("masquerade_source: 10.0.42.0/24", "masquerade_source: 10.0.42.1/24",
     "hosts.alice.network.bridge.masquerade_source: not a network address/prefix (host bits must be 0)"),
    ("gateway6: {via: \"fe80::31\"}", "gateway6: {via: 91.224.148.1}", "hosts.alice.network.gateway6.via: not an IPv6 address"),
    ("nameservers: [91.224.148.10,", "nameservers: [dns.example.org,", "hosts.alice.network.nameservers.0: not an IP address"),
    ("etc_hosts: {alice: 192.168.10.1,", "etc_hosts: {alice: 192.168.10.300,", "hosts.alice.network.etc_hosts.alice: not an IP address"),
    ('to: "10.0.42.2:80"', 'to: "10.0.42.2"', "hosts.alice.network.port_forwards.0.to: expected address:port"),
    ('to: "10.0.42.2:80"', 'to: "10.0.42.2:0"', "hosts.alice.network.port_forwards.0.to: expected address:port"),
    ("{port: 80, to:", "{port: 0, to:", "hosts.alice.network.port_forwards.0.port: Input should be greater than or equal to 1"),
    ("source_address: 192.168.128.152", "source_address: bob", "backups.rsync.0.source_address: not an IP address: 'bob'"),
    ('elasticsearch_listen: ["127.0.0.1:9200"', 'elasticsearch_listen: ["127.0.0.1"', "monitoring.elasticsearch_listen.0: expected address:port"),
    ("kibana_port: 5601", "kibana_port: 70000", "monitoring.kibana_port: Input should be less than or equal to 65535"),
    ("url: https://registry.picasoft.net:5000", "url: registry.picasoft.net", "registry.url: expected an http(s) URL with a host"),
    ("url: https://registry.picasoft.net:5000", "url: https://registry.picasoft.net:99999", "registry.url: expected an http(s) URL"),
    ("period_hours: 6,", "period_hours: .inf,", "backups.dumps.0.period_hours: Input should be a finite number"),
    ("period_hours: 6,", "period_hours: .nan,", "backups.dumps.0.period_hours: Input should be a finite number"),
    ("period_hours: 6,", "period_hours: 0,", "backups.dumps.0.period_hours: Input should be greater than 0"),
    ("period_hours: 6,", "period_hours: true,", "backups.dumps.0.period_hours: Input should be a valid number"),
    ("documented_loss_hours: [6, 24]", "documented_loss_hours: [6, -24]", "backups.documented_loss_hours.1: Input should be greater than 0"),
    ("expected_votes: 2", "expected_votes: -2", "corosync.expected_votes: Input should be greater than or equal to 1"),
    ("replica: 2", "replica: 0", "gluster.volumes.0.replica: Input should be greater than or equal to 1"),
    ("replica: 2", "replica: true", "gluster.volumes.0.replica: Input should be a valid integer"),
    ("max_backups: 30,", "max_backups: 0,", "backups.dumps.0.max_backups: Input should be greater than or equal to 1"),
    ("vmid: 100 ", "vmid: 1000000000 ", "hosts.pica01.vmid: Input should be less than or equal to 999999999"),
    ("nodes: [{name: alice, nodeid: 1}, {name: bob, nodeid: 2}]", "nodes: [{name: alice, nodeid: 1}]",
     "corosync.two_node: two_node needs exactly 2 nodes, there are 1"),
    ('schedule: "0 3 * * *"', 'schedule: "every night"',
     "backups.vzdump.schedule: not a cron schedule (five time fields or an @special, found 2 words): 'every night'"),
    ('schedule: "0 3 * * *"', 'schedule: "0 25 * * *"', "backups.vzdump.schedule: not a cron schedule (hour '25' is outside 0-23)"),
    ('schedule: "0 3 * * *"', 'schedule: "0 3 * * * *"', "backups.vzdump.schedule: not a cron schedule (five time fields"),
    ('schedule: "0 3 * * *"', 'schedule: "@reboot"', "backups.vzdump.schedule: @reboot has no time of day"),
    ('cron_time: "0 */6 * * *"}', 'cron_time: "0 */0 * * *"}', "backups.dumps.0.cron_time: not a cron schedule"),
    ("  name: picasoft\n", "  name: ''\n", "environment.name: an empty name"),
    ("  name: picasoft\n", "  name: pica soft\n", "environment.name: not a name"),
    ("  pica02:\n", "  '':\n", "hosts: key '': an empty name"),
    ("  pica02:\n", "  '*':\n", "hosts: key '*': not a name"),
    ("  - name: etherpad\n", "  - name: ''\n", "services.0.name: an empty name"),
    ("{name: mysql, engine", "{name: '', engine", "databases.0.name: an empty name"),
    ("    - name: gluster-data\n", "    - name: ''\n", "gluster.volumes.0.name: an empty name"),
    ("domain: pad.picasoft.net", "domain: pad..picasoft.net", "services.0.domain: not a host name"),
    ("health_path: /api/v4/system/ping", "health_path: api/v4", "services.1.health_path: expected a path starting with '/'"),
    ("directory: /DATA/BACKUP/mysql", "directory: '/DATA/BACKUP/mysql; reboot'",
     "backups.dumps.0.directory: expected an absolute path without spaces or shell characters"),
    ("configured_by: /etc/rc.local", "configured_by: etc/rc.local", "hosts.alice.network.configured_by: expected an absolute path"),
    ("key_file: ~/.ssh/picasoft_ed25519}\n    public_ipv4: 91.224.148.84", "key_file: '~/my keys/id'}\n    public_ipv4: 91.224.148.84",
     "hosts.alice.ssh.key_file: expected a file path (not empty, no spaces)"),
    ("password_env: PICACHECK_REGISTRY_PASSWORD", "password_env: 'PICACHECK REGISTRY'",
     "registry.password_env: not an environment variable name"),
    ("daemons: [sshd, dockerd, glusterd]", "daemons: ['sshd; reboot', dockerd, glusterd]", "hosts.pica01.daemons.0: not a name"),
    ('"pica02:/gluster-data"]', '"pica02/gluster-data"]', "gluster.volumes.0.bricks.1: expected host:/path"),
    ("managers: [pica01, pica02]", "managers: []", "swarm.managers: Tuple should have at least 1 item"),
    ("  cluster_name: picasoft\n", "  cluster_name: 7\n", "corosync.cluster_name: Input should be a valid string"),
]


@pytest.mark.parametrize(("old", "new", "expected"), VALUES, ids=[case[2].split(":")[0] for case in VALUES])
def test_every_value_is_checked(tmp_path, old, new, expected):
    path = changed(tmp_path, old, new)
    assert refusal(path).startswith(f"{path}: {expected}")


@pytest.mark.parametrize("address", ["monitoring.picasoft.net", "10.0.42.7", "2a03:7220:8080:5400::9", "fe80::1%eth0"])
def test_an_ssh_address_is_an_ip_address_or_a_dns_name(tmp_path, address):
    path = changed(tmp_path, "address: 91.224.148.85,", f"address: '{address}',")
    assert load_inventory(path).hosts["bob"].ssh.address == address


def test_values_are_kept_as_written(tmp_path):
    # The checks compare them with the hosts' output: no normalisation ("2a03:…::1/56" stays).
    inventory = load_inventory(PRODUCTION)
    assert inventory.hosts["alice"].network.ipv6 == "2a03:7220:8080:5400::1/56"
    assert inventory.hosts["alice"].network.port_forwards[0].to == "10.0.42.2:80"
    assert isinstance(inventory.hosts["alice"].public_ipv4, str)


def test_all_problems_of_a_file_are_on_one_line(tmp_path):
    path = changed(tmp_path, "  host: monitoring\n", "  host: monitorin\n")
    text = path.read_text().replace("round_robin_hosts: [pica01, pica02]", "round_robin_hosts: [pica01, pica03]")
    path.write_text(text)
    message = refusal(path)
    assert "dns.round_robin_hosts.1: no host named 'pica03'" in message and "monitoring.host: no host named" in message


def test_at_most_five_problems_are_listed(tmp_path):
    text = PRODUCTION.read_text().replace("key_file: ~/.ssh/picasoft_ed25519", "key_file: ''")
    path = written(tmp_path, text)
    message = refusal(path)
    assert message.count("key_file: expected a file path") == 5 and message.endswith("; and 1 more")


def test_an_odd_key_is_quoted_on_one_line(tmp_path):
    message = refusal(written(tmp_path, 'environment: {name: x, kind: lab}\nhosts: {a: {}}\n"a\\nb": 1\n'))
    assert "'a\\nb': unknown key" in message
