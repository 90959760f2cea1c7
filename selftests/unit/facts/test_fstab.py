"""parse_fstab: the lines the report appends to /etc/fstab, and fstab(5) details."""

from __future__ import annotations

from picacheck.facts import parse_fstab

from .datafiles import read


def test_report_fstab_lines():
    fstab = parse_fstab(read("report", "fstab-pica-lines.txt"))
    brick, data = fstab.entries
    assert (brick.spec, brick.file, brick.vfstype, brick.mntops, brick.freq, brick.passno) == (
        "/dev/mapper/vg01-data", "/gluster-data", "ext4", ("defaults",), 0, 2)
    assert (data.spec, data.vfstype, data.mntops, data.passno) == ("pica01:/gluster-data", "glusterfs", ("defaults", "_netdev"), 0)
    assert fstab.at("/DATA") is data and fstab.at("/DATA/") is data and fstab.at("/srv") is None
    assert data.has_option("_netdev") and len(fstab) == 2 and list(fstab) == [brick, data]


# Written by us from fstab(5): comments, UUID= specs, octal escapes, missing freq/passno, a bad line.
FSTAB = """\
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a3407de-014b-458b-b5c1-848e92a327a3 /     ext4 errors=remount-ro 0 1
/dev/md0        /boot           ext2    defaults        0       2
/dev/pve/swap   none            swap    sw
LABEL=SAVE      /SAVE           ext4    defaults,noatime,x-systemd.device-timeout=30 0 2
/dev/sdz1       /mnt/My\\040Disk vfat    uid=1000
broken-line-with-two fields
/dev/sdy1 /mnt ext4 defaults zero 2
"""


def test_fstab_format_details():
    fstab = parse_fstab(FSTAB)
    assert [e.file for e in fstab] == ["/", "/boot", "none", "/SAVE", "/mnt/My Disk"]
    swap = fstab.entries[2]
    assert (swap.vfstype, swap.mntops, swap.freq, swap.passno) == ("swap", ("sw",), 0, 0)
    assert fstab.at("/SAVE").option_value("x-systemd.device-timeout") == "30"
    assert fstab.at("/").spec.startswith("UUID=") and fstab.at("/").passno == 1
    assert [(p.line_no, p.line) for p in fstab.problems] == [(7, "broken-line-with-two fields"), (8, "/dev/sdy1 /mnt ext4 defaults zero 2")]
    assert "4 to 6 fields" in fstab.problems[0].reason and "numbers" in fstab.problems[1].reason


def test_empty_fstab():
    assert parse_fstab("").entries == () and parse_fstab("# nothing\n\n").problems == ()
