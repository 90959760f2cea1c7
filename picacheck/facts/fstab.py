"""/etc/fstab → `Fstab` (fstab(5)).

Six fields separated by blanks: fs_spec, fs_file, fs_vfstype, fs_mntops (comma-separated),
fs_freq and fs_passno (both default to 0 when absent). Spaces inside a field are written
"\\040" (octal escapes, decoded here). "#" lines are comments. Like mount/libmount, a
malformed line is skipped, not fatal: it is kept in `Fstab.problems`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import numbered_lines

_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True)
class FstabEntry:
    spec: str
    file: str
    vfstype: str
    mntops: tuple[str, ...] = ("defaults",)
    freq: int = 0
    passno: int = 0
    line_no: int | None = field(default=None, compare=False)

    def has_option(self, option: str) -> bool:
        return option in self.mntops

    def option_value(self, name: str) -> str | None:
        """The value of "name=value" in the options, None when absent."""
        prefix = f"{name}="
        return next((o[len(prefix):] for o in self.mntops if o.startswith(prefix)), None)


@dataclass(frozen=True)
class FstabProblem:
    line_no: int
    line: str
    reason: str


@dataclass(frozen=True)
class Fstab:
    entries: tuple[FstabEntry, ...] = ()
    problems: tuple[FstabProblem, ...] = field(default=(), compare=False)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def at(self, mountpoint: str) -> FstabEntry | None:
        """The last entry mounted on `mountpoint` (the one that wins), None when absent."""
        wanted = mountpoint.rstrip("/") or "/"
        matches = [e for e in self.entries if (e.file.rstrip("/") or "/") == wanted]
        return matches[-1] if matches else None


def parse_fstab(text: str) -> Fstab:
    entries: list[FstabEntry] = []
    problems: list[FstabProblem] = []
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entry = _entry(number, line)
        if isinstance(entry, str):
            problems.append(FstabProblem(number, raw, entry))
        else:
            entries.append(entry)
    return Fstab(entries=tuple(entries), problems=tuple(problems))


def _entry(number: int, line: str) -> FstabEntry | str:
    fields = [_unescape(f) for f in line.split()]
    if not 4 <= len(fields) <= 6:
        return f"expected 4 to 6 fields (spec file vfstype options [freq [passno]]), got {len(fields)}"
    numbers = fields[4:]
    if any(not re.fullmatch(r"[0-9]{1,9}", n) for n in numbers):
        return "freq and passno must be numbers"
    freq, passno = (int(n) for n in (numbers + ["0", "0"])[:2])
    return FstabEntry(
        spec=fields[0], file=fields[1], vfstype=fields[2], mntops=tuple(fields[3].split(",")),
        freq=freq, passno=passno, line_no=number,
    )


def _unescape(text: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), text)


def _escape(text: str) -> str:
    return "".join(f"\\{ord(c):03o}" if c in " \t\n\\" or c == "#" and i == 0 else c for i, c in enumerate(text))


def render_fstab(fstab: Fstab) -> str:
    lines = ["# <file system> <mount point> <type> <options> <dump> <pass>"]
    for e in fstab.entries:
        options = ",".join(_escape(o) for o in e.mntops)
        lines.append(f"{_escape(e.spec)} {_escape(e.file)} {_escape(e.vfstype)} {options} {e.freq} {e.passno}")
    return "\n".join(lines) + "\n"
