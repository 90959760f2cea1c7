"""What is mounted and swapped: `findmnt --json` and /proc/swaps → typed facts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from ._text import numbered_lines
from .errors import ParseError


@dataclass(frozen=True)
class MountedFilesystem:
    path: str
    source: str
    fstype: str
    size_bytes: int | None  # None: findmnt did not say


def parse_findmnt(text: str) -> tuple[MountedFilesystem, ...]:
    """`findmnt --json --bytes --output TARGET,SOURCE,FSTYPE,SIZE …` (empty text: nothing mounted)."""
    if not text.strip():
        return ()
    try:
        entries = json.loads(text)["filesystems"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ParseError("findmnt", 'expected {"filesystems": [...]}') from None
    found = []
    for entry in entries:
        try:
            size = entry.get("size")
            found.append(MountedFilesystem(entry["target"], entry["source"], entry["fstype"],
                                           int(size) if size not in (None, "") else None))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ParseError("findmnt", f"a filesystem without target/source/fstype: {entry!r}"[:200]) from None
    return tuple(found)


def parse_proc_swaps(text: str) -> tuple[str, ...]:
    """The devices or files of /proc/swaps (its first line is the header)."""
    lines = [(number, line) for number, line in numbered_lines(text) if line.strip()]
    if not lines or not lines[0][1].startswith("Filename"):
        raise ParseError("/proc/swaps", "expected the header 'Filename Type Size Used Priority'",
                         line_no=lines[0][0] if lines else None, line=lines[0][1] if lines else None)
    return tuple(line.split()[0] for _, line in lines[1:])
