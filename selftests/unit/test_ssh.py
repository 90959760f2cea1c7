"""The suite's SSH layer against a real OpenSSH server on 127.0.0.1: every byte of a
command's output comes back, however it is written; every wait is bounded; an unreachable
host is one clear reason, tried once per run."""

from __future__ import annotations

import random
import socket
import sys

import pytest

from picacheck.inventory.model import Inventory
from picacheck.probes import ssh
from picacheck.probes.remote import HostPool
from selftests.unit.sshd import SSHD, SilentListener, start_sshd

pytestmark = pytest.mark.skipif(not SSHD.exists(), reason="needs /usr/sbin/sshd (scripts/bootstrap installs it)")

# Written in bursts with pauses, stdout and stderr interleaved, the last burst just before
# the process exits without flushing anything else: the case where a server may send the
# exit status before the end of stdout.
WRITER = r'''
import os, random, sys, time
seed, size, pauses = (int(a) for a in sys.argv[1:4])
r = random.Random(seed)
written = 0
while written < size:
    block = r.randbytes(min(size - written, r.choice((1, 100, 4096, 65536, 200000))))
    os.write(1, block) if len(block) < 65536 else sys.stdout.buffer.write(block)
    sys.stdout.buffer.flush()
    written += len(block)
    if r.random() < 0.2:
        os.write(2, r.randbytes(r.randint(1, 3000)))
    if pauses and r.random() < 0.1:
        time.sleep(0.02)
os.write(1, r.randbytes(r.randint(30000, 70000)))  # the last burst
os._exit(r.randint(0, 3))
'''


def _expected(seed: int, size: int, pauses: int) -> tuple[int, bytes, bytes]:
    """What WRITER writes for these arguments, computed here with the same generator."""
    r = random.Random(seed)
    out, err = bytearray(), bytearray()
    while len(out) < size:
        out += r.randbytes(min(size - len(out), r.choice((1, 100, 4096, 65536, 200000))))
        if r.random() < 0.2:
            err += r.randbytes(r.randint(1, 3000))
        if pauses and r.random() < 0.1:
            pass
    out += r.randbytes(r.randint(30000, 70000))
    return r.randint(0, 3), bytes(out), bytes(err)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def target(sshd):
    return ssh.Target("local", "127.0.0.1", sshd.port, "root", str(sshd.key_file), None)


@pytest.fixture(scope="module")
def client(target):
    connection = ssh.connect(target, timeout=10)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    path = tmp_path_factory.mktemp("writer") / "writer.py"
    path.write_text(WRITER)
    return path


def test_every_byte_of_bursty_output_comes_back_over_hundreds_of_runs(client, writer):
    runs = 300
    r = random.Random(20261201)
    for run in range(runs):
        size = 1 << 20 if run % 25 == 0 else r.randint(0, 120_000)
        pauses = 1 if run % 25 == 0 else r.randint(0, 1)
        seed = r.randrange(1 << 30)
        status, out, err = ssh.run_command(client, f"{sys.executable} {writer} {seed} {size} {pauses}".encode(),
                                           timeout=60, host="local")
        expected = _expected(seed, size, pauses)
        assert (status, len(out), len(err)) == (expected[0], len(expected[1]), len(expected[2])), f"run {run}"
        assert out == expected[1] and err == expected[2], f"run {run}: same length, other bytes"


def test_the_exit_status_and_stderr_are_kept(client):
    status, out, err = ssh.run_command(client, b"echo out; echo err >&2; exit 7", timeout=10, host="local")
    assert (status, out, err) == (7, b"out\n", b"err\n")


def test_a_command_reading_stdin_sees_its_end_instead_of_hanging(client):
    assert ssh.run_command(client, b"cat; echo done", timeout=10, host="local") == (0, b"done\n", b"")


def test_a_command_that_outlives_its_timeout_is_a_command_timeout(client):
    with pytest.raises(ssh.CommandTimeout, match=r"local: `sleep 30` did not finish within its timeout"):
        ssh.run_command(client, b"sleep 30", timeout=1, host="local")


def test_a_wrong_key_is_an_authentication_failure_naming_the_user(target, tmp_path):
    other = tmp_path / "other_key"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = ssh.Target("local", target.hostname, target.port, "root", str(other), None)
    with pytest.raises(ssh.HostUnreachable, match="SSH authentication failed as root"):
        ssh.connect(wrong, timeout=5)


@pytest.fixture
def silent():
    listener = SilentListener()
    yield listener
    listener.close()


def test_banner_check_tells_ssh_from_silence_from_a_closed_port(sshd, silent):
    assert ssh.banner_check("127.0.0.1", sshd.port, timeout=5) is None
    assert "no SSH banner within 1 s" in ssh.banner_check("127.0.0.1", silent.port, timeout=1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    assert ssh.banner_check("127.0.0.1", port, timeout=1).startswith("SSH port closed")


def _inventory(sshd, silent) -> Inventory:
    def connection(port, key=None):
        return {"address": "127.0.0.1", "port": port, "key_file": key, "connect_timeout": 1, "command_timeout": 10}

    return Inventory.model_validate({
        "environment": {"name": "ssh-test", "kind": "lab"},
        "hosts": {"good": {"roles": ["swarm"], "ssh": connection(sshd.port, str(sshd.key_file))},
                  "mute": {"roles": ["swarm"], "ssh": connection(silent.port)},
                  "behind": {"roles": ["swarm"], "ssh": {**connection(22), "jump": "mute"}}},
    })


def test_a_silent_host_is_tried_once_per_run_and_its_checks_fail_with_the_reason(sshd, silent):
    pool = HostPool(_inventory(sshd, silent), remember_unreachable=True)
    try:
        unreachable = pool.preflight()
        assert set(unreachable) == {"mute", "behind"}
        assert "no SSH banner within 1 s" in unreachable["mute"]
        assert unreachable["behind"] == "reached through mute, which is unreachable"
        for _ in range(5):
            with pytest.raises(ssh.HostUnreachable, match="mute is unreachable: no SSH banner within 1 s"):
                pool["mute"].run("true")
        assert silent.accepted == 1  # the pre-flight's one connection, none per check
        assert pool["good"].check_output("echo reachable") == "reachable\n"
        assert set(pool.unreachable()) == {"mute", "behind"}
    finally:
        pool.close()


def test_a_pool_that_does_not_remember_tries_again(sshd, silent):
    pool = HostPool(_inventory(sshd, silent))
    try:
        for _ in range(2):
            with pytest.raises(ssh.HostUnreachable):
                pool["mute"].run("true")
        assert silent.accepted == 2
    finally:
        pool.close()


def test_output_a_parser_cannot_read_is_one_clear_failure(sshd, silent):
    import json

    pool = HostPool(_inventory(sshd, silent))
    try:
        with pytest.raises(AssertionError) as failure:
            pool["good"].parsed("printf '{ \"report\": [ { \"lv\": ['", json.loads)
        message = str(failure.value)
        assert message.startswith("good: `printf")
        assert "JSONDecodeError" in message and '{ "report": [ { "lv": [' in message
    finally:
        pool.close()
