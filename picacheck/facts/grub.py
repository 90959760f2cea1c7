"""/etc/default/grub (and /etc/default/grub.d/*.cfg after it) → `GrubDefaults`.

grub-mkconfig sources these files with /bin/sh: `NAME=value` lines set its settings, the
last assignment of a name wins, values follow the shell's quoting ('…', "…", backslashes),
`$NAME` / `${NAME}` expand a name set earlier in the files (the usual
`GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT nomodeset"`), and `#` starts a
comment. What the parser cannot know is not guessed: a name whose last assignment expands
a command (`…`, $(…)) or a name not set in the files is `unreadable`; a line that is not an
assignment (an `if`, a command) is kept in `ignored`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import numbered_lines

_ASSIGNMENT = re.compile(r"^(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")
_EXPANSION = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class GrubDefaults:
    settings: dict[str, str] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()  # names whose value the files do not state
    ignored: tuple[str, ...] = field(default=(), compare=False)

    @property
    def cmdline_linux_default(self) -> tuple[str, ...] | None:
        """GRUB_CMDLINE_LINUX_DEFAULT's options (None: not set, or unreadable)."""
        return self._options("GRUB_CMDLINE_LINUX_DEFAULT")

    @property
    def cmdline_linux(self) -> tuple[str, ...] | None:
        return self._options("GRUB_CMDLINE_LINUX")

    def _options(self, name: str) -> tuple[str, ...] | None:
        value = self.settings.get(name)
        return None if value is None else tuple(value.split())


def parse_default_grub(text: str) -> GrubDefaults:
    settings: dict[str, str] = {}
    unreadable: set[str] = set()
    ignored: list[str] = []
    for _, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            ignored.append(line)
            continue
        name, value = match["name"], _shell_value(match["value"], settings, unreadable)
        if value is None:
            settings.pop(name, None)
            unreadable.add(name)
        else:
            settings[name] = value
            unreadable.discard(name)
    return GrubDefaults(settings, frozenset(unreadable), tuple(ignored))


def _shell_value(text: str, known: dict[str, str], unreadable: set[str]) -> str | None:
    """The value as sh assigns it: one word, quotes and backslashes removed, known names
    expanded, a comment after it dropped. None where sh would do something the parser
    does not follow: a command substitution, an unknown name, an open quote, a second word
    (sh runs it as a command with the assignment in its environment)."""
    value, quote, index = [], None, 0
    while index < len(text):
        char = text[index]
        if quote != "'" and char == "\\":
            if index + 1 >= len(text):
                return None
            value.append(text[index + 1])
            index += 2
            continue
        if quote != "'" and char == "`" or text.startswith("$(", index):
            return None
        if quote != "'" and char == "$":
            match = _EXPANSION.match(text, index)
            name = match and (match["braced"] or match["plain"])
            if not name or name not in known or name in unreadable:
                return None
            value.append(known[name])
            index = match.end()
            continue
        if quote:
            if char == quote:
                quote = None
            else:
                value.append(char)
        elif char in "'\"":
            quote = char
        elif char.isspace():
            rest = text[index:].strip()
            return "".join(value) if not rest or rest.startswith("#") else None
        else:
            value.append(char)
        index += 1
    return None if quote else "".join(value)
