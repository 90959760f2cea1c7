"""The hosts and corosync checks against the lab's hypervisors: a failed disk breaks H4 with
the evidence, the rebuild repairs it; corosync stopped on bob breaks C2 on alice."""

import pytest

from picacheck.chaos import disks
from picacheck.inventory import load_inventory
from picacheck.probes.remote import HostPool

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab_hosts(lab):
    pool = HostPool(load_inventory(lab))
    yield pool
    pool.close()


def md2_member(lab) -> str:
    arrays = {array.name: array for array in load_inventory(lab).hosts["bob"].raid}
    return arrays["md2"].members[-1]


def test_failed_disk_in_md2_breaks_h4_until_it_is_replaced(lab, lab_hosts, run_layer):
    member = md2_member(lab)
    bob = lab_hosts["bob"]
    disks.fail_member(bob, "md2", member)
    try:
        run = run_layer("hosts", "-k", "raid")
        assert run.verdict("H4") == "broken", run.output[-2000:]
        evidence = run.evidence("H4")
        assert "[2/1] [U_]" in evidence and member in evidence, evidence
        assert run.verdict("H2") == "holds" and run.verdict("H3") == "holds"
    finally:
        rebuilt = disks.replace_member(bob, "md2", member, rebuild_timeout=600)
    assert rebuilt.status == "UU"
    assert run_layer("hosts", "-k", "raid").verdict("H4") == "holds"


def test_corosync_stopped_on_bob_breaks_c2_on_alice(lab, ssh, run_layer):
    ssh("bob", "systemctl stop corosync")
    try:
        run = run_layer("cluster", "-k", "quorate")
        assert run.verdict("C2") == "broken", run.output[-2000:]
        evidence = run.evidence("C2")
        assert "alice: total votes 1 of 2" in evidence, evidence
    finally:
        ssh("bob", "systemctl start corosync")
    from picacheck.wait import eventually

    eventually(lambda: run_layer("cluster", "-k", "quorate").verdict("C2") == "holds", timeout=120, interval=5,
               what="C2 holding again")
