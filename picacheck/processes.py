"""Stopping a child process group politely, then firmly (locust, a pytest run and its
workers): each signal in turn, waiting its grace period, until the group is gone."""

from __future__ import annotations

import os
import signal
import subprocess

POLITE_THEN_FIRM = ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0))


def stop_group(process: subprocess.Popen | None, steps=POLITE_THEN_FIRM) -> None:
    """Send each (signal, grace seconds) of `steps` to the process group of `process` until
    it has exited. The process must have been started in its own session or group."""
    if process is None or process.poll() is not None:
        return
    for sig, grace in steps:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
