"""Progress lines for long work (lab build, chaos phases, load runs).

Printed to stderr so that machine-readable output on stdout stays clean. Under pytest
(`picacheck verify`), the plugin routes them to the terminal past pytest's output capture,
so that a drill's phases show while it runs, not after.
"""

import sys
import time
from contextlib import contextmanager
from typing import Callable


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_writer: list[Callable[[str], None]] = [_to_stderr]


def set_writer(writer: Callable[[str], None] | None) -> None:
    """Where progress lines go (None: back to stderr)."""
    _writer[0] = writer or _to_stderr


def say(message: str) -> None:
    _writer[0](f"[picacheck] {message}")


@contextmanager
def step(title: str):
    """Announce a step, then report how long it took (or that it failed)."""
    say(f"{title} …")
    started = time.monotonic()
    try:
        yield
    except BaseException:
        say(f"{title}: FAILED after {time.monotonic() - started:.1f}s")
        raise
    say(f"{title}: done in {time.monotonic() - started:.1f}s")
