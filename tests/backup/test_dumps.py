"""The database dumps: fresh (B1, B2), rotated oldest first (B3), complete (B4), and the data
loss they really bound (B8)."""

import pytest

from picacheck.kit.inventory import inventory_of
from picacheck.kit.params import claim_marks, none_documented
from picacheck.probes import backups

FRESHNESS_CLAIM = {"mysql": "B1", "postgresql": "B2"}


def pytest_generate_tests(metafunc):
    # Which claim a freshness check carries depends on the database's engine (inventory).
    if "fresh_policy" in metafunc.fixturenames:
        inventory = inventory_of(metafunc.config)
        params = [pytest.param(policy, id=policy.database,
                               marks=claim_marks(FRESHNESS_CLAIM.get(inventory.database(policy.database).engine)))
                  for policy in inventory.backups.dumps]
        metafunc.parametrize("fresh_policy", params or none_documented("dump policy"))


def _window_hours(policy) -> float:
    return policy.period_hours + policy.grace_minutes / 60


def _describe(hours: float) -> str:
    return f"{hours:.2f} h" if hours >= 1 else f"{hours * 60:.1f} min"


def test_newest_dump_is_younger_than_the_period(hosts, fresh_policy, evidence_note):
    listing = backups.list_backups(hosts[fresh_policy.host], fresh_policy.directory)
    assert listing.dumps, f"no dump in {fresh_policy.directory} on {fresh_policy.host}"
    newest = listing.dumps[-1]
    age = listing.age_hours(newest)
    evidence_note(f"{fresh_policy.database}: newest dump {newest.name}, {_describe(age)} old "
                  f"(window {_describe(_window_hours(fresh_policy))})")
    assert age <= _window_hours(fresh_policy), (
        f"the newest {fresh_policy.database} dump {newest.name} is {_describe(age)} old: older than the period "
        f"{_describe(fresh_policy.period_hours)} plus {fresh_policy.grace_minutes:.0f} min of grace"
    )


@pytest.mark.claim("B3")
def test_rotation_keeps_at_most_max_backups_and_drops_the_oldest(hosts, dump_policy, evidence_note):
    # Settled: a dump being written is one file more until the rotation that follows it.
    listing = backups.settled_backups(hosts[dump_policy.host], dump_policy.directory)
    dumps = listing.dumps
    evidence_note(f"{dump_policy.database}: {len(dumps)} dumps (MAX_BACKUPS {dump_policy.max_backups}), "
                  f"{dumps[0].name if dumps else '-'} … {dumps[-1].name if dumps else '-'}")
    assert len(listing.files) <= dump_policy.max_backups, (
        f"{len(listing.files)} files in {dump_policy.directory}, MAX_BACKUPS is {dump_policy.max_backups}: rotation is not working"
    )
    # Kept dumps must be the newest, without holes: a hole means a newer dump was deleted.
    for older, newer in zip(dumps, dumps[1:]):
        gap = (newer.named_time - older.named_time).total_seconds() / 3600
        assert gap <= _window_hours(dump_policy), (
            f"{gap:.2f} h between {older.name} and {newer.name}: dumps in between are missing"
        )


@pytest.mark.claim("B4")
def test_no_empty_or_truncated_dump(hosts, inventory, dump_policy):
    host = hosts[dump_policy.host]
    engine = inventory.database(dump_policy.database).engine
    # Settled: a dump being written has no end-of-dump line yet, without being truncated.
    listing = backups.settled_backups(host, dump_policy.directory)
    empty = [f.name for f in listing.files if f.size == 0]
    assert not empty, f"empty files in {dump_policy.directory}: {empty}"
    truncated = [f.name for f in listing.dumps if not backups.dump_complete(host, dump_policy.directory, f.name, engine)]
    assert not truncated, f"dumps that {engine}'s dump tool did not finish: {truncated}"


@pytest.mark.claim("B8")
def test_worst_case_data_loss_is_within_the_period(hosts, inventory, dump_policy, evidence_note):
    listing = backups.list_backups(hosts[dump_policy.host], dump_policy.directory)
    dumps = listing.dumps
    assert len(dumps) >= 2, f"{len(dumps)} dump(s): not enough history to measure the loss window"
    gaps = [(b.mtime - a.mtime) / 3600 for a, b in zip(dumps, dumps[1:])] + [listing.age_hours(dumps[-1])]
    worst = max(gaps)
    documented = ", ".join(f"{h:g} h" for h in inventory.backups.documented_loss_hours) or "not documented"
    evidence_note(
        f"{dump_policy.database}: measured worst-case loss {_describe(worst)} over {len(dumps)} dumps "
        f"(period {_describe(dump_policy.period_hours)}; the report says {documented})"
    )
    assert worst <= _window_hours(dump_policy), (
        f"a failure at the worst moment loses {_describe(worst)} of {dump_policy.database} data, "
        f"more than the period {_describe(dump_policy.period_hours)}"
    )
