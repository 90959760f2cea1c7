"""Properties of the fact parsers.

1. Round trips: for a generated model m, parse(render(m)) == m (mdstat, quorum status, gluster
   peer status and volume info, fstab, crontab, resolv.conf, iptables-save).
2. Robustness: on any text (random, or a real sample cut and shuffled) every parser returns
   or raises ParseError, never anything else.
"""

from __future__ import annotations

import shlex
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from picacheck.facts import (
    PARSERS, Chain, CronEntry, CronEnv, Crontab, Fstab, FstabEntry, GlusterBrick, GlusterPeer, GlusterVolume,
    IptablesSave, MdArray, MdMember, Mdstat, MdSync, ParseError, PeerStatus, QdeviceVotes, QuorumMember,
    QuorumStatus, ResolvConf, Rule, Table, parse_crontab, parse_fstab, parse_iptables_save, parse_mdstat,
    parse_peer_status, parse_quorum_status, parse_resolv_conf, parse_volume_info, render_crontab, render_fstab,
    render_iptables_save, render_mdstat, render_peer_status, render_quorum_status, render_resolv_conf,
    render_volume_info,
)

from .datafiles import DATA, data_files, read

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

lower_word = st.text(string.ascii_lowercase, min_size=1, max_size=8)
host_name = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z][a-z0-9-]{0,6}){0,2}", fullmatch=True)
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
uuid_text = st.uuids().map(str)
tenths = st.integers(0, 1000).map(lambda n: n / 10)  # 0.0 … 100.0, one decimal as printed

# ---------------------------------------------------------------------------- mdstat

LAYOUTS = {"raid0": ("512k chunks", False), "linear": ("0k rounding", False), "raid1": ("", True),
           "raid5": ("level 5, 64k chunk, algorithm 2", True), "raid6": ("level 6, 512k chunk, algorithm 2", True),
           "raid10": ("512K chunks 2 near-copies", True)}

md_member = st.builds(
    MdMember, name=st.from_regex(r"(sd[a-z]{1,2}|nvme[0-9]n[0-9]p|loop|xvd[a-z])[0-9]{0,2}", fullmatch=True),
    slot=st.integers(0, 40), faulty=st.booleans(), spare=st.booleans(), write_mostly=st.booleans(),
    replacement=st.booleans(), journal=st.booleans(),
)

running_sync = st.builds(
    MdSync, action=st.sampled_from(["resync", "recovery", "reshape", "check", "repair"]), percent=tenths,
    done_blocks=st.integers(0, 10**10), total_blocks=st.integers(1, 10**10),
    finish_minutes=st.none() | tenths, speed_kib_s=st.none() | st.integers(0, 10**6),
)
waiting_sync = st.builds(
    lambda action, flag: MdSync(action=action, delayed=flag == 0, pending=flag == 1, remote=flag == 2),
    st.sampled_from(["resync", "recovery", "reshape", "check"]), st.integers(0, 2),
)


@st.composite
def md_arrays(draw, name):
    state = draw(st.sampled_from(["active", "inactive"]))
    level = draw(st.sampled_from(sorted(LAYOUTS)) if state == "active" else st.none() | st.sampled_from(sorted(LAYOUTS)))
    layout, redundant = LAYOUTS[level] if level else ("", False)
    disks: dict = {}
    if redundant:
        status = draw(st.text("U_", min_size=1, max_size=12))
        disks = {"raid_disks": len(status), "active_disks": status.count("U"), "status": status}
    return MdArray(
        name=name, state=state, level=level, members=tuple(draw(st.lists(md_member, max_size=6))),
        blocks=draw(st.integers(0, 10**12)), super_version=draw(st.sampled_from([None, "1.2", "0.90", "external:imsm"])),
        layout=layout, bitmap=draw(st.none() | st.just("1/4 pages [4KB], 65536KB chunk")),
        sync=draw(st.none() | running_sync | waiting_sync) if redundant else None,
        read_only=draw(st.booleans()), auto_read_only=draw(st.booleans()), **disks,
    )


