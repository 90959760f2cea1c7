"""The backup layer against the lab: green (the drill restores both databases), then each
fault breaks the claims it should, with evidence, and after each repair the layer is green
again (issue 6).

Faults, as they happen in real life:
- the MySQL dump job stopped, and its newest dump older than the window → B1;
- more files than MAX_BACKUPS in the dump directory → B3 (repaired by the job's own
  rotation, which deletes the oldest first when it runs again);
- the newest PostgreSQL dump cut short → B4 (a partial file) and B5 (it does not restore);
- bob's copies of one of alice's VMs gone from his /SAVE/dump → B7 (repaired by bob's rsync pull);
  before that, the nightly vzdump without the pulls (03:00 to 06:00) must not break it.

The dump jobs are stopped with the Docker API (scaled to 0) between two cron ticks, so that
no dump is cut short by the stop itself, and scaled back to 1 afterwards (the report's
script makes a dump at start-up). Last, the part's `down` leaves nothing and `up` brings it
back (from the images in the registry).
"""

from __future__ import annotations

import datetime
import io
import shlex
import time
from contextlib import contextmanager

import pytest

from picacheck.facts.dumps import parse_vzdump_name, render_dump_name
from picacheck.inventory import load_inventory
from picacheck.lab.backups import plan as backups_plan
from picacheck.probes import backups
from picacheck.probes.docker_remote import docker_client
from picacheck.probes.remote import HostPool
from picacheck.wait import eventually

pytestmark = pytest.mark.lab

BACKUP_CLAIMS = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"]


def assert_green(run) -> None:
    broken = [claim for claim in BACKUP_CLAIMS if run.verdict(claim) != "holds"]
    assert not broken, (f"claims not holding: {[(c, run.verdict(c), run.evidence(c)[:2500]) for c in broken]}\n"
                        f"{run.output[-3000:]}")


def green_again(run_layer, timeout: float = 300):
    def layer_is_green():
        run = run_layer("backup")
        assert_green(run)
        return run

    return eventually(layer_is_green, timeout=timeout, interval=5, what="the backup layer green again")


@pytest.fixture(scope="module")
def inventory(lab):
    return load_inventory(lab)


@pytest.fixture(scope="module")
def pool(inventory):
    hosts = HostPool(inventory)
    yield hosts
    hosts.close()


@pytest.fixture(scope="module")
def policies(inventory):
    found = {policy.database: policy for policy in inventory.backups.dumps}
    assert set(found) == {"mysql", "postgresql"}, f"the lab inventory's dump policies: {sorted(found)}"
    return found


def _window_s(policy) -> float:
    return policy.period_hours * 3600 + policy.grace_minutes * 60


def _between_cron_ticks(period_s: float, before: float = 15, after: float = 20) -> None:
    """Wait for a moment at least `after` s past a tick of the job's cron and `before` s
    ahead of the next one (no dump is being written then)."""

    def quiet() -> bool:
        phase = time.time() % period_s
        return after <= phase <= period_s - before

    eventually(quiet, timeout=period_s, interval=1, what="a moment between two cron ticks")


def _running_tasks(service) -> list[dict]:
    return [t for t in service.tasks() if t["Status"]["State"] in ("running", "starting", "preparing", "assigned")]


@contextmanager
def dumps_stopped(pool, inventory, policy):
    """The policy's dump job scaled to 0 between two cron ticks; back to 1 at the end."""
    name = backups_plan.JOBS[policy.database].name
    manager = inventory.swarm.managers[0]
    _between_cron_ticks(policy.period_hours * 3600)
    with docker_client(pool[manager]) as client:
        service = client.services.get(name)
        service.scale(0)
        eventually(lambda: not _running_tasks(client.services.get(name)), timeout=60, interval=1,
                   what=f"{name} stopped")
    try:
        yield
    finally:
        with docker_client(pool[manager]) as client:
            client.services.get(name).scale(1)


def _newest(pool, policy):
    listing = backups.settled_backups(pool[policy.host], policy.directory)
    assert listing.dumps, f"no dump in {policy.directory}"
    return listing, listing.dumps[-1]


