"""parse_default_grub: /etc/default/grub as grub-mkconfig's sh reads it."""

from __future__ import annotations

from picacheck.facts import parse_default_grub

# Debian's default file, with the report's kind of change and the usual append idiom.
DEBIAN = """\
# If you change this file, run 'update-grub' afterwards to update
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT nomodeset"   # appended
#GRUB_TERMINAL=console
"""


def test_last_assignment_wins_and_known_names_expand():
    grub = parse_default_grub(DEBIAN)
    assert grub.cmdline_linux_default == ("quiet", "nomodeset")
    assert grub.cmdline_linux == ()
    assert grub.settings["GRUB_TIMEOUT"] == "5"
    assert "GRUB_TERMINAL" not in grub.settings  # a comment


def test_what_sh_would_compute_is_unreadable_not_guessed():
    grub = parse_default_grub(DEBIAN)
    assert "GRUB_DISTRIBUTOR" in grub.unreadable and "GRUB_DISTRIBUTOR" not in grub.settings
    later = parse_default_grub('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX_DEFAULT="$(cat /x) quiet"\n')
    assert later.cmdline_linux_default is None and "GRUB_CMDLINE_LINUX_DEFAULT" in later.unreadable
    unknown_name = parse_default_grub('GRUB_CMDLINE_LINUX_DEFAULT="$EXTRA quiet"\n')
    assert unknown_name.cmdline_linux_default is None


def test_quoting_and_lines_that_are_not_assignments():
    grub = parse_default_grub("A='single $HOME'\nB=two\\ words\nC=\"open\nD=x y\nif true; then\n  E=1\nfi\n")
    assert grub.settings == {"A": "single $HOME", "B": "two words", "E": "1"}
    assert grub.unreadable == {"C", "D"}
    assert grub.ignored == ("if true; then", "fi")


def test_no_command_line_is_none():
    assert parse_default_grub("GRUB_DEFAULT=0\n").cmdline_linux_default is None
