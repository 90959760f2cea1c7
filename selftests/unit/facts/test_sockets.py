"""parse_ss_listening: `ss -Hltn` and documented endpoints."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, parse_ss_listening
from picacheck.facts.sockets import parse_endpoint

# The forms ss prints for local addresses (iproute2 5.x/6.x).
SS = """\
LISTEN 0      4096       127.0.0.1:9200      0.0.0.0:*
LISTEN 0      4096   [::ffff:127.0.0.1]:9300         *:*
LISTEN 0      128          0.0.0.0:22        0.0.0.0:*
LISTEN 0      511                *:5601            *:*
LISTEN 0      4096   127.0.0.53%lo:53        0.0.0.0:*
LISTEN 0      128             [::]:22           [::]:*
LISTEN 0      4096           [::1]:9200         [::]:*
LISTEN 0      4096      10.0.0.5%eth0:8080    0.0.0.0:*
"""


def test_addresses_ports_and_loopback():
    sockets = parse_ss_listening(SS)
    assert [(s.address, s.port, s.interface, s.loopback) for s in sockets] == [
        ("127.0.0.1", 9200, None, True), ("::ffff:127.0.0.1", 9300, None, True), ("0.0.0.0", 22, None, False),
        ("*", 5601, None, False), ("127.0.0.53", 53, "lo", True), ("::", 22, None, False), ("::1", 9200, None, True),
        ("10.0.0.5", 8080, "eth0", False)]
    assert [s.endpoint for s in sockets[:2]] == ["127.0.0.1:9200", "[::ffff:127.0.0.1]:9300"]


def test_not_ss_output_raises():
    with pytest.raises(ParseError):
        parse_ss_listening("State Recv-Q Send-Q Local Address:Port\n")  # the header: ss without -H
    with pytest.raises(ParseError):
        parse_ss_listening("LISTEN 0 128 nonsense 0.0.0.0:*\n")
    assert parse_ss_listening("") == ()


def test_documented_endpoints():
    assert (parse_endpoint("127.0.0.1:9200").address, parse_endpoint("127.0.0.1:9200").port) == ("127.0.0.1", 9200)
    assert parse_endpoint("[::1]:9300").address == "::1"
    with pytest.raises(ParseError):
        parse_endpoint("9200")
