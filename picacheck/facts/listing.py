"""A directory listing with the host's clock, as the backup probes ask for it:
`date +%s.%N; find DIR -maxdepth 1 -type f -printf '%f\\t%s\\t%T@\\n'`."""

from __future__ import annotations

from dataclasses import dataclass

from ._text import numbered_lines
from .errors import ParseError

LISTING_FORMAT = r"%f\t%s\t%T@\n"


@dataclass(frozen=True)
class ListedFile:
    name: str
    size: int
    mtime: float  # seconds since the epoch, host clock


@dataclass(frozen=True)
class Listing:
    host_now: float  # the host's clock when it listed
    files: tuple[ListedFile, ...]


def parse_listing(text: str) -> Listing:
    lines = [(number, line) for number, line in numbered_lines(text) if line]
    if not lines:
        raise ParseError("listing", "empty: expected the host's clock on the first line")
    try:
        host_now = float(lines[0][1])
    except ValueError:
        raise ParseError("listing", "expected the host's clock (date +%s.%N)", line_no=lines[0][0],
                         line=lines[0][1]) from None
    files = []
    for number, line in lines[1:]:
        parts = line.rsplit("\t", 2)
        try:
            name, size, mtime = parts
            files.append(ListedFile(name, int(size), float(mtime)))
        except ValueError:
            raise ParseError("listing", "expected NAME<tab>SIZE<tab>MTIME", line_no=number, line=line) from None
    return Listing(host_now, tuple(files))
