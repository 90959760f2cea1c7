"""crontab(5) text → `Crontab`.

A user crontab line is five time fields (or an @special) and a command; /etc/crontab and
/etc/cron.d files (`system=True`) have a user name before the command. "NAME = value"
lines set the environment of the lines after them; "#" lines are comments (an inline "#"
belongs to the command). A bad time field raises `ParseError`, as cronie ignores the
whole file when one line is wrong ("this crontab file will be ignored").

Fields follow crontab(5): "*", numbers, ranges "a-b", lists "a,b", steps "*/n", "a-b/n";
month and day-of-week names (jan…dec, sun…sat); day of week 0 and 7 are Sunday; a single
"a/n" is read as "a-max/n" as cronie does. When both day-of-month and day-of-week are
restricted, the entry runs when either matches.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ._text import numbered_lines
from .errors import ParseError

PARSER = "crontab"

SPECIALS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *", "@reboot": None,
}
_FIELD_NAMES = ("minute", "hour", "day_of_month", "month", "day_of_week")
_RANGES = {"minute": (0, 59), "hour": (0, 23), "day_of_month": (1, 31), "month": (1, 12), "day_of_week": (0, 7)}
_NAMES = {
    "month": {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)},
    "day_of_week": {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())},
}
_ENV = re.compile(r"^(?P<name>[^\s=#]+)\s*=\s*(?P<value>.*)$")
_ELEMENT = re.compile(r"^(?P<range>\*|[0-9A-Za-z]{1,9}(?:-[0-9A-Za-z]{1,9})?)(?:/(?P<step>[0-9]{1,4}))?$")


@dataclass(frozen=True)
class CronEnv:
    name: str
    value: str
    line_no: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CronEntry:
    """One job. The five fields are kept as written; `special` is "@daily" etc. instead of them."""

    command: str
    minute: str = "*"
    hour: str = "*"
    day_of_month: str = "*"
    month: str = "*"
    day_of_week: str = "*"
    special: str | None = None
    user: str | None = None
    line_no: int | None = field(default=None, compare=False)

    @property
    def fields(self) -> tuple[str, str, str, str, str] | None:
        """The five time fields in effect (an @special expanded); None for @reboot."""
        if self.special is not None:
            expanded = SPECIALS[self.special]
            return None if expanded is None else tuple(expanded.split())  # type: ignore[return-value]
        return (self.minute, self.hour, self.day_of_month, self.month, self.day_of_week)

    def values(self, field_name: str) -> frozenset[int]:
        """The numbers a field allows, e.g. values("hour") of "*/6" → {0, 6, 12, 18}."""
        fields = self.fields
        if fields is None:
            return frozenset()
        return _expand(field_name, fields[_FIELD_NAMES.index(field_name)], self.line_no)

    def fires_at(self, hour: int, minute: int) -> bool:
        """True when the entry runs at hh:mm on the days it runs at all (False for @reboot)."""
        return hour in self.values("hour") and minute in self.values("minute")

    def daily_times(self) -> tuple[tuple[int, int], ...]:
        """(hour, minute) pairs at which the entry runs, in order."""
        return tuple((h, m) for h in sorted(self.values("hour")) for m in sorted(self.values("minute")))

    def fires_on(self, moment: dt.datetime) -> bool:
        """True when the entry runs at this minute, with cron's day-of-month/day-of-week rule."""
        fields = self.fields
        if fields is None or not self.fires_at(moment.hour, moment.minute) or moment.month not in self.values("month"):
            return False
        weekday = (moment.weekday() + 1) % 7  # cron: 0 = Sunday
        dom_ok = moment.day in self.values("day_of_month")
        dow_ok = weekday in self.values("day_of_week") or (weekday == 0 and 7 in self.values("day_of_week"))
        if fields[2].startswith("*") or fields[4].startswith("*"):
            return dom_ok and dow_ok
        return dom_ok or dow_ok

    @property
    def command_line(self) -> str:
        """The command as the shell sees it: up to the first unescaped "%", "\\%" unescaped."""
        return re.split(r"(?<!\\)%", self.command, maxsplit=1)[0].replace("\\%", "%")


@dataclass(frozen=True)
class Crontab:
    """Jobs and environment lines in file order."""

    items: tuple[CronEntry | CronEnv, ...] = ()
    system: bool = False

    @property
    def entries(self) -> tuple[CronEntry, ...]:
        return tuple(i for i in self.items if isinstance(i, CronEntry))

    @property
    def env(self) -> dict[str, str]:
        """The environment after the last line (later assignments win)."""
        return {i.name: i.value for i in self.items if isinstance(i, CronEnv)}

    def environment_of(self, entry: CronEntry) -> dict[str, str]:
        """The assignments in effect for `entry` (those written above it)."""
        env: dict[str, str] = {}
        for item in self.items:
            if item is entry:
                return env
            if isinstance(item, CronEnv):
                env[item.name] = item.value
        return env

    def entries_running(self, command_part: str) -> tuple[CronEntry, ...]:
        return tuple(e for e in self.entries if command_part in e.command)


