"""Waiting for eventual convergence: `eventually(condition, timeout, interval)`, never a bare sleep."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class NotYet(Exception):
    """Raised by `eventually` when the condition never held; carries the last reason."""


def eventually(condition: Callable[[], T], timeout: float, interval: float = 1.0, what: str = "condition") -> T:
    """Call `condition` until it returns a truthy value (returned) or `timeout` runs out.

    An AssertionError raised by the condition counts as "not yet"; its message is kept so
    that a timeout explains what was last seen.
    """
    deadline = time.monotonic() + timeout
    last = "never evaluated"
    while True:
        try:
            value = condition()
            if value:
                return value
            last = f"returned {value!r}"
        except AssertionError as error:
            last = str(error) or "assertion failed"
        if time.monotonic() >= deadline:
            raise NotYet(f"{what} did not hold within {timeout:.0f}s: {last}")
        time.sleep(interval)
