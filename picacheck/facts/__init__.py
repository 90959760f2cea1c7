"""Fact parsers: command output or file text → typed, frozen facts. No I/O, no inventory.

Every parser takes the text (str) and returns frozen dataclasses (tuples, not lists; a few
mapping fields are plain dicts: options, entry points, corosync sections, raw key/values).
A fact the text does not state is None ("unknown"), never a guessed default: an inactive
array's `degraded`, a quorum status without a Flags line, a heal total when a brick is not
read, a docker column the table lacks, a swarm state before docker 1.12. Checks that need
such a fact must fail saying it is unknown.
On text it cannot read a parser raises `ParseError` (a `ValueError`; `.parser`, `.line_no`,
`.line`, `.reason` say which parser, which line and what was expected), and no other
exception, whatever the input. `ToolError` (a
`ParseError`) means the text is the tool's own error message, kept in `.message`
("Connection failed. Please check if gluster daemon is operational.").
Config files that their consumer reads leniently (fstab, resolv.conf, /etc/hosts, unit
files, mdadm.conf) do not raise on a bad line: like the consumer, the parser skips it and
records it (`problems` / `ignored` / `invalid` / `unknown`).

RAID
    parse_mdstat(text) -> Mdstat                     /proc/mdstat
        .personalities, .arrays: tuple[MdArray], .unused_devices, .array("md2"), .degraded_arrays
        MdArray: name, state ("active"/"inactive"), read_only, auto_read_only, level ("raid1",
        None when not shown), members: tuple[MdMember(name, slot, faulty, spare,
        write_mostly, replacement, journal)], blocks, super_version, layout, chunk_kib,
        raid_disks/active_disks (the [n/m]), status ("UU_"), bitmap (text), sync: MdSync|None
        (action resync/recovery/check/reshape/repair, percent, done_blocks, total_blocks,
        finish_minutes, speed_kib_s, delayed, pending, remote, running);
        .degraded / .healthy (bool, None when no [n/m] [UU] is shown), .failed_members,
        .spare_members, .member_names; unused_devices None without its line
    parse_mdadm_detail(text) -> MdadmDetail          mdadm --detail /dev/mdN
        device, version, raid_level, array_size_kib, used_dev_size_kib, raid_devices,
        total_devices, state (str), .state_flags (frozenset: clean, active, degraded,
        resyncing, recovering, reshaping, inactive…), active/working/failed/spare_devices,
        name, name_local_to_host, uuid, events, rebuild_status/resync_status/reshape_status/
        check_status (percent), fields (every "Key : Value"), devices: tuple[MdadmDevice(
        number, major, minor, raid_device, state: tuple[str], path)] incl. "removed" rows;
        .degraded (None: inactive, or no State/counts), .faulty_devices, .removed_slots, .member_paths
    parse_mdadm_conf(text) -> MdadmConf              /etc/mdadm/mdadm.conf
        devices, arrays: tuple[MdadmConfArray(device, tags; .uuid .name .metadata .level
        .num_devices .devices)], mailaddr, mailfrom, program, homehost, create, other,
        unknown; .array("md2")
    normalize_md_uuid(uuid) -> str                   compare mdadm/mdstat UUIDs

Corosync / Proxmox
    parse_quorum_status(text) -> QuorumStatus        corosync-quorumtool -s, pvecm status,
                                                     pcs quorum status, crm corosync status
        quorate, provider, date, nodes, node_id, ring_id, expected_votes, highest_expected,
        total_votes, quorum, activity_blocked, flags: tuple[str] (None without a Flags line),
        members: tuple[QuorumMember(
        nodeid, votes, name, local, qdevice)], qdevice: QdeviceVotes(votes, configured_votes)|None,
        cluster_name, config_version, transport, secure_auth (pvecm), local_node_id, rings:
        tuple[RingStatus(ring_id, address, status; .faulty)] (crm); .two_node, .wait_for_all,
        .local_member, .member(name_or_id)
    parse_corosync_conf(text) -> CorosyncConf        /etc/corosync/corosync.conf
        sections (nested dicts; repeated → lists; node/interface/logger_subsys always lists),
        .get("totem.cluster_name"), cluster_name, config_version, two_node, provider,
        transport, secauth, crypto_cipher, crypto_hash, authenticated, nodes: tuple[
        CorosyncNode(name, nodeid, quorum_votes, ring0_addr, ring1_addr)]

GlusterFS (glusterd down → ToolError)
    parse_peer_status(text) -> PeerStatus            gluster peer status
        number_of_peers, peers: tuple[GlusterPeer(hostname, uuid, state, connected,
        other_names; .in_cluster)], .peer(host), .disconnected
    parse_volume_info(text) -> tuple[GlusterVolume]  gluster volume info
        name, type, volume_id, status (.started), snapshot_count, bricks_line ("2 x (2 + 1)
        = 6") → .distribute_count .replica_count .arbiter_count .disperse_count
        .redundancy_count .total_bricks, transport, bricks: tuple[GlusterBrick(host, path,
        arbiter; .name)], options: dict; .started None without a Status line
    parse_volume_status(text) -> VolumeStatusReport  gluster volume status [all]
        (not a bare tuple, so that the CLI errors printed between volumes have a place; it
        iterates, indexes and len()s like the tuple of its volumes) volumes: tuple[VolumeStatus(name, processes:
        tuple[GlusterProcess(name "Brick"/"Self-heal Daemon"…, host, path, tcp_port,
        rdma_port, online, pid; .is_brick)], tasks: tuple[GlusterTask]; .bricks,
        .offline_bricks, .all_online)], errors: tuple[str] ("Locking failed on …"), .volume(n);
        the 3.x "Port Online Pid" table and wrapped names read too
    parse_heal_info(text) -> HealInfo                gluster volume heal V info [split-brain|summary]
        variant ("info"/"split-brain"/"summary"), bricks: tuple[BrickHeal(brick, status,
        entries, in_split_brain, possibly_healing, number_of_entries, number_in_split_brain,
        number_heal_pending, number_possibly_healing; .host .path .connected .split_brain_count)];
        .pending_entries, .split_brain_entries (None when a brick's count is not stated),
        .unreachable_bricks

Docker Swarm
    parse_node_ls(text) -> tuple[SwarmNode]          docker node ls (1.12-dev to today)
        id, self, hostname, status, availability, manager_status, engine_version,
        membership (1.12-dev); .is_manager, .is_leader, .ready (None: no such column)
    parse_service_ps(text) -> tuple[SwarmTask]       docker service ps (header optional; 1.12's
        SERVICE/LAST STATE layout too) id, name, image, node, desired_state, current_state,
        error, ports, history ("\\_" rows), service (1.12); .state, .running
    parse_docker_info_swarm(text) -> SwarmInfo       docker info (Swarm section)
        (SwarmNode also .active; SwarmTask.state is Docker's word in lower case: "running")
        state (None: no Swarm line, before 1.12), node_id, is_manager, cluster_id, managers,
        nodes, node_address, manager_addresses, error; .active

Firewall
    parse_iptables_save(text) -> IptablesSave        iptables-save / ip6tables-save
        tables: tuple[Table(name, chains: tuple[Chain(name, policy, packets, bytes)], rules)],
        family, backend ("nf_tables"/"legacy" where stated), warnings, incompatible_tables;
        .complete, .table(n), .rules(table, chain), .dnat_rules(), .masquerade_rules()
        Rule: table, chain, spec, args, in_iface, out_iface, source, destination, protocol,
        sport, dport, target, goto, to_destination, to_source, to_ports, matches, negated
        (frozenset of field names written with "!"), packets, bytes; .to_address, .to_port

Files
    parse_crontab(text, system=False) -> Crontab     crontab(5); system=True adds the user field
        items (CronEntry | CronEnv in order), .entries, .env, .environment_of(entry);
        CronEntry: minute, hour, day_of_month, month, day_of_week, special, user, command;
        .values(field), .fires_at(hour, minute), .daily_times(), .fires_on(datetime), .command_line
    parse_schedule("0 3 * * *") -> CronEntry         an inventory's schedule (its time fields)
    longest_wait(first, then) -> timedelta           longest time from a run of one entry to the
        next run of the other, by time of day (how far a mirror lags behind what it copies)
    parse_fstab(text) -> Fstab                       entries: tuple[FstabEntry(spec, file, vfstype,
        mntops, freq, passno)], problems; .at(mountpoint)
    parse_resolv_conf(text) -> ResolvConf            nameservers, search, domain, options,
        sortlist, ignored; .effective_nameservers, .options_dict
    parse_etc_hosts(text) -> EtcHosts                entries: tuple[HostsEntry(address, names)],
        invalid; .mapping (address → names), .names_for(addr), .addresses_for(name)
    parse_unit_file(text) -> UnitFile                sections: tuple[UnitSection(name, entries:
        tuple[UnitEntry(key, value; .value_is_clean .inline_comment .intended_value)])],
        problems; .value(sec, key), .values(sec, key), .entry(sec, key). systemd does not
        strip "# comments" after a value: "Restart=on-failure #À ajouter" is an invalid value.
    parse_traefik_static(text, fmt="toml"|"yaml") -> TraefikStatic
        version, compatible_versions, entrypoints {name: address}, redirects,
        http_to_https_redirect, acme (first of acme_resolvers: AcmeConfig(resolver, email,
        storage, ca_server, challenge "http"/"tls"/"dns"/None, challenge_entrypoint, domains,
        on_demand, on_host_rule…)), acme_enabled, dashboard: DashboardConfig(enabled,
        address, source, insecure), placeholders; fill_placeholders(text, values) -> str
    parse_router_labels(labels: dict) -> TraefikRouting   a service's Traefik labels (v1 frontend
        rules, v2/v3 routers): routers: tuple[Router(name, rule, hosts, entrypoints, tls)],
        enabled (traefik.enable); .hosts, .routes(domain)
    parse_default_grub(text) -> GrubDefaults         /etc/default/grub (+ grub.d/*.cfg), as sh
        assigns: settings, unreadable (names whose value it cannot know), ignored;
        .cmdline_linux_default, .cmdline_linux
    parse_network_script(text) -> NetworkScript      the `ip addr/route add` of /etc/rc.local:
        addresses: tuple[ScriptAddress(address, dev)], routes: tuple[ScriptRoute(destination,
        via, dev, onlink, family)]; .adds_address(address, dev)
    parse_interfaces(text) -> Interfaces             /etc/network/interfaces: stanzas:
        tuple[IfaceStanza(name, family, method, options)], auto, sources, unknown; .configures(name)
    parse_curator_script(text) -> tuple[CuratorCommand]   curator_cli commands of a cron job:
        action, filters; .age_filters, .deletes_older_than(days)

Sockets
    parse_ss_listening(text) -> tuple[ListeningSocket]   ss -Hltn: address, port, interface;
        .loopback, .endpoint; parse_endpoint("127.0.0.1:9200") reads a documented one

Docker API (JSON of the Engine API, as the probes read it, into the Docker Swarm facts above)
    node_from_api(attrs) -> SwarmNode, task_from_api(task, service, node names) -> SwarmTask,
    service_from_api(attrs, tasks, node names, network names) -> SwarmService(name, mode,
    replicas, tasks, networks, published_ports, labels, image); tagged(reference),
    image_without_digest(reference)

Renderers (the inverse, for the lab and the property tests): render_mdstat,
render_quorum_status, render_peer_status, render_volume_info, render_iptables_save,
render_crontab, render_fstab, render_resolv_conf.
"""

