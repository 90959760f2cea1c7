"""Properties of the layouts the wider corpus showed (issue 20).

Each test renders a generated model in one of the layouts seen in selftests/data (or varies a
real layout: column order and widths, indentation, wrapped names, trailing blanks, the old
and the new forms of a line) and checks that the parser reads back what was rendered. The
renderers here imitate the tools' printers; they are test code, not facts.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from picacheck.facts import (
    parse_docker_info_swarm, parse_heal_info, parse_mdadm_detail, parse_mdstat, parse_node_ls, parse_quorum_status,
    parse_service_ps, parse_traefik_static, parse_volume_status, render_mdstat, render_quorum_status,
)

from .test_properties import host_name, mdstats, quorum_statuses

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

word = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
swarm_id = st.text(string.ascii_lowercase + string.digits, min_size=12, max_size=25)


def tabwriter(columns: list[str], rows: list[dict[str, str]], padding: int) -> str:
    """What Go's text/tabwriter prints for docker's tables: each column as wide as its widest
    cell plus `padding` spaces, the last cell of a line unpadded."""
    lines = [columns] + [[row[c] for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) + padding for i in range(len(columns))]
    text = ["".join(cell.ljust(width) for cell, width in zip(line[:-1], widths)) + line[-1] for line in lines]
    return "\n".join(line.rstrip() for line in text) + "\n"


# ---------------------------------------------------------------------------- docker node ls

MANAGER_STATUSES = ["", "Leader", "Reachable", "Unreachable"]


@st.composite
def node_tables(draw):
    """A `docker node ls` table: ID first, the other columns in any order (1.12-dev's NAME or
    HOSTNAME, with or without ENGINE VERSION), 1 to 3 spaces of padding."""
    columns = ["HOSTNAME" if draw(st.booleans()) else "NAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"]
    if draw(st.booleans()):
        columns.append("ENGINE VERSION")
    columns = ["ID", *draw(st.permutations(columns))]
    nodes = []
    for index in range(draw(st.integers(1, 5))):
        nodes.append({
            "ID": draw(swarm_id) + (" *" if index == 0 and draw(st.booleans()) else ""),
            "HOSTNAME": draw(host_name), "NAME": None, "STATUS": draw(st.sampled_from(["Ready", "Down", "Unknown"])),
            "AVAILABILITY": draw(st.sampled_from(["Active", "Pause", "Drain"])),
            "MANAGER STATUS": draw(st.sampled_from(MANAGER_STATUSES)), "ENGINE VERSION": draw(st.sampled_from(["1.12.3", "24.0.7"])),
        })
    for node in nodes:
        node["NAME"] = node["HOSTNAME"]
    return columns, nodes, tabwriter(columns, nodes, draw(st.integers(1, 3)))


@SETTINGS
@given(node_tables())
def test_node_ls_any_column_order_and_padding(table):
    columns, nodes, text = table
    for node, got in zip(nodes, parse_node_ls(text), strict=True):
        assert (got.id + " *" * got.self, got.hostname, got.status, got.availability) == (
            node["ID"], node["HOSTNAME"], node["STATUS"], node["AVAILABILITY"])
        assert got.manager_status == (node["MANAGER STATUS"] or None) and got.is_manager is bool(node["MANAGER STATUS"])
        assert got.engine_version == (node["ENGINE VERSION"] if "ENGINE VERSION" in columns else None)


# ---------------------------------------------------------------------------- docker service ps

# The column sets docker printed: 1.12 (SERVICE, LAST STATE) and 1.13 to today.
SERVICE_PS_LAYOUTS = [
    ["ID", "NAME", "SERVICE", "IMAGE", "LAST STATE", "DESIRED STATE", "NODE"],
    ["ID", "NAME", "SERVICE", "IMAGE", "DESIRED STATE", "LAST STATE", "NODE"],
    ["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"],
]
states = st.tuples(st.sampled_from(["Running", "Rejected", "Failed", "Shutdown", "Preparing"]),
                   st.integers(1, 59), st.sampled_from(["seconds", "minutes"]), st.booleans()).map(
    lambda t: f"{t[0]} {t[1]} {t[2]}" + " ago" * t[3])


@st.composite
def task_tables(draw):
    columns = draw(st.sampled_from(SERVICE_PS_LAYOUTS))
    tasks = []
    for _ in range(draw(st.integers(1, 5))):
        service = draw(word)
        error = draw(st.sampled_from(["", '"No such image: redis:7"', '"task: non-zero exit (1)"']))
        tasks.append({
            "ID": draw(swarm_id), "NAME": "\\_ " * draw(st.booleans()) + f"{service}.{draw(st.integers(1, 9))}",
            "SERVICE": service, "IMAGE": f"{draw(word)}:{draw(word)}", "NODE": draw(host_name),
            "DESIRED STATE": draw(st.sampled_from(["Running", "Shutdown", "Ready"])), "LAST STATE": draw(states),
            "CURRENT STATE": draw(states), "ERROR": error, "PORTS": "",
        })
    return columns, tasks, tabwriter(columns, tasks, draw(st.integers(1, 3)))


@SETTINGS
@given(task_tables())
def test_service_ps_1_12_and_later_layouts(table):
    columns, tasks, text = table
    for task, got in zip(tasks, parse_service_ps(text), strict=True):
        assert (got.id, got.image, got.node, got.desired_state) == (task["ID"], task["IMAGE"], task["NODE"], task["DESIRED STATE"])
        assert got.history is task["NAME"].startswith("\\_ ") and task["NAME"].endswith(got.name)
        if "SERVICE" in columns:  # 1.12
            assert (got.service, got.current_state, got.error) == (task["SERVICE"], task["LAST STATE"], None)
        else:
            assert (got.service, got.current_state) == (None, task["CURRENT STATE"])
            assert got.error == (task["ERROR"].strip('"') or None) and got.ports is None


# ---------------------------------------------------------------------------- docker info


@st.composite
def docker_infos(draw):
    """`docker info` around a Swarm section: flat (1.12, 1.13) or under "Server:" (17.x+), the
    1.12-rc "IsManager: Yes" or "Is Manager: true", trailing blanks; or no Swarm line at all."""
    base = draw(st.sampled_from([0, 1]))  # 1: the Client:/Server: layout indents the server's lines
    pad, blank = " " * base, draw(st.sampled_from(["", " "]))
    lines = ["Client:", " Debug Mode: false", "", "Server:"] if base else []
    lines += [f"{pad}Containers: {draw(st.integers(0, 40))}", f"{pad}Server Version: {draw(st.sampled_from(['1.12.3', '24.0.7']))}"]
    model = {"state": None}
    if draw(st.booleans()):
        state = draw(st.sampled_from(["active", "inactive", "pending", ""]))
        model["state"] = state or None
        lines.append(f"{pad}Swarm: {state}{blank}")  # a classic Swarm manager prints "Swarm: " and nothing
        if state == "active":
            manager = draw(st.booleans())
            model.update(node_id=draw(swarm_id), manager=manager, nodes=draw(st.integers(0, 9)))
            key, value = draw(st.sampled_from([("Is Manager", "true" if manager else "false"), ("IsManager", "Yes" if manager else "No")]))
            lines += [f"{pad} NodeID: {model['node_id']}{blank}", f"{pad} {key}: {value}", f"{pad} Nodes: {model['nodes']}",
                      f"{pad} Orchestration:", f"{pad}  Task History Retention Limit: 5"]
    lines += [f"{pad}Kernel Version: 4.9.0-3-amd64", f"{pad}Name: pica01"]
    return "\n".join(lines) + "\n", model


@SETTINGS
@given(docker_infos())
def test_docker_info_swarm_layouts(info):
    text, model = info
    parsed = parse_docker_info_swarm(text)
    assert parsed.state == model["state"] and parsed.active is (None if model["state"] is None else model["state"] == "active")
    if "node_id" in model:
        assert (parsed.node_id, parsed.is_manager, parsed.nodes) == (model["node_id"], model["manager"], model["nodes"])
    else:
        assert parsed.node_id is None and parsed.is_manager is None


# ---------------------------------------------------------------------------- gluster volume status

WRAP = 43  # the CLI cuts a process name at this width and continues it on the next line


@st.composite
def status_tables(draw):
    """`gluster volume status`: the 3.x "Port Online Pid" table or the later one with RDMA Port,
    long names wrapped, a doc's "<---- …" / "<<---- …" note after the pid, trailing blanks."""
    old = draw(st.booleans())
    processes = []
    for _ in range(draw(st.integers(1, 6))):
        online = draw(st.booleans())
        host = draw(host_name)
        if draw(st.booleans()):
            name = f"Brick {host}:/" + "/".join(draw(st.lists(word, min_size=1, max_size=6)))
            port = draw(st.integers(49152, 60999)) if online else None
        else:
            name, port = f"{draw(st.sampled_from(['Self-heal Daemon', 'NFS Server', 'Bitrot Daemon']))} on {host}", None
        processes.append((name, port, online, draw(st.integers(1, 99999)) if online or draw(st.booleans()) else None))
    lines = [f"Status of volume: {draw(word)}"]
    lines.append("Gluster process                        Port    Online    Pid" if old else
                 "Gluster process                             TCP Port  RDMA Port  Online  Pid")
    lines.append("-" * 78)
    for name, port, online, pid in processes:
        pieces = [name[i:i + WRAP] for i in range(0, len(name), WRAP)]
        lines += pieces[:-1]
        ports = f"{port or 'N/A':<9} " + ("" if old else f"{0 if port else 'N/A':<10} ")
        row = f"{pieces[-1]:<44}{ports}{'Y' if online else 'N':<7} {pid or 'N/A'}"
        note = draw(st.sampled_from(["", " <---- new brick is online", " <<---- brick is not running"]))
        lines.append(row + note + draw(st.sampled_from(["", " ", "  "])))
    return "\n".join(lines) + "\n", processes


