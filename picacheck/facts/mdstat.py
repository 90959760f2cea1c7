"""/proc/mdstat → `Mdstat`.

Follows the format that the kernel's md driver prints (drivers/md/md.c, md_seq_show and
status_resync, plus each personality's status): a "Personalities :" line, one block per
array ("md2 : active raid1 sdd1[1] sdc1[0]", the blocks line, an optional progress line and
an optional bitmap line), and "unused devices: …". Status lines are recognised by their
content, not their indentation (some copies lose it), and NBSP or trailing blanks are
tolerated. A line that fits none of these raises `ParseError`, so that a new kernel
format is noticed rather than silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import numbered_lines, raise_if_tool_error
from .errors import ParseError

PARSER = "mdstat"

SYNC_ACTIONS = ("resync", "recovery", "reshape", "check", "repair")
# Actions that only read and compare: a routine scrub, redundancy is intact meanwhile.
SCRUB_ACTIONS = ("check", "repair")
# Levels without redundancy: the kernel prints no "[n/m] [UU]" for them, nothing to degrade.
NO_REDUNDANCY = ("raid0", "linear")

_PERSONALITIES = re.compile(r"^Personalities\s*:(?P<rest>.*)$")
_ARRAY_HEAD = re.compile(r"^(?P<name>[^\s:]+)\s*:\s*(?P<state>active|inactive)(?:\s+(?P<rest>.*))?$")
_MEMBER = re.compile(r"^(?P<name>[^\s\[\]()]+)\[(?P<slot>[0-9]{1,9})\](?P<flags>(?:\([WJFSR]\))*)$")
_BLOCKS = re.compile(r"^(?P<blocks>[0-9]{1,30}) blocks(?: super (?P<super>\S+))?(?P<rest>.*)$")
_DISKS_STATUS = re.compile(r"\[(?P<raid>[0-9]{1,9})/(?P<active>[0-9]{1,9})\]\s*\[(?P<status>[U_]*)\]$")
_CHUNK = re.compile(r"(?P<kib>[0-9]{1,12})[kK] chunks?\b")
_PROGRESS = re.compile(
    r"^(?:\[[=>.]*\]\s*)?(?P<action>resync|recovery|reshape|check|repair)\s*=\s*"
    r"(?P<percent>[0-9]{1,3}(?:\.[0-9])?)%"
    r"(?:\s*\((?P<done>[0-9]{1,30})/(?P<total>[0-9]{1,30})\))?"
    r"(?:\s*finish=(?P<finish>[0-9]{1,12}(?:\.[0-9]{1,3})?)min)?"
    r"(?:\s*speed=(?P<speed>[0-9]{1,15})K/sec)?$"
)
_WAITING = re.compile(r"^(?P<action>resync|recovery|recover|reshape|check|repair)\s*=\s*(?P<flag>DELAYED|PENDING|REMOTE)$")
_BITMAP = re.compile(r"^bitmap:\s*(?P<text>.+)$")
_UNUSED = re.compile(r"^unused devices:\s*(?P<rest>.*)$")
_READ_AHEAD = re.compile(r"^read_ahead\b")  # kernels 2.4 printed it after Personalities

_TOOL_ERRORS = (re.compile(r"^cat: .*mdstat"), re.compile(r"No such file or directory"))


@dataclass(frozen=True)
class MdMember:
    """One component device as listed on the array line: "sdb1[4](F)"."""

    name: str
    slot: int | None
    faulty: bool = False
    spare: bool = False
    write_mostly: bool = False
    replacement: bool = False
    journal: bool = False


@dataclass(frozen=True)
class MdSync:
    """A resync/recovery/reshape/check/repair, running or waiting (DELAYED, PENDING)."""

    action: str
    percent: float | None = None
    done_blocks: int | None = None
    total_blocks: int | None = None
    finish_minutes: float | None = None
    speed_kib_s: int | None = None
    delayed: bool = False
    pending: bool = False
    remote: bool = False

    @property
    def running(self) -> bool:
        return not (self.delayed or self.pending or self.remote)


@dataclass(frozen=True)
class MdArray:
    """One md array. `raid_disks`/`active_disks` are the "[n/m]", `status` the "[UU_]"."""

    name: str
    state: str
    level: str | None
    members: tuple[MdMember, ...]
    blocks: int | None = None
    super_version: str | None = None
    layout: str = ""  # personality details between "super …" and "[n/m]", e.g. "level 5, 64k chunk, algorithm 2"
    raid_disks: int | None = None
    active_disks: int | None = None
    status: str | None = None
    bitmap: str | None = None
    sync: MdSync | None = None
    read_only: bool = False
    auto_read_only: bool = False

    @property
    def active(self) -> bool:
        return self.state == "active"

    @property
    def chunk_kib(self) -> int | None:
        match = _CHUNK.search(self.layout)
        return int(match["kib"]) if match else None

    @property
    def degraded(self) -> bool | None:
        """Fewer working disks than the array needs, as its "[n/m] [UU_]" says (raid0/linear have
        no redundancy to lose: False). None when the array does not show them (an inactive one)."""
        if self.raid_disks is None and self.status is None:
            return False if self.level in NO_REDUNDANCY else None
        fewer = self.raid_disks is not None and self.active_disks is not None and self.active_disks < self.raid_disks
        return fewer or (self.status is not None and "_" in self.status)

    @property
    def failed_members(self) -> tuple[MdMember, ...]:
        return tuple(m for m in self.members if m.faulty)

    @property
    def spare_members(self) -> tuple[MdMember, ...]:
        return tuple(m for m in self.members if m.spare)

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members)

    @property
    def healthy(self) -> bool | None:
        """Active, not degraded, no faulty member, and no rebuild under way or waiting. A check or
        repair scrub, running or DELAYED behind another array's on the same disks, is fine: Debian's
        cron starts one on every array on the first Sunday of the month. None when nothing shown is
        wrong but whether the array is degraded is not shown."""
        syncing = self.sync is not None and self.sync.action not in SCRUB_ACTIONS
        if not self.active or self.degraded or self.failed_members or syncing:
            return False
        return None if self.degraded is None else True


@dataclass(frozen=True)
class Mdstat:
    personalities: tuple[str, ...]
    arrays: tuple[MdArray, ...]
    unused_devices: tuple[str, ...] | None = ()  # None: no "unused devices:" line (a cut copy)

    def array(self, name: str) -> MdArray | None:
        """The array called `name` ("md2" or "/dev/md2"), None when absent."""
        wanted = name.removeprefix("/dev/")
        return next((a for a in self.arrays if a.name == wanted), None)

    @property
    def degraded_arrays(self) -> tuple[MdArray, ...]:
        """The arrays shown degraded (not those whose state is not shown)."""
        return tuple(a for a in self.arrays if a.degraded)


# ---------------------------------------------------------------------------- parsing


def parse_mdstat(text: str) -> Mdstat:
    """Parse the content of /proc/mdstat."""
    raise_if_tool_error(PARSER, text, _TOOL_ERRORS)
    personalities: tuple[str, ...] | None = None
    unused: tuple[str, ...] | None = None
    arrays: list[MdArray] = []
    block: list[tuple[int, str]] = []

    def close_block() -> None:
        if block:
            arrays.append(_parse_array(block))
            block.clear()

    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line:
            close_block()
            continue
        if personalities is None:
            personalities = _parse_personalities(number, line)
            continue
        if _READ_AHEAD.match(line) and not arrays and not block:
            continue
        if unused_match := _UNUSED.match(line):
            close_block()
            unused = _parse_unused(unused_match["rest"])
            continue
        if _ARRAY_HEAD.match(line):
            close_block()
            block.append((number, line))
            continue
        if not block:
            raise ParseError(PARSER, "expected an array line ('mdN : active …') or 'unused devices:'", line_no=number, line=raw)
        block.append((number, line))
    close_block()
    if personalities is None:
        raise ParseError(PARSER, "no 'Personalities :' line: this is not /proc/mdstat")
    return Mdstat(personalities=personalities, arrays=tuple(arrays), unused_devices=unused)


def _parse_personalities(number: int, line: str) -> tuple[str, ...]:
    match = _PERSONALITIES.match(line)
    if not match:
        raise ParseError(PARSER, "expected the 'Personalities :' line first", line_no=number, line=line)
    rest = match["rest"]
    names = re.findall(r"\[([^\[\]\s]+)\]", rest)
    if re.sub(r"\[[^\[\]\s]+\]", "", rest).strip():
        raise ParseError(PARSER, "personalities must be '[name]' words", line_no=number, line=line)
    return tuple(names)


def _parse_unused(rest: str) -> tuple[str, ...]:
    words = rest.split()
    return () if words == ["<none>"] else tuple(words)


def _parse_array(block: list[tuple[int, str]]) -> MdArray:
    number, head = block[0]
    match = _ARRAY_HEAD.match(head)
    assert match is not None  # the caller only starts blocks on array heads
    words = (match["rest"] or "").split()
    read_only = auto_read_only = False
    while words and words[0] in ("(read-only)", "(auto-read-only)"):
        read_only |= words[0] == "(read-only)"
        auto_read_only |= words[0] == "(auto-read-only)"
        words.pop(0)
    level = words.pop(0) if words and "[" not in words[0] else None
    members = tuple(_parse_member(number, head, word) for word in words)
    fields: dict = {}
    for line_no, line in block[1:]:
        _parse_status_line(line_no, line, fields)
    return MdArray(
        name=match["name"], state=match["state"], level=level, members=members,
        read_only=read_only, auto_read_only=auto_read_only, **fields,
    )


def _parse_member(number: int, line: str, word: str) -> MdMember:
    match = _MEMBER.match(word)
    if not match:
        raise ParseError(PARSER, f"expected a member like 'sda1[0]' or 'sdb1[1](F)', got {word!r}", line_no=number, line=line)
    flags = match["flags"]
    return MdMember(
        name=match["name"], slot=int(match["slot"]),
        faulty="(F)" in flags, spare="(S)" in flags, write_mostly="(W)" in flags,
        replacement="(R)" in flags, journal="(J)" in flags,
    )


def _parse_status_line(number: int, line: str, fields: dict) -> None:
    if match := _BLOCKS.match(line):
        _set_once(fields, "blocks", int(match["blocks"]), number, line)
        fields["super_version"] = match["super"]
        _parse_layout(match["rest"].strip(), fields)
    elif match := _PROGRESS.match(line):
        _set_once(fields, "sync", _sync_from_progress(match), number, line)
    elif match := _WAITING.match(line):
        action = "recovery" if match["action"] == "recover" else match["action"]
        flag = match["flag"]
        sync = MdSync(action=action, delayed=flag == "DELAYED", pending=flag == "PENDING", remote=flag == "REMOTE")
        _set_once(fields, "sync", sync, number, line)
    elif match := _BITMAP.match(line):
        _set_once(fields, "bitmap", match["text"].strip(), number, line)
    else:
        raise ParseError(PARSER, "expected a blocks, progress (resync/recovery/…), or bitmap line", line_no=number, line=line)


def _set_once(fields: dict, key: str, value: object, number: int, line: str) -> None:
    if key in fields:
        raise ParseError(PARSER, f"a second {key} line for the same array", line_no=number, line=line)
    fields[key] = value


def _parse_layout(rest: str, fields: dict) -> None:
    disks = _DISKS_STATUS.search(rest)
    if disks:
        fields.update(raid_disks=int(disks["raid"]), active_disks=int(disks["active"]), status=disks["status"])
        rest = rest[: disks.start()].strip()
    fields["layout"] = rest


def _sync_from_progress(match: re.Match[str]) -> MdSync:
    def optional(group: str, kind: type) -> int | float | None:
        return kind(match[group]) if match[group] is not None else None

    return MdSync(
        action=match["action"], percent=float(match["percent"]),
        done_blocks=optional("done", int), total_blocks=optional("total", int),
        finish_minutes=optional("finish", float), speed_kib_s=optional("speed", int),
    )


# ---------------------------------------------------------------------------- rendering


def render_mdstat(mdstat: Mdstat) -> str:
    """Write `mdstat` the way the kernel prints /proc/mdstat (used by the lab and the tests)."""
    out = ["Personalities : " + " ".join(f"[{p}]" for p in mdstat.personalities)]
    for array in mdstat.arrays:
        out.extend(_render_array(array))
        out.append("")
    if mdstat.unused_devices is not None:
        out.append("unused devices: " + (" ".join(mdstat.unused_devices) or "<none>"))
    return "\n".join(out) + "\n"


def _render_array(array: MdArray) -> list[str]:
    head = f"{array.name} : {array.state}"
    head += " (read-only)" * array.read_only + " (auto-read-only)" * array.auto_read_only
    if array.level:
        head += f" {array.level}"
    head += "".join(" " + _render_member(m) for m in array.members)
    lines = [head]
    if array.blocks is not None:
        blocks = f"      {array.blocks} blocks"
        if array.super_version:
            blocks += f" super {array.super_version}"
        if array.layout:
            blocks += f" {array.layout}"
        if array.raid_disks is not None and array.active_disks is not None and array.status is not None:
            blocks += f" [{array.raid_disks}/{array.active_disks}] [{array.status}]"
        lines.append(blocks)
    if array.sync is not None:
        lines.append("      " + _render_sync(array.sync))
    if array.bitmap is not None:
        lines.append(f"      bitmap: {array.bitmap}")
    return lines


def _render_member(member: MdMember) -> str:
    flags = "(W)" * member.write_mostly + "(J)" * member.journal + "(F)" * member.faulty
    flags += "(S)" * member.spare + "(R)" * member.replacement
    return f"{member.name}[{member.slot}]{flags}"


def _render_sync(sync: MdSync) -> str:
    if not sync.running:
        flag = "DELAYED" if sync.delayed else "PENDING" if sync.pending else "REMOTE"
        return f"{sync.action}={flag}"
    text = ""
    if sync.percent is not None:
        per_mille = int(round(sync.percent * 10))
        filled = min(per_mille // 50, 20)
        text = "[" + "=" * filled + ">" + "." * (20 - filled) + "]  "
    text += f"{sync.action} = {sync.percent:4.1f}%" if sync.percent is not None else f"{sync.action} ="
    if sync.done_blocks is not None and sync.total_blocks is not None:
        text += f" ({sync.done_blocks}/{sync.total_blocks})"
    if sync.finish_minutes is not None:
        text += f" finish={sync.finish_minutes:.1f}min"
    if sync.speed_kib_s is not None:
        text += f" speed={sync.speed_kib_s}K/sec"
    return text