def test_backup_layer_is_green_on_the_lab(run_layer):
    run = run_layer("backup")
    assert_green(run)
    drill = run.evidence("B5")
    for database in ("mysql", "postgresql"):
        assert f"{database}: restored " in drill and "RPO" in drill, drill
    # The report's PostgreSQL restore script feeds a plain-SQL dump to pg_restore: a finding
    # on B5 (the dump itself restores), and B9 broken.
    found = run.findings("B5")
    assert run.status("B5") == "holds, with a finding", found
    assert "pg_restore" in found and "FAILS" in found and "text format dump" in found, found
    assert run.verdict("B9") == "broken" and "text format dump" in run.evidence("B9"), run.evidence("B9")


def test_stopped_dumps_and_an_aged_newest_dump_break_b1(run_layer, pool, inventory, policies, ssh):
    policy = policies["mysql"]
    with dumps_stopped(pool, inventory, policy):
        _, newest = _newest(pool, policy)
        path = f"{policy.directory}/{newest.name}"
        aged = newest.mtime - _window_s(policy) - 3600  # an hour past the window
        ssh(policy.host, f"touch -d @{aged:.0f} {shlex.quote(path)}")
        try:
            run = run_layer("backup", "-k", "younger_than_the_period")
            assert run.verdict("B1") == "broken", run.output[-2000:]
            assert run.verdict("B2") == "holds", run.evidence("B2")
            evidence = run.evidence("B1")
            assert newest.name in evidence and " h old" in evidence, evidence
        finally:
            ssh(policy.host, f"touch -d @{newest.mtime:.6f} {shlex.quote(path)}")
    green_again(run_layer)


def test_more_dumps_than_max_backups_break_b3_until_the_rotation_runs(run_layer, pool, inventory, policies, ssh):
    policy = policies["mysql"]
    made: list[str] = []
    try:
        with dumps_stopped(pool, inventory, policy):
            listing, newest = _newest(pool, policy)
            extra = policy.max_backups + 3 - len(listing.files)
            oldest = listing.dumps[0].named_time
            period = datetime.timedelta(hours=policy.period_hours)
            for k in range(1, extra + 1):  # older than the oldest, one period apart: no hole
                name = render_dump_name(oldest - k * period)
                stamp = (listing.dumps[0].mtime - k * period.total_seconds())
                target = shlex.quote(f"{policy.directory}/{name}")
                ssh(policy.host, f"cp {shlex.quote(policy.directory + '/' + newest.name)} {target} && "
                                 f"touch -d @{stamp:.0f} {target}")
                made.append(name)
            run = run_layer("backup", "-k", "rotation")
            assert run.verdict("B3") == "broken", run.output[-2000:]
            evidence = run.evidence("B3")
            assert f"{policy.max_backups + 3} files" in evidence and f"MAX_BACKUPS is {policy.max_backups}" in evidence, \
                evidence
        # Repair: the job runs again (a dump at start-up) and its rotation deletes the oldest
        # first: the files made here, which are older than every real dump.
        def rotated():
            names = {f.name for f in backups.list_backups(pool[policy.host], policy.directory).files}
            assert len(names) <= policy.max_backups, f"{len(names)} files, MAX_BACKUPS {policy.max_backups}"
            assert set(made) - names, "none of the extra files was deleted"
            return True

        eventually(rotated, timeout=120, interval=3, what="the job's rotation deleting the oldest dumps")
    finally:
        if made:  # whatever happened, none of the files made here stays
            ssh(policy.host, "rm -f " + " ".join(shlex.quote(f"{policy.directory}/{n}") for n in made))
    green_again(run_layer)


def test_a_truncated_newest_dump_breaks_b4_and_b5(run_layer, pool, inventory, policies, ssh):
    policy = policies["postgresql"]
    saved = "/root/picacheck-selftest-saved-dump.sql"  # outside the dump directory
    with dumps_stopped(pool, inventory, policy):
        _, newest = _newest(pool, policy)
        path = shlex.quote(f"{policy.directory}/{newest.name}")
        ssh(policy.host, f"cp -p {path} {saved} && truncate -s {newest.size // 2} {path}")
        try:
            run = run_layer("backup", "-k", "truncated or restores")
            assert run.verdict("B4") == "broken", run.output[-2000:]
            assert newest.name in run.evidence("B4"), run.evidence("B4")
            assert run.verdict("B5") == "broken", run.output[-2000:]
            drill = run.evidence("B5")
            assert "postgresql" in drill and "incomplete" in drill and newest.name in drill, drill
        finally:
            ssh(policy.host, f"cp -p {saved} {path} && rm -f {saved}")
    green_again(run_layer)


