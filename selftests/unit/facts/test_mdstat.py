"""parse_mdstat on every /proc/mdstat sample, the report's, and degraded variants of our own."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, ToolError, parse_mdstat

from .datafiles import data_files, read

# Per file: {array: (state, level, status, degraded, failed members, sync)}; sync is None,
# (action, percent) or (action, "DELAYED"/"PENDING"); degraded None where the array shows no
# "[n/m] [UU]" (inactive). Read off the files by hand.
EXPECTED = {
    "check-raid-issue164-raid1-faulty-member-5of5.txt": {
        "md1": ("active", "raid1", "UUUUU", False, ("sdh1",), None),  # a 6th member faulty, [5/5]: not degraded
        "md0": ("active", "raid1", "UU", False, (), None),
    },
    "check-raid-issue43-raid6-degraded-no-unused-line.txt": {"md0": ("active", "raid6", "U_UUUU", True, (), None)},
    "check-raid-issue43-raid6-readd-recovery-0.2pct.txt": {"md0": ("active", "raid6", "U_UUUU", True, (), ("recovery", 0.2))},
    "check-raid-issue43-raid6-recovery-2missing-2space-indent.txt": {
        "md0": ("active", "raid6", "UUUU__", True, (), ("recovery", 19.6)),
    },
    "check-raid-issue43-raid6-reshape-super-0.91-spares.txt": {
        "md0": ("active", "raid6", "UUUU__", True, (), ("reshape", 48.4)),
    },
    "check-raid-issue64-auto-read-only.txt": {
        "md2": ("active", "raid1", "UU", False, (), None),
        "md1": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "raid1", "UU", False, (), None),
    },
    "check-raid-linear-64k-rounding.txt": {
        "md1": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "linear", None, False, (), None),
    },
    "check-raid-no-arrays-empty-personalities.txt": {},
    "check-raid-pr24-check-98pct.txt": {
        "md2": ("active", "raid1", "UU", False, (), ("check", 98.3)),
        "md1": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "raid1", "UU", False, (), None),
    },
    "check-raid-pr28-raid1-one-member-left.txt": {
        "md1": ("active", "raid1", "_U", True, (), None),
        "md0": ("active", "raid1", "_U", True, (), ("recovery", 3.6)),
    },
    "check-raid-pr28-raid1-recovery-0.4pct.txt": {
        "md1": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "raid1", "_U", True, (), ("recovery", 0.4)),
    },
    "check-raid-pr28-recovery-and-resync-delayed.txt": {
        "md1": ("active", "raid1", "_U", True, (), ("resync", "DELAYED")),
        "md0": ("active", "raid1", "_U", True, (), ("recovery", 3.9)),
    },
    "check-raid-pr77-resync-delayed-check-bitmap.txt": {
        "md1": ("active", "raid1", "UU", False, (), ("resync", "DELAYED")),
        "md0": ("active", "raid1", "UU", False, (), ("check", 6.4)),
    },
    "check-raid-raid0-dm-no-unused-line.txt": {"md2": ("active", "raid0", None, False, (), None)},
    "check-raid-raid1-two-resyncs.txt": {
        "md0": ("active", "raid1", "UU", False, (), None),
        "md2": ("active", "raid1", "UU", False, (), ("resync", 11.2)),
        "md1": ("active", "raid1", "UU", False, (), ("resync", 9.9)),
    },
    "check-raid-raid5-failed-sdc1-empty-unused.txt": {"md0": ("active", "raid5", "U_U", True, ("sdc1",), None)},
    "check-raid-white-raid1-0.90-recovery-29pct.txt": {
        "md125": ("active", "raid1", "UU", False, (), None),
        "md126": ("active", "raid1", "_U", True, (), ("recovery", 29.2)),
        "md127": ("active", "raid1", "UU", False, (), None),
    },
    "hdo-site-issue404-4-raid1-sda-faulty.txt": {
        name: ("active", "raid1", "_U", True, (member,), None)
        for name, member in (("md0", "sda1"), ("md3", "sda4"), ("md1", "sda2"), ("md2", "sda3"))
    },
    "probert-issue125-inactive-one-spare.txt": {"md127": ("inactive", None, None, None, (), None)},
    "probert-issue125-raid1-resync-50pct.txt": {"md127": ("active", "raid1", "UU", False, (), ("resync", 50.4))},
    "mdadm-issue26-raid10-22disks-2missing.txt": {
        "md127": ("active", "raid10", "UUUUUUUUUUUUUUUUU_U_UU", True, (), None),
    },
    "node-exporter-issue219-raid0-xvdb.txt": {"md0": ("active", "raid0", None, False, (), None)},
    "node-exporter-issue261-raid5-failed-sdb1.txt": {
        "md5": ("active", "raid5", "UUU_", True, ("sdb1",), None),
        "md1": ("active", "raid1", "UU", False, (), None),
    },
    "node-exporter-issue500-raid0-nvme-gce.txt": {"md0": ("active", "raid0", None, False, (), None)},
    "procfs-composite-fixture.txt": {
        "md3": ("active", "raid6", "UUUUUUUU", False, (), None),
        "md127": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "raid1", "UU", False, (), None),
        "md4": ("inactive", "raid1", "UU", False, ("sda3",), None),
        "md6": ("active", "raid1", "U_", True, ("sdb2",), ("recovery", 8.5)),
        "md8": ("active", "raid1", "UU", False, (), ("resync", 8.5)),
        "md201": ("active", "raid1", "UU", False, (), ("check", 5.7)),
        "md7": ("active", "raid6", "U_UU", True, ("sdc1",), None),
        "md9": ("active", "raid1", "UUUU", False, ("sde", "sdf"), ("resync", "DELAYED")),
        "md10": ("active", "raid0", None, False, (), None),
        "md11": ("active", "raid1", "UU", False, ("sdc3",), ("resync", "PENDING")),
        "md12": ("active", "raid0", None, False, (), None),
        "md126": ("active", "raid0", None, False, (), None),
        "md219": ("inactive", None, None, None, (), None),
        "md00": ("active", "raid0", None, False, (), None),
        "md120": ("active", "linear", None, False, (), None),
        "md101": ("active", "raid0", None, False, (), None),
        "md42": ("active", "raid5", "UU_", True, (), ("reshape", 56.1)),
    },
    "pymdstat-01.txt": {},
    "pymdstat-02.txt": {"md_d0": ("active", "raid5", "UUUUU", False, (), None)},
    "pymdstat-03.txt": {"md0": ("active", "raid5", "UUU_", True, (), None)},
    "pymdstat-04.txt": {
        "md1": ("active", "raid1", "UU", False, (), None),
        "md2": ("active", "raid1", "UU", False, (), None),
        "md3": ("active", "raid5", "U" * 10, False, (), None),
        "md0": ("active", "raid1", "UU", False, (), None),
    },
    "pymdstat-05.txt": {"md127": ("active", "raid5", "UUUUU_", True, (), ("recovery", 12.6))},
    "pymdstat-06.txt": {"md0": ("active", "raid6", "UUUUUUU", False, (), None)},
    "pymdstat-07.txt": {"md1": ("active", "raid1", "_UUUU_", True, ("sde1",), None)},
    "pymdstat-08.txt": {"md0": ("inactive", "raid5", "UUUU", False, (), None)},
    "pymdstat-09.txt": {
        "md0": ("active", "raid1", "UU", False, (), None),
        "md1": ("active", "raid1", "UU", False, (), None),
        "md2": ("inactive", None, None, None, (), None),
    },
    "pymdstat-10.txt": {
        "md129": ("active", "raid1", "UU", False, (), None),
        "md128": ("active", "raid1", "UU", False, (), None),
        "md125": ("active", "raid0", None, False, (), None),
        "md126": ("active", "raid0", None, False, (), None),
    },
    "pymdstat-11.txt": {"md127": ("inactive", None, None, None, (), None)},
    "pymdstat-12.txt": {"md127": ("active", "raid0", None, False, (), None)},
    "pymdstat-13.txt": {"md127": ("active", "raid4", "UU__", True, (), ("reshape", 2.1))},
    "pymdstat-14.txt": {"md127": ("active", "raid0", None, False, (), None)},
    "pymdstat-15.txt": {
        "md3": ("active", "raid6", "U" * 8, False, (), None),
        "md2": ("active", "raid6", "U" * 8, False, (), None),
        "md1": ("active", "raid1", "U" * 8, False, (), None),
        "md0": ("active", "raid1", "U" * 8, False, (), None),
    },
    "pymdstat-16.txt": {"md1": ("active", "raid5", "U" * 8, False, (), None)},
    "telegraf-empty.txt": {},
    "telegraf-raid10-check-94pct.txt": {
        "md2": ("active", "raid10", "U" * 12, False, (), ("check", 94.3)),
        "md1": ("active", "raid1", "UU", False, (), None),
        "md0": ("active", "raid1", "UU", False, (), None),
    },
    "telegraf-raid5-degraded-UUU_.txt": {"md0": ("active", "raid5", "UUU_", True, (), None)},
}


def test_every_mdstat_file_has_expectations():
    assert sorted(EXPECTED) == data_files("mdstat")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mdstat_file(name):
    mdstat = parse_mdstat(read("mdstat", name))
    assert [a.name for a in mdstat.arrays] == list(EXPECTED[name])
    for array_name, (state, level, status, degraded, failed, sync) in EXPECTED[name].items():
        array = mdstat.array(array_name)
        assert (array.state, array.level, array.status) == (state, level, status)
        assert array.degraded is degraded
        assert tuple(m.name for m in array.failed_members) == failed
        if sync is None:
            assert array.sync is None
        elif sync[1] in ("DELAYED", "PENDING"):
            assert (array.sync.action, array.sync.delayed, array.sync.pending) == (sync[0], sync[1] == "DELAYED", sync[1] == "PENDING")
            assert not array.sync.running
        else:
            assert (array.sync.action, array.sync.percent) == sync


# Written by us, as the kernel prints it on the first Sunday of a month (Debian's checkarray
# cron at 00:57): md1's check waits for md0's, on the same two disks.
MONTHLY_SCRUB = """\
Personalities : [raid1]
md1 : active raid1 sdb2[1] sda2[0]
      976630464 blocks super 1.2 [2/2] [UU]
      	  resync=DELAYED

