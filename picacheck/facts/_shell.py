"""Shell scripts split into commands as sh would: for the parsers of scripts (rc.local, cron jobs)."""

from __future__ import annotations

import shlex

from ._text import numbered_lines

SEPARATORS = (";", "&&", "||", "&", "|")


def shell_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line number, words) of each simple command: `\\` at the end of a line continues it,
    quotes are removed, `#` at the start of a word starts a comment, `;` `&&` `||` `&` `|`
    separate commands. A line with an unclosed quote yields no command (sh would fail on it)."""
    commands, pending, start = [], "", None
    for line_no, line in numbered_lines(text):
        start = start or line_no
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1] + " "
            continue
        logical, pending = pending + line, ""
        commands += [(start, words) for words in _split(logical)]
        start = None
    if pending:
        commands += [(start, words) for words in _split(pending)]
    return commands


def _split(line: str) -> list[list[str]]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unclosed quote or a trailing backslash
        return []
    commands, words = [], []
    for token in tokens + [";"]:
        if token in SEPARATORS or set(token) <= set(";&|"):
            if words:
                commands.append(words)
            words = []
        else:
            words.append(token)
    return commands
