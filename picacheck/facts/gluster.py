"""GlusterFS CLI output → facts: `gluster peer status`, `gluster volume info`,
`gluster volume status`, `gluster volume heal VOL info [split-brain|summary]`.

When the whole output is the CLI's own error ("Connection failed. Please check if gluster
daemon is operational.", "Volume X does not exist"…) the parsers raise `ToolError` (a
`ParseError`) carrying the message: glusterd being down is then reported with its own
words instead of as unreadable text. Errors printed next to normal output (the "Locking
failed"/"Another transaction is in progress" lines of `volume status all`) are kept in
`VolumeStatusReport.errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import numbered_lines, raise_if_tool_error
from .errors import ParseError

_TOOL_ERRORS = (
    re.compile(r"^Connection failed\. Please check if gluster daemon is operational"),
    re.compile(r"^Volume \S+ does not exist"),
    re.compile(r"^Volume \S+ is not started"),
    re.compile(r"^Volume \S+ is not of type replicate"),
    re.compile(r"^(?:peer status|Volume heal|Heal operation|Launching heal operation).*(?:failed|unsuccessful)", re.I),
    re.compile(r"^Error : Request timed out"),
    re.compile(r"^gluster: command not found"),
)
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 ._-]*?)\s*:\s*(?P<value>.*)$")


def _split_brick(brick: str) -> tuple[str | None, str]:
    """"host:/path" → (host, path); ":/path" (a doc that blanked the host) → (None, path);
    text without ":/" (doc placeholders) → (None, text)."""
    host, sep, path = brick.partition(":/")
    if not sep:
        return None, brick
    return host or None, "/" + path


# ---------------------------------------------------------------------------- peer status

PEER_PARSER = "gluster peer status"
_PEER_KEYS = ("Number of Peers", "Hostname", "Uuid", "State", "Other names")
_PEER_STATE = re.compile(r"^(?P<state>.*?)\s*\((?P<connection>Connected|Disconnected)\)$")


@dataclass(frozen=True)
class GlusterPeer:
    hostname: str
    uuid: str | None
    state: str  # "Peer in Cluster", "Accepted peer request", "Peer Rejected"…
    connected: bool
    other_names: tuple[str, ...] = ()

    @property
    def in_cluster(self) -> bool:
        return self.state == "Peer in Cluster"


@dataclass(frozen=True)
class PeerStatus:
    number_of_peers: int
    peers: tuple[GlusterPeer, ...]

    def peer(self, hostname: str) -> GlusterPeer | None:
        return next((p for p in self.peers if hostname == p.hostname or hostname in p.other_names), None)

    @property
    def disconnected(self) -> tuple[GlusterPeer, ...]:
        return tuple(p for p in self.peers if not p.connected)


def parse_peer_status(text: str) -> PeerStatus:
    """Parse `gluster peer status`; glusterd down raises `ToolError`."""
    raise_if_tool_error(PEER_PARSER, text, _TOOL_ERRORS)
    count: int | None = None
    peers: list[dict] = []
    in_other_names = False
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line:
            continue
        match = _KEY_VALUE.match(line)
        key = match["key"] if match else None
        if key == "Number of Peers" and count is None and not peers:
            count = _peer_int(number, raw, match["value"])
        elif key == "Hostname":
            peers.append({"hostname": match["value"].strip(), "line_no": number})
            in_other_names = False
        elif key in ("Uuid", "State") and peers:
            peers[-1][key.lower()] = (match["value"].strip(), number, raw)
        elif key == "Other names" and peers:
            in_other_names = True
            peers[-1].setdefault("other_names", [])
        elif in_other_names and key not in _PEER_KEYS and " " not in line:
            peers[-1]["other_names"].append(line)  # one name per line; IPv6 addresses contain ":"
        else:
            raise ParseError(PEER_PARSER, "expected 'Number of Peers:', 'Hostname:', 'Uuid:', 'State:' or 'Other names:'", line_no=number, line=raw)
    if count is None:
        raise ParseError(PEER_PARSER, "no 'Number of Peers:' line")
    return PeerStatus(number_of_peers=count, peers=tuple(_peer(p) for p in peers))


def _peer_int(number: int, raw: str, value: str) -> int:
    if not re.fullmatch(r"[0-9]{1,6}", value.strip()):
        raise ParseError(PEER_PARSER, "'Number of Peers:' must be a number", line_no=number, line=raw)
    return int(value)


def _peer(fields: dict) -> GlusterPeer:
    if "state" not in fields:
        raise ParseError(PEER_PARSER, f"peer {fields['hostname']!r} has no 'State:' line", line_no=fields["line_no"])
    state, number, raw = fields["state"]
    match = _PEER_STATE.match(state)
    if not match:
        raise ParseError(PEER_PARSER, "expected 'State: <state> (Connected|Disconnected)'", line_no=number, line=raw)
    return GlusterPeer(
        hostname=fields["hostname"], uuid=fields["uuid"][0] if "uuid" in fields else None,
        state=match["state"], connected=match["connection"] == "Connected",
        other_names=tuple(fields.get("other_names", ())),
    )


def render_peer_status(status: PeerStatus) -> str:
    out = [f"Number of Peers: {status.number_of_peers}"]
    for peer in status.peers:
        out += ["", f"Hostname: {peer.hostname}"]
        if peer.uuid is not None:
            out.append(f"Uuid: {peer.uuid}")
        out.append(f"State: {peer.state} ({'Connected' if peer.connected else 'Disconnected'})")
        if peer.other_names:
            out += ["Other names:", *peer.other_names]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- volume info

INFO_PARSER = "gluster volume info"
_BRICK_LINE = re.compile(r"^Brick(?P<index>[0-9]{1,6}):\s*(?P<brick>\S.*?)(?P<arbiter>\s+\(arbiter\))?$")
_PLAIN_COUNT = re.compile(r"^(?P<total>[0-9]{1,6})$")
_GROUP_COUNT = re.compile(r"^(?P<groups>[0-9]{1,6}) x (?P<size>[0-9]{1,6}) = (?P<total>[0-9]{1,6})$")
_PLUS_COUNT = re.compile(r"^(?P<groups>[0-9]{1,6}) x \((?P<a>[0-9]{1,6}) \+ (?P<b>[0-9]{1,6})\) = (?P<total>[0-9]{1,6})$")


@dataclass(frozen=True)
class GlusterBrick:
    host: str | None
    path: str
    arbiter: bool = False

    @property
    def name(self) -> str:
        return f"{self.host}:{self.path}" if self.host is not None else self.path


@dataclass(frozen=True)
class GlusterVolume:
    """One volume of `gluster volume info`. `bricks_line` is the "Number of Bricks" text;
    the counts are read from it: "1 x 2 = 2" (replica 2), "2 x (2 + 1) = 6" (replica 3
    with an arbiter), "1 x (4 + 2) = 6" for disperse volumes (data + redundancy)."""

    name: str
    type: str | None
    volume_id: str | None
    status: str | None
    snapshot_count: int | None
    bricks_line: str | None
    transport: str | None
    bricks: tuple[GlusterBrick, ...]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def started(self) -> bool | None:
        """None when the output has no Status line."""
        return None if self.status is None else self.status == "Started"

    @property
    def total_bricks(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts["total"] if counts else None

    @property
    def distribute_count(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts["distribute"] if counts else None

    @property
    def replica_count(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts.get("replica") if counts else None

    @property
    def arbiter_count(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts.get("arbiter") if counts else None

    @property
    def disperse_count(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts.get("disperse") if counts else None

    @property
    def redundancy_count(self) -> int | None:
        counts = _brick_counts(self.bricks_line, self.type)
        return counts.get("redundancy") if counts else None


def _brick_counts(line: str | None, volume_type: str | None) -> dict[str, int] | None:
    if line is None:
        return None
    disperse = "Disperse" in (volume_type or "")
    if match := _PLAIN_COUNT.match(line):
        return {"total": int(match["total"]), "distribute": int(match["total"])}
    if match := _GROUP_COUNT.match(line):
        size = int(match["size"])
        kind = {"disperse": size} if disperse else {"replica": size, "arbiter": 0}
        return {"total": int(match["total"]), "distribute": int(match["groups"]), **kind}
    if match := _PLUS_COUNT.match(line):
        a, b = int(match["a"]), int(match["b"])
        kind = {"disperse": a + b, "redundancy": b} if disperse else {"replica": a + b, "arbiter": b}
        return {"total": int(match["total"]), "distribute": int(match["groups"]), **kind}
    return None


def parse_volume_info(text: str) -> tuple[GlusterVolume, ...]:
    """Parse `gluster volume info [VOL]`: one `GlusterVolume` per "Volume Name:" block."""
    raise_if_tool_error(INFO_PARSER, text, _TOOL_ERRORS)
    lines = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    if [line.strip() for _, line in lines] == ["No volumes present"]:
        return ()
    blocks: list[list[tuple[int, str]]] = []
    for number, raw in lines:
        if raw.strip().startswith("Volume Name:"):
            blocks.append([])
        elif not blocks:
            raise ParseError(INFO_PARSER, "expected 'Volume Name:' first", line_no=number, line=raw)
        blocks[-1].append((number, raw.strip()))
    if not blocks:
        raise ParseError(INFO_PARSER, "empty output")
    return tuple(_parse_volume(block) for block in blocks)


def _parse_volume(block: list[tuple[int, str]]) -> GlusterVolume:
    fields: dict[str, str] = {}
    bricks: list[GlusterBrick] = []
    options: dict[str, str] = {}
    section = "fields"
    for number, line in block:
        if section == "options":
            key, sep, value = line.partition(":")
            if not sep or not key.strip():
                raise ParseError(INFO_PARSER, "expected 'option.name: value'", line_no=number, line=line)
            options[key.strip()] = value.strip()
        elif match := _BRICK_LINE.match(line):
            host, path = _split_brick(match["brick"])
            bricks.append(GlusterBrick(host=host, path=path, arbiter=match["arbiter"] is not None))
        elif re.fullmatch(r"Options Reconfigured\s*:", line):
            section = "options"
        elif line == "Bricks:" or re.fullmatch(r"(?:Hot|Cold) Tier.*:", line):
            continue
        elif match := _KEY_VALUE.match(line):
            fields[match["key"]] = match["value"].strip()
        else:
            raise ParseError(INFO_PARSER, "expected 'Key: value', 'BrickN: host:/path' or options", line_no=number, line=line)
    snapshots = fields.get("Snapshot Count")
    return GlusterVolume(
        name=fields["Volume Name"], type=fields.get("Type"), volume_id=fields.get("Volume ID"),
        status=fields.get("Status"),
        snapshot_count=int(snapshots) if snapshots and re.fullmatch(r"[0-9]{1,9}", snapshots) else None,
        bricks_line=fields.get("Number of Bricks"), transport=fields.get("Transport-type"),
        bricks=tuple(bricks), options=options,
    )


def render_volume_info(volumes: tuple[GlusterVolume, ...]) -> str:
    if not volumes:
        return "No volumes present\n"
    blocks = []
    for volume in volumes:
        lines = [f"Volume Name: {volume.name}"]
        for key, value in (("Type", volume.type), ("Volume ID", volume.volume_id), ("Status", volume.status),
                           ("Snapshot Count", volume.snapshot_count), ("Number of Bricks", volume.bricks_line),
                           ("Transport-type", volume.transport)):
            if value is not None:
                lines.append(f"{key}: {value}")
        lines.append("Bricks:")
        lines += [f"Brick{i}: {b.name}{' (arbiter)' * b.arbiter}" for i, b in enumerate(volume.bricks, start=1)]
        if volume.options:
            lines.append("Options Reconfigured:")
            lines += [f"{key}: {value}" for key, value in volume.options.items()]
        blocks.append("\n".join(lines))
    return "\n" + "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------- volume status

STATUS_PARSER = "gluster volume status"
_STATUS_HEAD = re.compile(r"^Status of volume:\s*(?P<name>\S+)$")
_TASK_HEAD = re.compile(r"^Task Status of Volume\s+(?P<name>\S+)$")
_TABLE_HEAD = re.compile(r"^Gluster process\s+(?:TCP Port\s+RDMA Port|Port)\s+Online\s+Pid$")  # older releases: "Port"
_RULE = re.compile(r"^-{5,}$")
_PORT = r"[0-9]{1,5}|N/A"
# A row may end with a doc annotation: "<---- new brick is online", "<<---- brick is not running".
_NOTE = r"(?:\s+(?P<note><+-.*))?"
_ROW_NEW = re.compile(rf"^(?P<name>.*?\S)\s+(?P<tcp>{_PORT})\s+(?P<rdma>{_PORT})\s+(?P<online>[YN])\s+(?P<pid>[0-9]{{1,9}}|N/A){_NOTE}$")
_ROW_OLD = re.compile(rf"^(?P<name>.*?\S)\s+(?P<tcp>{_PORT})\s+(?P<online>[YN])\s+(?P<pid>[0-9]{{1,9}}|N/A){_NOTE}$")
# How a process row starts: a wrapped name never continues with one of these.
_PROCESS_START = re.compile(r"^(?:Brick \S|[A-Z][\w-]*(?: [A-Z][\w-]*)* (?:Daemon|Server) on \S)")
_DAEMON = re.compile(r"^(?P<kind>.+?) on (?P<host>\S+)$")
_STATUS_ERRORS = (
    re.compile(r"^Locking failed on "), re.compile(r"^Another transaction is in progress"),
    re.compile(r"^Staging failed on "), re.compile(r"^Commit failed on "), re.compile(r"^Error : "),
    re.compile(r"^Volume \S+ is not started"), re.compile(r"^Unlocking failed on "),
)


@dataclass(frozen=True)
class GlusterProcess:
    """A row of the process table: a brick ("Brick host:/path") or a daemon ("Self-heal Daemon on host")."""

    name: str  # "Brick" for bricks, else the daemon kind ("Self-heal Daemon", "NFS Server"…)
    host: str | None
    path: str | None  # brick path, None for daemons
    tcp_port: int | None
    rdma_port: int | None
    online: bool
    pid: int | None

    @property
    def is_brick(self) -> bool:
        return self.name == "Brick"


@dataclass(frozen=True)
class GlusterTask:
    kind: str | None
    id: str | None
    status: str | None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeStatus:
    name: str
    processes: tuple[GlusterProcess, ...]
    tasks: tuple[GlusterTask, ...] = ()

    @property
    def bricks(self) -> tuple[GlusterProcess, ...]:
        return tuple(p for p in self.processes if p.is_brick)

    @property
    def offline_bricks(self) -> tuple[GlusterProcess, ...]:
        return tuple(p for p in self.bricks if not p.online)

    @property
    def all_online(self) -> bool | None:
        """None when the volume lists no process at all (nothing is stated online)."""
        return all(p.online for p in self.processes) if self.processes else None


@dataclass(frozen=True)
class VolumeStatusReport:
    """The volumes of `gluster volume status [all]`, plus the CLI errors printed between them.
    Iterating, len() and indexing go over `volumes`, as for a tuple."""

    volumes: tuple[VolumeStatus, ...]
    errors: tuple[str, ...] = ()

    def __iter__(self):
        return iter(self.volumes)

    def __len__(self) -> int:
        return len(self.volumes)

    def __getitem__(self, index: int) -> VolumeStatus:
        return self.volumes[index]

    def volume(self, name: str) -> VolumeStatus | None:
        return next((v for v in self.volumes if v.name == name), None)


def parse_volume_status(text: str) -> VolumeStatusReport:
    """Parse `gluster volume status [VOL|all]`, including process names wrapped over several lines."""
    content = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    if not any(_STATUS_HEAD.match(line.strip()) for _, line in content):
        if content and [l.strip() for _, l in content] == ["No volumes present"]:
            return VolumeStatusReport(volumes=())
        raise_if_tool_error(STATUS_PARSER, text, _TOOL_ERRORS + _STATUS_ERRORS)
        raise ParseError(STATUS_PARSER, "no 'Status of volume:' line")
    volumes: list[VolumeStatus] = []
    errors: list[str] = []
    state: dict = {}
    for number, raw in content:
        _status_line(number, raw, state, volumes, errors)
    _close_volume(state, volumes)
    return VolumeStatusReport(volumes=tuple(volumes), errors=tuple(errors))


def _status_line(number: int, raw: str, state: dict, volumes: list, errors: list) -> None:
    line = raw.strip()
    if match := _STATUS_HEAD.match(line):
        _close_volume(state, volumes)
        state.update(name=match["name"], processes=[], tasks=[], pending="", section="processes")
    elif any(p.match(line) for p in _STATUS_ERRORS):
        errors.append(line)
    elif "name" not in state:
        raise ParseError(STATUS_PARSER, "expected 'Status of volume:' first", line_no=number, line=raw)
    elif header := _TABLE_HEAD.match(line):
        state["old_layout"] = "RDMA" not in header.group(0)
    elif _RULE.match(line):
        pass
    elif match := _TASK_HEAD.match(line):
        _check_no_pending(state)
        state["section"] = "tasks"
    elif state["section"] == "tasks":
        _task_line(number, raw, state)
    else:
        _process_line(number, raw, state)


def _process_line(number: int, raw: str, state: dict) -> None:
    # The CLI wraps long process names at a fixed width without a marker: a line that does
    # not end with the port/online/pid columns is the start of the next row's name.
    if state["pending"] and _PROCESS_START.match(raw.strip()):
        # the pending row never got its columns: read on, and it would swallow this one
        _check_no_pending(state)
    text = state["pending"] + raw.strip()
    match = (_ROW_OLD if state.get("old_layout") else _ROW_NEW).match(text)
    if not match:
        if len(state["pending"]) > 300:
            raise ParseError(STATUS_PARSER, "expected 'name  port  [rdma port]  Y|N  pid'", line_no=number, line=raw)
        if not state["pending"]:
            state["pending_from"] = (number, raw)
        state["pending"] = text
        return
    state["pending"] = ""
    state["processes"].append(_process(match))


def _process(match: re.Match[str]) -> GlusterProcess:
    name, host, path = match["name"], None, None
    if name.startswith("Brick "):
        host, path = _split_brick(name[len("Brick "):].strip())
        name = "Brick"
    elif daemon := _DAEMON.match(name):
        name, host = daemon["kind"], daemon["host"]
    rdma = match["rdma"] if "rdma" in match.groupdict() else None
    return GlusterProcess(
        name=name, host=host, path=path,
        tcp_port=_port(match["tcp"]), rdma_port=_port(rdma),
        online=match["online"] == "Y", pid=None if match["pid"] == "N/A" else int(match["pid"]),
    )


def _port(value: str | None) -> int | None:
    return None if value in (None, "N/A") else int(value)


def _task_line(number: int, raw: str, state: dict) -> None:
    line = raw.strip()
    if line == "There are no active volume tasks":
        return
    match = _KEY_VALUE.match(line)
    if not match:
        raise ParseError(STATUS_PARSER, "expected 'Task : …', 'ID : …', 'Status : …'", line_no=number, line=raw)
    key, value = match["key"].strip(), match["value"].strip()
    if key == "Task" or not state["tasks"]:
        state["tasks"].append({})
    state["tasks"][-1][key] = value


def _check_no_pending(state: dict) -> None:
    """A row left without its columns is an error, named by the line where it starts."""
    if state.get("pending"):
        number, raw = state["pending_from"]
        reason = f"process row {state['pending']!r} has no port/online/pid columns"
        raise ParseError(STATUS_PARSER, reason, line_no=number, line=raw)


def _close_volume(state: dict, volumes: list) -> None:
    if "name" not in state:
        return
    _check_no_pending(state)
    tasks = tuple(GlusterTask(kind=t.get("Task"), id=t.get("ID"), status=t.get("Status"), fields=t) for t in state["tasks"])
    volumes.append(VolumeStatus(name=state["name"], processes=tuple(state["processes"]), tasks=tasks))
    state.clear()


# ---------------------------------------------------------------------------- heal info

HEAL_PARSER = "gluster volume heal info"
_HEAL_BRICK = re.compile(r"^Brick\s+(?P<brick>\S.*)$")
_HEAL_COUNT = re.compile(
    r"^(?P<key>Number of entries|Number of entries in split-brain|Total Number of entries|"
    r"Number of entries in heal pending|Number of entries possibly healing)\s*:\s*(?P<value>[0-9]{1,12}|-)$"
)
_HEAL_ENTRY = re.compile(r"^(?P<entry>.+?)(?:\s+-\s+(?P<mark>Is in split-brain|Possibly undergoing heal))?$")


@dataclass(frozen=True)
class BrickHeal:
    """One brick of heal info. Counters are None where the variant does not print them,
    or where the brick is unreachable ("Number of entries: -")."""

    brick: str
    status: str | None = None
    entries: tuple[str, ...] = ()
    in_split_brain: tuple[str, ...] = ()
    possibly_healing: tuple[str, ...] = ()
    number_of_entries: int | None = None
    number_in_split_brain: int | None = None
    number_heal_pending: int | None = None
    number_possibly_healing: int | None = None

    @property
    def host(self) -> str | None:
        return _split_brick(self.brick)[0]

    @property
    def path(self) -> str:
        return _split_brick(self.brick)[1]

    @property
    def connected(self) -> bool | None:
        return None if self.status is None else self.status == "Connected"

    @property
    def split_brain_count(self) -> int | None:
        """The stated count, else the entries marked "Is in split-brain" when the brick's list is
        complete (its "Number of entries" is stated); None otherwise."""
        if self.number_in_split_brain is not None:
            return self.number_in_split_brain
        return len(self.in_split_brain) if self.number_of_entries is not None else None


@dataclass(frozen=True)
class HealInfo:
    variant: str  # "info", "split-brain" (info split-brain) or "summary" (info summary)
    bricks: tuple[BrickHeal, ...]

    @property
    def pending_entries(self) -> int | None:
        """Entries waiting for heal on all bricks; None when a brick's count is not stated
        (an unreachable brick's "Number of entries: -", or the split-brain variant)."""
        return _total(b.number_of_entries for b in self.bricks)

    @property
    def split_brain_entries(self) -> int | None:
        """Entries in split-brain on all bricks; None when a brick's is not stated."""
        return _total(b.split_brain_count for b in self.bricks)

    @property
    def unreachable_bricks(self) -> tuple[BrickHeal, ...]:
        """Bricks whose Status is not "Connected" (e.g. "Transport endpoint is not connected")."""
        return tuple(b for b in self.bricks if b.connected is False)


def _total(counts) -> int | None:
    counts = list(counts)
    return None if None in counts else sum(counts)


_HEAL_FIELDS = {
    "Number of entries": "number_of_entries",
    "Total Number of entries": "number_of_entries",
    "Number of entries in split-brain": "number_in_split_brain",
    "Number of entries in heal pending": "number_heal_pending",
    "Number of entries possibly healing": "number_possibly_healing",
}


def parse_heal_info(text: str) -> HealInfo:
    """Parse `gluster volume heal VOL info`, `… info split-brain` or `… info summary`."""
    raise_if_tool_error(HEAL_PARSER, text, _TOOL_ERRORS)
    bricks: list[dict] = []
    keys_seen: set[str] = set()
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line:
            continue
        if match := _HEAL_BRICK.match(line):
            bricks.append({"brick": match["brick"], "entries": [], "split": [], "healing": []})
        elif not bricks:
            raise ParseError(HEAL_PARSER, "expected 'Brick host:/path' first", line_no=number, line=raw)
        elif match := _HEAL_COUNT.match(line):
            keys_seen.add(match["key"])
            bricks[-1][_HEAL_FIELDS[match["key"]]] = None if match["value"] == "-" else int(match["value"])
        elif line.startswith("Status:"):
            bricks[-1]["status"] = line.partition(":")[2].strip()
        else:
            _heal_entry(line, bricks[-1])
    if not bricks:
        raise ParseError(HEAL_PARSER, "no 'Brick' line")
    variant = _heal_variant(keys_seen)
    return HealInfo(variant=variant, bricks=tuple(_brick_heal(b, variant) for b in bricks))


def _heal_entry(line: str, brick: dict) -> None:
    match = _HEAL_ENTRY.match(line)
    assert match is not None  # ".+?" matches any non-empty line
    brick["entries"].append(match["entry"])
    if match["mark"] == "Is in split-brain":
        brick["split"].append(match["entry"])
    elif match["mark"]:
        brick["healing"].append(match["entry"])


def _heal_variant(keys: set[str]) -> str:
    if "Total Number of entries" in keys:
        return "summary"
    if "Number of entries in split-brain" in keys and "Number of entries" not in keys:
        return "split-brain"
    return "info"


def _brick_heal(fields: dict, variant: str) -> BrickHeal:
    split = fields["split"] if variant != "split-brain" else fields["entries"]
    return BrickHeal(
        brick=fields["brick"], status=fields.get("status"), entries=tuple(fields["entries"]),
        in_split_brain=tuple(split), possibly_healing=tuple(fields["healing"]),
        number_of_entries=fields.get("number_of_entries"),
        number_in_split_brain=fields.get("number_in_split_brain"),
        number_heal_pending=fields.get("number_heal_pending"),
        number_possibly_healing=fields.get("number_possibly_healing"),
    )
