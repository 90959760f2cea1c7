"""`inventory diff`: drift named claim by claim, compared as the checks compare; what cannot
be discovered, what the minimal inventory gave and what discovery did not know is not drift;
exit 0 / 1 / 2."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from picacheck.discover.differ import differences, render
from picacheck.inventory.model import Inventory

REPO = Path(__file__).resolve().parents[2]

BASE = {
    "environment": {"name": "t", "kind": "lab"},
    "hosts": {
        "alice": {"roles": ["hypervisor"], "ssh": {"address": "10.0.0.1"}, "public_ipv4": "10.0.0.1",
                  "raid": [{"name": "md0", "claim": "H2", "members": ["sda1", "sdb1"], "size_mb": 200,
                            "filesystem": "ext2", "mountpoint": "/boot"}],
                  "mounts": [{"path": "/SAVE", "size_gb": 200}],
                  "network": {"public_interface": "eth1", "nameservers": ["10.0.0.53", "10.0.0.54"]},
                  "daemons": ["sshd", "corosync"]},
        "bob": {"roles": ["hypervisor"], "ssh": {"address": "10.0.0.2"}, "daemons": ["sshd", "corosync"]},
        "pica01": {"roles": ["swarm"], "ssh": {"address": "10.0.0.11"}, "hypervisor": "alice", "vmid": 100},
        "pica02": {"roles": ["swarm"], "ssh": {"address": "10.0.0.12"}, "hypervisor": "bob", "vmid": 102},
    },
    "corosync": {"cluster_name": "picasoft", "nodes": [{"name": "alice", "nodeid": 1}, {"name": "bob", "nodeid": 2}],
                 "two_node": True, "expected_votes": 2, "flags": ["2Node", "Quorate"]},
    "swarm": {"managers": ["pica01", "pica02"], "networks": [{"name": "pica-net"}]},
    "services": [{"name": "etherpad", "kind": "etherpad", "domain": "pad.test",
                  "slo": {"p95_ms": 800, "max_failure_ratio": 0.01, "min_rps": 4}}],
    "databases": [{"name": "mysql", "engine": "mysql", "host": "mysql", "port": 3306, "user": "root",
                   "password_env": "MYSQL_PASSWORD"}],
    "backups": {"dumps": [{"database": "mysql", "directory": "/DATA/BACKUP/mysql", "host": "pica01",
                           "period_hours": 6, "max_backups": 30, "cron_time": "0 */6 * * *"}]},
    "not_applicable": {"H7": "no GRUB here"},
}


def inventory(changes=None) -> Inventory:
    data = copy.deepcopy(BASE)
    if changes:
        changes(data)
    return Inventory.model_validate(data)


def lines(documented: Inventory, found: Inventory, not_discovered=None) -> list[str]:
    return [d.line(d.subject) for d in differences(documented, found, not_discovered)]


def test_the_same_inventory_has_no_drift():
    assert differences(inventory(), inventory()) == []


def test_a_demoted_manager_is_named_in_the_claims_terms():
    def demote(data):
        data["swarm"].update(managers=["pica01"], workers=["pica02"])

    found = differences(inventory(), inventory(demote))
    assert [d.line(d.subject) for d in found] == ["C10: documented managers pica01, pica02; found pica01 only",
                                                  "C10: documented workers none; found pica02"]
    assert (found[0].claim, found[0].section, found[0].where) == ("C10", "swarm", "swarm.managers")
    assert (found[0].documented, found[0].found) == (("pica01", "pica02"), ("pica01",))


def test_hosts_drift_names_the_host_the_item_and_the_claim():
    def drift(data):
        alice = data["hosts"]["alice"]
        alice["raid"][0]["members"] = ["sda1"]
        alice["network"]["nameservers"] = ["10.0.0.54", "10.0.0.53"]  # the order is the claim (H10)
        alice["daemons"] = ["sshd"]
        alice["mounts"] = []
        data["hosts"]["pica02"]["hypervisor"] = "alice"

    assert lines(inventory(), inventory(drift)) == [
        "H2: alice md0: documented members sda1, sdb1; found sda1 only",
        "H13: alice: documented mount /SAVE; found none",
        "H10: alice: documented resolvers 10.0.0.53, 10.0.0.54; found 10.0.0.54, 10.0.0.53",
        "H14: alice: documented daemons sshd, corosync; found sshd only",
        "B6: pica02: documented hypervisor bob; found alice",
    ]


def test_values_are_compared_as_the_checks_compare_them():
    def close_enough(data):
        data["hosts"]["alice"]["raid"][0]["size_mb"] = 190  # within 25 %
        data["hosts"]["alice"]["mounts"][0]["size_gb"] = 170
        data["corosync"]["flags"] = ["Quorate", "2Node", "WaitForAll"]  # the documented ones are there
        data["hosts"]["alice"]["raid"][0]["members"] = ["sdb1", "sda1"]  # a set

    assert differences(inventory(), inventory(close_enough)) == []

    def too_far(data):
        data["hosts"]["alice"]["raid"][0]["size_mb"] = 100
        data["corosync"]["flags"] = ["2Node"]

    assert lines(inventory(), inventory(too_far)) == [
        "H2: alice md0: documented size (MB) 200; found 100",
        "C2: documented flags 2Node, Quorate; found 2Node only",
    ]


def test_what_cannot_be_discovered_is_not_drift():
    def undiscoverable(data):
        data["services"][0]["slo"] = {"p95_ms": 1, "max_failure_ratio": 0, "min_rps": 1}
        data["hosts"]["alice"]["raid"][0]["claim"] = None
        data["hosts"]["alice"]["ssh"] = {"address": "192.0.2.1", "port": 2222}  # how to reach it: given
        data["databases"][0]["password_env"] = None
        data["not_applicable"] = {}

    assert differences(inventory(), inventory(undiscoverable)) == []


def test_what_discovery_did_not_know_is_not_compared():
    def bob_unknown(data):
        data["hosts"]["bob"]["daemons"] = []
        data["swarm"]["managers"] = ["pica01"]

    found = inventory(bob_unknown)
    assert differences(inventory(), found, {"hosts.bob": "bob is unreachable", "swarm.managers": "x"}) == []
    assert "H14: bob: documented daemons sshd, corosync; found none" in lines(
        inventory(), found, {"hosts.bo": "a prefix of another name is not its parent"})


def test_missing_and_extra_sections_and_items():
    def other(data):
        del data["corosync"]
        data["services"].append({"name": "wiki", "kind": "wiki", "domain": "wiki.test"})
        data["databases"][0]["port"] = 3307

    assert lines(inventory(), inventory(other)) == [
        "C1: documented corosync cluster picasoft; found none",
        "S1: documented service none; found wiki",
        "S6: mysql: documented port 3306; found 3307",
    ]


def test_the_printer_groups_by_section_and_counts():
    def demote(data):
        data["swarm"].update(managers=["pica01"], workers=["pica02"])
        data["hosts"]["alice"]["daemons"] = ["sshd"]

    text = render(differences(inventory(), inventory(demote)), {"hosts.bob": "bob is unreachable"}, "doc.yml", "found.yml")
    assert text.splitlines() == [
        "hosts", "  H14: alice: documented daemons sshd, corosync; found sshd only",
        "swarm", "  C10: documented managers pica01, pica02; found pica01 only",
        "  C10: documented workers none; found pica02",
        "not compared (not discovered):", "  hosts.bob: bob is unreachable",
        "3 differences between doc.yml and found.yml (what cannot be discovered is not compared)"]


# --- the command ------------------------------------------------------------------------------------


def _write(path: Path, changes=None, meta=None) -> Path:
    data = copy.deepcopy(BASE)
    if changes:
        changes(data)
    if meta is not None:
        data["x-discovered"] = meta
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=REPO)


def test_diff_exits_0_without_drift_1_with_drift_2_on_bad_input(tmp_path):
    documented = _write(tmp_path / "doc.yml")
    same = _write(tmp_path / "same.yml", meta={"not_discovered": {}})
    demoted = _write(tmp_path / "demoted.yml", lambda d: d["swarm"].update(managers=["pica01"], workers=["pica02"]))
    result = _cli("inventory", "diff", str(documented), str(same))
    assert result.returncode == 0 and result.stdout.strip().endswith("(what cannot be discovered is not compared)")
    assert result.stdout.startswith("no drift"), result.stdout
    result = _cli("inventory", "diff", str(documented), str(demoted))
    assert result.returncode == 1 and "  C10: documented managers pica01, pica02; found pica01 only" in result.stdout
    broken = _write(tmp_path / "broken.yml", lambda d: d["swarm"].update(managers=["nobody"]))
    bad_meta = _write(tmp_path / "meta.yml", meta={"not_discovered": ["hosts.bob"]})
    for args in ((str(documented), str(tmp_path / "missing.yml")), (str(documented), str(broken)),
                 (str(documented), str(bad_meta)), (str(documented),)):
        result = _cli("inventory", "diff", *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("what", ["missing", "hosts"])
def test_discover_refuses_bad_input_with_one_line(tmp_path, what):
    documented = _write(tmp_path / "doc.yml")
    args = ("--from", str(tmp_path / "nope.yml")) if what == "missing" else ("--from", str(documented), "--hosts", "carol")
    result = _cli("inventory", "discover", *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert ("carol" in result.stderr) if what == "hosts" else ("not found" in result.stderr)