def test_the_nightly_vzdump_before_the_pulls_keeps_b6_and_b7(run_layer, inventory, ssh):
    """From 03:00 to the pulls (05:00, 06:00) each node's newest archives are on it alone, and
    what it pruned is still on the other: B7 holds all the same (a CI run across 03:00 once
    failed here). vzdump runs as its cron line runs it; the mirror does not run."""
    from picacheck.lab.hypervisors import vzdump as lab_vzdump

    before = {host: set(ssh(host, f"ls -1 {inventory.backups.vzdump.directory}").split()) for host in ("alice", "bob")}
    lab_vzdump.run()
    after = {host: set(ssh(host, f"ls -1 {inventory.backups.vzdump.directory}").split()) for host in ("alice", "bob")}
    assert all(after[host] - before[host] for host in after), "vzdump made no new archive"
    assert after["alice"] != after["bob"], "the two nodes hold the same files: the window is not reproduced"
    run = run_layer("backup", "-k", "vzdump")
    assert run.verdict("B6") == "holds" and run.verdict("B7") == "holds", run.output[-3000:]


def test_alices_archives_missing_on_bob_break_b7_until_the_mirror_runs(run_layer, inventory, ssh, clear_of_hypervisor_cron):
    vzdump = inventory.backups.vzdump
    alice_vm = min(inventory.vms_of("alice").values())

    def archives_of_alice_vm(host):
        names = ssh(host, f"ls -1 {vzdump.directory}").split()
        return sorted(n for n in names if n.endswith(".vma.zst") and parse_vzdump_name(n).vmid == alice_vm)

    clear_of_hypervisor_cron(needed_s=120)  # bob's 06:00 pull would repair it too soon
    copies = archives_of_alice_vm("bob")
    assert copies, f"no archive of alice's VM {alice_vm} on bob"
    ssh("bob", "rm -f " + " ".join(f"{vzdump.directory}/{name}" for name in copies))
    try:
        run = run_layer("backup", "-k", "both_sets")
        assert run.verdict("B7") == "broken", run.output[-2000:]
        evidence = run.evidence("B7")
        assert "bob: no copy of alice's" in evidence and archives_of_alice_vm("alice")[-1] in evidence, evidence
    finally:
        # Repair: bob's rsync pull, the command of its cron line (report section 14).
        mirror = next(m for m in inventory.backups.rsync if m.host == "bob")
        line = next(line for line in ssh("bob", f"cat {mirror.cron_file}").splitlines()
                    if "rsync" in line and not line.lstrip().startswith("#"))
        ssh("bob", line.split(None, 6)[6], timeout=300)
    assert set(archives_of_alice_vm("alice")) <= set(archives_of_alice_vm("bob"))
    green_again(run_layer)


def test_down_removes_everything_then_up_restores(pool, inventory, policies, ssh, clear_of_hypervisor_cron):
    from picacheck.lab import backups
    from picacheck.lab.backups import lifecycle as backups_manage

    clear_of_hypervisor_cron(needed_s=600)  # a 03:00 vzdump would add archives
    assert backups.down() is True
    with docker_client(pool[inventory.swarm.managers[0]]) as client:
        assert not client.services.list(filters=backups_manage.LABEL_FILTER)
        assert not client.secrets.list(filters=backups_manage.LABEL_FILTER)
    assert ssh(policies["mysql"].host, f"ls {backups_plan.BACKUP_ROOT} 2>&1 || true").strip().endswith(
        "No such file or directory")
    for hypervisor in inventory.backups.vzdump.hosts:
        assert "vzdump-" not in ssh(hypervisor, f"ls {inventory.backups.vzdump.directory}")
    assert not backups.is_up() and not backups_manage.LOCK_FILE.exists()
    assert backups.down() is False, "a second `down` finds nothing to remove"
    assert "images" not in backups.up(), "the images stay in the registry"
    report = backups.status(out=io.StringIO())
    assert report["ok"] and all(n >= 2 for n in report["dumps"].values()), report
    assert all(len(names) == 3 for names in report["archives"].values()), report["archives"]
