"""Secrets (passwords, tokens, API keys): a type that cannot be printed, and a scrubber.

- `Secret` wraps the value: its str() and repr() are masked, so a secret that ends up in a
  traceback, an assertion message or a log line shows as `Secret('***')`. `.reveal()` is
  called only at the one place that hands the value to its consumer (requests' auth
  object, a command's environment), never to build a message.
- Every Secret made in this process is remembered, with the forms it travels in (base64 of
  `user:password`, URL-quoted): `scrub(text)` replaces each of them, and `scrub_tree(dir)`
  rewrites every text file of a run folder. That is the last line of defence, applied to
  every report, journal, log and to the terminal output.
"""

from __future__ import annotations

import base64
import io
import os
import threading
import urllib.parse
from pathlib import Path
from typing import TextIO

from picacheck.errors import UserError

MASK = "***"
_MIN_LENGTH = 4  # shorter values would mask ordinary words; no real secret is that short
_known: set[str] = set()
_lock = threading.Lock()


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value
        remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def remember(value: str, user: str | None = None) -> None:
    """Known from now on to scrub(); with `user`, also its `user:value` forms."""
    if len(value) < _MIN_LENGTH:
        return
    forms = {value, urllib.parse.quote(value, safe=""), base64.b64encode(value.encode()).decode()}
    if user:
        pair = f"{user}:{value}"
        forms |= {pair, base64.b64encode(pair.encode()).decode()}
    with _lock:
        _known.update(form for form in forms if len(form) >= _MIN_LENGTH)


def known_forms() -> list[str]:
    """Every form scrub() masks (for a pytest-xdist worker to hand to its controller)."""
    with _lock:
        return sorted(_known)


def remember_form(form: str) -> None:
    """One form another process of the run masks (picacheck/kit/scrubbing.py)."""
    if len(form) >= _MIN_LENGTH:
        with _lock:
            _known.add(form)


def basic_auth_pair(user: str, password: Secret) -> tuple[str, str]:
    """(user, password) for requests' HTTPBasicAuth; the header's base64 is scrubbed too."""
    remember(password.reveal(), user=user)
    return user, password.reveal()


def from_inventory(where: str, password_file: str | None, password_env: str | None) -> Secret:
    """The secret an inventory entry names: its `password_file` (on this machine), else its
    `password_env` variable. `where` names the entry in errors (`databases.mysql`)."""
    if password_file:
        try:
            value = Path(password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            raise UserError(f"{where}.password_file: cannot read {password_file} ({reason})") from None
        if value:
            return Secret(value)
    if password_env and os.environ.get(password_env):
        return Secret(os.environ[password_env])
    tried = " or ".join(filter(None, (password_file and f"password_file {password_file} (empty)",
                                      password_env and f"${password_env}"))) or "no password_file or password_env"
    raise UserError(f"{where}: no secret found ({tried})")


def scrub(text: str) -> str:
    with _lock:
        forms = sorted(_known, key=len, reverse=True)  # longest first: a pair before its password
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def scrub_tree(root: Path) -> list[Path]:
    """Rewrite every text file under `root` with the known secrets masked; returns those
    that held one. Binary files (pictures) are left as they are."""
    with _lock:
        if not _known:
            return []
    changed = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        clean = scrub(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed.append(path)
    return changed


class ScrubbingStream(io.TextIOBase):
    """A terminal stream that masks the known secrets on their way out (line-buffered so
    that a secret split over two writes is still seen whole)."""

    def __init__(self, stream: TextIO):
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in self._pending:
            complete, _, self._pending = self._pending.rpartition("\n")
            self._stream.write(scrub(complete + "\n"))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(scrub(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self):  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")
