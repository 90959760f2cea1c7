"""Small helpers shared by the parsers: line splitting and tool-error detection."""

from __future__ import annotations

import re
from typing import Iterable

from .errors import ToolError


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """Lines numbered from 1, with CRLF/CR endings and trailing whitespace removed."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    return [(number, line.rstrip()) for number, line in enumerate(normalized.split("\n"), start=1)]


def raise_if_tool_error(parser: str, text: str, patterns: Iterable[re.Pattern[str]]) -> None:
    """Raise `ToolError` when the whole (non-blank) output is one of the tool's error messages."""
    content = [line.strip() for _, line in numbered_lines(text) if line.strip()]
    if content and len(content) <= 4 and any(p.search(content[0]) for p in patterns):
        raise ToolError(parser, "\n".join(content))


def to_int(value: str) -> int | None:
    """An int from decimal or 0x-hex text, None when it is not a number."""
    value = value.strip()
    if re.fullmatch(r"0[xX][0-9a-fA-F]{1,64}", value):
        return int(value, 16)
    if re.fullmatch(r"[+-]?[0-9]{1,64}", value):
        return int(value)
    return None