md0 : active raid1 sdb1[1] sda1[0]
      523264 blocks super 1.2 [2/2] [UU]
      [=>...................]  check =  8.2% (43008/523264) finish=0.3min speed=21504K/sec

unused devices: <none>
"""


def test_a_waiting_scrub_is_healthy_a_waiting_resync_is_not():
    checking = parse_mdstat(MONTHLY_SCRUB.replace("resync=DELAYED", "check=DELAYED"))
    assert checking.array("md0").healthy and checking.array("md1").healthy
    assert checking.array("md1").sync.delayed
    resyncing = parse_mdstat(MONTHLY_SCRUB)
    assert not resyncing.array("md1").healthy and resyncing.array("md0").healthy


def test_composite_fixture_details():
    mdstat = parse_mdstat(read("mdstat", "procfs-composite-fixture.txt"))
    assert mdstat.personalities == ("linear", "multipath", "raid0", "raid1", "raid6", "raid5", "raid4", "raid10")
    md6 = mdstat.array("md6")
    assert (md6.raid_disks, md6.active_disks) == (2, 1)
    assert md6.sync.done_blocks == 16775552 and md6.sync.total_blocks == 195310144
    assert md6.sync.finish_minutes == 17.0 and md6.sync.speed_kib_s == 259783
    assert [m.name for m in md6.spare_members] == ["sdc"]
    assert not md6.healthy
    assert mdstat.array("md201").healthy  # a check is a routine scrub
    assert not mdstat.array("md8").healthy  # a resync is not
    assert mdstat.array("md11").auto_read_only and mdstat.array("md101").read_only
    md219 = mdstat.array("md219")
    assert md219.super_version == "external:imsm" and all(m.spare for m in md219.members)
    assert mdstat.array("md126").super_version == "external:/md127/0"
    assert mdstat.array("md7").bitmap == "0/30 pages [0KB], 65536KB chunk"
    assert mdstat.array("md3").layout == "level 6, 64k chunk, algorithm 2"
    assert mdstat.array("md3").chunk_kib == 64
    assert mdstat.array("/dev/md42").spare_members[0].name == "sda1"
    assert {a.name for a in mdstat.degraded_arrays} == {"md6", "md7", "md42"}


def test_nbsp_unused_devices_and_unindented_lines():
    assert parse_mdstat(read("mdstat", "pymdstat-14.txt")).personalities == ("raid0",)
    assert parse_mdstat(read("mdstat", "pymdstat-15.txt")).array("md3").blocks == 17581481472
    assert parse_mdstat(read("mdstat", "pymdstat-16.txt")).unused_devices is None  # the line is not there
    nvme = parse_mdstat(read("mdstat", "node-exporter-issue500-raid0-nvme-gce.txt")).array("md0")
    assert nvme.member_names == ("nvme0n2", "nvme0n1") and nvme.chunk_kib == 1024


# Per file: array → (healthy, read-only, auto-read-only, superblock, spares); healthy None: not shown.
DETAILS = {
    ("check-raid-issue164-raid1-faulty-member-5of5.txt", "md1"): (False, False, False, "1.2", ()),
    ("check-raid-issue43-raid6-reshape-super-0.91-spares.txt", "md0"): (False, False, False, "0.91", ("sde1", "sdf1")),
    ("check-raid-issue64-auto-read-only.txt", "md2"): (True, False, True, "1.2", ()),
    ("check-raid-issue64-auto-read-only.txt", "md1"): (True, False, False, "1.2", ()),
    ("check-raid-pr24-check-98pct.txt", "md2"): (True, False, False, "1.2", ()),  # a scrub
    ("check-raid-pr77-resync-delayed-check-bitmap.txt", "md1"): (False, False, False, "1.1", ()),  # a resync waits
    ("check-raid-raid0-dm-no-unused-line.txt", "md2"): (True, False, False, "1.2", ()),
    ("check-raid-white-raid1-0.90-recovery-29pct.txt", "md126"): (False, False, False, None, ()),
    ("probert-issue125-inactive-one-spare.txt", "md127"): (False, False, False, "1.2", ("sdc1",)),
    ("pymdstat-09.txt", "md2"): (False, False, False, None, ("sdb", "sdc", "sdd", "sda")),
}


@pytest.mark.parametrize("name, array_name", sorted(DETAILS))
def test_mdstat_array_details(name, array_name):
    array = parse_mdstat(read("mdstat", name)).array(array_name)
    got = (array.healthy, array.read_only, array.auto_read_only, array.super_version, tuple(m.name for m in array.spare_members))
    assert got == DETAILS[(name, array_name)]


def test_kernel_2_6_layouts():
    # no "unused devices:" line, an empty one, empty Personalities, status lines indented by 2
    assert parse_mdstat(read("mdstat", "check-raid-raid0-dm-no-unused-line.txt")).unused_devices is None
    assert parse_mdstat(read("mdstat", "check-raid-raid5-failed-sdc1-empty-unused.txt")).unused_devices == ()
    empty = parse_mdstat(read("mdstat", "check-raid-no-arrays-empty-personalities.txt"))
    assert empty.personalities == () and empty.arrays == () and empty.unused_devices == ()
    indented = parse_mdstat(read("mdstat", "check-raid-issue43-raid6-recovery-2missing-2space-indent.txt")).array("md0")
    assert indented.blocks == 5860543744 and indented.sync.finish_minutes == 1420.1
    assert parse_mdstat(read("mdstat", "check-raid-linear-64k-rounding.txt")).array("md0").layout == "64k rounding"


def test_inactive_array_state_is_unknown_not_healthy():
    md127 = parse_mdstat(read("mdstat", "probert-issue125-inactive-one-spare.txt")).array("md127")
    assert md127.degraded is None and md127.healthy is False  # inactive: not healthy, degraded unknown
    # Written by us: an active raid1 whose blocks line lost its "[2/2] [UU]" (a cut copy)
    cut = parse_mdstat("Personalities : [raid1]\nmd0 : active raid1 sdb1[1] sda1[0]\n      194368 blocks super 1.2\n")
    assert cut.array("md0").degraded is None and cut.array("md0").healthy is None and cut.degraded_arrays == ()


def test_report_alice_md2_resyncing():
    mdstat = parse_mdstat(read("report", "mdstat-alice-md2-resync.txt"))
    assert [a.name for a in mdstat.arrays] == ["md2", "md1", "md0"]
    md2 = mdstat.array("md2")
    assert md2.level == "raid1" and md2.member_names == ("sdd1", "sdc1")
    assert (md2.raid_disks, md2.active_disks, md2.status, md2.degraded) == (2, 2, "UU", False)
    assert (md2.sync.action, md2.sync.percent, md2.sync.speed_kib_s) == ("resync", 0.2, 158422)
    assert md2.sync.finish_minutes == 205.0
    assert not md2.healthy  # not yet mirrored
    assert mdstat.array("md1").healthy and mdstat.array("md0").healthy
    assert mdstat.array("md0").blocks == 194368


# Written by us from the kernel's format (md.c: "(F)" faulty member, "[n/m] [U_]"), for X7.
DEGRADED_MD2 = """\
Personalities : [raid1]
md2 : active raid1 sdd1[1](F) sdc1[0]
      1953382464 blocks super 1.2 [2/1] [U_]
      bitmap: 15/15 pages [60KB], 65536KB chunk

