"""stop_group: a process group that leaves on the polite signal is not killed; one that
ignores it is killed after its grace period; a finished process is left alone."""

import signal
import subprocess

from picacheck.processes import stop_group


def _group(script: str) -> subprocess.Popen:
    """The script in its own session, once it has said it is ready (its traps set)."""
    process = subprocess.Popen(["sh", "-c", f"{script}"], start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    return process


def test_a_group_that_leaves_on_sigterm_is_not_killed():
    process = _group("echo ready; exec sleep 30")
    stop_group(process, ((signal.SIGTERM, 10), (signal.SIGKILL, 5)))
    assert process.returncode == -signal.SIGTERM


def test_a_group_that_ignores_sigterm_is_killed_after_its_grace():
    process = _group("trap '' TERM; echo ready; while :; do sleep 0.1; done")
    stop_group(process, ((signal.SIGTERM, 0.5), (signal.SIGKILL, 5)))
    assert process.returncode == -signal.SIGKILL


def test_a_finished_process_is_left_alone():
    process = _group("echo ready; exit 3")
    process.wait(timeout=10)
    stop_group(process)
    stop_group(None)
    assert process.returncode == 3
