"""The admin VM where the report puts it (issue 17): only on alice's private bridge, the
registry reached through alice's DNAT, admin over SSH through alice as its jump host.
S10 holds on the lab; admin given the public address that the registry's name leads to
breaks it; alice's DNAT for 5000 removed breaks H12 and the registry (S9). Each fault is
repaired and the claims hold again."""

import pytest

from picacheck.lab import topology as T

pytestmark = pytest.mark.lab

ALICE = T.HOSTS["alice"].address
DNAT_5000 = f"PREROUTING -i eth1 -p tcp --dport 5000 -j DNAT --to-destination {T.HOSTS['admin'].address}:5000"


def registry_run(run_layer):
    return run_layer("services", "-k", "registry")


def test_s10_holds_on_the_lab(run_layer, ssh):
    run = registry_run(run_layer)
    assert run.verdict("S10") == "holds", run.evidence("S10") + run.output[-2000:]
    assert run.verdict("S9") == "holds", run.evidence("S9")
    # admin: its private address only, and its way out is alice's vmbr1.
    addresses = ssh("admin", "ip -4 -o addr show scope global").split()
    assert f"{T.HOSTS['admin'].address}/24" in addresses and not any(a.startswith("172.30.42.") for a in addresses)
    assert f"default via {T.VMBR1_ADDRESS}" in ssh("admin", "ip route")


def test_admin_holding_the_public_address_breaks_s10(run_layer, ssh):
    # The registry's name leads to alice's public address: admin holding it means the
    # registry is no longer behind the forward.
    ssh("admin", f"ip addr add {ALICE}/32 dev eth0")
    try:
        run = registry_run(run_layer)
        assert run.verdict("S10") == "broken", run.output[-2000:]
        assert f"admin holds public addresses ['{ALICE}']" in run.evidence("S10"), run.evidence("S10")
    finally:
        ssh("admin", f"ip addr del {ALICE}/32 dev eth0")
    assert registry_run(run_layer).verdict("S10") == "holds"


def test_alice_without_the_dnat_for_5000_breaks_h12_and_the_registry(run_layer, ssh):
    ssh("alice", f"iptables -t nat -D {DNAT_5000}")
    try:
        hosts = run_layer("hosts", "-k", "port_forwards")
        assert hosts.verdict("H12") == "broken", hosts.output[-2000:]
        assert "no DNAT of tcp/5000" in hosts.evidence("H12"), hosts.evidence("H12")
        registry = registry_run(run_layer)
        assert registry.verdict("S9") == "broken", registry.output[-2000:]
    finally:
        ssh("alice", f"iptables -t nat -A {DNAT_5000}")
    assert run_layer("hosts", "-k", "port_forwards").verdict("H12") == "holds"
    repaired = registry_run(run_layer)
    assert repaired.verdict("S9") == "holds" and repaired.verdict("S10") == "holds", repaired.output[-2000:]