from .corosync import (
    CorosyncConf, CorosyncNode, QdeviceVotes, QuorumMember, QuorumStatus, RingStatus,
    parse_corosync_conf, parse_quorum_status, render_quorum_status,
)
from .crontab import CronEntry, CronEnv, Crontab, longest_wait, parse_crontab, parse_schedule, render_crontab
from .errors import ParseError, ToolError
from .fstab import Fstab, FstabEntry, FstabProblem, parse_fstab, render_fstab
from .gluster import (
    BrickHeal, GlusterBrick, GlusterPeer, GlusterProcess, GlusterTask, GlusterVolume, HealInfo,
    PeerStatus, VolumeStatus, VolumeStatusReport, parse_heal_info, parse_peer_status,
    parse_volume_info, parse_volume_status, render_peer_status, render_volume_info,
)
from .hosts import EtcHosts, HostsEntry, parse_etc_hosts
from .iptables import Chain, IptablesSave, Rule, Table, parse_iptables_save, render_iptables_save
from .mdadm import (
    MdadmConf, MdadmConfArray, MdadmDetail, MdadmDevice, normalize_md_uuid, parse_mdadm_conf,
    parse_mdadm_detail,
)
from .mdstat import Mdstat, MdArray, MdMember, MdSync, parse_mdstat, render_mdstat
from .resolv import ResolvConf, parse_resolv_conf, render_resolv_conf
from .swarm import SwarmInfo, SwarmNode, SwarmTask, parse_docker_info_swarm, parse_node_ls, parse_service_ps
from .systemd import UnitEntry, UnitFile, UnitProblem, UnitSection, parse_unit_file
from .traefik import AcmeConfig, DashboardConfig, TraefikStatic, fill_placeholders, parse_traefik_static

