"""Docker Swarm CLI text → facts: `docker node ls`, `docker service ps`, and the Swarm part
of `docker info`.

The suite asks the Docker API where it answers; these parsers read the text forms (logs,
evidence, hosts where only the CLI is reachable). Tables are cut where the header's
column names start: docker prints them with a tabwriter, so a cell starts at its column,
and a cell that overflows (an untruncated error message) still starts where it should.
A column the header does not have is unknown (None), an empty cell is "" or None as said
per field.

Layouts read: `docker node ls` of 1.12-dev (NAME, MEMBERSHIP, LEADER) and of 1.12 to today
(HOSTNAME, ENGINE VERSION since 17.06); `docker service ps` of 1.12 (SERVICE, LAST STATE,
"SERVICE IMAGE" one space apart in the header) and of 1.13 to today (CURRENT STATE, ERROR,
PORTS), with or without its header; `docker info` with the flat layout (1.12, 1.13) or the
Client:/Server: one (17.x+), and without any Swarm line (daemons before 1.12, a classic
Swarm manager): the swarm state is then unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import numbered_lines, raise_if_tool_error
from .errors import ParseError

_TOOL_ERRORS = (
    re.compile(r"^Cannot connect to the Docker daemon"),
    re.compile(r"^Error response from daemon: "),
    re.compile(r"^(?:ERROR|Error): "),
    re.compile(r"^permission denied while trying to connect to the Docker daemon"),
    re.compile(r"^docker: command not found"),
)
_SLACK = 2
_WORD = re.compile(r"\S+")
_CELL = re.compile(r"\S+(?: \S+)*")  # words joined by single spaces; columns are 2+ spaces apart


def _cells(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in _CELL.finditer(line)]


def _columns(header: str, known: tuple[str, ...]) -> list[tuple[int, str]]:
    """(start, name) of each header column. A header cell made of several known names one
    space apart ("SERVICE IMAGE" in docker 1.12) is several columns; an unknown name is kept."""
    columns: list[tuple[int, str]] = []
    for start, cell in _cells(header):
        words = [(start + m.start(), m.group()) for m in _WORD.finditer(cell)]
        while words:
            size = next((n for n in range(len(words), 0, -1) if " ".join(w for _, w in words[:n]) in known), None)
            if size is None:  # not a name docker prints: keep the rest of the cell as one column
                size = len(words)
            columns.append((words[0][0], " ".join(w for _, w in words[:size])))
            words = words[size:]
    return columns


def _table(parser: str, columns: list[tuple[int, str]], rows: list[tuple[int, str]]) -> list[dict[str, str]]:
    """Cut each row at the column starts: {column name: cell text} ("" for an empty cell)."""
    starts = {start for start, _ in columns}
    table = []
    for number, raw in rows:
        row = {name: "" for _, name in columns}
        for start, text in _split_at(_cells(raw), starts):
            name = _column_at(columns, start)
            if name is None:
                raise ParseError(parser, "a cell starts before the first column", line_no=number, line=raw)
            row[name] = f"{row[name]}  {text}".strip() if row[name] else text
        table.append(row)
    return table


def _split_at(cells: list[tuple[int, str]], starts: set[int]) -> list[tuple[int, str]]:
    # The tabwriter pads the widest cell of a column with one space only: a word that starts
    # exactly where a column starts begins the next cell ("redis redis:3.0.6").
    split = []
    for start, text in cells:
        words = [(start + m.start(), m.group()) for m in _WORD.finditer(text)]
        group = [words[0]]
        for position, word in words[1:]:
            if position in starts:
                split.append((group[0][0], " ".join(w for _, w in group)))
                group = []
            group.append((position, word))
        split.append((group[0][0], " ".join(w for _, w in group)))
    return split


def _column_at(columns: list[tuple[int, str]], start: int) -> str | None:
    # Two columns of slack: hand-edited copies (docs) shift a cell left by a character or two,
    # and column starts are always at least four apart ("ID" plus padding).
    name = None
    for column_start, column_name in columns:
        if column_start <= start + _SLACK:
            name = column_name
    return name


def _content_lines(parser: str, text: str) -> list[tuple[int, str]]:
    raise_if_tool_error(parser, text, _TOOL_ERRORS)
    lines = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    if not lines:
        raise ParseError(parser, "empty output")
    return lines


# ---------------------------------------------------------------------------- node ls

NODE_LS_PARSER = "docker node ls"
NODE_LS_COLUMNS = ("ID", "HOSTNAME", "NAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "MEMBERSHIP", "LEADER",
                   "ENGINE VERSION")


@dataclass(frozen=True)
class SwarmNode:
    """A row of `docker node ls`. In the 1.12-dev layout (NAME, MEMBERSHIP, LEADER columns) the
    hostname comes from NAME and a "Yes" in LEADER makes `manager_status` "Leader", as later
    releases print it. `manager_status` None is an empty cell (a worker); whether the node is a
    manager is unknown (`is_manager` None) when the header has no MANAGER STATUS column."""

    id: str
    self: bool
    hostname: str
    status: str | None
    availability: str | None
    manager_status: str | None
    engine_version: str | None = None
    membership: str | None = None
    manager_column: bool = True

    @property
    def is_manager(self) -> bool | None:
        return self.manager_status is not None if self.manager_column else None

    @property
    def is_leader(self) -> bool | None:
        return self.manager_status == "Leader" if self.manager_column else None

    @property
    def ready(self) -> bool | None:
        return None if self.status is None else self.status == "Ready"

    @property
    def active(self) -> bool | None:
        """Available for tasks (neither paused nor drained)."""
        return None if self.availability is None else self.availability == "Active"


def parse_node_ls(text: str) -> tuple[SwarmNode, ...]:
    """Parse `docker node ls` (header required)."""
    lines = _content_lines(NODE_LS_PARSER, text)
    number, header = lines[0]
    columns = _columns(header, NODE_LS_COLUMNS)
    names = [name for _, name in columns]
    if not names or names[0] != "ID" or not {"HOSTNAME", "NAME"} & set(names):
        raise ParseError(NODE_LS_PARSER, "expected a header 'ID  HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS…'",
                         line_no=number, line=header)
    return tuple(_node(row) for row in _table(NODE_LS_PARSER, columns, lines[1:]))


def _node(row: dict[str, str]) -> SwarmNode:
    node_id, marked = row["ID"], False
    if node_id.endswith(" *"):
        node_id, marked = node_id[:-2], True
    manager = row.get("MANAGER STATUS") or None
    if (row.get("LEADER") or "").lower() == "yes":
        manager = "Leader"
    hostname = row["HOSTNAME"] if "HOSTNAME" in row else row["NAME"]
    return SwarmNode(
        id=node_id, self=marked, hostname=hostname, status=row.get("STATUS"), availability=row.get("AVAILABILITY"),
        manager_status=manager, engine_version=row.get("ENGINE VERSION") or None,
        membership=row.get("MEMBERSHIP") or None, manager_column="MANAGER STATUS" in row or "LEADER" in row,
    )


# ---------------------------------------------------------------------------- service ps

SERVICE_PS_PARSER = "docker service ps"
SERVICE_PS_COLUMNS = ("ID", "NAME", "SERVICE", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "LAST STATE",
                      "ERROR", "PORTS")
# Without its header (a paste that lost it) a row is read in today's column order.
_HEADERLESS_COLUMNS = ("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS")
_HISTORY = re.compile(r"^\\_\s+")


@dataclass(frozen=True)
class SwarmTask:
    """A row of `docker service ps`. `history` is True for the "\\_ name" rows (earlier tasks
    of the slot). A field whose column the output does not have is None; `current_state` is
    docker 1.12's LAST STATE. `service` is the SERVICE column that only 1.12 printed."""

    id: str
    name: str
    image: str | None
    node: str | None
    desired_state: str | None
    current_state: str | None  # "Running 6 seconds ago"
    error: str | None = None
    ports: str | None = None
    history: bool = False
    service: str | None = None

    @property
    def state(self) -> str | None:
        """The current state as Docker names it in its API: "running", "rejected", "failed"…
        (the CLI's first word of CURRENT STATE, "Running 6 seconds ago", in lower case)."""
        return self.current_state.split(" ")[0].lower() if self.current_state else None

    @property
    def running(self) -> bool | None:
        return None if self.state is None else self.state == "running"


