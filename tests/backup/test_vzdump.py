"""VM backups: a vzdump archive per VM per night on each hypervisor (B6), mirrored by rsync so
that each hypervisor holds both sets (B7)."""

import datetime

import pytest

from picacheck.facts.crontab import longest_wait, parse_schedule
from picacheck.kit.applicability import not_applicable
from picacheck.probes import backups, system

HOUR = datetime.timedelta(hours=1)


@pytest.mark.claim("B6")
def test_each_vm_has_a_backup_from_the_last_night(hosts, inventory, vzdump, evidence_note):
    for hypervisor in vzdump.hosts:
        vms = inventory.vms_of(hypervisor)
        host = hosts[hypervisor]
        archives = backups.vzdump_archives(host, vzdump.directory)
        now = backups.host_time(host)
        expected = set(vms.values())
        recent = {a.vmid for a in archives if now - a.taken_at <= datetime.timedelta(hours=vzdump.max_age_hours)}
        evidence_note(f"{hypervisor}: {len(archives)} archives in {vzdump.directory}, recent VM ids {sorted(recent)}")
        missing = expected - recent
        assert not missing, (
            f"{hypervisor}: no vzdump archive younger than {vzdump.max_age_hours} h for VM ids {sorted(missing)} "
            f"(archives: {sorted(a.name for a in archives)[-6:]})"
        )


@pytest.mark.claim("B6")
def test_vzdump_runs_on_schedule(hosts, vzdump):
    documented = parse_schedule(vzdump.schedule).fields
    for hypervisor in vzdump.hosts:
        crontab = system.crontab(hosts[hypervisor], vzdump.cron_file)
        assert crontab is not None, f"{hypervisor}: {vzdump.cron_file} does not exist"
        entries = crontab.entries_running("vzdump")
        assert entries, f"{hypervisor}: no vzdump job in {vzdump.cron_file}"
        assert any(e.fields == documented for e in entries), (
            f"{hypervisor}: vzdump runs at {[' '.join(e.fields or ()) for e in entries]}, documented {vzdump.schedule}"
        )


@pytest.mark.claim("B7")
def test_each_hypervisor_holds_both_sets(hosts, inventory, vzdump, evidence_note):
    """Each hypervisor holds a recent archive of the other's VMs, pulled by its rsync job.

    The copy lags its source: after the 03:00 vzdump, alice has last night's copies of bob's
    VMs until her 05:00 pull. So a copy may be older than B6's limit by the longest wait from
    vzdump's run to the pull's (2 h for alice, 3 h for bob); an older one, or none, breaks B7.
    """
    if not inventory.backups.rsync:
        not_applicable("the inventory documents no rsync mirror")
    problems = []
    for mirror in inventory.backups.rsync:
        lag_hours = longest_wait(parse_schedule(vzdump.schedule), parse_schedule(mirror.schedule)) / HOUR
        limit_hours = vzdump.max_age_hours + lag_hours
        host = hosts[mirror.host]
        now = backups.host_time(host)
        held = backups.vzdump_archives(host, vzdump.directory)
        for vm, vmid in inventory.vms_of(mirror.source_host).items():
            copies = sorted((a for a in held if a.vmid == vmid), key=lambda a: a.taken_at, reverse=True)
            newest_hours = (now - copies[0].taken_at) / HOUR if copies else None
            evidence_note(f"{mirror.host}: {len(copies)} copies of {mirror.source_host}'s {vm} ({vmid}), newest "
                          f"{'none' if newest_hours is None else f'{newest_hours:.1f} h old'}; limit {limit_hours:g} h "
                          f"(B6's {vzdump.max_age_hours:g} h + {lag_hours:g} h from vzdump to the pull)")
            if newest_hours is None or newest_hours > limit_hours:
                at_source = backups.vzdump_archives(hosts[mirror.source_host], vzdump.directory)
                source_names = sorted(a.name for a in at_source if a.vmid == vmid)
                problems.append(f"{mirror.host}: no copy of {mirror.source_host}'s {vm} ({vmid}) younger than "
                                f"{limit_hours:g} h (it holds {sorted(a.name for a in copies)}, "
                                f"{mirror.source_host} holds {source_names})")
    assert not problems, "the rsync mirror is not complete: " + "; ".join(problems)


@pytest.mark.claim("B7")
def test_rsync_mirror_jobs_pull_over_the_private_network(hosts, inventory):
    if not inventory.backups.rsync:
        not_applicable("the inventory documents no rsync mirror")
    for mirror in inventory.backups.rsync:
        crontab = system.crontab(hosts[mirror.host], mirror.cron_file)
        assert crontab is not None, f"{mirror.host}: {mirror.cron_file} does not exist"
        jobs = crontab.entries_running("rsync")
        matching = [e for e in jobs if f"{mirror.source_address}:{mirror.path}" in e.command]
        assert matching, f"{mirror.host}: no rsync job pulling {mirror.source_address}:{mirror.path} ({[e.command for e in jobs]})"
        assert matching[0].fields == parse_schedule(mirror.schedule).fields, (
            f"{mirror.host}: the rsync pull runs at {' '.join(matching[0].fields or ())}, documented {mirror.schedule}"
        )