@st.composite
def mdstats(draw):
    names = draw(st.lists(st.integers(0, 130), unique=True, max_size=5))
    return Mdstat(
        personalities=tuple(draw(st.lists(st.sampled_from(["linear", "raid0", "raid1", "raid10", "raid5", "raid6"]), unique=True))),
        arrays=tuple(draw(md_arrays(f"md{n}")) for n in names),
        unused_devices=draw(st.none() | st.lists(st.from_regex(r"sd[a-z][0-9]", fullmatch=True), max_size=3).map(tuple)),
    )


@SETTINGS
@given(mdstats())
def test_mdstat_round_trip(mdstat):
    assert parse_mdstat(render_mdstat(mdstat)) == mdstat


# ---------------------------------------------------------------------------- quorum status


@st.composite
def quorum_statuses(draw):
    with_qdevice_column = draw(st.booleans())
    ids = draw(st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=5, unique=True))
    local = draw(st.sampled_from(ids))
    members = tuple(
        QuorumMember(nodeid=i, votes=draw(st.integers(0, 5)), name=draw(host_name | ipv4), local=i == local,
                     qdevice=draw(st.sampled_from(["A,V,NMW", "NR", "NA,V,MNW"])) if with_qdevice_column else None)
        for i in ids
    )
    pvecm = draw(st.booleans())
    return QuorumStatus(
        quorate=draw(st.booleans()), provider="corosync_votequorum",
        date=draw(st.sampled_from([None, "Wed Dec  7 23:12:08 2016", "Fri Apr  3 04:05:16 2026"])),
        nodes=len(members), node_id=local, ring_id=draw(st.from_regex(r"[0-9]{1,4}([/.][0-9a-f]{1,4})?", fullmatch=True)),
        expected_votes=draw(st.integers(1, 10)), highest_expected=draw(st.integers(1, 10)),
        total_votes=draw(st.integers(0, 10)), quorum=draw(st.integers(1, 10)), activity_blocked=draw(st.booleans()),
        flags=draw(st.none() | st.lists(st.sampled_from(["2Node", "Quorate", "WaitForAll", "Qdevice", "LastManStanding"]),
                                        unique=True).map(tuple)),
        members=members,
        qdevice=draw(st.none() | st.builds(QdeviceVotes, st.integers(0, 5), st.none() | st.integers(0, 5))),
        cluster_name=draw(host_name) if pvecm else None, config_version=draw(st.integers(0, 10**10)) if pvecm else None,
        transport=draw(st.sampled_from(["knet", "udpu"])) if pvecm else None, secure_auth="on" if pvecm else None,
    )


@SETTINGS
@given(quorum_statuses())
def test_quorum_status_round_trip(status):
    assert parse_quorum_status(render_quorum_status(status)) == status


# ---------------------------------------------------------------------------- gluster

peer = st.builds(
    GlusterPeer, hostname=host_name | ipv4, uuid=st.none() | uuid_text,
    state=st.sampled_from(["Peer in Cluster", "Accepted peer request", "Peer Rejected", "Sent and Received peer request"]),
    connected=st.booleans(), other_names=st.lists(host_name | ipv4, max_size=3).map(tuple),
)


@SETTINGS
@given(st.lists(peer, max_size=5).map(lambda peers: PeerStatus(number_of_peers=len(peers), peers=tuple(peers))))
def test_peer_status_round_trip(status):
    assert parse_peer_status(render_peer_status(status)) == status


