"""VM backups: a vzdump archive per VM per night on each hypervisor (B6), mirrored by rsync so
that each hypervisor holds both sets (B7)."""

import datetime

import pytest

from picacheck.facts.crontab import parse_crontab
from picacheck.probes import backups, system


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
    for hypervisor in vzdump.hosts:
        text = system.file_text(hosts[hypervisor], vzdump.cron_file) or ""
        entries = [e for e in parse_crontab(text, system=True).entries if "vzdump" in e.command]
        assert entries, f"{hypervisor}: no vzdump job in {vzdump.cron_file}"
        assert any(e.fields == tuple(vzdump.schedule.split()) for e in entries), (
            f"{hypervisor}: vzdump runs at {[' '.join(e.fields or ()) for e in entries]}, documented {vzdump.schedule}"
        )


@pytest.mark.claim("B7")
def test_each_hypervisor_holds_both_sets(hosts, vzdump):
    sets = {h: {a.name for a in backups.vzdump_archives(hosts[h], vzdump.directory)} for h in vzdump.hosts}
    union = set().union(*sets.values())
    missing = {h: sorted(union - names) for h, names in sets.items() if union - names}
    assert not missing, f"archives missing from a hypervisor (the rsync mirror is not complete): {missing}"


@pytest.mark.claim("B7")
def test_rsync_mirror_jobs_pull_over_the_private_network(hosts, inventory):
    if not inventory.backups.rsync:
        pytest.skip("not applicable here: the inventory documents no rsync mirror")
    for mirror in inventory.backups.rsync:
        text = system.file_text(hosts[mirror.host], mirror.cron_file) or ""
        jobs = [e for e in parse_crontab(text, system=True).entries if "rsync" in e.command]
        matching = [e for e in jobs if f"{mirror.source_address}:{mirror.path}" in e.command]
        assert matching, f"{mirror.host}: no rsync job pulling {mirror.source_address}:{mirror.path} ({[e.command for e in jobs]})"
        assert matching[0].fields == tuple(mirror.schedule.split()), (
            f"{mirror.host}: the rsync pull runs at {' '.join(matching[0].fields or ())}, documented {mirror.schedule}"
        )
