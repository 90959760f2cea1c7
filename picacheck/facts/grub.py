"""/etc/default/grub → its settings (KEY=value lines, shell-quoted), as grub-mkconfig reads them.

The file is a shell fragment sourced by grub-mkconfig: the last assignment of a key wins,
comments start with "#", and values are quoted as in sh. Lines that are not a plain
assignment (a conditional, say) are kept in `unread` rather than guessed at.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from ._text import numbered_lines

_ASSIGNMENT = re.compile(r"^(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")


@dataclass(frozen=True)
class GrubDefault:
    settings: dict[str, str] = field(default_factory=dict)
    unread: tuple[tuple[int, str], ...] = field(default=(), compare=False)

    @property
    def cmdline_default(self) -> tuple[str, ...]:
        """The words of GRUB_CMDLINE_LINUX_DEFAULT (empty when it is not set)."""
        return tuple(self.settings.get("GRUB_CMDLINE_LINUX_DEFAULT", "").split())


def parse_grub_default(text: str) -> GrubDefault:
    settings: dict[str, str] = {}
    unread: list[tuple[int, str]] = []
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        try:
            words = shlex.split(match.group("value"), comments=True) if match else None
        except ValueError:  # an unbalanced quote
            words = None
        if match is None or words is None or len(words) > 1:
            unread.append((number, raw))
            continue
        settings[match.group("key")] = words[0] if words else ""
    return GrubDefault(settings, tuple(unread))
