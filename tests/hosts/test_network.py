"""The hypervisors' network as the report sets it up from rc.local: addresses, routes,
resolvers, /etc/hosts, the VM bridge with NAT, port forwards, sshd (H1, H9–H12, H14)."""

import ipaddress

import pytest

from picacheck.kit.applicability import not_applicable
from picacheck.probes import system


@pytest.fixture
def network(inventory, hypervisor):
    network = inventory.hosts[hypervisor].network
    if network is None:
        not_applicable(f"no documented network for {hypervisor}")
    return network


@pytest.mark.claim("H1")
def test_public_addresses_are_on_the_host(hosts, inventory, hypervisor):
    host = inventory.hosts[hypervisor]
    held = system.held_addresses(hosts[hypervisor])
    for expected in filter(None, (host.public_ipv4, host.public_ipv6)):
        assert expected in held, f"{hypervisor} does not hold {expected} (it has {sorted(held)})"


@pytest.mark.claim("H1")
def test_etc_hosts_maps_the_private_cluster_names(hosts, network, hypervisor):
    mapping = system.etc_hosts(hosts[hypervisor])
    for name, address in network.etc_hosts.items():
        found = mapping.addresses_for(name)
        assert found[:1] == (address,), f"{hypervisor}: /etc/hosts maps {name} to {list(found)}, documented {address}"


@pytest.mark.claim("H9")
def test_network_is_set_by_rc_local(hosts, network, hypervisor):
    host, script_path = hosts[hypervisor], network.configured_by
    script = system.network_script(host, script_path)
    assert script is not None, f"{hypervisor}: {script_path} does not exist"
    assert system.is_executable(host, script_path), f"{hypervisor}: {script_path} is not executable"
    added = [f"{a.address} dev {a.dev}" for a in script.addresses]
    for address in filter(None, (network.ipv4, network.ipv6)):
        assert script.adds_address(address, dev=network.public_interface), (
            f"{hypervisor}: {script_path} does not add {address} to {network.public_interface} (it adds {added})"
        )
    also = system.interfaces_config(host).configures(network.public_interface)
    assert not also, (
        f"{hypervisor}: {network.public_interface} is also configured by ifupdown "
        f"(/etc/network/interfaces: {[f'iface {s.name} {s.family} {s.method}' for s in also]})"
    )


@pytest.mark.claim("H9")
def test_public_interface_addresses_and_default_routes(hosts, network, hypervisor):
    host = hosts[hypervisor]
    on_interface = system.addresses(host).get(network.public_interface, [])
    for address in filter(None, (network.ipv4, network.ipv6)):
        assert address in on_interface, f"{hypervisor}: {network.public_interface} has {on_interface}, not {address}"
    for family, gateway in (("-4", network.gateway4), ("-6", network.gateway6)):
        if gateway is None:
            continue
        defaults = [r for r in system.routes(host, family) if r.dst == "default"]
        assert any(r.gateway == gateway.via and r.dev == network.public_interface for r in defaults), (
            f"{hypervisor}: default {family} routes are {defaults}, documented via {gateway.via} dev {network.public_interface}"
        )
        if gateway.onlink:
            route = next(r for r in defaults if r.gateway == gateway.via)
            assert "onlink" in route.flags, f"{hypervisor}: the default route via {gateway.via} is not onlink"


@pytest.mark.claim("H9")
def test_ipv6_autoconf_is_off_everywhere(hosts, network, hypervisor):
    if network.ipv6_autoconf is not False:
        not_applicable("the inventory does not require IPv6 autoconf off")
    values = system.sysctl_values(hosts[hypervisor], "net/ipv6/conf/*/autoconf")
    values |= system.sysctl_values(hosts[hypervisor], "net/ipv6/conf/*/accept_ra")
    assert values, f"{hypervisor}: no IPv6 sysctl found"
    on = sorted(key for key, value in values.items() if value != "0")
    assert not on, f"{hypervisor}: autoconf/accept_ra are not 0 for {on}"


@pytest.mark.claim("H10")
def test_resolvers_in_documented_order(hosts, network, hypervisor):
    resolvers = system.resolv_conf(hosts[hypervisor]).nameservers
    assert tuple(resolvers) == network.nameservers, (
        f"{hypervisor}: /etc/resolv.conf lists {list(resolvers)}, documented {list(network.nameservers)}"
    )


@pytest.mark.claim("H11")
def test_vm_bridge_with_proxy_arp_and_masquerade(hosts, network, hypervisor):
    bridge = network.bridge
    if bridge is None:
        not_applicable(f"no documented VM bridge on {hypervisor}")
    host = hosts[hypervisor]
    assert bridge.address in system.addresses(host).get(bridge.name, []), f"{hypervisor}: {bridge.name} lacks {bridge.address}"
    if bridge.proxy_arp:
        value = system.sysctl_values(host, f"net/ipv4/conf/{bridge.name}/proxy_arp")
        assert list(value.values()) == ["1"], f"{hypervisor}: proxy_arp on {bridge.name} is {value}"
    if bridge.masquerade_source:
        save = system.iptables_save(host, "nat")
        rules = save.masquerade_rules()
        wanted = ipaddress.ip_network(bridge.masquerade_source)
        matching = [
            rule for rule in rules
            if rule.source and ipaddress.ip_network(rule.source, strict=False) == wanted
            and rule.out_iface == bridge.masquerade_out_interface
        ]
        assert matching, (
            f"{hypervisor}: no MASQUERADE of {bridge.masquerade_source} out of {bridge.masquerade_out_interface} "
            f"(MASQUERADE rules: {[rule.spec for rule in rules]}){_unseen(save)}"
        )


@pytest.mark.claim("H12")
def test_port_forwards(hosts, network, hypervisor):
    if not network.port_forwards:
        not_applicable(f"{hypervisor} documents no port forward")
    save = system.iptables_save(hosts[hypervisor], "nat")
    rules = save.dnat_rules()
    for forward in network.port_forwards:
        matching = [
            rule for rule in rules
            if rule.dport == str(forward.port) and rule.protocol == forward.protocol and rule.to_destination == forward.to
        ]
        assert matching, (
            f"{hypervisor}: no DNAT of {forward.protocol}/{forward.port} to {forward.to} "
            f"(DNAT rules: {[rule.spec for rule in rules]}){_unseen(save)}"
        )


def _unseen(save) -> str:
    """What the dump says it does not show (legacy tables, a table the nft variant cannot print)."""
    if save.complete:
        return ""
    return f"; iptables-save does not show every rule: {' '.join(save.warnings)} {list(save.incompatible_tables) or ''}".rstrip()


@pytest.mark.claim("H14")
def test_sshd_runs(hosts, hypervisor):
    assert system.process_running(hosts[hypervisor], "sshd"), f"{hypervisor}: no sshd process"