def parse_crontab(text: str, *, system: bool = False) -> Crontab:
    """Parse a crontab; `system=True` for /etc/crontab and /etc/cron.d files (user field)."""
    items: list[CronEntry | CronEnv] = []
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if env := _ENV.match(line):
            if not re.match(r"^[0-9*@]", env["name"]):
                items.append(CronEnv(env["name"], _unquote(env["value"].strip()), line_no=number))
                continue
        items.append(_entry(number, raw, line, system))
    return Crontab(items=tuple(items), system=system)


def parse_schedule(schedule: str) -> CronEntry:
    """An inventory's schedule ("0 3 * * *" or "@daily"): the time fields of a crontab line."""
    entry = _entry(1, schedule, f"{schedule.strip()} :", system=False)
    if entry.command != ":":
        raise ParseError(PARSER, "expected five time fields or an @special, nothing else", line_no=1, line=schedule)
    return entry


def longest_wait(first: CronEntry, then: CronEntry) -> dt.timedelta:
    """The longest time from a run of `first` to the next run of `then`, by time of day.

    Why: a copy made by `then` (the rsync pull) of what `first` made (vzdump) is older than
    its source by up to this much. A run of `then` in the same minute as `first` does not
    count, as `first`'s work is not done yet: the wait goes on to the next one. The day fields
    are not looked at (both run daily in the report); @reboot has no time of day (ValueError).
    """
    first_minutes = [hour * 60 + minute for hour, minute in first.daily_times()]
    then_minutes = [hour * 60 + minute for hour, minute in then.daily_times()]
    if not first_minutes or not then_minutes:
        raise ValueError("a schedule without a time of day (@reboot) has no wait")
    day = 24 * 60
    waits = [min((t - f - 1) % day + 1 for t in then_minutes) for f in first_minutes]
    return dt.timedelta(minutes=max(waits))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _entry(number: int, raw: str, line: str, system: bool) -> CronEntry:
    words = line.split(None, 1 if line.startswith("@") else 5)
    if line.startswith("@"):
        special = words[0].lower()
        if special not in SPECIALS:
            raise ParseError(PARSER, f"unknown special {words[0]!r} (expected one of {', '.join(SPECIALS)})", line_no=number, line=raw)
        times: dict = {"special": special}
        rest = words[1] if len(words) > 1 else ""
    else:
        if len(words) < 6:
            raise ParseError(PARSER, "expected five time fields and a command", line_no=number, line=raw)
        times = dict(zip(_FIELD_NAMES, words[:5]))
        for name, value in times.items():
            _expand(name, value, number, raw)
        rest = words[5]
    user = None
    if system:
        user_and_command = rest.split(None, 1)
        user = user_and_command[0] if user_and_command else ""
        rest = user_and_command[1] if len(user_and_command) > 1 else ""
        if not user:
            raise ParseError(PARSER, "expected a user name before the command (system crontab)", line_no=number, line=raw)
    if not rest.strip():
        raise ParseError(PARSER, "no command", line_no=number, line=raw)
    return CronEntry(command=rest.strip(), user=user, line_no=number, **times)


def _expand(name: str, text: str, line_no: int | None, raw: str | None = None) -> frozenset[int]:
    low, high = _RANGES[name]
    values: set[int] = set()
    for element in text.split(","):
        match = _ELEMENT.match(element)
        if not match:
            raise ParseError(PARSER, f"bad {name} field {text!r}", line_no=line_no, line=raw)
        start, end = _range(name, match["range"], line_no, raw)
        if match["step"] is not None and match["range"] != "*" and "-" not in match["range"]:
            end = high  # "a/n" means "a-max/n"
        step = int(match["step"]) if match["step"] is not None else 1
        if not low <= start <= end <= high or step < 1:
            raise ParseError(PARSER, f"{name} {element!r} is outside {low}-{high}", line_no=line_no, line=raw)
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _range(name: str, text: str, line_no: int | None, raw: str | None) -> tuple[int, int]:
    low, high = _RANGES[name]
    if text == "*":
        return low, high
    first, _, last = text.partition("-")
    return _number(name, first, line_no, raw), _number(name, last or first, line_no, raw)


def _number(name: str, text: str, line_no: int | None, raw: str | None) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    number = _NAMES.get(name, {}).get(text.lower())
    if number is None:
        raise ParseError(PARSER, f"bad {name} value {text!r}", line_no=line_no, line=raw)
    return number


def render_crontab(crontab: Crontab) -> str:
    lines = []
    for item in crontab.items:
        if isinstance(item, CronEnv):
            value = item.value
            needs_quotes = value != value.strip() or not value or value[0] in "'\"" and value[-1] == value[0]
            lines.append(f'{item.name}="{value}"' if needs_quotes else f"{item.name}={value}")
        else:
            times = item.special or " ".join((item.minute, item.hour, item.day_of_month, item.month, item.day_of_week))
            user = f" {item.user}" if item.user is not None else ""
            lines.append(f"{times}{user} {item.command}")
    return "\n".join(lines) + ("\n" if lines else "")
