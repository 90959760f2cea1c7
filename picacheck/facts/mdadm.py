"""`mdadm --detail /dev/mdN` → `MdadmDetail`, and mdadm.conf(5) → `MdadmConf`.

`mdadm --detail` prints "/dev/mdN:", then "Key : Value" lines (right-aligned keys), then a
device table "Number Major Minor RaidDevice State" whose rows end with the device path
("-" for an empty number or slot, "removed" rows without a path). Every key is kept in
`fields`; the common ones are typed.

mdadm.conf follows mdadm.conf(5): words separated by white space, quotes protect spaces,
a word starting with "#" starts a comment, a line starting with white space continues the
previous one, keywords are case-insensitive and may be abbreviated to three letters.
Like mdadm, an unknown keyword is not fatal: it is kept in `MdadmConf.unknown`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ._text import numbered_lines, raise_if_tool_error
from .errors import ParseError

DETAIL_PARSER = "mdadm --detail"
CONF_PARSER = "mdadm.conf"

_DEVICE_LINE = re.compile(r"^(?P<device>/\S+):$")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z /-]*?)\s*:\s*(?P<value>.*)$")
_TABLE_HEADER = re.compile(r"^Number\s+Major\s+Minor\s+RaidDevice(?:\s+State)?$")
_TABLE_ROW = re.compile(
    r"^(?P<number>-|[0-9]{1,9})\s+(?P<major>[0-9]{1,9})\s+(?P<minor>[0-9]{1,9})\s+(?P<raid>-|[0-9]{1,9})(?:\s+(?P<rest>.*))?$"
)
_SIZE = re.compile(r"^(?P<kib>[0-9]{1,30})\b")
_PERCENT = re.compile(r"^(?P<percent>[0-9]{1,3}(?:\.[0-9]+)?)%")
_LOCAL_NAME = re.compile(r"^(?P<name>\S+)\s+\(local to host (?P<host>[^)]*)\)$")
_TOOL_ERRORS = (re.compile(r"^mdadm: "),)


@dataclass(frozen=True)
class MdadmDevice:
    """A row of the device table; `raid_device` is None for "-" (spare, faulty, inactive)."""

    number: int | None
    major: int
    minor: int
    raid_device: int | None
    state: tuple[str, ...]
    path: str | None

    @property
    def faulty(self) -> bool:
        return "faulty" in self.state

    @property
    def removed(self) -> bool:
        return "removed" in self.state

    @property
    def spare(self) -> bool:
        return "spare" in self.state

    @property
    def in_sync(self) -> bool:
        return "sync" in self.state


@dataclass(frozen=True)
class MdadmDetail:
    device: str
    fields: dict[str, str]
    devices: tuple[MdadmDevice, ...]
    version: str | None = None
    raid_level: str | None = None
    array_size_kib: int | None = None
    used_dev_size_kib: int | None = None
    raid_devices: int | None = None
    total_devices: int | None = None
    state: str | None = None
    active_devices: int | None = None
    working_devices: int | None = None
    failed_devices: int | None = None
    spare_devices: int | None = None
    name: str | None = None
    name_local_to_host: str | None = None
    uuid: str | None = None
    events: str | None = None
    rebuild_status: float | None = None
    resync_status: float | None = None
    reshape_status: float | None = None
    check_status: float | None = None

    @property
    def state_flags(self) -> frozenset[str]:
        """The comma-separated State words, lower-case: {"clean", "degraded", "recovering"}…"""
        if not self.state:
            return frozenset()
        return frozenset(word.strip().lower() for word in self.state.split(",") if word.strip())

    @property
    def degraded(self) -> bool | None:
        """"degraded" in State, or fewer active than raid devices. mdadm writes "degraded" in the
        State of a running array that is; an inactive array, or one without State or counts, is
        unknown (None)."""
        if "degraded" in self.state_flags:
            return True
        if self.raid_devices is not None and self.active_devices is not None:
            return self.active_devices < self.raid_devices
        return False if self.state_flags and "inactive" not in self.state_flags else None

    @property
    def faulty_devices(self) -> tuple[MdadmDevice, ...]:
        return tuple(d for d in self.devices if d.faulty)

    @property
    def removed_slots(self) -> tuple[int, ...]:
        return tuple(d.raid_device for d in self.devices if d.removed and d.raid_device is not None)

    @property
    def member_paths(self) -> tuple[str, ...]:
        return tuple(d.path for d in self.devices if d.path)


def parse_mdadm_detail(text: str) -> MdadmDetail:
    """Parse the output of `mdadm --detail /dev/mdN` (one array)."""
    raise_if_tool_error(DETAIL_PARSER, text, _TOOL_ERRORS)
    device: str | None = None
    fields: dict[str, str] = {}
    rows: list[MdadmDevice] = []
    in_table = False
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line:
            continue
        if device is None:
            match = _DEVICE_LINE.match(line)
            if not match:
                raise ParseError(DETAIL_PARSER, "expected the '/dev/mdN:' line first", line_no=number, line=raw)
            device = match["device"]
        elif _TABLE_HEADER.match(line):
            in_table = True
        elif in_table:
            rows.append(_parse_device_row(number, raw))
        elif match := _KEY_VALUE.match(line):
            fields[match["key"].strip()] = match["value"].strip()
        else:
            raise ParseError(DETAIL_PARSER, "expected 'Key : Value' or the device table", line_no=number, line=raw)
    if device is None:
        raise ParseError(DETAIL_PARSER, "empty output")
    if not fields:
        raise ParseError(DETAIL_PARSER, f"no 'Key : Value' lines after {device}")
    return _detail_from_fields(device, fields, tuple(rows))


def _parse_device_row(number: int, raw: str) -> MdadmDevice:
    match = _TABLE_ROW.match(raw.strip())
    if not match:
        raise ParseError(DETAIL_PARSER, "expected a device row 'Number Major Minor RaidDevice State… /dev/…'", line_no=number, line=raw)
    words = (match["rest"] or "").split()
    path = words.pop() if words and words[-1].startswith("/") else None
    return MdadmDevice(
        number=None if match["number"] == "-" else int(match["number"]),
        major=int(match["major"]), minor=int(match["minor"]),
        raid_device=None if match["raid"] == "-" else int(match["raid"]),
        state=tuple(words), path=path,
    )


def _detail_from_fields(device: str, fields: dict[str, str], rows: tuple[MdadmDevice, ...]) -> MdadmDetail:
    def count(key: str) -> int | None:
        value = fields.get(key, "")
        return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None

    def size(key: str) -> int | None:
        match = _SIZE.match(fields.get(key, ""))
        return int(match["kib"]) if match else None

    def percent(key: str) -> float | None:
        match = _PERCENT.match(fields.get(key, ""))
        return float(match["percent"]) if match else None

    name, local_host = fields.get("Name"), None
    if name and (match := _LOCAL_NAME.match(name)):
        name, local_host = match["name"], match["host"]
    return MdadmDetail(
        device=device, fields=fields, devices=rows,
        version=fields.get("Version"), raid_level=fields.get("Raid Level"),
        array_size_kib=size("Array Size"), used_dev_size_kib=size("Used Dev Size"),
        raid_devices=count("Raid Devices"), total_devices=count("Total Devices"),
        state=fields.get("State"),
        active_devices=count("Active Devices"), working_devices=count("Working Devices"),
        failed_devices=count("Failed Devices"), spare_devices=count("Spare Devices"),
        name=name, name_local_to_host=local_host, uuid=fields.get("UUID"), events=fields.get("Events"),
        rebuild_status=percent("Rebuild Status"), resync_status=percent("Resync Status"),
        reshape_status=percent("Reshape Status"), check_status=percent("Check Status"),
    )


def normalize_md_uuid(uuid: str) -> str:
    """Compare md UUIDs whatever their punctuation: 'A:B:C:D' → 'abcd' lower-case hex."""
    return re.sub(r"[^0-9a-fA-F]", "", uuid).lower()


# ---------------------------------------------------------------------------- mdadm.conf

_CONF_KEYWORDS = (
    "DEVICE", "ARRAY", "MAILADDR", "MAILFROM", "PROGRAM", "CREATE", "HOMEHOST",
    "HOMECLUSTER", "AUTO", "POLICY", "PART-POLICY", "SYSFS", "MONITORDELAY", "ENCRYPTION_NO_VERIFY",
)


@dataclass(frozen=True)
class MdadmConfArray:
    """An ARRAY line: the device (or "<ignore>") and its identity tags."""

    device: str | None
    tags: dict[str, str]
    line_no: int

    @property
    def uuid(self) -> str | None:
        return self.tags.get("uuid")

    @property
    def name(self) -> str | None:
        return self.tags.get("name")

    @property
    def metadata(self) -> str | None:
        return self.tags.get("metadata")

    @property
    def level(self) -> str | None:
        return self.tags.get("level")

    @property
    def num_devices(self) -> int | None:
        value = self.tags.get("num-devices", "")
        return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(d for d in self.tags.get("devices", "").split(",") if d)


@dataclass(frozen=True)
class MdadmConf:
    devices: tuple[str, ...] = ()
    arrays: tuple[MdadmConfArray, ...] = ()
    mailaddr: str | None = None
    mailfrom: str | None = None
    program: str | None = None
    homehost: str | None = None
    create: dict[str, str] = field(default_factory=dict)
    other: tuple[tuple[str, tuple[str, ...]], ...] = ()  # AUTO, POLICY… as (KEYWORD, words)
    unknown: tuple[tuple[int, str], ...] = ()  # (line number, line) that mdadm would warn about and skip

    def array(self, device_or_name: str) -> MdadmConfArray | None:
        """The ARRAY whose device ("/dev/md2", "md2", "/dev/md/2") or name tag matches."""
        wanted = device_or_name.removeprefix("/dev/").removeprefix("md/")
        for array in self.arrays:
            device = (array.device or "").removeprefix("/dev/").removeprefix("md/")
            name = (array.name or "").split(":")[-1]
            if wanted in (device, array.name, name) or f"md{name}" == wanted:
                return array
        return None


def parse_mdadm_conf(text: str) -> MdadmConf:
    """Parse /etc/mdadm/mdadm.conf (mdadm.conf(5))."""
    values: dict = {"devices": [], "arrays": [], "create": {}, "other": [], "unknown": []}
    for number, line, words in _conf_statements(text):
        keyword = _keyword(words[0])
        args = words[1:]
        if keyword is None:
            values["unknown"].append((number, line))
        elif keyword == "DEVICE":
            values["devices"].extend(args)
        elif keyword == "ARRAY":
            values["arrays"].append(_conf_array(number, args))
        elif keyword in ("MAILADDR", "MAILFROM", "PROGRAM", "HOMEHOST"):
            # mdadm keeps the first one and warns about the excess ("excess address on MAIL line")
            if values.get(keyword.lower()) is None and args:
                values[keyword.lower()] = " ".join(args) if keyword == "MAILFROM" else args[0]
        elif keyword == "CREATE":
            values["create"].update(_tags(args))
        else:
            values["other"].append((keyword, tuple(args)))
    return MdadmConf(
        devices=tuple(values["devices"]), arrays=tuple(values["arrays"]),
        mailaddr=values.get("mailaddr"), mailfrom=values.get("mailfrom"),
        program=values.get("program"), homehost=values.get("homehost"),
        create=values["create"], other=tuple(values["other"]), unknown=tuple(values["unknown"]),
    )


def _conf_statements(text: str) -> list[tuple[int, str, list[str]]]:
    """(first line number, joined text, words) for each statement, comments and continuations resolved."""
    statements: list[tuple[int, str, list[str]]] = []
    for number, raw in numbered_lines(text):
        words = _conf_words(number, raw)
        if not words:
            continue
        if raw[:1] in (" ", "\t") and statements:
            first, joined, previous = statements[-1]
            statements[-1] = (first, f"{joined} {raw.strip()}", previous + words)
        else:
            statements.append((number, raw.strip(), words))
    return statements


def _conf_words(number: int, raw: str) -> list[str]:
    lexer = shlex.shlex(raw, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for word in lexer:
            if word.startswith("#"):
                break
            words.append(word)
    except ValueError as error:  # unbalanced quotes
        raise ParseError(CONF_PARSER, f"unbalanced quote ({error})", line_no=number, line=raw) from None
    return words


def _keyword(word: str) -> str | None:
    upper = word.upper()
    if len(upper) < 3:
        return None
    return next((k for k in _CONF_KEYWORDS if k.startswith(upper) and upper[:3] == k[:3]), None)


def _conf_array(number: int, args: list[str]) -> MdadmConfArray:
    device = args[0] if args and "=" not in args[0] else None
    return MdadmConfArray(device=device, tags=_tags(args[1:] if device else args), line_no=number)


def _tags(args: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for arg in args:
        key, _, value = arg.partition("=")
        tags[key.lower()] = value
    return tags
