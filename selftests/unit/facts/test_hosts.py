"""parse_etc_hosts on the report's /etc/hosts of alice and of the Swarm VMs, and hosts(5) details."""

from __future__ import annotations

from picacheck.facts import parse_etc_hosts

from .datafiles import read


def test_report_hosts_alice():
    hosts = parse_etc_hosts(read("report", "etc-hosts-alice.txt"))
    assert hosts.mapping == {"127.0.0.1": ("localhost",), "192.168.10.1": ("alice",), "192.168.10.2": ("bob",)}
    assert hosts.addresses_for("bob") == ("192.168.10.2",) and hosts.names_for("192.168.10.1") == ("alice",)


def test_report_hosts_pica():
    hosts = parse_etc_hosts(read("report", "etc-hosts-pica.txt"))
    assert hosts.names_for("91.224.148.57") == ("pica01", "pica01.picasoft.net")
    assert hosts.addresses_for("PICA02.picasoft.net") == ("91.224.148.60",)


# Written by us from hosts(5): comments anywhere, IPv6, repeated addresses, lines the resolver skips.
HOSTS = """\
127.0.0.1	localhost
::1     localhost ip6-localhost ip6-loopback   # loopback
# The following lines are desirable for IPv6 capable hosts
192.168.10.1 alice
192.168.10.1 alice.picasoft.net alice
192.168.10.300 broken
10.0.42.2
fe80::1%eth0 link-local
"""


def test_hosts_details():
    hosts = parse_etc_hosts(HOSTS)
    assert hosts.names_for("::1") == ("localhost", "ip6-localhost", "ip6-loopback")
    assert hosts.names_for("192.168.10.1") == ("alice", "alice.picasoft.net")
    assert hosts.addresses_for("localhost") == ("127.0.0.1", "::1")
    assert hosts.names_for("fe80::1%eth0") == ("link-local",)
    assert hosts.invalid == ((6, "192.168.10.300 broken"), (7, "10.0.42.2"))
