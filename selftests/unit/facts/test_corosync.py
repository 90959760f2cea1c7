"""parse_quorum_status on every quorum sample and the report's `pvecm status`; parse_corosync_conf."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, ToolError, parse_corosync_conf, parse_quorum_status

from .datafiles import data_files, read

# Per file: (quorate, flags, node_id, ring_id, expected, total, quorum, activity blocked,
#            members [(nodeid, votes, name, local, qdevice column)], qdevice (votes, configured) | None)
EXPECTED = {
    "edgefs-issue386-corosync2-3node-waitforall.txt": (
        True, ("Quorate", "WaitForAll"), 1576434009, "53334151/56", 3, 3, 2, False,
        [(53334151, 1, "10.42.1.56", False, None), (1576434009, 1, "10.42.2.94", True, None),
         (1948873959, 1, "10.42.3.85", False, None)], None,
    ),
    "ha-cluster-exporter-2node-waitforall.txt": (
        True, ("2Node", "Quorate", "WaitForAll"), 2, "1/8", 2, 2, 1, False,
        [(1, 1, "192.168.127.20", False, "NR"), (2, 1, "192.168.127.21", True, "NR")], None,
    ),
    "ha-cluster-exporter-corosync23-2node-noblanklines.txt": (
        True, ("2Node", "Quorate", "WaitForAll"), 1, "100", 2, 2, 1, False,
        [(1, 1, "10.1.2.4", True, None), (2, 1, "10.1.2.5", False, None)], None,
    ),
    "ha-cluster-exporter-fake-quorumtool-2node-qdevice.txt": (
        True, ("2Node", "Quorate"), 1084783375, "1084783375/40", 2, 2, 1, False,
        [(1084783375, 1, "stefanotorresi-hana01", True, "NR"), (1084783376, 1, "stefanotorresi-hana02", False, "A,V,NMW")],
        (1, None),
    ),
    "ha-cluster-exporter-issue170-corosync245-qdevice.txt": (
        True, ("Quorate", "Qdevice"), 1, "1/139", 3, 3, 2, False,
        [(1, 1, "nfs01", True, "A,V,NMW"), (2, 1, "nfs02", False, "A,V,NMW")], (1, None),
    ),
    "ha-cluster-exporter-issue171-corosync303-qdevice.txt": (
        True, ("Quorate", "Qdevice"), 1, "1.16d", 3, 3, 2, False,
        [(1, 1, "node1.local", True, "A,V,NMW"), (2, 1, "node2.local", False, "A,V,NMW")], (1, None),
    ),
    "insights-pcs-quorum-status-qdevice.txt": (
        True, ("Quorate", "Qdevice"), 1, "1/8272", 3, 3, 2, False,
        [(1, 1, "node1", True, "A,V,NMW"), (2, 1, "node2", False, "A,V,NMW")], (1, None),
    ),
    "pcs-not-quorate-activity-blocked.txt": (
        False, (), 1, "19868", 3, 1, 2, True, [(1, 1, "rh70-node1", True, "NR")], None,
    ),
    "pcs-not-quorate-with-qdevice.txt": (
        False, ("Qdevice",), 1, "19868", 3, 1, 2, True, [(1, 1, "rh70-node1", True, "NR")], (0, 1),
    ),
    "pcs-quorate-qdevice-not-alive.txt": (
        True, ("Quorate", "Qdevice"), 1, "19860", 10, 6, 6, False,
        [(1, 3, "rh70-node1", False, "NA,V,MNW"), (2, 2, "rh70-node2", True, "NA,V,MNW"), (3, 1, "rh70-node3", False, "NA,V,MNW")],
        (0, 4),
    ),
    "pcs-quorate-qdevice-weighted-votes.txt": (
        True, ("Quorate", "Qdevice"), 1, "19860", 10, 10, 6, False,
        [(1, 3, "rh70-node1", False, "A,V,MNW"), (2, 2, "rh70-node2", True, "A,V,MNW"), (3, 1, "rh70-node3", False, "A,V,MNW")],
        (4, None),
    ),
    "pegaprox-issue252-pvecm-4node-2down-qdevice.txt": (
        True, ("Quorate", "Qdevice"), 2, "1.8d4", 4, 3, 3, False,
        [(1, 1, "192.168.51.239", False, "A,V,NMW"), (2, 1, "192.168.50.218", True, "A,V,NMW")], (1, None),
    ),
    "pve-docs-pve4-pvecm-status-3node-after-delnode.txt": (
        True, ("Quorate",), 1, "1992", 3, 3, 3, False,
        [(1, 1, "192.168.15.90", True, None), (2, 1, "192.168.15.91", False, None), (3, 1, "192.168.15.92", False, None)], None,
    ),
    "pve-docs-pve4-pvecm-status-4node-hex-ids-ring1928.txt": (
        True, ("Quorate",), 1, "1928", 4, 4, 2, False,
        [(1, 1, "192.168.15.91", False, None), (2, 1, "192.168.15.92", True, None),
         (3, 1, "192.168.15.93", False, None), (4, 1, "192.168.15.94", False, None)], None,
    ),
    "pve-docs-pvecm-status-4node.txt": (
        True, ("Quorate",), 1, "1.1a8", 4, 4, 3, False,
        [(1, 1, "192.168.15.91", False, None), (2, 1, "192.168.15.92", True, None),
         (3, 1, "192.168.15.93", False, None), (4, 1, "192.168.15.94", False, None)], None,
    ),
    "sre-experiment-pvecm-status-2node-no-two_node.txt": (
        True, ("Quorate",), 2, "1.13", 2, 2, 2, False,
        [(1, 1, "192.168.10.201", False, None), (2, 1, "192.168.10.202", True, None)], None,
    ),
    "supportutils-pr37-crm-corosync-status-2node.txt": (
        True, ("2Node", "Quorate"), 739312183, "3316", 2, 2, 1, False,
        [(739312183, 1, "c1", True, None), (739312184, 1, "c2", False, None)], None,
    ),
    "suse-doc-crm-corosync-status-2node-quorum2.txt": (
        True, ("Quorate",), 175704363, "4032", 2, 2, 2, False,
        [(175704363, 1, "alice.example.com", True, None), (175704619, 1, "bob.example.com", False, None)], None,
    ),
}


def test_every_quorum_file_has_expectations():
    assert sorted(EXPECTED) == data_files("corosync_quorum")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quorum_file(name):
    quorate, flags, node_id, ring_id, expected, total, quorum, blocked, members, qdevice = EXPECTED[name]
    status = parse_quorum_status(read("corosync_quorum", name))
    assert status.quorate is quorate and status.flags == flags
    assert (status.node_id, status.ring_id) == (node_id, ring_id)
    assert (status.expected_votes, status.total_votes, status.quorum, status.activity_blocked) == (expected, total, quorum, blocked)
    assert [(m.nodeid, m.votes, m.name, m.local, m.qdevice) for m in status.members] == members
    assert status.provider == "corosync_votequorum"
    if qdevice is None:
        assert status.qdevice is None
    else:
        assert (status.qdevice.votes, status.qdevice.configured_votes) == qdevice


def test_not_quorate_is_recognised():
    status = parse_quorum_status(read("corosync_quorum", "pcs-not-quorate-activity-blocked.txt"))
    assert not status.quorate and status.activity_blocked and status.total_votes < status.quorum
    assert status.flags == () and status.nodes == 1


def test_pvecm_cluster_information_and_tilde_underlines():
    status = parse_quorum_status(read("corosync_quorum", "pve-docs-pvecm-status-4node.txt"))
    assert (status.cluster_name, status.config_version, status.transport, status.secure_auth) == ("prod-central", 3, "knet", "on")
    assert status.local_member.name == "192.168.15.92" and status.nodes == 4


def test_proxmox_4_pvecm_status():
    # PVE 4 (corosync 2): no "Cluster information" section, ring ids without the "a.b" form,
    # and this doc marks node 2 "(local)" under "Node ID: 0x00000001", read as written
    status = parse_quorum_status(read("corosync_quorum", "pve-docs-pve4-pvecm-status-4node-hex-ids-ring1928.txt"))
    assert status.cluster_name is None and status.transport is None and status.local_member.nodeid == 2
    assert status.two_node is False and status.wait_for_all is False


def test_flags_not_stated_are_unknown():
    text = read("corosync_quorum", "edgefs-issue386-corosync2-3node-waitforall.txt")
    without = "\n".join(line for line in text.split("\n") if not line.startswith("Flags:"))
    status = parse_quorum_status(without)
    assert status.flags is None and status.two_node is None and status.wait_for_all is None
    assert parse_quorum_status(text).wait_for_all is True


def test_two_nodes_without_two_node_flag():
    status = parse_quorum_status(read("corosync_quorum", "sre-experiment-pvecm-status-2node-no-two_node.txt"))
    assert not status.two_node and status.quorum == 2  # losing one node loses quorum


def test_crm_ring_status():
    status = parse_quorum_status(read("corosync_quorum", "supportutils-pr37-crm-corosync-status-2node.txt"))
    assert status.local_node_id == 739312183
    assert [(r.ring_id, r.address, r.faulty) for r in status.rings] == [(0, "172.17.2.55", False), (1, "10.0.2.55", False)]
    assert status.rings[0].status == "ring 0 active with no faults"


def test_report_pvecm_status_two_node_quorate():
    status = parse_quorum_status(read("report", "pvecm-status-alice-2node.txt"))
    assert status.quorate and status.two_node and status.wait_for_all
    assert status.flags == ("2Node", "Quorate", "WaitForAll")
    assert (status.nodes, status.node_id, status.ring_id) == (2, 1, "1/44")
    assert (status.expected_votes, status.highest_expected, status.total_votes, status.quorum) == (2, 2, 2, 1)
    assert [(m.nodeid, m.name, m.local) for m in status.members] == [(1, "192.168.10.1", True), (2, "192.168.10.2", False)]
    assert status.member("192.168.10.2").votes == 1 and status.member(1).local


# Written by us from corosync-quorumtool's layout: bob's view with alice down, no two_node.
BOB_ALONE_NOT_QUORATE = """\
Quorum information
------------------
Date:             Thu Jan  1 12:00:00 2026
Quorum provider:  corosync_votequorum
Nodes:            1
Node ID:          2
Ring ID:          2/48
Quorate:          No