def parse_service_ps(text: str) -> tuple[SwarmTask, ...]:
    """Parse `docker service ps`; rows without their header are split on runs of 2+ spaces."""
    lines = _content_lines(SERVICE_PS_PARSER, text)
    if lines[0][1].lstrip().startswith("ID "):
        rows = _table(SERVICE_PS_PARSER, _columns(lines[0][1], SERVICE_PS_COLUMNS), lines[1:])
    else:
        rows = [_headerless_row(number, raw) for number, raw in lines]
    return tuple(_task(row) for row in rows)


def _headerless_row(number: int, raw: str) -> dict[str, str]:
    cells = [text for _, text in _cells(raw)]
    if not 6 <= len(cells) <= len(_HEADERLESS_COLUMNS):
        raise ParseError(SERVICE_PS_PARSER, "expected 6 to 8 columns (ID NAME IMAGE NODE DESIRED CURRENT [ERROR PORTS])",
                         line_no=number, line=raw)
    return dict(zip(_HEADERLESS_COLUMNS, cells))


def _task(row: dict[str, str]) -> SwarmTask:
    name = row.get("NAME", "")
    error = row.get("ERROR") or None
    if error and len(error) >= 2 and error[0] == error[-1] == '"':
        error = error[1:-1]
    current = row["CURRENT STATE"] if "CURRENT STATE" in row else row.get("LAST STATE")
    return SwarmTask(
        id=row.get("ID", ""), name=_HISTORY.sub("", name), image=row.get("IMAGE"), node=row.get("NODE"),
        desired_state=row.get("DESIRED STATE"), current_state=current, error=error,
        ports=row.get("PORTS") or None, history=bool(_HISTORY.match(name)), service=row.get("SERVICE") or None,
    )