@SETTINGS
@given(status_tables())
def test_volume_status_old_and_new_layouts_wrapped_and_annotated(table):
    text, processes = table
    (volume,) = parse_volume_status(text)
    got = [(p.name, p.host, p.path, p.tcp_port, p.online, p.pid) for p in volume.processes]
    expected = []
    for name, port, online, pid in processes:
        if name.startswith("Brick "):
            host, _, path = name[len("Brick "):].partition(":")
            expected.append(("Brick", host, path, port, online, pid))
        else:
            kind, _, host = name.rpartition(" on ")
            expected.append((kind, host, None, port, online, pid))
    assert got == expected


# ---------------------------------------------------------------------------- gluster heal info


@st.composite
def heal_outputs(draw):
    """`heal info`: 3.7+ (entries, then "Status:", then the count) or 3.x (the count before
    the entries, no Status), with unreachable bricks ("Number of entries: -" or no count)."""
    old = draw(st.booleans())
    bricks, blocks = [], []
    for _ in range(draw(st.integers(1, 4))):
        brick = f"{draw(host_name)}:/{draw(word)}/{draw(word)}"
        reachable = draw(st.booleans())
        entries = tuple(draw(st.lists(word.map(lambda w: "/" + w), max_size=4))) if reachable else ()
        lines = [f"Brick {brick}"]
        if not reachable:
            lines.append("Status: Transport endpoint is not connected")
            count = None
            if not old:
                lines.append("Number of entries: -")
        elif old:
            lines += [f"Number of entries: {len(entries)}", *entries]
            count = len(entries)
        else:
            lines += [*entries, "Status: Connected", f"Number of entries: {len(entries)}"]
            count = len(entries)
        bricks.append((brick, reachable, entries, count))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n", bricks


