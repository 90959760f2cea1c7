"""One lab operation of a kind at a time on this machine: a lock file per kind in RUN_DIR.

    with locked("vms", "`picacheck lab up`"):          # refuses at once if another process holds it
    with locked("hypervisors", "…", wait=True):       # waits (a chaos restart during `lab up`)

Re-entrant in a process (a whole-lab `up` holds "lab" while each part takes its own), and
the file is removed on release, so that a lab at rest leaves nothing in RUN_DIR.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import Counter

from picacheck.errors import UserError
from picacheck.lab import topology as T

_held: Counter = Counter()  # name → how many times this process holds it
_guard = threading.Lock()
_owners: dict[str, int] = {}  # name → the open lock file's descriptor


def path(name: str):
    return T.RUN_DIR / f"{name}.lock"


@contextlib.contextmanager
def locked(name: str, what: str, wait: bool = False):
    """Hold the lock `name`; `what` names the operation in the refusal message."""
    with _guard:
        if _held[name]:
            _held[name] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[name] -= 1
        return
    fd = _acquire(name, what, wait)
    with _guard:
        _held[name] += 1
        _owners[name] = fd
    try:
        yield
    finally:
        with _guard:
            _held[name] -= 1
            last = _held[name] == 0
            if last:
                del _owners[name]
        if last:
            path(name).unlink(missing_ok=True)  # before the unlock: a waiter then retries on a new file
            os.close(fd)


def _acquire(name: str, what: str, wait: bool) -> int:
    T.RUN_DIR.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path(name), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            raise UserError(f"lab: another {what} is running on this machine",
                            hint=f"it holds {path(name)}; wait for it to finish") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path(name)).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a file its last holder removed while we waited for it
            return fd
        os.close(fd)
