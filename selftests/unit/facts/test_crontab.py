"""parse_crontab, written from crontab(5): the report's schedules (vzdump at 03:00, rsync at 05:00/06:00, dumps every 6 h)."""

from __future__ import annotations

import datetime as dt

import pytest

from hypothesis import given
from hypothesis import strategies as st

from picacheck.facts import CronEntry, ParseError, longest_wait, parse_crontab, parse_schedule

# Written by us: alice's /etc/cron.d/picasoft as the report describes the schedules (B6, B7).
ALICE_CRON_D = """\
# vzdump of the VMs every night, then pull bob's dumps
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
MAILTO = "root@alice"
0 3 * * *	root	vzdump --all --mode snapshot --storage SAVE --quiet 1
0 5 * * *   root  rsync -avzh 192.168.128.152:/SAVE/dump/* /SAVE/dump/ # pull bob
@reboot root /usr/bin/autossh -M 0 -N -f -L9200:127.0.0.1:9200 ssher@monitoring.picasoft.net
"""

# Written by us: the backup container's crontab line (CRON_TIME every 6 hours), user style.
BACKUP_CRONTAB = """\
MAX_BACKUPS=30
0 */6 * * * /backup.sh >> /mysql_backup.log 2>&1
30 2 1-7 * mon /monthly-check.sh
15 4 * jan,jul sun-sat/2 date +\\%F % stdin text
"""


def test_system_crontab_entries_users_and_environment():
    crontab = parse_crontab(ALICE_CRON_D, system=True)
    vzdump, rsync, autossh = crontab.entries
    assert (vzdump.minute, vzdump.hour, vzdump.user) == ("0", "3", "root")
    assert vzdump.command == "vzdump --all --mode snapshot --storage SAVE --quiet 1"
    assert vzdump.fires_at(3, 0) and not vzdump.fires_at(5, 0) and vzdump.daily_times() == ((3, 0),)
    assert rsync.fires_at(5, 0) and rsync.command.endswith("# pull bob")  # cron passes the "#" to the shell
    assert autossh.special == "@reboot" and autossh.user == "root" and autossh.daily_times() == ()
    assert not autossh.fires_at(0, 0) and autossh.fields is None
    assert crontab.env["MAILTO"] == "root@alice" and crontab.environment_of(vzdump)["SHELL"] == "/bin/sh"
    assert [e.line_no for e in crontab.entries] == [5, 6, 7]
    assert crontab.entries_running("vzdump") == (vzdump,)


def test_user_crontab_fields():
    crontab = parse_crontab(BACKUP_CRONTAB)
    backup, monthly, odd = crontab.entries
    assert backup.user is None and backup.values("hour") == {0, 6, 12, 18}
    assert backup.daily_times() == ((0, 0), (6, 0), (12, 0), (18, 0))
    assert crontab.environment_of(backup) == {"MAX_BACKUPS": "30"}
    # day-of-month and day-of-week both restricted: either one is enough (crontab(5))
    assert monthly.fires_on(dt.datetime(2026, 1, 3, 2, 30))  # Saturday the 3rd
    assert monthly.fires_on(dt.datetime(2026, 1, 12, 2, 30))  # a Monday
    assert not monthly.fires_on(dt.datetime(2026, 1, 13, 2, 30))
    assert odd.values("month") == {1, 7} and odd.values("day_of_week") == {0, 2, 4, 6}
    assert odd.command_line == "date +%F "


def test_specials_and_sunday_as_seven():
    crontab = parse_crontab("@daily /a\n@hourly /b\n0 0 * * 7 /c\n@weekly /d\n")
    daily, hourly, sunday, weekly = crontab.entries
    assert daily.daily_times() == ((0, 0),) and len(hourly.daily_times()) == 24
    assert sunday.fires_on(dt.datetime(2026, 1, 4, 0, 0)) and weekly.fires_on(dt.datetime(2026, 1, 4, 0, 0))
    assert not sunday.fires_on(dt.datetime(2026, 1, 5, 0, 0))
    assert parse_crontab("5/20 * * * * x").entries[0].values("minute") == {5, 25, 45}
    assert CronEntry(command="x", hour="3").fires_at(3, 59)


@pytest.mark.parametrize("text, fragment", [
    ("61 * * * * x\n", "minute '61' is outside 0-59"),
    ("* 24 * * * x\n", "hour"),
    ("* * 0 * * x\n", "day_of_month"),
    ("* * * foo * x\n", "bad month value 'foo'"),
    ("* * * * 8 x\n", "day_of_week"),
    ("*/0 * * * * x\n", "outside"),
    ("* * * * *\n", "five time fields and a command"),
    ("@sometimes x\n", "unknown special"),
    ("@daily\n", "no command"),
    ("1,,2 * * * * x\n", "bad minute field"),
])
def test_crontab_errors(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_crontab(text)
    assert fragment in str(caught.value) and "line 1" in str(caught.value)


def test_system_crontab_needs_a_user():
    with pytest.raises(ParseError, match="user name"):
        parse_crontab("@reboot\n", system=True)
    with pytest.raises(ParseError, match="no command"):
        parse_crontab("0 3 * * * root\n", system=True)


def test_schedules_of_the_inventory():
    assert parse_schedule("0 3 * * *").daily_times() == ((3, 0),)
    assert parse_schedule("@daily").daily_times() == ((0, 0),)
    for bad, fragment in [("0 3 * *", "five time fields"), ("0 3 * * * *", "nothing else"), ("0 25 * * *", "hour")]:
        with pytest.raises(ParseError, match=fragment):
            parse_schedule(bad)


@pytest.mark.parametrize("first, then, hours", [
    ("0 3 * * *", "0 5 * * *", 2),      # vzdump, then alice's pull of bob's set (report section 14)
    ("0 3 * * *", "0 6 * * *", 3),      # vzdump, then bob's pull of alice's set
    ("0 3 * * *", "0 2 * * *", 23),     # a pull before the backups waits for the next night's
    ("0 3 * * *", "0 3 * * *", 24),     # the same minute: vzdump is not done, the next pull is a day later
    ("0 */6 * * *", "0 5 * * *", 23),   # the dump at 06:00 waits for 05:00 the next day
    ("0 3 * * *", "*/30 * * * *", 0.5),
])
def test_longest_wait(first, then, hours):
    assert longest_wait(parse_schedule(first), parse_schedule(then)) == dt.timedelta(hours=hours)


def test_longest_wait_needs_a_time_of_day():
    with pytest.raises(ValueError, match="@reboot"):
        longest_wait(parse_schedule("@reboot"), parse_schedule("0 5 * * *"))


minutes_of_day = st.lists(st.integers(0, 24 * 60 - 1), min_size=1, max_size=4, unique=True)


@given(minutes_of_day, minutes_of_day)
def test_longest_wait_is_the_worst_gap_to_a_later_run(first_minutes, then_minutes):
    def entry(minutes):
        return CronEntry(command="x", minute=",".join(str(m % 60) for m in minutes),
                         hour=",".join(str(m // 60) for m in minutes))

    first, then = entry(first_minutes), entry(then_minutes)
    day = 24 * 60
    starts = [h * 60 + m for h, m in first.daily_times()]
    runs = [h * 60 + m for h, m in then.daily_times()]
    wait = longest_wait(first, then)
    assert dt.timedelta(minutes=1) <= wait <= dt.timedelta(days=1)
    gaps = [min((run - start) % day or day for run in runs) for start in starts]
    assert wait == dt.timedelta(minutes=max(gaps))