Votequorum information
----------------------
Expected votes:   2
Highest expected: 2
Total votes:      1
Quorum:           2 Activity blocked
Flags:

Membership information
----------------------
    Nodeid      Votes Name
         2          1 192.168.10.2 (local)
"""


def test_non_quorate_variant():
    status = parse_quorum_status(BOB_ALONE_NOT_QUORATE)
    assert not status.quorate and status.activity_blocked and not status.two_node
    assert [m.name for m in status.members] == ["192.168.10.2"] and status.local_member.nodeid == 2


def test_knet_link_status():
    status = parse_quorum_status(
        "Printing link status.\nLocal node ID 1, transport knet\nLINK ID 0 udp\n\taddr\t= 192.168.10.1\n"
        "\tstatus:\n\t\tnodeid:   1:\tlocalhost\n\t\tnodeid:   2:\tconnected\n" + BOB_ALONE_NOT_QUORATE
    )
    assert status.local_node_id == 1
    assert status.rings[0].address == "192.168.10.1" and status.rings[0].status == "node 1 localhost; node 2 connected"


@pytest.mark.parametrize("text, fragment", [
    ("", "no 'Quorate:'"),
    ("Quorum information\n------------------\nNodes: 2\n", "no 'Quorate:'"),
    ("Quorate: Maybe\n", "Yes or No"),
    ("Quorate: Yes\nQuorum: many\n", "must be a number"),
    ("Quorate: Yes\n    Nodeid      Votes Name\n  one 1 x\n", "membership row"),
    ("Quorate: Yes\n    Nodeid      Votes Name\n  1 1 NR x\n", "no Qdevice column"),
    ("what is this\n", "line 1"),
])
def test_quorum_garbage(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_quorum_status(text)
    assert fragment in str(caught.value)


def test_quorum_tool_error():
    with pytest.raises(ToolError) as caught:
        parse_quorum_status("Cannot initialize QUORUM service\n")
    assert caught.value.message == "Cannot initialize QUORUM service"


def test_report_corosync_conf():
    conf = parse_corosync_conf(read("report", "corosync-conf-alice.txt"))
    assert conf.cluster_name == "picasoft" and conf.config_version == 2016120703
    assert conf.two_node and conf.provider == "corosync_votequorum"
    assert conf.transport == "udpu" and conf.secauth is True and conf.authenticated
    assert (conf.crypto_cipher, conf.crypto_hash) == (None, None)
    assert [(n.name, n.nodeid, n.quorum_votes, n.ring0_addr) for n in conf.nodes] == [("alice", 1, 1, "alice"), ("bob", 2, 1, "bob")]
    assert conf.sections["totem"]["interface"] == [{"ringnumber": "0"}]
    assert conf.sections["logging"] == {"debug": "off", "to_syslog": "yes"}
    assert conf.get("totem.interface.ringnumber") == "0"


# Written by us from corosync.conf(5): corosync 3 / knet, crypto instead of secauth, comments.
COROSYNC3_CONF = """\
# Please read the corosync.conf.5 manual page
totem {
    version: 2
    cluster_name: picasoft
    config_version: 7
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    interface {
        linknumber: 0
    }
    interface {
        linknumber: 1
    }
}

