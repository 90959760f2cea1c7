"""Progress lines for long work (lab build, chaos phases, load runs).

Printed to stderr so that machine-readable output on stdout stays clean.
"""

import sys
import time
from contextlib import contextmanager


def say(message: str) -> None:
    print(f"[picacheck] {message}", file=sys.stderr, flush=True)


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
