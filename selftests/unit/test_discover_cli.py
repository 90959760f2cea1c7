"""`inventory discover` as users call it: production is read only with --allow-production
(refused before any connection), an unreachable host is named once, exit 1, and the file
written still loads."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from picacheck.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _minimal(path: Path, kind: str, port: int, roles=("hypervisor",)) -> Path:
    path.write_text(yaml.safe_dump({
        "environment": {"name": "picatest", "kind": kind},
        "hosts": {"alice": {"roles": list(roles), "ssh": {"address": "127.0.0.1", "port": port, "connect_timeout": 3}},
                  "pica01": {"roles": ["swarm"], "ssh": {"address": "127.0.0.1", "port": port, "connect_timeout": 3}}},
    }))
    return path


def test_discover_refuses_a_production_inventory_before_any_connection(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        minimal = _minimal(tmp_path / "prod.yml", "production", listener.getsockname()[1])
        result = _cli("inventory", "discover", "--from", str(minimal), "--output", str(tmp_path / "out.yml"))
    finally:
        listener.close()
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "picacheck: error: 'picatest' is a production inventory: inventory discover reads it only with "
        "--allow-production (or PICACHECK_ALLOW_PRODUCTION=1 on an administrator's machine)"]
    assert accepted == [] and not (tmp_path / "out.yml").exists()


def test_an_unreachable_host_is_named_once_the_file_loads_and_the_exit_is_1(tmp_path):
    minimal = _minimal(tmp_path / "minimal.yml", "staging", _closed_port())
    out = tmp_path / "found.yml"
    result = _cli("inventory", "discover", "--from", str(minimal), "--hosts", "alice", "--output", str(out))
    assert result.returncode == 1, result.stderr
    named = [line for line in result.stderr.splitlines() if "is unreachable" in line]
    assert len(named) == 1 and named[0].startswith("picacheck: alice is unreachable: SSH port closed"), result.stderr
    assert "Traceback" not in result.stderr
    found = load_inventory(out)
    assert set(found.hosts) == {"alice", "pica01"} and found.corosync is None
    meta = yaml.safe_load(out.read_text())["x-discovered"]["not_discovered"]
    assert meta["hosts.alice"].startswith("alice is unreachable") and meta["hosts.pica01"].startswith("not discovered")
    assert "# corosync: …  # not discovered: alice unreachable" in out.read_text()
    diff = _cli("inventory", "diff", str(minimal), str(out))
    assert diff.returncode == 0, diff.stdout
