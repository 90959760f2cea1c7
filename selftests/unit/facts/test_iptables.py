"""parse_iptables_save on every iptables-save sample, and the report's NAT rules as iptables-save prints them."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, parse_iptables_save

from .datafiles import data_files, read

# file → (family, [(table, chains, rules)], DNAT count, MASQUERADE count)
EXPECTED = {
    "alivenets-sandbox-docker-port-forward-edited.txt": (None, [("nat", 5, 9), ("filter", 7, 14)], 1, 3),
    "ciscosrapps-testbed-libvirt-dnat-dup-masquerade.txt": ("ipv4", [("filter", 4, 41), ("nat", 4, 22), ("mangle", 5, 4)], 1, 13),
    "csmale-kpntv-masquerade-vlans.txt": ("ipv4", [("filter", 3, 5), ("nat", 4, 3)], 0, 3),
    "devsec-issue274-iptables-legacy-save-1.8.2-empty-nat.txt": ("ipv4", [("nat", 4, 0), ("filter", 3, 0)], 0, 0),
    "devsec-issue274-xtables-save-1.8.2-legacy-tables-warning.txt": (None, [("filter", 3, 0)], 0, 0),
    "docker-ipv6nat-issue14-ip6tables-save-masquerade.txt": ("ipv6", [("nat", 5, 5), ("filter", 5, 6)], 0, 2),
    "exadata-issue12-docker-masquerade-duplicate-rules.txt": ("ipv4", [("nat", 5, 8)], 0, 2),
    "florinandrei-router-9-dnat-masquerade.txt": ("ipv4", [("filter", 4, 9), ("nat", 4, 10)], 9, 1),
    "insights-rhel6-1.4.7-rule-without-target-nat-no-input.txt": ("ipv4", [("filter", 4, 8), ("mangle", 5, 0), ("nat", 3, 0)], 0, 0),
    "hewenhao-x5vps-openvpn-masquerade-nat-first.txt": ("ipv4", [("nat", 4, 3), ("filter", 3, 36)], 0, 3),
    "kafka-docker-playground-issue8781-docker-dns-dnat-snat-nft.txt": ("ipv4", [("filter", 3, 1), ("nat", 6, 6)], 2, 0),
    "landrzejewski-proxmox-200-dnat-prerouting-nft.txt": ("ipv4", [("filter", 10, 216), ("nat", 5, 206)], 200, 3),
    "landrzejewski-proxmox-raw-filter-nat-docker-dnat.txt": ("ipv4", [("raw", 2, 3), ("filter", 10, 224), ("nat", 5, 209)], 201, 4),
    "pays0n-home-network-docker-tailscale.txt": ("ipv4", [("raw", 2, 1), ("filter", 11, 40), ("nat", 6, 8)], 1, 4),
    "troll338cz-dnsmasq-demo-nat-only-dnat-masquerade.txt": ("ipv4", [("nat", 4, 3)], 1, 2),
    "vzakharchenko-pptp-masquerade-only.txt": ("ipv4", [("filter", 3, 4), ("nat", 4, 1)], 0, 1),
}

# file → first DNAT rule (chain, in_iface, negated, protocol, dport, to_destination, to_address, to_port)
FIRST_DNAT = {
    "alivenets-sandbox-docker-port-forward-edited.txt": ("DOCKER", "docker0", {"in_iface"}, "tcp", "8080", "172.17.0.2:8080", "172.17.0.2", "8080"),
    "ciscosrapps-testbed-libvirt-dnat-dup-masquerade.txt": ("PREROUTING", "collector_br", set(), "tcp", None, "10.162.0.22", "10.162.0.22", None),
    "florinandrei-router-9-dnat-masquerade.txt": ("PREROUTING", "eth0", set(), "tcp", "25", "192.168.1.1:25", "192.168.1.1", "25"),
    "kafka-docker-playground-issue8781-docker-dns-dnat-snat-nft.txt": ("DOCKER_OUTPUT", None, set(), "tcp", "53", "127.0.0.11:37685", "127.0.0.11", "37685"),
    "landrzejewski-proxmox-200-dnat-prerouting-nft.txt": ("PREROUTING", "ens3", set(), "tcp", "10001", "192.168.195.101:22", "192.168.195.101", "22"),
    "landrzejewski-proxmox-raw-filter-nat-docker-dnat.txt": ("PREROUTING", "ens3", set(), "tcp", "10001", "192.168.195.101:22", "192.168.195.101", "22"),
    "pays0n-home-network-docker-tailscale.txt": ("DOCKER", "br-c8346d4a3ceb", {"in_iface"}, "tcp", "8123", "172.18.0.2:8123", "172.18.0.2", "8123"),
    "troll338cz-dnsmasq-demo-nat-only-dnat-masquerade.txt": ("PREROUTING", "enp0s3", set(), "tcp", "10000", "10.10.10.2:10000", "10.10.10.2", "10000"),
}

# file → first MASQUERADE rule (source, destination, out_iface, negated, to_ports)
FIRST_MASQUERADE = {
    "alivenets-sandbox-docker-port-forward-edited.txt": ("172.17.0.0/16", None, "docker0", {"out_iface"}, None),
    "ciscosrapps-testbed-libvirt-dnat-dup-masquerade.txt": ("192.168.122.0/24", "192.168.122.0/24", None, {"destination"}, "1024-65535"),
    "csmale-kpntv-masquerade-vlans.txt": ("192.168.2.0/24", None, "eth0", set(), None),
    "docker-ipv6nat-issue14-ip6tables-save-masquerade.txt": ("fd00:dead:beef::/48", None, "br-692577c71c23", {"out_iface"}, None),
    "exadata-issue12-docker-masquerade-duplicate-rules.txt": ("172.17.0.0/16", None, "docker0", {"out_iface"}, None),
    "florinandrei-router-9-dnat-masquerade.txt": (None, None, "eth0", set(), None),
    "hewenhao-x5vps-openvpn-masquerade-nat-first.txt": ("10.8.0.0/24", None, "eth0", set(), None),
    "landrzejewski-proxmox-200-dnat-prerouting-nft.txt": ("172.17.0.0/16", None, "docker0", {"out_iface"}, None),
    "landrzejewski-proxmox-raw-filter-nat-docker-dnat.txt": ("172.18.0.0/16", None, "br-38086c4b1c27", {"out_iface"}, None),
    "pays0n-home-network-docker-tailscale.txt": ("172.18.0.0/16", None, "br-c8346d4a3ceb", {"out_iface"}, None),
    "troll338cz-dnsmasq-demo-nat-only-dnat-masquerade.txt": ("10.10.10.0/30", None, "enp0s3", set(), None),
    "vzakharchenko-pptp-masquerade-only.txt": ("192.168.122.0/24", "192.168.122.0/24", None, {"destination"}, None),
}


def test_every_iptables_file_has_expectations():
    assert sorted(EXPECTED) == data_files("iptables_save")
    assert set(FIRST_DNAT) == {name for name, e in EXPECTED.items() if e[2]}
    assert set(FIRST_MASQUERADE) == {name for name, e in EXPECTED.items() if e[3]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_iptables_file(name):
    family, tables, dnat, masquerade = EXPECTED[name]
    save = parse_iptables_save(read("iptables_save", name))
    assert save.family == family
    assert [(t.name, len(t.chains), len(t.rules)) for t in save.tables] == tables
    assert (len(save.dnat_rules()), len(save.masquerade_rules())) == (dnat, masquerade)
    if name in FIRST_DNAT:
        rule = save.dnat_rules()[0]
        got = (rule.chain, rule.in_iface, set(rule.negated), rule.protocol, rule.dport, rule.to_destination, rule.to_address, rule.to_port)
        assert got == FIRST_DNAT[name] and rule.table == "nat"
    if name in FIRST_MASQUERADE:
        rule = save.masquerade_rules()[0]
        assert (rule.source, rule.destination, rule.out_iface, set(rule.negated), rule.to_ports) == FIRST_MASQUERADE[name]


def test_chains_policies_counters_and_quoted_arguments():
    save = parse_iptables_save(read("iptables_save", "landrzejewski-proxmox-200-dnat-prerouting-nft.txt"))
    log = [r for r in save.rules("filter", "FORWARD") if r.target == "LOG"]
    assert log[0].args[-4:] == ("--log-prefix", "SSH FORWARD: ", "--log-level", "6")
    assert log[0].matches == ("tcp",) and log[0].dport == "22"
    assert save.table("nat").chain("DOCKER").policy is None
    forwards = {(r.dport, r.to_destination) for r in save.dnat_rules()}
    assert ("20100", "192.168.195.200:3389") in forwards and len(forwards) == 200
    pays0n = parse_iptables_save(read("iptables_save", "pays0n-home-network-docker-tailscale.txt"))
    inp = pays0n.table("filter").chain("INPUT")
    assert (inp.policy, inp.packets, inp.bytes) == ("DROP", 423204, 63372275)
    match_set = [r for r in pays0n.rules("filter", "DOCKER-USER")][0]
    assert match_set.matches == ("set",) and match_set.out_iface == "eth0" and match_set.target == "DROP"


def test_snat_to_source_without_address():
    save = parse_iptables_save(read("iptables_save", "kafka-docker-playground-issue8781-docker-dns-dnat-snat-nft.txt"))
    snat = [r for r in save.rules("nat") if r.target == "SNAT"]
    assert snat[0].to_source == ":53" and snat[0].to_address is None and snat[0].to_port == "53" and snat[0].sport == "37685"


# Written by us: what iptables-save -c prints on alice for the report's commands
# (iptables -t nat -A PREROUTING -i vmbr0 -p tcp --dport 80 -j DNAT --to-destination 10.0.42.2:80, …)
ALICE_NAT = """\
# Generated by iptables-save v1.4.21 on Wed Dec  7 23:30:00 2016
*nat
:PREROUTING ACCEPT [120:7200]
:INPUT ACCEPT [10:600]
:OUTPUT ACCEPT [5:300]
:POSTROUTING ACCEPT [5:300]
[3:180] -A PREROUTING -i vmbr0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.42.2:80
[4:240] -A PREROUTING -i vmbr0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 10.0.42.2:443
[0:0] -A PREROUTING -i vmbr0 -p tcp -m tcp --dport 5000 -j DNAT --to-destination 10.0.42.2:5000
[7:420] -A POSTROUTING -s 10.0.42.0/24 -o vmbr0 -j MASQUERADE
COMMIT
# Completed on Wed Dec  7 23:30:00 2016
"""


def test_report_port_forwards_and_masquerade():
    save = parse_iptables_save(ALICE_NAT)
    forwards = [(r.in_iface, r.protocol, r.dport, r.to_address, r.to_port) for r in save.dnat_rules()]
    assert forwards == [("vmbr0", "tcp", port, "10.0.42.2", port) for port in ("80", "443", "5000")]
    assert save.dnat_rules()[0].packets == 3 and save.dnat_rules()[2].bytes == 0
    (masquerade,) = save.masquerade_rules()
    assert (masquerade.source, masquerade.out_iface, masquerade.negated) == ("10.0.42.0/24", "vmbr0", frozenset())


def test_old_negation_syntax_and_long_options():
    save = parse_iptables_save(
        "*nat\n:POSTROUTING ACCEPT [0:0]\n"
        "-A POSTROUTING --source 10.0.0.0/8 -d ! 10.0.0.0/8 --out-interface eth0 -j MASQUERADE --to-ports 1024-2048\n"
        "COMMIT\n"
    )
    rule = save.masquerade_rules()[0]
    assert (rule.source, rule.destination, rule.out_iface, rule.to_ports) == ("10.0.0.0/8", "10.0.0.0/8", "eth0", "1024-2048")
    assert rule.is_negated("destination") and not rule.is_negated("source")


# file → (backend, warnings, incompatible tables, complete); backend None where the header does not say
VARIANTS = {
    "csmale-kpntv-masquerade-vlans.txt": ("nf_tables", (), (), True),
    "devsec-issue274-iptables-legacy-save-1.8.2-empty-nat.txt": (None, (), (), True),
    "devsec-issue274-xtables-save-1.8.2-legacy-tables-warning.txt": (
        None, ("iptables-legacy tables present, use iptables-legacy-save to see them",), (), False),
    "docker-ipv6nat-issue14-ip6tables-save-masquerade.txt": (None, (), (), True),
    "insights-rhel6-1.4.7-rule-without-target-nat-no-input.txt": (None, (), (), True),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_save_variants(name):
    save = parse_iptables_save(read("iptables_save", name))
    assert (save.backend, save.warnings, save.incompatible_tables, save.complete) == VARIANTS[name]


def test_rhel6_rule_without_target_and_goto():
    save = parse_iptables_save(read("iptables_save", "insights-rhel6-1.4.7-rule-without-target-nat-no-input.txt"))
    rules = save.rules("filter", "INPUT")
    assert (rules[1].target, rules[1].goto) == (None, "ACCEPT") and (rules[3].source, rules[3].target) == ("192.168.2.0/24", None)
    assert [c.name for c in save.table("nat").chains] == ["PREROUTING", "POSTROUTING", "OUTPUT"]  # no nat INPUT chain


# Written by us with the comment iptables-nft-save prints for a table it cannot show (iptables'
# nft.c; the line calico's felix tests feed their fake iptables-save), and its header.
INCOMPATIBLE_NAT = """\
# Table `nat' is incompatible, use 'nft' tool.
# Generated by iptables-nft-save v1.8.7 on Mon Jan  5 10:00:00 2026
*filter
:INPUT ACCEPT [0:0]
COMMIT
"""


def test_incompatible_table_is_not_an_empty_one():
    save = parse_iptables_save(INCOMPATIBLE_NAT)
    assert save.incompatible_tables == ("nat",) and not save.complete and save.table("nat") is None
    assert (save.family, save.backend) == ("ipv4", "nf_tables")


def test_empty_output_is_no_tables():
    assert parse_iptables_save("").tables == ()
    assert parse_iptables_save("# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n").tables == ()


@pytest.mark.parametrize("text, fragment", [
    ("-A INPUT -j ACCEPT\n", "'*table' before"),
    ("*nat\n:POSTROUTING ACCEPT [0:0]\n", "not closed by COMMIT"),
    ("*nat\n*filter\n", "not closed by COMMIT"),
    ("*nat\n-A POSTROUTING -j MASQUERADE\nCOMMIT\n", "does not declare"),
    ("*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING --comment \"x\nCOMMIT\n", "cannot split"),
    ("*nat\nwhatever\nCOMMIT\n", "line 2"),
])
def test_iptables_garbage(text, fragment):
    with pytest.raises(ParseError) as caught:
        parse_iptables_save(text)
    assert fragment in str(caught.value)
