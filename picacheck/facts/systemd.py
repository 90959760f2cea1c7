"""systemd unit files → `UnitFile` (systemd.syntax(7), systemd.unit(5)).

"[Section]" headers, "Key=Value" entries (blanks around "=" ignored), lines starting with
"#" or ";" are comments, a line ending in "\\" continues on the next (joined with a space;
comment lines in between are skipped). Sections of the same name merge; a key assigned
twice keeps every assignment (`values`), the last one wins for single-valued settings,
and an empty assignment resets a list setting.

What systemd really does with an inline comment: nothing. Comments are only recognised
at the start of a line, so in "Restart=on-failure #À ajouter" the value is the whole
"on-failure #À ajouter", which systemd rejects ("Failed to parse service restart
specifier, ignoring") and the setting keeps its default (Restart=no). `UnitEntry.value`
is that raw value; `value_is_clean` is False when it carries such a comment-like tail
(blanks then "#" or ";"), and `intended_value` is what the author meant. It is a
heuristic: a command line may contain " #" on purpose.

Lines that systemd would skip with a warning (no "=", or an assignment before any
section) are kept in `UnitFile.problems`, not raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import numbered_lines

_SECTION = re.compile(r"^\[(?P<name>[^\[\]]+)\]$")
_COMMENT_TAIL = re.compile(r"\s+[#;].*$")


@dataclass(frozen=True)
class UnitEntry:
    key: str
    value: str
    line_no: int | None = field(default=None, compare=False)

    @property
    def value_is_clean(self) -> bool:
        """False when the value ends with something that reads like an end-of-line comment."""
        return _COMMENT_TAIL.search(self.value) is None

    @property
    def inline_comment(self) -> str | None:
        match = _COMMENT_TAIL.search(self.value)
        return match.group().strip() if match else None

    @property
    def intended_value(self) -> str:
        """The value without its comment-like tail: what the author meant, not what systemd reads."""
        return _COMMENT_TAIL.sub("", self.value)


@dataclass(frozen=True)
class UnitSection:
    name: str
    entries: tuple[UnitEntry, ...] = ()


@dataclass(frozen=True)
class UnitProblem:
    line_no: int
    line: str
    reason: str


@dataclass(frozen=True)
class UnitFile:
    sections: tuple[UnitSection, ...] = ()
    problems: tuple[UnitProblem, ...] = field(default=(), compare=False)

    def entries(self, section: str, key: str) -> tuple[UnitEntry, ...]:
        """Every assignment of `key` in every `section` of that name, in file order."""
        return tuple(e for s in self.sections if s.name == section for e in s.entries if e.key == key)

    def entry(self, section: str, key: str) -> UnitEntry | None:
        """The assignment that wins (the last one), None when the key is not set."""
        found = self.entries(section, key)
        return found[-1] if found else None

    def value(self, section: str, key: str) -> str | None:
        """The raw value systemd reads for a single-valued setting (the last assignment)."""
        entry = self.entry(section, key)
        return entry.value if entry else None

    def values(self, section: str, key: str) -> tuple[str, ...]:
        """The raw values of a list setting: assignments after the last empty one (which resets)."""
        result: list[str] = []
        for entry in self.entries(section, key):
            if entry.value == "":
                result.clear()
            else:
                result.append(entry.value)
        return tuple(result)

    @property
    def section_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.name for s in self.sections))


def parse_unit_file(text: str) -> UnitFile:
    sections: list[tuple[str, list[UnitEntry]]] = []
    problems: list[UnitProblem] = []
    for number, line in _logical_lines(text):
        if match := _SECTION.match(line):
            sections.append((match["name"], []))
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            problems.append(UnitProblem(number, line, "missing '=', systemd ignores the line"))
        elif not sections:
            problems.append(UnitProblem(number, line, "assignment outside of any section, systemd ignores it"))
        else:
            sections[-1][1].append(UnitEntry(key.strip(), value.strip(), line_no=number))
    return UnitFile(sections=tuple(UnitSection(n, tuple(e)) for n, e in sections), problems=tuple(problems))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with comments dropped and backslash continuations joined."""
    result: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if line.startswith(("#", ";")) or (not line and pending is None):
            continue
        if pending is not None:
            number, line = pending[0], f"{pending[1]} {line}".strip()
            pending = None
        if line.endswith("\\"):
            pending = (number, line[:-1].rstrip())
            continue
        if line:
            result.append((number, line))
    if pending is not None and pending[1]:
        result.append(pending)
    return result
