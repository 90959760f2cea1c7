"""parse_mdadm_detail on every `mdadm --detail` sample and the report's; parse_mdadm_conf from mdadm.conf(5)."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, ToolError, normalize_md_uuid, parse_mdadm_conf, parse_mdadm_detail

from .datafiles import data_files, read

# Per file: (device, level, state flags, raid devices, active, failed, degraded,
#            [(number, raid_device, state, path)…]); degraded None: an inactive array says nothing of it
EXPECTED = {
    "check-raid-white-md125-0.90-clean.txt": (
        "/dev/md125", "raid1", {"clean"}, 2, 2, 0, False,
        [(0, 0, ("active", "sync"), "/dev/sda1"), (1, 1, ("active", "sync"), "/dev/sdb1")],
    ),
    "check-raid-white-md126-0.90-clean-degraded-recovering.txt": (
        "/dev/md126", "raid1", {"clean", "degraded", "recovering"}, 2, 1, 0, True,
        [(2, 0, ("spare", "rebuilding"), "/dev/sda2"), (1, 1, ("active", "sync"), "/dev/sdb2")],
    ),
    "insights-raid1-clean-nvme-bitmap.txt": (
        "/dev/md2", "raid1", {"clean"}, 2, 2, 0, False,
        [(0, 0, ("active", "sync"), "/dev/nvme2n1"), (1, 1, ("active", "sync"), "/dev/nvme3n1")],
    ),
    "insights-raid5-active-reshaping-21disks.txt": ("/dev/md0", "raid5", {"active", "reshaping"}, 21, 21, 0, False, None),
    "insights-raid5-inactive-nvme.txt": (
        "/dev/md1", "raid5", {"inactive"}, None, None, None, None,
        [(None, None, (), f"/dev/nvme{i}n1p1") for i in range(4)],
    ),
    "ironic-raid0-inactive-broken.txt": ("/dev/md126", "raid0", {"inactive"}, None, None, None, None, [(None, None, (), "/dev/sda2")]),
    "ironic-raid1-clean-nvme-bitmap.txt": (
        "/dev/md0", "raid1", {"clean"}, 2, 2, 0, False,
        [(0, 0, ("active", "sync"), "/dev/nvme0n1p1"), (1, 1, ("active", "sync"), "/dev/nvme1n1p1")],
    ),
    "ironic-raid1-clean-vde1-vdf1.txt": (
        "/dev/md0", "raid1", {"clean"}, 2, 2, 0, False,
        [(0, 0, ("active", "sync"), "/dev/vde1"), (1, 1, ("active", "sync"), "/dev/vdf1")],
    ),
    "kiwix-issue514-raid1-active-degraded-faulty.txt": (
        "/dev/md1", "raid1", {"active", "degraded"}, 2, 1, 1, True,
        [(None, 0, ("removed",), None), (1, 1, ("active", "sync"), "/dev/sdb3"), (0, None, ("faulty",), "/dev/sda3")],
    ),
    "mdadm-issue17-raid1-active-degraded-removed-slot0.txt": (
        "/dev/md2", "raid1", {"active", "degraded"}, 2, 1, 0, True,
        [(0, 0, ("removed",), None), (1, 1, ("active", "sync"), "/dev/sdc2")],
    ),
    "nagios-plugins-pr371-raid1-recovering-10pct.txt": (
        "/dev/md127", "raid1", {"clean", "degraded", "recovering"}, 2, 1, 0, True,
        [(2, 0, ("spare", "rebuilding"), "/dev/sdb1"), (1, 1, ("active", "sync"), "/dev/sdc1")],
    ),
}


def test_every_mdadm_file_has_expectations():
    assert sorted(EXPECTED) == data_files("mdadm_detail")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_mdadm_detail_file(name):
    device, level, flags, raid_devices, active, failed, degraded, rows = EXPECTED[name]
    detail = parse_mdadm_detail(read("mdadm_detail", name))
    assert (detail.device, detail.raid_level, detail.state_flags) == (device, level, flags)
    assert (detail.raid_devices, detail.active_devices, detail.failed_devices) == (raid_devices, active, failed)
    assert detail.degraded is degraded
    if rows is not None:
        assert [(d.number, d.raid_device, d.state, d.path) for d in detail.devices] == rows


def test_reshape_and_rebuild_status():
    reshaping = parse_mdadm_detail(read("mdadm_detail", "insights-raid5-active-reshaping-21disks.txt"))
    assert reshaping.reshape_status == 28.0 and reshaping.fields["Delta Devices"] == "6, (15->21)"
    assert len(reshaping.devices) == 22 and reshaping.devices[-1].spare and reshaping.devices[-1].raid_device is None
    assert reshaping.array_size_kib == 21877481472 and reshaping.spare_devices == 1
    recovering = parse_mdadm_detail(read("mdadm_detail", "nagios-plugins-pr371-raid1-recovering-10pct.txt"))
    assert recovering.rebuild_status == 10.0 and recovering.uuid == "<redacted>"


def test_mdadm_0_90_superblock_layout():
    # mdadm 3.x on a 0.90 superblock: narrower key column, "Preferred Minor", dotted Events, no Name
    clean = parse_mdadm_detail(read("mdadm_detail", "check-raid-white-md125-0.90-clean.txt"))
    assert (clean.version, clean.events, clean.fields["Preferred Minor"], clean.name) == ("0.90", "0.1182", "125", None)
    assert clean.uuid == "57219006:b1527c59:de32536d:bb88a27f" and clean.array_size_kib == 56128
    rebuilding = parse_mdadm_detail(read("mdadm_detail", "check-raid-white-md126-0.90-clean-degraded-recovering.txt"))
    assert rebuilding.rebuild_status == 30.0 and rebuilding.spare_devices == 1 and rebuilding.working_devices == 2
    assert [d.path for d in rebuilding.devices if d.spare] == ["/dev/sda2"]


def test_degraded_unknown_without_state_or_counts():
    # Written by us: the first lines of a detail, cut before State and the counts
    cut = parse_mdadm_detail("/dev/md0:\n        Version : 1.2\n     Raid Level : raid1\n")
    assert cut.degraded is None and cut.state_flags == frozenset()
    inactive = parse_mdadm_detail(read("mdadm_detail", "ironic-raid0-inactive-broken.txt"))
    assert inactive.degraded is None and "inactive" in inactive.state_flags


def test_faulty_and_removed_devices():
    detail = parse_mdadm_detail(read("mdadm_detail", "kiwix-issue514-raid1-active-degraded-faulty.txt"))
    assert [d.path for d in detail.faulty_devices] == ["/dev/sda3"]
    assert detail.removed_slots == (0,)
    assert detail.name == "demonic:1" and detail.name_local_to_host is None


def test_report_alice_md2_clean_resyncing():
    detail = parse_mdadm_detail(read("report", "mdadm-detail-alice-md2.txt"))
    assert detail.device == "/dev/md2" and detail.version == "1.2" and detail.raid_level == "raid1"
    assert detail.state == "clean, resyncing" and detail.state_flags == {"clean", "resyncing"}
    assert detail.resync_status == 0.0 and not detail.degraded
    assert (detail.raid_devices, detail.total_devices, detail.active_devices, detail.working_devices) == (2, 2, 2, 2)
    assert detail.name == "alice:2" and detail.name_local_to_host == "alice"
    assert detail.uuid == "2df4f5fb:b5c74d03:7ba276ba:42ea760d" and detail.events == "20"
    assert detail.array_size_kib == 1953382464
    assert detail.member_paths == ("/dev/sdc1", "/dev/sdd1")


# Written by us from mdadm's --detail layout: md2 after `mdadm --fail /dev/md2 /dev/sdd1`.
FAILED_SDD1 = """\
/dev/md2:
           Version : 1.2
        Raid Level : raid1
        Array Size : 1953382464 (1862.89 GiB 2000.26 GB)
      Raid Devices : 2
     Total Devices : 2
             State : clean, degraded
    Active Devices : 1
   Working Devices : 1
    Failed Devices : 1
     Spare Devices : 0
              Name : alice:2  (local to host alice)
              UUID : 2df4f5fb:b5c74d03:7ba276ba:42ea760d
            Events : 1234

    Number   Major   Minor   RaidDevice State
       0       8       33        0      active sync   /dev/sdc1
       -       0        0        1      removed

       1       8       49        -      faulty   /dev/sdd1