from .curator import CuratorCommand, parse_curator_script
from .grub import GrubDefaults, parse_default_grub
from .interfaces import Interfaces, parse_interfaces
from .netscript import NetworkScript, parse_network_script
from .sockets import ListeningSocket, parse_ss_listening

PARSERS = {
    "mdstat": parse_mdstat, "mdadm_detail": parse_mdadm_detail, "mdadm_conf": parse_mdadm_conf,
    "quorum_status": parse_quorum_status, "corosync_conf": parse_corosync_conf,
    "peer_status": parse_peer_status, "volume_info": parse_volume_info,
    "volume_status": parse_volume_status, "heal_info": parse_heal_info,
    "node_ls": parse_node_ls, "service_ps": parse_service_ps, "docker_info_swarm": parse_docker_info_swarm,
    "iptables_save": parse_iptables_save, "crontab": parse_crontab, "fstab": parse_fstab,
    "resolv_conf": parse_resolv_conf, "etc_hosts": parse_etc_hosts, "unit_file": parse_unit_file,
    "traefik_static": parse_traefik_static, "default_grub": parse_default_grub,
    "network_script": parse_network_script, "interfaces": parse_interfaces, "ss_listening": parse_ss_listening,
    "curator_script": parse_curator_script,
}

__all__ = [
    "CuratorCommand", "GrubDefaults", "Interfaces", "ListeningSocket", "NetworkScript", "parse_curator_script",
    "parse_default_grub", "parse_interfaces", "parse_network_script", "parse_ss_listening",
    "AcmeConfig", "BrickHeal", "Chain", "CorosyncConf", "CorosyncNode", "CronEntry", "CronEnv", "Crontab",
    "DashboardConfig", "EtcHosts", "Fstab", "FstabEntry", "FstabProblem", "GlusterBrick", "GlusterPeer",
    "GlusterProcess", "GlusterTask", "GlusterVolume", "HealInfo", "HostsEntry", "IptablesSave", "MdArray",
    "MdMember", "MdSync", "MdadmConf", "MdadmConfArray", "MdadmDetail", "MdadmDevice", "Mdstat",
    "ParseError", "PeerStatus", "QdeviceVotes", "QuorumMember", "QuorumStatus", "ResolvConf", "RingStatus",
    "Rule", "SwarmInfo", "SwarmNode", "SwarmTask", "Table", "ToolError", "TraefikStatic", "UnitEntry",
    "UnitFile", "UnitProblem", "UnitSection", "VolumeStatus", "VolumeStatusReport", "fill_placeholders",
    "longest_wait", "normalize_md_uuid", "parse_corosync_conf", "parse_crontab", "parse_docker_info_swarm",
    "parse_etc_hosts", "parse_fstab", "parse_heal_info", "parse_iptables_save", "parse_mdadm_conf",
    "parse_mdadm_detail", "parse_mdstat", "parse_node_ls", "parse_peer_status", "parse_quorum_status",
    "parse_resolv_conf", "parse_schedule", "parse_service_ps", "parse_traefik_static", "parse_unit_file", "parse_volume_info",
    "parse_volume_status", "render_crontab", "render_fstab", "render_iptables_save", "render_mdstat",
    "render_peer_status", "render_quorum_status", "render_resolv_conf", "render_volume_info", "PARSERS",
]