@st.composite
def gluster_volumes(draw, name):
    kind = draw(st.sampled_from(["distribute", "replica", "arbiter", "disperse"]))
    groups = draw(st.integers(1, 3))
    if kind == "distribute":
        volume_type, line, size, arbiters = "Distribute", str(groups), 1, 0
    elif kind == "disperse":
        data, redundancy = draw(st.integers(2, 4)), draw(st.integers(1, 2))
        volume_type, size, arbiters = "Disperse" if groups == 1 else "Distributed-Disperse", data + redundancy, 0
        line = f"{groups} x ({data} + {redundancy}) = {groups * size}"
    else:
        size = draw(st.integers(2, 3)) if kind == "replica" else 3
        arbiters = 1 if kind == "arbiter" else 0
        volume_type = "Replicate" if groups == 1 else "Distributed-Replicate"
        line = f"{groups} x ({size - 1} + 1) = {groups * size}" if arbiters else f"{groups} x {size} = {groups * size}"
    hosts = draw(st.lists(host_name, min_size=1, max_size=3))
    bricks = tuple(
        GlusterBrick(host=hosts[i % len(hosts)], path=f"/bricks/{name}/b{i}", arbiter=bool(arbiters) and i % size == size - 1)
        for i in range(groups * size)
    )
    options = draw(st.dictionaries(
        st.from_regex(r"[a-z]{2,8}(\.[a-z][a-z-]{1,12}){1,2}", fullmatch=True),
        st.from_regex(r"[A-Za-z0-9:,._/-]{1,20}", fullmatch=True), max_size=5,
    ))
    return GlusterVolume(
        name=name, type=volume_type, volume_id=draw(uuid_text), status=draw(st.sampled_from(["Started", "Created", "Stopped"])),
        snapshot_count=draw(st.none() | st.integers(0, 20)), bricks_line=line, transport="tcp", bricks=bricks, options=options,
    )


@SETTINGS
@given(st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True), unique=True, max_size=3).flatmap(
    lambda names: st.tuples(*[gluster_volumes(n) for n in names])))
def test_volume_info_round_trip(volumes):
    parsed = parse_volume_info(render_volume_info(volumes))
    assert parsed == volumes
    for volume in parsed:
        assert volume.total_bricks == len(volume.bricks)


# ---------------------------------------------------------------------------- fstab, crontab, resolv.conf

field_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs")) | st.sampled_from(" \t\\#"), min_size=1, max_size=12)
fstab_entry = st.builds(
    FstabEntry, spec=field_text, file=field_text, vfstype=field_text,
    mntops=st.lists(st.text(string.ascii_letters + string.digits + "_=.- \\", min_size=1, max_size=10), min_size=1, max_size=4).map(tuple),
    freq=st.integers(0, 9), passno=st.integers(0, 2),
)


@SETTINGS
@given(st.lists(fstab_entry, max_size=6).map(lambda entries: Fstab(entries=tuple(entries))))
def test_fstab_round_trip(fstab):
    assert parse_fstab(render_fstab(fstab)) == fstab


def cron_element(low, high):
    number = st.integers(low, high)
    pair = st.tuples(number, number).map(sorted)
    return st.one_of(
        st.just("*"), number.map(str), pair.map(lambda p: f"{p[0]}-{p[1]}"),
        st.integers(1, 30).map(lambda s: f"*/{s}"), st.tuples(pair, st.integers(1, 9)).map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}"),
    )


def cron_field(low, high):
    return st.lists(cron_element(low, high), min_size=1, max_size=3).map(",".join)


command = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def crontabs(draw):
    system = draw(st.booleans())

    def entry():
        user = draw(lower_word) if system else None
        if draw(st.booleans()):
            return CronEntry(command=draw(command), special=draw(st.sampled_from(["@reboot", "@daily", "@hourly", "@weekly"])), user=user)
        return CronEntry(command=draw(command), minute=draw(cron_field(0, 59)), hour=draw(cron_field(0, 23)),
                         day_of_month=draw(cron_field(1, 31)), month=draw(cron_field(1, 12)),
                         day_of_week=draw(cron_field(0, 7)), user=user)

    def env():
        return CronEnv(draw(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True)),
                       draw(st.text(string.ascii_letters + string.digits + " /:@.=\"'", max_size=15)))

    items = [entry() if draw(st.booleans()) else env() for _ in range(draw(st.integers(0, 6)))]
    return Crontab(items=tuple(items), system=system)