"""


def test_failed_member_variant():
    detail = parse_mdadm_detail(FAILED_SDD1)
    assert detail.degraded and detail.state_flags == {"clean", "degraded"}
    assert [d.path for d in detail.faulty_devices] == ["/dev/sdd1"] and detail.removed_slots == (1,)


@pytest.mark.parametrize("text, fragment", [
    ("", "empty output"),
    ("Version : 1.2\n", "'/dev/mdN:'"),
    ("/dev/md0:\n", "no 'Key : Value'"),
    ("/dev/md0:\n  Version : 1.2\n  ???\n", "line 3"),
    ("/dev/md0:\n  Version : 1.2\n Number Major Minor RaidDevice State\n  x y z\n", "device row"),
])
def test_detail_garbage(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_mdadm_detail(text)
    assert fragment in str(caught.value)


def test_detail_tool_error():
    with pytest.raises(ToolError) as caught:
        parse_mdadm_detail("mdadm: cannot open /dev/md9: No such file or directory\n")
    assert caught.value.message.startswith("mdadm: cannot open")


# Written by us from mdadm.conf(5): comments, quoting, continuation lines, 3-letter keywords.
MDADM_CONF = """\
# mdadm.conf
DEVICE partitions containers
HOMEHOST <system>
MAILADDR root   # who gets the mail
CREATE owner=root group=disk mode=0660 auto=yes
ARRAY /dev/md/0 metadata=1.2 UUID=3aaa0122:29827cfa:5331ad66:ca767371 name=alice:0
ARRAY /dev/md1 metadata=1.2 name=alice:1 UUID=9e0c2f5a:aaaa0000:bbbb1111:cccc2222
ARRAY /dev/md2 metadata=1.2 name=alice:2
   UUID=2df4f5fb:b5c74d03:7ba276ba:42ea760d devices=/dev/sdc1,/dev/sdd1
