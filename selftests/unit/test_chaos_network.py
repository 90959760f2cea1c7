"""The partition's iptables commands: both directions for every address, tagged so that
mending removes only them, and a timer on the host that mends the cut by itself."""

import pytest

from picacheck.chaos import network
from picacheck.errors import UserError
from picacheck.inventory import load_inventory
from pathlib import Path

PRODUCTION = Path(__file__).resolve().parents[2] / "inventory" / "picasoft.yml"


def test_cut_drops_both_directions_for_each_address_and_expires():
    commands = network.cut_commands(["10.0.0.2", "10.0.0.3"], expire_after=120)
    for address in ("10.0.0.2", "10.0.0.3"):
        assert f"iptables -I INPUT -s {address} -m comment --comment {network.TAG} -j DROP" in commands
        assert f"iptables -I OUTPUT -d {address} -m comment --comment {network.TAG} -j DROP" in commands
    timer = commands[-1]
    assert timer.startswith("setsid nohup sh -c") and "sleep 120" in timer and network.TIMER in timer
    assert timer.endswith("&"), "the timer runs in the background: the cut returns at once"


def test_a_host_reached_through_its_peer_cannot_be_cut_from_it():
    inventory = load_inventory(str(PRODUCTION))
    host = next(name for name, h in inventory.hosts.items() if h.ssh.jump)
    jump = inventory.hosts[host].ssh.jump
    with pytest.raises(UserError, match="cut the suite off"):
        network.check_cuttable(inventory, host, [jump])
    network.check_cuttable(inventory, host, [])  # no peer through which it is reached: fine
