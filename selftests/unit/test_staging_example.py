"""The staging example a user copies (inventory/staging.example.yml): it validates, it plans
with no network, and it shows what staging needs: a CI user with sudo, admin behind alice."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

from picacheck import run
from picacheck.inventory import load_inventory
from picacheck.probes.remote import render_ssh_config

EXAMPLE = Path(__file__).resolve().parents[2] / "inventory" / "staging.example.yml"
DOCUMENTATION = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                    "2001:db8::/32", "10.0.42.0/24")]


@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_the_example_validates_as_staging():
    inventory = load_inventory(EXAMPLE)
    assert inventory.environment.kind.value == "staging"
    for name, host in inventory.hosts.items():
        assert host.ssh.user == "picacheck" and host.ssh.sudo, f"{name} is not reached as the CI user with sudo"
        address = ipaddress.ip_address(host.ssh.address)
        assert any(address in network for network in DOCUMENTATION), f"{name}: {address} is a real address"
    assert inventory.hosts["admin"].ssh.jump == "alice"


def test_the_example_plans_every_host_and_connects_to_nothing(no_network):
    text = run.plan(str(EXAMPLE))
    assert no_network == []
    for host in ("alice", "bob", "pica01", "pica02", "admin"):
        assert f"  {host}: " in text
    assert "S10: 1 checks" in text
    h7 = text.split("  H7: ", 1)[1].split("\n  H8", 1)[0]
    assert "[skipped: not applicable here: H7: staging hypervisors boot from one virtual disk" in h7


def test_admin_is_reached_through_alice_in_the_generated_ssh_config(tmp_path):
    config = render_ssh_config(load_inventory(EXAMPLE), tmp_path / "ssh_config")
    admin = config.split("Host admin", 1)[1].split("\n\n", 1)[0]
    assert "ProxyCommand ssh -F" in admin and admin.rstrip().endswith("-W %h:%p alice")
    assert "User picacheck" in admin


def test_a_drill_on_the_example_dry_runs_and_connects_to_nothing(no_network, capsys):
    assert run.chaos("kill-service-node", str(EXAMPLE), dry_run=True, allow_production=False, options={}) == 0
    assert no_network == []
    assert "[dry-run] kill-service-node: fault: crash the VM pica02" in capsys.readouterr().err