arr <ignore> uuid=11111111:22222222:33333333:44444444
POLICY domain=default action=re-add
mai "ops team@example.org"
FROB something
"""


def test_mdadm_conf():
    conf = parse_mdadm_conf(MDADM_CONF)
    assert conf.devices == ("partitions", "containers") and conf.homehost == "<system>"
    assert conf.mailaddr == "root"  # mdadm keeps the first address and ignores the excess
    assert conf.create == {"owner": "root", "group": "disk", "mode": "0660", "auto": "yes"}
    assert [a.device for a in conf.arrays] == ["/dev/md/0", "/dev/md1", "/dev/md2", "<ignore>"]
    md2 = conf.array("md2")
    assert md2.uuid == "2df4f5fb:b5c74d03:7ba276ba:42ea760d" and md2.name == "alice:2"
    assert md2.devices == ("/dev/sdc1", "/dev/sdd1") and md2.metadata == "1.2"
    assert conf.array("/dev/md0").name == "alice:0" and conf.array("md9") is None
    assert conf.other == (("POLICY", ("domain=default", "action=re-add")),)
    assert conf.unknown == ((13, "FROB something"),)
    assert parse_mdadm_conf('mailf "RAID monitor" <raid@example.org>\n').mailfrom == "RAID monitor <raid@example.org>"


def test_mdadm_conf_uuid_matches_detail():
    conf = parse_mdadm_conf(MDADM_CONF)
    detail = parse_mdadm_detail(read("report", "mdadm-detail-alice-md2.txt"))
    assert normalize_md_uuid(conf.array("md2").uuid) == normalize_md_uuid(detail.uuid)
    assert normalize_md_uuid("2DF4F5FB-B5C74D03-7BA276BA-42EA760D") == "2df4f5fbb5c74d037ba276ba42ea760d"


def test_mdadm_conf_unbalanced_quote():
    with pytest.raises(ParseError, match="line 1: unbalanced quote"):
        parse_mdadm_conf('MAILADDR "root\n')
