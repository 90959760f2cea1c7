"""The partition's iptables commands: both directions for every address, tagged so that
mending removes only them, and a timer on the host that mends the cut by itself."""

import subprocess

import pytest

from picacheck.chaos import network
from picacheck.errors import UserError
from picacheck.inventory import load_inventory
from pathlib import Path

PRODUCTION = Path(__file__).resolve().parents[2] / "inventory" / "picasoft.yml"


def test_cut_drops_both_directions_for_each_address_and_expires():
    script = network.cut_script(["10.0.0.2", "10.0.0.3"], expire_after=120)
    for address in ("10.0.0.2", "10.0.0.3"):
        assert f"iptables -I INPUT -s {address} -m comment --comment {network.TAG} -j DROP" in script
        assert f"iptables -I OUTPUT -d {address} -m comment --comment {network.TAG} -j DROP" in script
    assert "sleep 120" in script and network.TIMER in script


def test_the_cut_runs_its_rules_in_the_foreground_and_closes_its_output_at_once(tmp_path):
    """As over SSH, the caller reads the script's output until its end: the detached timer
    must not hold it (the old `rules && timer &` did, until the timer ended)."""
    log = tmp_path / "rules"
    stub = f"iptables() {{ echo \"$*\" >> {log}; }}; iptables-save() {{ :; }}; "
    script = network.cut_script(["10.0.0.2"], expire_after=600)
    try:
        result = subprocess.run(["bash", "-c", stub + script], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0
        assert log.read_text().count(network.TAG) == 2  # both rules ran before the script returned
    finally:
        subprocess.run(["pkill", "-f", f"{network.TIMER[:-1]}[{network.TIMER[-1]}]"])


def test_a_host_reached_through_its_peer_cannot_be_cut_from_it():
    inventory = load_inventory(str(PRODUCTION))
    host = next(name for name, h in inventory.hosts.items() if h.ssh.jump)
    jump = inventory.hosts[host].ssh.jump
    with pytest.raises(UserError, match="cut the suite off"):
        network.check_cuttable(inventory, host, [jump])
    network.check_cuttable(inventory, host, [])  # no peer through which it is reached: fine
