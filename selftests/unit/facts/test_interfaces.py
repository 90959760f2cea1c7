"""parse_interfaces: which interfaces ifupdown configures (interfaces(5))."""

from __future__ import annotations

from picacheck.facts import parse_interfaces

DEBIAN = """\
# This file describes the network interfaces available on your system
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback

allow-hotplug eth0
iface eth0 inet dhcp
iface eth0 inet6 static
    address 2001:db8::2/64
    gateway \\
      2001:db8::1
"""


def test_stanzas_auto_and_sources():
    interfaces = parse_interfaces(DEBIAN)
    assert [(s.name, s.family, s.method) for s in interfaces.stanzas] == [
        ("lo", "inet", "loopback"), ("eth0", "inet", "dhcp"), ("eth0", "inet6", "static")]
    assert interfaces.stanzas[2].options == (("address", "2001:db8::2/64"), ("gateway", "2001:db8::1"))
    assert interfaces.auto == ("lo", "eth0")
    assert interfaces.sources == ("/etc/network/interfaces.d/*",)
    assert len(interfaces.configures("eth0")) == 2


def test_an_interface_left_to_rc_local():
    interfaces = parse_interfaces(DEBIAN + "# iface eth1 inet static\n")
    assert interfaces.configures("eth1") == ()
    assert parse_interfaces("").configures("eth1") == ()


def test_an_option_before_any_stanza_is_unknown():
    assert parse_interfaces("address 1.2.3.4\n").unknown == ("address 1.2.3.4",)
