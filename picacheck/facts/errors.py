"""The errors that the fact parsers raise.

Every parser raises `ParseError` (a `ValueError`) on text it cannot read, and nothing
else, whatever the input. `ToolError` is the special case where the text is the tool's
own error message instead of its normal output ("Connection failed. Please check if
gluster daemon is operational.", "Cannot initialize QUORUM service"…): a probe can catch
it to report the tool's message as evidence.
"""

from __future__ import annotations


class ParseError(ValueError):
    """Text that a parser cannot read: names the parser, the line and what was expected."""

    def __init__(self, parser: str, reason: str, *, line_no: int | None = None, line: str | None = None):
        self.parser = parser
        self.reason = reason
        self.line_no = line_no
        self.line = line
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f" line {self.line_no}" if self.line_no is not None else ""
        shown = f": {_shorten(self.line)!r}" if self.line is not None else ""
        return f"{self.parser}:{where}: {self.reason}{shown}" if where else f"{self.parser}: {self.reason}{shown}"


class ToolError(ParseError):
    """The text is the tool's error message, kept whole in `message`."""

    def __init__(self, parser: str, message: str):
        self.message = message
        super().__init__(parser, f"the tool reported an error instead of its output: {_shorten(message)}")


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
