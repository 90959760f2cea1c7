"""parse_network_script: the addresses and routes that the report's rc.local adds."""

from __future__ import annotations

from picacheck.facts import parse_network_script

from .datafiles import read


def test_report_rc_local_of_alice():
    script = parse_network_script(read("report", "rc-local-alice.txt"))
    assert [(a.address, a.dev) for a in script.addresses] == [
        ("91.224.148.84/32", "eth1"), ("2a03:7220:8080:5400::1/56", "eth1"), ("fe80::80:54/64", "eth1")]
    assert [(r.destination, r.via, r.dev, r.onlink, r.family) for r in script.routes] == [
        ("default", "91.224.148.0", "eth1", True, None), ("default", "fe80::31", "eth1", False, 6)]
    assert script.adds_address("91.224.148.84/32", dev="eth1")
    assert script.adds_address("2a03:7220:8080:5400:0:0:0:1/56")  # however it is written
    assert not script.adds_address("91.224.148.84/24")  # another prefix is another address
    assert not script.adds_address("91.224.148.84/32", dev="eth0")


def test_comments_continuations_and_separators():
    script = parse_network_script(
        "# ip addr add 10.0.0.9/32 dev eth0\n"
        "echo '# not a comment' ; ip a add 10.0.0.1/24 dev eth0 && ip -4 ro add 10.1.0.0/16 via 10.0.0.254\n"
        "ip -f inet6 address add \\\n   fd00::1/64 dev eth1  # trailing comment\n"
        "ipv6calc add 1.2.3.4\n")
    assert [(a.address, a.dev, a.line_no) for a in script.addresses] == [
        ("10.0.0.1/24", "eth0", 2), ("fd00::1/64", "eth1", 3)]
    assert [(r.destination, r.via, r.dev, r.family) for r in script.routes] == [("10.1.0.0/16", "10.0.0.254", None, 4)]


def test_an_address_only_in_a_comment_is_not_added():
    assert not parse_network_script("#ip addr add 1.2.3.4/32 dev eth1\n").adds_address("1.2.3.4/32")