md0 : active raid1 sda1[0] sdb1[1]
      194368 blocks super 1.2 [2/2] [UU]

unused devices: <none>
"""

RECOVERING_MD2 = """\
Personalities : [raid1]
md2 : active raid1 sde1[2] sdc1[0]
      1953382464 blocks super 1.2 [2/1] [U_]
      [====>................]  recovery = 23.5% (459045888/1953382464) finish=160.2min speed=155432K/sec
      bitmap: 15/15 pages [60KB], 65536KB chunk

unused devices: <none>
"""

WRITE_MOSTLY_AND_REPLACEMENT = """\
Personalities : [raid1] [raid10]
md3 : active raid10 sdd[3](W) sde[4](R) sdc[2] sdb[1] sda[0] sdf[5](J)
      976510976 blocks super 1.2 512K chunks 2 near-copies [4/4] [UUUU]
      resync=REMOTE

unused devices: sdx1 sdy1
"""


def test_degraded_raid1_with_failed_disk():
    md2 = parse_mdstat(DEGRADED_MD2).array("md2")
    assert md2.degraded and not md2.healthy
    assert (md2.raid_disks, md2.active_disks, md2.status) == (2, 1, "U_")
    assert [m.name for m in md2.failed_members] == ["sdd1"]
    assert md2.members[0].slot == 1 and md2.members[0].faulty and not md2.members[1].faulty
    assert parse_mdstat(DEGRADED_MD2).array("md0").healthy


def test_recovery_after_disk_replacement():
    md2 = parse_mdstat(RECOVERING_MD2).array("md2")
    assert md2.degraded and md2.failed_members == ()
    assert md2.sync.action == "recovery" and md2.sync.percent == 23.5 and md2.sync.running
    assert md2.sync.done_blocks == 459045888 and md2.sync.finish_minutes == 160.2


def test_member_flags_and_unused_devices():
    mdstat = parse_mdstat(WRITE_MOSTLY_AND_REPLACEMENT)
    md3 = mdstat.array("md3")
    flags = {m.name: (m.write_mostly, m.replacement, m.journal) for m in md3.members}
    assert flags["sdd"] == (True, False, False) and flags["sde"] == (False, True, False) and flags["sdf"] == (False, False, True)
    assert md3.sync.remote and md3.chunk_kib == 512
    assert mdstat.unused_devices == ("sdx1", "sdy1")


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'Personalities"),
    ("hello world\n", "line 1"),
    ("Personalities : [raid1]\nmd0 : active raid1 sda1\n", "expected a member"),
    ("Personalities : [raid1]\nmd0 : active raid1 sda1[0]\n      what is this\n", "line 3"),
    ("Personalities : [raid1]\n      1234 blocks\n", "expected an array line"),
    ("Personalities : [raid1]\nmd0 : active raid1 sda1[0]\n 1 blocks [1/1] [U]\n 2 blocks [1/1] [U]\n", "second blocks"),
])
def test_garbage_raises_parse_error(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_mdstat(text)
    assert fragment in str(caught.value) and str(caught.value).startswith("mdstat")


def test_missing_file_is_a_tool_error():
    with pytest.raises(ToolError) as caught:
        parse_mdstat("cat: /proc/mdstat: No such file or directory\n")
    assert "No such file" in caught.value.message
