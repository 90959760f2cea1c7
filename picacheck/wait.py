"""Waiting for eventual convergence: `eventually(condition, timeout, interval)`, never a bare sleep."""

from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")


class NotYet(Exception):
    """Raised by `eventually` when the condition never held; carries the last reason."""


class Stopped(Exception):
    """Raised by `eventually` when its `stop` event was set before the condition held."""


def eventually(condition: Callable[[], T], timeout: float, interval: float = 1.0, what: str = "condition",
               stop: threading.Event | None = None, tolerate: tuple[type[BaseException], ...] = ()) -> T:
    """Call `condition` until it returns a truthy value (returned) or `timeout` runs out.

    An AssertionError raised by the condition (or one of `tolerate`) counts as "not yet";
    its message is kept so that a timeout explains what was last seen. With `stop`, the
    wait ends at once (Stopped) when the event is set: an experiment that is rolling back.
    """
    deadline = time.monotonic() + timeout
    last = "never evaluated"
    while True:
        try:
            value = condition()
            if value:
                return value
            last = f"returned {value!r}"
        except (AssertionError, *tolerate) as error:
            last = f"{type(error).__name__}: {error}" if tolerate else (str(error) or "assertion failed")
        if time.monotonic() >= deadline:
            raise NotYet(f"{what} did not hold within {timeout:.0f}s: {last[:300]}")
        if stop is not None:
            if stop.wait(interval):
                raise Stopped(f"{what}: the experiment stopped")
        else:
            time.sleep(interval)