# ---------------------------------------------------------------------------- docker info

DOCKER_INFO_PARSER = "docker info"
_INFO_LINE = re.compile(r"^(?P<indent> *)(?P<key>[^:]+?):(?:\s+(?P<value>.*))?$")
_SWARM_LINE = re.compile(r"^(?P<indent> *)Swarm:(?:\s+(?P<state>.*))?$")
# Lines that every `docker info` prints, with or without swarm mode (1.9 to today).
_INFO_KEYS = re.compile(r"^ *(?:Containers|Images|Server Version|Storage Driver|Kernel Version|Operating System):")


@dataclass(frozen=True)
class SwarmInfo:
    """The "Swarm:" part of `docker info`. `state` is None when the output says nothing of swarm
    mode (no Swarm line before docker 1.12, an empty one from a classic Swarm manager). `error`
    is the "Error:" line that a manager out of quorum prints."""

    state: str | None  # inactive, pending, active, error, locked
    node_id: str | None = None
    is_manager: bool | None = None
    cluster_id: str | None = None
    managers: int | None = None
    nodes: int | None = None
    node_address: str | None = None
    manager_addresses: tuple[str, ...] = ()
    error: str | None = None

    @property
    def active(self) -> bool | None:
        return None if self.state is None else self.state == "active"


def parse_docker_info_swarm(text: str) -> SwarmInfo:
    """Parse the Swarm section of `docker info` (old flat layout and the Client:/Server: layout)."""
    raise_if_tool_error(DOCKER_INFO_PARSER, text, _TOOL_ERRORS)
    lines = numbered_lines(text)
    start = next((i for i, (_, line) in enumerate(lines) if _SWARM_LINE.match(line)), None)
    if start is None:
        if not any(_INFO_KEYS.match(line) for _, line in lines):
            first = next(((n, line) for n, line in lines if line.strip()), (None, None))
            raise ParseError(DOCKER_INFO_PARSER, "expected `docker info` output ('Containers: …', 'Swarm: …')",
                             line_no=first[0], line=first[1])
        return SwarmInfo(state=None)  # a daemon that predates swarm mode
    head = _SWARM_LINE.match(lines[start][1])
    assert head is not None
    swarm_indent = len(head["indent"])
    fields: dict[str, str] = {}
    addresses: list[str] = []
    child_indent: int | None = None
    in_addresses = False
    for number, raw in lines[start + 1:]:
        indent = len(raw) - len(raw.lstrip(" "))
        if not raw.strip() or indent <= swarm_indent:
            break
        child_indent = indent if child_indent is None else child_indent
        if indent == child_indent:
            match = _INFO_LINE.match(raw)
            if not match:
                raise ParseError(DOCKER_INFO_PARSER, "expected 'Key: value' in the Swarm section", line_no=number, line=raw)
            fields[match["key"].strip()] = (match["value"] or "").strip()
            in_addresses = match["key"].strip() == "Manager Addresses"
        elif in_addresses:
            addresses.append(raw.strip())
    return _swarm_info(head["state"] or None, fields, tuple(addresses))


