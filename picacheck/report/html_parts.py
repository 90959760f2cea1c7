"""Small HTML pieces for the report: escaping, status badges, tables, evidence behind a
click, pictures as data URIs. Everything that comes from a run (evidence is host output)
goes through `esc`; the pieces here take plain text and return HTML."""

from __future__ import annotations

import base64
import html
import time
from pathlib import Path

from picacheck.claims import Status
from picacheck.report.truth import CSS_CLASS, MARK

EVIDENCE_LIMIT = 20_000  # characters of one evidence note; the rest is in tests.html


def esc(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(status: Status, words: str | None = None) -> str:
    return f'<span class="badge {CSS_CLASS[status]}">{MARK[status]} {esc(words or status.value)}</span>'


def plain_badge(css_class: str, words: str) -> str:
    """A badge for what is not a claim's status (an SLO verdict, a drill's outcome)."""
    return f'<span class="badge {esc(css_class)}">{esc(words)}</span>'


def table(headers: list[str], rows: list[list[str]], css_class: str = "") -> str:
    """Headers are text (escaped here); cells are HTML already."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{esc(css_class)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def evidence_details(lines: list[str], summary: str = "Evidence", checks: list[str] = ()) -> str:
    """The evidence behind a click; each note as preformatted text."""
    if not lines and not checks:
        return ""
    notes = "".join(f"<pre>{esc(_cut(line))}</pre>" for line in lines)
    if checks:
        notes += "<p class='checks'>Checks: " + ", ".join(f"<code>{esc(c)}</code>" for c in checks) + "</p>"
    count = f" ({len(lines)})" if len(lines) > 1 else ""
    return f"<details><summary>{esc(summary)}{count}</summary>{notes}</details>"


def _cut(text: str) -> str:
    if len(text) <= EVIDENCE_LIMIT:
        return text
    return text[:EVIDENCE_LIMIT] + f"\n… ({len(text) - EVIDENCE_LIMIT} more characters in tests.html)"


def picture(path: Path | None, alt: str) -> str:
    """A PNG embedded as a data URI: the report stays one file that opens offline."""
    if path is None or not path.is_file():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}"><figcaption>{esc(alt)}</figcaption></figure>'


def link(href: str, words: str) -> str:
    return f'<a href="{esc(href)}">{esc(words)}</a>'


def when(epoch) -> str:
    """A time in UTC: the same words wherever the report is rendered."""
    if not isinstance(epoch, (int, float)):
        return "unknown"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def duration(seconds) -> str:
    if not isinstance(seconds, (int, float)):
        return "unknown"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
