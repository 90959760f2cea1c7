"""parse_unit_file on the report's corosync unit: what systemd does with "Restart=on-failure #À ajouter"."""

from __future__ import annotations

from picacheck.facts import parse_unit_file

from .datafiles import read


def test_report_corosync_unit_inline_comments_are_part_of_the_value():
    unit = parse_unit_file(read("report", "corosync-service-unit.txt"))
    assert unit.section_names == ("Unit", "Service", "Install")
    restart = unit.entry("Service", "Restart")
    # systemd reads the whole value and rejects it: Restart stays at its default ("no")
    assert restart.value == "on-failure #À ajouter" and not restart.value_is_clean
    assert restart.intended_value == "on-failure" and restart.inline_comment == "#À ajouter"
    restart_sec = unit.entry("Service", "RestartSec")
    assert restart_sec.value == "5s #À ajouter" and restart_sec.intended_value == "5s"
    assert unit.value("Service", "Type") == "forking" and unit.entry("Service", "Type").value_is_clean
    assert unit.value("Unit", "ConditionKernelCommandLine") == "!nocluster"
    assert unit.value("Install", "WantedBy") == "multi-user.target" and unit.problems == ()
    assert unit.value("Service", "Nope") is None and unit.entry("Nope", "Restart") is None


# Written by us from systemd.syntax(7): `systemctl cat` output with a drop-in, continuation
# lines, comments between them, an empty assignment resetting a list, lines systemd skips.
SYSTEMCTL_CAT = """\
# /lib/systemd/system/corosync.service
[Unit]
Description=Corosync Cluster Engine
After=network-online.target

[Service]
ExecStart=/usr/sbin/corosync -f $COROSYNC_OPTIONS \\
# a comment inside the continuation is skipped
    --extra
Environment=A=1
Environment=B=2

# /etc/systemd/system/corosync.service.d/override.conf
[Service]
Restart = on-failure
RestartSec=5s
Environment=
Environment=C=3
this line has no equals sign
"""


def test_systemctl_cat_with_drop_in():
    unit = parse_unit_file(SYSTEMCTL_CAT)
    assert unit.value("Service", "ExecStart") == "/usr/sbin/corosync -f $COROSYNC_OPTIONS --extra"
    assert unit.values("Service", "Environment") == ("C=3",)
    assert unit.value("Service", "Restart") == "on-failure" and unit.entry("Service", "Restart").value_is_clean
    assert unit.entry("Service", "RestartSec").line_no == 16
    assert [(p.line_no, p.line) for p in unit.problems] == [(19, "this line has no equals sign")]
    assert len(unit.entries("Service", "Environment")) == 4


def test_assignment_outside_section():
    unit = parse_unit_file("Foo=bar\n[Unit]\nDescription=x\n")
    assert unit.problems[0].reason.startswith("assignment outside") and unit.value("Unit", "Description") == "x"
