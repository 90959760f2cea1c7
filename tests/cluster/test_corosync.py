"""Corosync: the two-node cluster as documented, quorate, and restarted on failure (C1–C3)."""

import pytest

from picacheck.probes import cluster


@pytest.mark.claim("C1")
def test_corosync_conf_is_the_documented_two_node_cluster(hosts, corosync, hypervisor):
    conf = cluster.corosync_conf(hosts[hypervisor], corosync.conf_path)
    assert conf.cluster_name == corosync.cluster_name, f"{hypervisor}: cluster_name is {conf.cluster_name}"
    nodes = {(node.name, node.nodeid) for node in conf.nodes}
    expected = {(node.name, node.nodeid) for node in corosync.nodes}
    assert nodes == expected, f"{hypervisor}: nodelist is {sorted(nodes)}, documented {sorted(expected)}"
    assert conf.two_node == corosync.two_node, f"{hypervisor}: two_node is {conf.two_node}"
    if corosync.authenticated:
        assert conf.authenticated, (
            f"{hypervisor}: cluster traffic is not authenticated "
            f"(secauth={conf.secauth}, crypto_cipher={conf.crypto_cipher}, crypto_hash={conf.crypto_hash})"
        )


@pytest.mark.claim("C1")
def test_config_version_is_the_same_on_every_node(hosts, corosync):
    versions = {node.name: cluster.corosync_conf(hosts[node.name], corosync.conf_path).config_version
                for node in corosync.nodes}
    assert len(set(versions.values())) == 1, f"config_version differs between nodes: {versions}"


@pytest.mark.claim("C2")
def test_cluster_is_quorate_with_every_vote(hosts, corosync, hypervisor):
    status = cluster.quorum_status(hosts[hypervisor])
    assert status.flags is not None, f"{hypervisor}: the quorum status has no 'Flags:' line: its flags are unknown"
    assert status.quorate, f"{hypervisor}: the cluster is NOT quorate (flags: {' '.join(status.flags) or 'none'})"
    assert status.expected_votes == corosync.expected_votes, f"{hypervisor}: expected votes {status.expected_votes}"
    assert status.total_votes == corosync.expected_votes, (
        f"{hypervisor}: total votes {status.total_votes} of {corosync.expected_votes}: "
        f"members seen: {[member.name for member in status.members]}"
    )
    missing = set(corosync.flags) - set(status.flags)
    assert not missing, f"{hypervisor}: flags are {' '.join(status.flags)}, missing {sorted(missing)}"


@pytest.mark.claim("C3")
def test_corosync_unit_restarts_on_failure(hosts, corosync, hypervisor):
    unit = cluster.corosync_unit(hosts[hypervisor])
    for key, expected in (("Restart", corosync.unit_restart), ("RestartSec", corosync.unit_restart_sec)):
        if expected is None:
            continue
        entry = unit.entry("Service", key)
        assert entry is not None, f"{hypervisor}: corosync's unit does not set {key}= (systemd's default applies)"
        assert entry.value_is_clean, (
            f"{hypervisor}: {key}={entry.value!r}: systemd reads the inline comment as part of the value, "
            f"rejects it and keeps the default"
        )
        assert entry.value == expected, f"{hypervisor}: corosync's {key}= is {entry.value!r}, documented {expected!r}"
