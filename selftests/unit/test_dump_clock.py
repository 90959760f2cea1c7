"""When a dump began is decided once (facts.dumps.dump_started_epoch): its name read in the
zone the inventory documents for the dump job (UTC: a container's zone unless TZ is set),
whatever the zone of the host that keeps the files or of the machine running the suite.
The drill read it in the dump host's zone and the experiments in UTC: on a host outside UTC
the two disagreed by the host's offset."""

from __future__ import annotations

import datetime
import os
import time

import pytest

from picacheck.databases.dumps import started_epoch
from picacheck.facts.dumps import ParseError, dump_started_epoch
from picacheck.inventory.model import DumpPolicy

EIGHT_UTC = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.timezone.utc).timestamp()


@pytest.fixture
def paris(monkeypatch):
    """This machine (and the dump host it stands for) in Europe/Paris, UTC+1 in December."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def test_a_name_written_by_a_utc_container_is_utc_on_a_host_outside_utc(paris):
    assert time.strftime("%z", time.localtime(EIGHT_UTC)) == "+0100"
    assert dump_started_epoch("2026.12.01.080000.sql") == EIGHT_UTC
    policy = DumpPolicy(database="mysql", directory="/DATA/BACKUP/mysql", host="pica01", period_hours=6, max_backups=30)
    assert started_epoch(policy, "2026.12.01.080000.sql", fallback=0.0) == EIGHT_UTC


def test_a_job_documented_in_its_own_zone_is_read_in_it(paris):
    policy = DumpPolicy(database="mysql", directory="/d", host="pica01", period_hours=6, max_backups=30,
                        name_timezone="Europe/Paris")
    assert started_epoch(policy, "2026.12.01.090000.sql", fallback=0.0) == EIGHT_UTC


def test_a_file_that_is_not_a_dump_name_falls_back_and_a_bad_zone_is_refused():
    policy = DumpPolicy(database="mysql", directory="/d", host="pica01", period_hours=6, max_backups=30)
    assert started_epoch(policy, "notes.txt", fallback=42.0) == 42.0
    with pytest.raises(ParseError, match="unknown time zone"):
        dump_started_epoch("2026.12.01.080000.sql", "Mars/Olympus")
    with pytest.raises(ValueError):
        DumpPolicy(database="m", directory="/d", host="h", period_hours=6, max_backups=3, name_timezone="Mars/Olympus")