@SETTINGS
@given(heal_outputs())
def test_heal_info_layouts_and_unknown_totals(output):
    text, bricks = output
    heal = parse_heal_info(text)
    assert [(b.brick, b.entries, b.number_of_entries) for b in heal.bricks] == [(b, e, c) for b, _, e, c in bricks]
    assert [b.brick for b in heal.unreachable_bricks] == [b for b, reachable, _, _ in bricks if not reachable]
    counts = [c for _, _, _, c in bricks]
    assert heal.pending_entries == (None if None in counts else sum(counts))


# ---------------------------------------------------------------------------- mdstat and quorum status variants


@SETTINGS
@given(mdstats(), st.sampled_from(["", "  ", "      ", "\t"]), st.sampled_from(["", " "]), st.booleans())
def test_mdstat_indentation_trailing_blanks_and_no_unused_line(mdstat, indent, trailing, cut_unused):
    # what copies of /proc/mdstat do: re-indented status lines, trailing blanks, the last line lost
    lines = render_mdstat(mdstat).split("\n")
    lines = [(indent + line.lstrip() if line.startswith("      ") else line) + trailing for line in lines]
    if cut_unused:
        lines = [line for line in lines if not line.startswith("unused devices")]
    parsed = parse_mdstat("\n".join(lines))
    assert parsed.arrays == mdstat.arrays
    assert parsed.unused_devices == (None if cut_unused else mdstat.unused_devices)