def _swarm_info(state: str | None, fields: dict[str, str], addresses: tuple[str, ...]) -> SwarmInfo:
    def number(key: str) -> int | None:
        value = fields.get(key, "")
        return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None

    # "Is Manager: true" since 1.12.0; the release candidates printed "IsManager: Yes"
    manager = (fields.get("Is Manager") or fields.get("IsManager") or "").lower()
    return SwarmInfo(
        state=state, node_id=fields.get("NodeID") or None,
        is_manager={"true": True, "yes": True, "false": False, "no": False}.get(manager),
        cluster_id=fields.get("ClusterID") or None, managers=number("Managers"), nodes=number("Nodes"),
        node_address=fields.get("Node Address") or None, manager_addresses=addresses,
        error=fields.get("Error") or None,
    )


# ---------------------------------------------------------------------------- the Docker API
#
# The same facts from the Docker Engine API's JSON (what the probes read over SSH): a node
# of GET /nodes, a task of GET /tasks, a service of GET /services. Values are put as the
# CLI prints them (it titles the API's words: "ready" → "Ready"), so that a fact reads the
# same from either source.

API_PARSER = "docker API"


@dataclass(frozen=True)
class SwarmService:
    """A service of the Swarm with the tasks asked for (those Swarm wants running)."""

    name: str
    mode: str  # "global" / "replicated"
    replicas: int | None
    tasks: tuple[SwarmTask, ...]
    networks: tuple[str, ...]  # network names
    published_ports: tuple[int, ...]
    labels: dict
    image: str | None = None  # without its pinned digest


def node_from_api(attrs: dict, self_id: str | None = None) -> SwarmNode:
    """A node of the API (`self_id`: the ID of the node asked, when known; else `self` is
    False for every node)."""
    try:
        manager = attrs.get("ManagerStatus")
        if manager:
            manager_status = "Leader" if manager.get("Leader") else _title(manager.get("Reachability"))
        else:
            manager_status = None
        return SwarmNode(
            id=attrs["ID"], self=attrs["ID"] == self_id, hostname=attrs["Description"]["Hostname"],
            status=_title(attrs["Status"]["State"]), availability=_title(attrs["Spec"]["Availability"]),
            manager_status=manager_status,
            engine_version=(attrs["Description"].get("Engine") or {}).get("EngineVersion"),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ParseError(API_PARSER, f"a node without {error}") from None


def task_from_api(task: dict, service: str, node_names: dict[str, str]) -> SwarmTask:
    """A task of the API, named as `docker service ps` names it (service.slot, or
    service.node-id for a global service); its node by hostname where known."""
    try:
        node_id = task.get("NodeID", "")
        slot = task.get("Slot")
        status = task["Status"]
        return SwarmTask(
            id=task["ID"], name=f"{service}.{slot if slot else node_id}",
            image=image_without_digest(task["Spec"]["ContainerSpec"]["Image"]),
            node=node_names.get(node_id, node_id or None), desired_state=_title(task["DesiredState"]),
            current_state=_title(status["State"]), error=status.get("Err") or None, service=service,
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ParseError(API_PARSER, f"a task of {service} without {error}") from None


def service_from_api(attrs: dict, tasks: list[dict], node_names: dict[str, str],
                     network_names: dict[str, str]) -> SwarmService:
    try:
        spec = attrs["Spec"]
        name = spec["Name"]
        template = spec["TaskTemplate"]
        ports = (spec.get("EndpointSpec") or {}).get("Ports") or []
        return SwarmService(
            name=name,
            mode="global" if "Global" in spec["Mode"] else "replicated",
            replicas=(spec["Mode"].get("Replicated") or {}).get("Replicas"),
            tasks=tuple(task_from_api(task, name, node_names) for task in tasks),
            networks=tuple(network_names.get(n["Target"], n["Target"]) for n in template.get("Networks") or []),
            published_ports=tuple(port["PublishedPort"] for port in ports if "PublishedPort" in port),
            labels=dict(spec.get("Labels") or {}),
            image=image_without_digest(template["ContainerSpec"]["Image"]),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise ParseError(API_PARSER, f"a service without {error}") from None


def image_without_digest(reference: str) -> str:
    """"tx-etherpad:1.8@sha256:…" → "tx-etherpad:1.8" (how the CLI shows a service's image)."""
    return reference.split("@", 1)[0]


def tagged(reference: str) -> str:
    """The reference as a node's image store lists it: a reference without a tag means
    ":latest" ("registry:5000/tx-debian" → "registry:5000/tx-debian:latest")."""
    reference = image_without_digest(reference)
    last = reference.rsplit("/", 1)[-1]
    return reference if ":" in last else f"{reference}:latest"


def _title(word: str | None) -> str | None:
    return word.capitalize() if isinstance(word, str) and word else None