@SETTINGS
@given(crontabs())
def test_crontab_round_trip(crontab):
    assert parse_crontab(render_crontab(crontab), system=crontab.system) == crontab


@st.composite
def resolv_confs(draw):
    domain = draw(st.none() | host_name)
    search = (domain,) if domain else tuple(draw(st.lists(host_name, max_size=4)))
    return ResolvConf(
        nameservers=tuple(draw(st.lists(ipv4 | st.sampled_from(["::1", "2a03:7220:8080:5400::1"]), max_size=5))),
        search=search, domain=domain,
        options=tuple(draw(st.lists(st.sampled_from(["ndots:2", "timeout:1", "attempts:3", "rotate", "edns0"]), max_size=4))),
        sortlist=tuple(draw(st.lists(st.sampled_from(["130.155.160.0/255.255.240.0", "130.155.0.0"]), max_size=2))),
    )


@SETTINGS
@given(resolv_confs())
def test_resolv_conf_round_trip(conf):
    assert parse_resolv_conf(render_resolv_conf(conf)) == conf


# ---------------------------------------------------------------------------- iptables-save

BUILTIN_CHAINS = {"filter": ["INPUT", "FORWARD", "OUTPUT"], "nat": ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
                  "mangle": ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"], "raw": ["PREROUTING", "OUTPUT"]}
interface = st.from_regex(r"(eth|ens|vmbr|docker|br-)[0-9a-f]{1,4}\+?", fullmatch=True)
cidr = st.tuples(ipv4, st.integers(0, 32)).map(lambda t: f"{t[0]}/{t[1]}")
port = st.integers(1, 65535).map(str)


@st.composite
def rule_args(draw, user_chains):
    args: list[str] = []
    for option, values in (("-s", cidr), ("-d", cidr), ("-i", interface), ("-o", interface)):
        if draw(st.booleans()):
            args += (["!"] if draw(st.booleans()) else []) + [option, draw(values)]
    if draw(st.booleans()):
        protocol = draw(st.sampled_from(["tcp", "udp"]))
        args += ["-p", protocol, "-m", protocol, "--dport", draw(port)]
    if draw(st.booleans()):
        args += ["-m", "comment", "--comment", draw(st.text(string.ascii_letters + " :#'\"", min_size=1, max_size=12))]
    target = draw(st.sampled_from(["ACCEPT", "DROP", "RETURN", "DNAT", "MASQUERADE", "LOG", *user_chains]))
    args += ["-j", target]
    if target == "DNAT":
        args += ["--to-destination", f"{draw(ipv4)}:{draw(port)}"]
    elif target == "MASQUERADE" and draw(st.booleans()):
        args += ["--to-ports", "1024-65535"]
    elif target == "LOG":
        args += ["--log-prefix", draw(st.text(string.ascii_letters + " :", min_size=1, max_size=12))]
    return args


@st.composite
def iptables_saves(draw):
    tables = []
    for name in draw(st.lists(st.sampled_from(sorted(BUILTIN_CHAINS)), unique=True, max_size=3)):
        counters = draw(st.booleans())
        user_chains = draw(st.lists(st.from_regex(r"[A-Z][A-Z0-9_-]{1,12}", fullmatch=True), unique=True, max_size=2))
        user_chains = [c for c in user_chains if c not in BUILTIN_CHAINS[name]]

        def counted():
            return (draw(st.integers(0, 10**9)), draw(st.integers(0, 10**12))) if counters else (None, None)

        chains = [Chain(c, draw(st.sampled_from(["ACCEPT", "DROP"])), *counted()) for c in BUILTIN_CHAINS[name]]
        chains += [Chain(c, None, *counted()) for c in user_chains]
        rules = []
        for _ in range(draw(st.integers(0, 5))):
            chain = draw(st.sampled_from([c.name for c in chains]))
            packets, bytes_ = counted()
            rules.append(Rule.from_spec(name, chain, shlex.join(draw(rule_args(user_chains))), packets=packets, bytes=bytes_))
        tables.append(Table(name, tuple(chains), tuple(rules)))
    family = draw(st.sampled_from([None, "ipv4", "ipv6"])) if tables else None
    return IptablesSave(
        tables=tuple(tables), family=family,
        backend=draw(st.sampled_from([None, "nf_tables", "legacy"])) if family else None,
        warnings=tuple(draw(st.lists(st.just("iptables-legacy tables present, use iptables-legacy-save to see them"), max_size=1))),
        incompatible_tables=tuple(draw(st.lists(st.sampled_from(["nat", "filter", "mangle"]), unique=True, max_size=2))),
    )


@SETTINGS
@given(iptables_saves())
def test_iptables_save_round_trip(save):
    parsed = parse_iptables_save(render_iptables_save(save))
    assert parsed == save
    assert all(r.target == "DNAT" and r.to_destination for r in parsed.dnat_rules())
    assert parsed.complete is (not save.warnings and not save.incompatible_tables)


# ---------------------------------------------------------------------------- robustness

SAMPLE_KINDS = {
    "mdstat": "mdstat", "mdadm_detail": "mdadm_detail", "quorum_status": "corosync_quorum",
    "peer_status": "gluster", "volume_info": "gluster", "volume_status": "gluster", "heal_info": "gluster",
    "node_ls": "docker_swarm", "service_ps": "docker_swarm", "docker_info_swarm": "docker_swarm",
    "iptables_save": "iptables_save",
}
REPORT_SAMPLES = [name for name in data_files("report") if name != "traefik.toml"]
SAMPLES = sorted({(kind, name) for kind in set(SAMPLE_KINDS.values()) for name in data_files(kind)}) + [
    ("report", name) for name in REPORT_SAMPLES] + [("traefik", name) for name in data_files("traefik")]

NOISE_TOKENS = [*"[]():=#;{}*!\"'\\/_-.,%@$<>\t\r\n ", "  ", "\n\n", "0x1", "[U_]", "[2/1]", " blocks", "Brick ",
                "Status: ", "Quorate: ", "Number of ", " x ", "-A ", "*nat", "COMMIT", "ID ", "md0 : active ", "Volume Name: "]
noisy_text = st.lists(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(NOISE_TOKENS), max_size=120).map("".join)


def _call(parser_name, text):
    parser = PARSERS[parser_name]
    try:
        parser(text)
    except ParseError:
        pass


@st.composite
def mangled_samples(draw):
    """A real sample with lines dropped, duplicated, cut or spliced with noise."""
    kind, name = draw(st.sampled_from(SAMPLES))
    lines = (DATA / kind / name).read_text(encoding="utf-8").split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.integers(0, 4))
        if action == 0:
            del lines[index]
        elif action == 1:
            lines.insert(index, lines[index])
        elif action == 2:
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        elif action == 3:
            lines[index] = draw(noisy_text)
        else:
            cut = draw(st.integers(0, len(lines[index])))
            lines[index] = lines[index][:cut] + draw(noisy_text) + lines[index][cut:]
    return "\n".join(lines)


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), noisy_text)
def test_any_text_only_raises_parse_error(parser_name, text):
    _call(parser_name, text)


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), mangled_samples())
def test_mangled_samples_only_raise_parse_error(parser_name, text):
    _call(parser_name, text)


@SETTINGS
@given(st.sampled_from(sorted(PARSERS)), st.text(max_size=200))
def test_plain_random_text_only_raises_parse_error(parser_name, text):
    _call(parser_name, text)


def test_every_parser_is_fuzzed():
    assert len(PARSERS) == 24 and set(SAMPLE_KINDS) <= set(PARSERS)
    assert read("report", "traefik.toml")  # the TOML sample goes through the traefik parser in test_traefik
