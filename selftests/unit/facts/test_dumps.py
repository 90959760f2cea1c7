"""Dump and vzdump archive names, and whether a dump's tail shows a finished dump."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from picacheck.facts import ParseError
from picacheck.facts.dumps import (dump_is_complete, parse_dump_name, parse_vzdump_name, parse_wall_clock,
                                   render_dump_name, render_vzdump_name)

# The last lines of real dumps, as mysqldump 10.19 (MariaDB 10.11) and pg_dump 15 end them.
MYSQLDUMP_TAIL = """/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2026-11-25 17:30:02
"""
PG_DUMP_TAIL = """--
-- PostgreSQL database dump complete
--

"""


def test_report_dump_name():
    assert parse_dump_name("2016.12.07.231208.sql") == datetime.datetime(2016, 12, 7, 23, 12, 8)


@pytest.mark.parametrize("name", ["2016.12.07.sql", "backup.sql", "2016.13.07.231208.sql", "2016.12.07.231208.sql.gz"])
def test_bad_dump_names(name):
    with pytest.raises(ParseError):
        parse_dump_name(name)


def test_complete_and_truncated_dumps():
    assert dump_is_complete("mysql", MYSQLDUMP_TAIL)
    assert dump_is_complete("postgresql", PG_DUMP_TAIL)
    assert not dump_is_complete("mysql", "INSERT INTO `pad` VALUES (1,'abc'),(2,'d")
    assert not dump_is_complete("postgresql", "COPY public.events (id) FROM stdin;\n1\n2\n")
    assert not dump_is_complete("mysql", "")


def test_vzdump_names():
    archive = parse_vzdump_name("vzdump-qemu-101-2016_12_08-03_00_02.vma.zst")
    assert (archive.kind, archive.vmid, archive.format, archive.compression) == ("qemu", 101, "vma", "zst")
    assert archive.taken_at == datetime.datetime(2016, 12, 8, 3, 0, 2)
    with pytest.raises(ParseError):
        parse_vzdump_name("vzdump-qemu-101.log")


moments = st.datetimes(min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0))


@given(moments)
def test_dump_name_round_trip(moment):
    assert parse_dump_name(render_dump_name(moment)) == moment


@given(moments, st.integers(100, 99999), st.sampled_from(["qemu", "lxc"]))
def test_vzdump_name_round_trip(moment, vmid, kind):
    archive = parse_vzdump_name(render_vzdump_name(kind, vmid, moment))
    assert (archive.taken_at, archive.vmid, archive.kind) == (moment, vmid, kind)


@settings(max_examples=200)
@given(st.text())
def test_arbitrary_names_raise_only_parse_errors(text):
    for parse in (parse_dump_name, parse_vzdump_name):
        try:
            parse(text)
        except ParseError:
            pass


def test_wall_clock_compares_with_vzdump_names():
    now = parse_wall_clock("2026-11-26 05:00:00\n")
    taken = parse_vzdump_name("vzdump-qemu-100-2026_11_26-03_00_01.vma.zst").taken_at
    assert now - taken == datetime.timedelta(hours=1, minutes=59, seconds=59)
    with pytest.raises(ParseError, match="wall clock"):
        parse_wall_clock("1795661964.81")
