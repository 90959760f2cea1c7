"""Discovery end to end on a recorded lab (selftests/data/discover: every command and Docker
answer of one real discovery): the inventory it writes loads, shows no drift from the lab's
own inventory, and names the drift of a hidden change (pica02 demoted, an array member
failed) in the claims' terms; an unreachable host is named once and not compared; every
command is a reading; no secret of a service's environment is written."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from picacheck.discover import command, run
from picacheck.discover.differ import differences
from picacheck.discover.writer import render
from picacheck.facts import swarm
from picacheck.inventory import load_inventory
from picacheck.probes import cluster
from picacheck.probes.remote import RemoteHost
from picacheck.probes.ssh import HostUnreachable

DATA = Path(__file__).resolve().parents[1] / "data" / "discover"
ANSWERS = json.loads((DATA / "lab-answers.json").read_text())

# What discovery may run: reading commands only (as CLAIMS' checks do). Anything else fails.
READING = [r"cat [\w/.-]+", r"ip -j( -[46])? (addr|route) show( type bridge)?", r"lvs --reportformat json .*",
           r"pvs --reportformat json .*", r"findmnt --(list --)?json .*", r"lsblk --json .*", r"readlink -f .*",
           r"iptables-save -t nat", r"corosync-quorumtool -s", r"systemctl cat corosync\.service",
           r"timeout -s KILL \d+ gluster (peer status|volume info)", r"grep -H \. /proc/sys/.*",
           r"grep -lsw \w+ /etc/crontab /etc/cron\.d/\*", r"pgrep -x \w+", r"test -[efd] [\w/.-]+", r"command -v qm",
           r"qm list", r"docker service ls -q \| xargs -r docker service inspect"]


class Replayed(RemoteHost):
    """A host that answers what the lab answered (a command it was never asked fails the test)."""

    def __init__(self, name: str, answers: dict, asked: list):
        self.name, self.answers, self.asked = name, answers, asked
        self.backend = SimpleNamespace(sudo=False, unreachable=None)

    def run(self, command: str, *, timeout: int | None = None):
        self.asked.append((self.name, command))
        if command not in self.answers:
            raise AssertionError(f"{self.name}: `{command}` was not recorded")
        rc, stdout, stderr = self.answers[command]
        return SimpleNamespace(rc=rc, stdout=stdout, stderr=stderr)


class ReplayPool:
    def __init__(self, answers: dict, unreachable: dict | None = None):
        self.asked: list = []
        self.answers, self.down = answers, unreachable or {}
        self.hosts = {name: Replayed(name, commands, self.asked) for name, commands in answers.items()}

    def __getitem__(self, name):
        if name in self.down:
            raise HostUnreachable(name, self.down[name])
        return self.hosts[name]

    def preflight(self):
        return dict(self.down)

    def close(self):
        pass


def _task(node: str, state: str, desired: str) -> swarm.SwarmTask:
    """A task as recorded (its node and states) in the shape the API probe returns."""
    return swarm.SwarmTask(id="", name="", image=None, node=node, desired_state=desired, current_state=state)


@pytest.fixture
def lab(monkeypatch):
    """The recorded answers (copied: a test may change them) with the Docker API probes replayed."""
    answers = copy.deepcopy(ANSWERS)
    docker = answers["docker"]

    def replay(probe, build):
        def answer(host, *args, **kwargs):
            return build(docker[host.name][probe])
        return answer

    monkeypatch.setattr(cluster, "swarm_members", replay("swarm_members", lambda rows: [
        cluster.SwarmMember(**row) for row in rows]))
    monkeypatch.setattr(cluster, "swarm_networks", replay("swarm_networks", dict))
    monkeypatch.setattr(cluster, "swarm_services", replay("swarm_services", lambda rows: [
        swarm.SwarmService(**{**row, "tasks": tuple(_task(**t) for t in row["tasks"]),
                                "networks": tuple(row["networks"]), "published_ports": tuple(row["published_ports"])})
        for row in rows]))
    return answers


def discover(answers: dict, tmp_path: Path, unreachable: dict | None = None, said: list | None = None):
    minimal = load_inventory(DATA / "lab-minimal.yml")
    pool = ReplayPool(answers["commands"], unreachable)
    found = run.discover(minimal, pool, say=(said if said is not None else []).append, source="lab-minimal.yml")
    path = tmp_path / "discovered.yml"
    path.write_text(render(found.tree, ["test"]))
    return found, load_inventory(path), pool


def drift(found, loaded) -> list[str]:
    documented = load_inventory(DATA / "lab-documented.yml")
    rows = differences(documented, loaded, found.tree["x-discovered"].get("not_discovered", {}))
    return [row.line(row.subject) for row in rows]


def test_the_recorded_lab_discovers_to_its_own_documentation(lab, tmp_path):
    found, loaded, pool = discover(lab, tmp_path)
    assert found.problems == [] and found.unreachable == {} and found.valid is None and found.complete
    assert drift(found, loaded) == []
    assert set(found.tree["x-discovered"]["not_discovered"]) == {"databases.mysql.database"}
    assert loaded.swarm.managers == ("pica01", "pica02") and loaded.hosts["pica02"].vmid == 102
    assert [a.name for a in loaded.hosts["alice"].raid] == ["md0", "md1", "md2"]
    assert loaded.backups.dumps[0].period_hours == pytest.approx(1 / 60)


def test_every_command_discovery_runs_only_reads(lab, tmp_path):
    _, _, pool = discover(lab, tmp_path)
    commands = {command for _, command in pool.asked}
    assert len(commands) > 40
    writing = [c for c in commands if not any(re.fullmatch(pattern, c) for pattern in READING)]
    assert writing == []


def test_a_demoted_manager_is_drift_of_c10(lab, tmp_path):
    for member in lab["docker"]["pica01"]["swarm_members"]:
        if member["hostname"] == "pica02":
            member.update(role="worker", reachability=None)
    found, loaded, _ = discover(lab, tmp_path)
    assert drift(found, loaded) == ["C10: documented managers pica01, pica02; found pica01 only",
                                    "C10: documented workers none; found pica02"]


def test_a_failed_array_member_is_drift_of_its_claim(lab, tmp_path):
    mdstat = lab["commands"]["alice"]["cat /proc/mdstat"]
    mdstat[1] = mdstat[1].replace("md0 : active raid1 ubdb1[1] ubda1[0]", "md0 : active raid1 ubdb1[1](F) ubda1[0]")
    mdstat[1] = mdstat[1].replace("48128 blocks super 1.2 [2/2] [UU]", "48128 blocks super 1.2 [2/1] [U_]")
    assert "(F)" in mdstat[1] and "[U_]" in mdstat[1]
    found, loaded, _ = discover(lab, tmp_path)
    assert drift(found, loaded) == ["H2: alice md0: documented members ubda1, ubdb1; found ubda1 only"]
    assert "members: [ubda1]  # ubdb1 faulty" in render(found.tree)


def test_an_unreachable_host_is_named_once_and_not_compared(lab, tmp_path):
    said = []
    found, loaded, pool = discover(lab, tmp_path, {"bob": "SSH port closed (connection refused on 172.30.42.3:22)"}, said)
    assert said == ["bob is unreachable: SSH port closed (connection refused on 172.30.42.3:22); what only it shows is "
                    "left as placeholders"]
    assert not found.complete and "bob" not in {host for host, _ in pool.asked}
    not_discovered = found.tree["x-discovered"]["not_discovered"]
    assert not_discovered["hosts.bob"].startswith("bob is unreachable: SSH port closed")
    assert {"hosts.pica02.hypervisor", "hosts.pica02.vmid", "backups.vzdump", "backups.rsync"} <= set(not_discovered)
    assert drift(found, loaded) == [], "what bob alone shows is not compared"
    assert loaded.corosync.cluster_name == "picasoft", "alice still shows the cluster"


def test_no_secret_of_a_service_environment_is_written(lab, tmp_path):
    inspect = lab["commands"]["pica01"]["docker service ls -q | xargs -r docker service inspect"]
    recorded = inspect[1]
    inspect[1] = recorded.replace('"MYSQL_PASS_FILE=/run/secrets/mysql-backup-password"', '"MYSQL_PASS=hunter2-secret"')
    assert inspect[1] != recorded
    found, loaded, _ = discover(lab, tmp_path)
    assert "hunter2" not in render(found.tree) and "hunter2" not in " ".join(found.problems)
    assert loaded.databases[0].user == "root"


def test_a_section_that_cannot_be_read_is_a_placeholder_with_its_reason(lab, tmp_path):
    lab["commands"]["pica01"]["timeout -s KILL 30 gluster volume info"] = [
        1, "Connection failed. Please check if gluster daemon is operational.\n", ""]
    found, loaded, _ = discover(lab, tmp_path)
    assert loaded.gluster is None and not found.complete
    assert any(problem.startswith("gluster: could not be read: pica01: `timeout -s KILL 30 gluster volume info`")
               for problem in found.problems)
    assert "gluster" in found.tree["x-discovered"]["not_discovered"]
    assert drift(found, loaded) == []


def test_roles_left_empty_are_inferred_from_what_runs():
    answers = {command: [0 if role in ("swarm", "gluster") else 1, "", ""] for role, command in run.ROLE_SIGNS}
    asked = []
    assert run._read_roles(Replayed("pica01", answers, asked)) == ("gluster", "swarm")
    assert len(asked) == len(run.ROLE_SIGNS)


def test_the_command_fills_what_cannot_be_discovered_from_a_documented_inventory(lab, tmp_path, monkeypatch):
    monkeypatch.setattr(command, "HostPool", lambda inventory, **options: ReplayPool(lab["commands"]))
    out = tmp_path / "filled.yml"
    documented_path = DATA / "lab-documented.yml"
    assert command.discover_command(str(DATA / "lab-minimal.yml"), output=str(out), fill=str(documented_path)) == 0
    filled, documented = load_inventory(out), load_inventory(documented_path)
    assert filled.services == tuple(sorted(documented.services, key=lambda s: s.name))
    assert filled.database("mysql") == documented.database("mysql"), "its database too, which discovery did not know"
    assert (filled.not_applicable, filled.dns, filled.tls) == (documented.not_applicable, documented.dns, documented.tls)
    images = set(filled.registry.expected_images)
    assert filled.registry.model_copy(update={"expected_images": ()}) == documented.registry.model_copy(
        update={"expected_images": ()})
    assert images < set(documented.registry.expected_images), "the images the services run: discovered, kept"
    assert f"user: pica  # from {documented_path}" in out.read_text()


def test_a_port_forward_no_read_hypervisor_could_show_is_unknown_not_none(lab, tmp_path):
    """S10's forwarded_by: with the hypervisors not read, "no forward found" means nothing; it
    is a placeholder with its reason, and a documented forward is not drift."""
    unreachable = {name: "SSH port closed (connection refused)" for name in ("alice", "bob")}
    found, loaded, _ = discover(lab, tmp_path, unreachable)
    assert "registry.forwarded_by" in found.tree["x-discovered"]["not_discovered"], found.tree["x-discovered"]
    documented = load_inventory(DATA / "lab-documented.yml")
    forwarded = documented.model_copy(update={"registry": documented.registry.model_copy(
        update={"forwarded_by": "alice"})})
    not_discovered = found.tree["x-discovered"]["not_discovered"]
    assert not [d for d in differences(forwarded, loaded, not_discovered) if d.claim == "S10"]