@SETTINGS
@given(quorum_statuses(), st.sampled_from(["-", "~"]), st.booleans(), st.booleans(), st.sampled_from(["", " ", "  "]))
def test_quorum_status_underlines_blank_lines_hex_ids_and_trailing_blanks(status, rule, drop_blanks, hex_ids, trailing):
    # the pve-docs "~" underlines, corosync 2.3's output without blank lines, PVE's 0x node ids
    lines = []
    for line in render_quorum_status(status).split("\n"):
        if set(line) == {"-"}:
            line = rule * len(line)
        if hex_ids and line[:10].strip().isdigit() and line[:10].strip() != "0":
            line = f"0x{int(line[:10]):08x}" + line[10:]
        if not (drop_blanks and not line):
            lines.append(line + trailing if ":" in line else line)
    assert parse_quorum_status("\n".join(lines) + "\n") == status


# ---------------------------------------------------------------------------- mdadm --detail

DETAIL_STATES = ["clean", "active", "clean, degraded", "active, degraded", "clean, degraded, recovering",
                 "clean, resyncing", "active, reshaping", "inactive"]


@st.composite
def mdadm_details(draw):
    """`mdadm --detail`: keys right-aligned at mdadm 3.x's width (15, "Preferred Minor") or 4.x's
    (18, "Consistency Policy"), the device table with removed, faulty and rebuilding rows."""
    width = draw(st.sampled_from([15, 18]))
    state = draw(st.sampled_from(DETAIL_STATES))
    raid, active = draw(st.integers(1, 4)), None
    fields = [("Version", draw(st.sampled_from(["0.90", "1.2"]))), ("Raid Level", "raid1")]
    if state != "inactive":
        active = draw(st.integers(0, raid))
        fields += [("Raid Devices", str(raid)), ("Total Devices", str(raid)), ("State", state),
                   ("Active Devices", str(active)), ("Working Devices", str(active)), ("Failed Devices", "0")]
    else:
        fields.append(("State", state))
    if "recovering" in state:
        fields.append(("Rebuild Status", f"{draw(st.integers(0, 99))}% complete"))
    rows = []
    for slot in range(raid):
        kind = draw(st.sampled_from(["active sync", "removed", "spare rebuilding", "faulty"]))
        rows.append((slot, kind, f"/dev/sd{string.ascii_lowercase[slot]}1"))
    lines = ["/dev/md0:"] + [f"{key:>{width}} : {value}" for key, value in fields] + ["", "    Number   Major   Minor   RaidDevice State"]
    for slot, kind, path in rows:
        if kind == "removed":
            lines.append(f"       -       0        0        {slot}      removed")
        elif kind == "faulty":
            lines.append(f"       {slot}       8       {16 * slot + 1:>2}        -      faulty   {path}")
        else:
            lines.append(f"       {slot}       8       {16 * slot + 1:>2}        {slot}      {kind}   {path}")
    return "\n".join(lines) + "\n", state, raid, active, rows


@SETTINGS
@given(mdadm_details())
def test_mdadm_detail_key_widths_and_device_rows(detail):
    text, state, raid, active, rows = detail
    parsed = parse_mdadm_detail(text)
    assert parsed.state == state and parsed.raid_level == "raid1"
    if "degraded" in state:
        assert parsed.degraded is True
    elif state == "inactive":  # no counts, and mdadm's State says nothing of it
        assert parsed.degraded is None
    else:
        assert parsed.degraded is (active < raid)
    assert [d.state for d in parsed.devices] == [tuple(kind.split()) for _, kind, _ in rows]
    assert [d.path for d in parsed.devices] == [None if kind == "removed" else path for _, kind, path in rows]
    assert parsed.removed_slots == tuple(slot for slot, kind, _ in rows if kind == "removed")
    assert (parsed.rebuild_status is not None) is ("recovering" in state)


# ---------------------------------------------------------------------------- traefik placeholders

placeholder = st.sampled_from(["{{DOMAIN}}", "{{ .Env.EMAIL }}", "${email}", "%%HOST%%"])


@SETTINGS
@given(st.lists(st.tuples(placeholder, st.booleans()), min_size=1, max_size=6))
def test_traefik_placeholders_are_those_of_the_settings_not_the_comments(uses):
    lines = ["[entryPoints]", "  [entryPoints.http]", '  address = ":80"', "[acme]"]
    for index, (marker, commented) in enumerate(uses):
        lines.append(f'{"# " * commented}key{index} = "x{marker}"')
    config = parse_traefik_static("\n".join(lines) + "\n")
    assert config.placeholders == tuple(dict.fromkeys(marker for marker, commented in uses if not commented))