nodelist {
    node {
        name: alice
        nodeid: 1
        ring0_addr: 192.168.10.1
        ring1_addr: 10.0.0.1
    }
}

quorum {
    provider: corosync_votequorum
}

logging {
    to_syslog: yes
    logger_subsys {
        subsys: QUORUM
        debug: on
    }
}
"""


def test_corosync3_conf():
    conf = parse_corosync_conf(COROSYNC3_CONF)
    assert not conf.two_node and conf.secauth is None
    assert conf.authenticated and (conf.crypto_cipher, conf.crypto_hash) == ("aes256", "sha256")
    assert conf.nodes == (conf.nodes[0],) and conf.nodes[0].ring1_addr == "10.0.0.1" and conf.nodes[0].quorum_votes is None
    assert [i["linknumber"] for i in conf.sections["totem"]["interface"]] == ["0", "1"]
    assert conf.sections["logging"]["logger_subsys"] == [{"subsys": "QUORUM", "debug": "on"}]


def test_corosync_conf_secauth_off_is_not_authenticated():
    conf = parse_corosync_conf("totem {\n secauth: off\n crypto_cipher: none\n crypto_hash: none\n}\n")
    assert conf.secauth is False and not conf.authenticated


@pytest.mark.parametrize("text, fragment", [
    ("totem {\n  version: 2\n", "never closed"),
    ("}\n", "without an open section"),
    ("totem {\n  just words\n}\n", "line 2"),
])
def test_corosync_conf_garbage(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_corosync_conf(text)
    assert fragment in str(caught.value)
