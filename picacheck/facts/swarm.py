"""Docker Swarm CLI text → facts: `docker node ls`, `docker service ps`, and the Swarm part
of `docker info`.

The suite asks the Docker API where it answers; these parsers read the text forms (logs,
evidence, hosts where only the CLI is reachable). Tables are cut where the header's
column names start: docker prints them with a tabwriter, so a cell starts at its column,
and a cell that overflows (an untruncated error message) still starts where it should.
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
_CELL = re.compile(r"\S+(?: \S+)*")  # words joined by single spaces; columns are 2+ spaces apart


def _cells(line: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group()) for m in _CELL.finditer(line)]


def _table(parser: str, header_line: str, rows: list[tuple[int, str]]) -> list[dict[str, str]]:
    """Cut each row at the header's column starts: {column name: cell text} (absent cells are "")."""
    columns = _cells(header_line)
    table = []
    for number, raw in rows:
        row = {name: "" for _, name in columns}
        for start, text in _cells(raw):
            name = _column_at(columns, start)
            if name is None:
                raise ParseError(parser, "a cell starts before the first column", line_no=number, line=raw)
            row[name] = f"{row[name]}  {text}".strip() if row[name] else text
        table.append(row)
    return table


def _column_at(columns: list[tuple[int, str]], start: int) -> str | None:
    # Two columns of slack: hand-edited copies (docs) shift a cell left by a character or two,
    # and column starts are always at least four apart ("ID" plus padding).
    name = None
    for column_start, column_name in columns:
        if column_start <= start + _SLACK:
            name = column_name
    return name


# ---------------------------------------------------------------------------- node ls

NODE_LS_PARSER = "docker node ls"


@dataclass(frozen=True)
class SwarmNode:
    """A row of `docker node ls`. In the 1.12-dev layout (NAME, MEMBERSHIP, LEADER columns) the
    hostname comes from NAME and a "Yes" in LEADER makes `manager_status` "Leader", as later
    releases print it."""

    id: str
    self: bool
    hostname: str
    status: str
    availability: str
    manager_status: str | None
    engine_version: str | None = None
    membership: str | None = None

    @property
    def is_manager(self) -> bool:
        return self.manager_status is not None

    @property
    def is_leader(self) -> bool:
        return self.manager_status == "Leader"

    @property
    def ready(self) -> bool:
        return self.status == "Ready"


def parse_node_ls(text: str) -> tuple[SwarmNode, ...]:
    """Parse `docker node ls` (header required)."""
    raise_if_tool_error(NODE_LS_PARSER, text, _TOOL_ERRORS)
    lines = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    if not lines:
        raise ParseError(NODE_LS_PARSER, "empty output")
    number, header = lines[0]
    names = [name for _, name in _cells(header)]
    if not names or names[0] != "ID" or "STATUS" not in names or not {"HOSTNAME", "NAME"} & set(names):
        raise ParseError(NODE_LS_PARSER, "expected a header 'ID  HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS…'", line_no=number, line=header)
    return tuple(_node(row) for row in _table(NODE_LS_PARSER, header, lines[1:]))


def _node(row: dict[str, str]) -> SwarmNode:
    node_id, marked = row["ID"], False
    if node_id.endswith(" *"):
        node_id, marked = node_id[:-2], True
    manager = row.get("MANAGER STATUS") or None
    if row.get("LEADER", "").lower() == "yes":
        manager = "Leader"
    return SwarmNode(
        id=node_id, self=marked, hostname=row.get("HOSTNAME") or row.get("NAME", ""),
        status=row.get("STATUS", ""), availability=row.get("AVAILABILITY", ""),
        manager_status=manager, engine_version=row.get("ENGINE VERSION") or None,
        membership=row.get("MEMBERSHIP") or None,
    )


# ---------------------------------------------------------------------------- service ps

SERVICE_PS_PARSER = "docker service ps"
_SERVICE_PS_COLUMNS = ("ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS")
_HISTORY = re.compile(r"^\\_\s+")


@dataclass(frozen=True)
class SwarmTask:
    """A row of `docker service ps`. `history` is True for the "\\_ name" rows (earlier tasks of the slot)."""

    id: str
    name: str
    image: str
    node: str
    desired_state: str
    current_state: str  # "Running 6 seconds ago"
    error: str | None = None
    ports: str | None = None
    history: bool = False

    @property
    def state(self) -> str:
        """The first word of the current state: "Running", "Rejected", "Failed"…"""
        return self.current_state.split(" ")[0] if self.current_state else ""

    @property
    def running(self) -> bool:
        return self.state == "Running"


def parse_service_ps(text: str) -> tuple[SwarmTask, ...]:
    """Parse `docker service ps`; rows without their header are split on runs of 2+ spaces."""
    raise_if_tool_error(SERVICE_PS_PARSER, text, _TOOL_ERRORS)
    lines = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    if not lines:
        raise ParseError(SERVICE_PS_PARSER, "empty output")
    if lines[0][1].lstrip().startswith("ID "):
        rows = _table(SERVICE_PS_PARSER, lines[0][1], lines[1:])
    else:
        rows = [_headerless_row(number, raw) for number, raw in lines]
    return tuple(_task(row) for row in rows)


def _headerless_row(number: int, raw: str) -> dict[str, str]:
    cells = [text for _, text in _cells(raw)]
    if not 6 <= len(cells) <= len(_SERVICE_PS_COLUMNS):
        raise ParseError(SERVICE_PS_PARSER, "expected 6 to 8 columns (ID NAME IMAGE NODE DESIRED CURRENT [ERROR PORTS])", line_no=number, line=raw)
    return dict(zip(_SERVICE_PS_COLUMNS, cells))


def _task(row: dict[str, str]) -> SwarmTask:
    name = row.get("NAME", "")
    history = bool(_HISTORY.match(name))
    error = row.get("ERROR") or None
    if error and len(error) >= 2 and error[0] == error[-1] == '"':
        error = error[1:-1]
    return SwarmTask(
        id=row.get("ID", ""), name=_HISTORY.sub("", name), image=row.get("IMAGE", ""), node=row.get("NODE", ""),
        desired_state=row.get("DESIRED STATE", ""), current_state=row.get("CURRENT STATE", ""),
        error=error, ports=row.get("PORTS") or None, history=history,
    )


# ---------------------------------------------------------------------------- docker info

DOCKER_INFO_PARSER = "docker info"
_INFO_LINE = re.compile(r"^(?P<indent> *)(?P<key>[^:]+?):(?:\s+(?P<value>.*))?$")


@dataclass(frozen=True)
class SwarmInfo:
    """The "Swarm:" part of `docker info`. `error` is the "Error:" line that a manager out of
    quorum prints; `fields` keeps every direct "Key: value" of the section."""

    state: str  # inactive, pending, active, error, locked
    node_id: str | None = None
    is_manager: bool | None = None
    cluster_id: str | None = None
    managers: int | None = None
    nodes: int | None = None
    node_address: str | None = None
    manager_addresses: tuple[str, ...] = ()
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.state == "active"


def parse_docker_info_swarm(text: str) -> SwarmInfo:
    """Parse the Swarm section of `docker info` (old flat layout and the Client:/Server: layout)."""
    raise_if_tool_error(DOCKER_INFO_PARSER, text, _TOOL_ERRORS)
    lines = numbered_lines(text)
    start = next((i for i, (_, line) in enumerate(lines) if re.match(r"^ *Swarm: ", line)), None)
    if start is None:
        raise ParseError(DOCKER_INFO_PARSER, "no 'Swarm:' line (is this `docker info` of a daemon?)")
    swarm_indent = len(lines[start][1]) - len(lines[start][1].lstrip(" "))
    state = lines[start][1].strip().partition(":")[2].strip()
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
    return _swarm_info(state, fields, tuple(addresses))


def _swarm_info(state: str, fields: dict[str, str], addresses: tuple[str, ...]) -> SwarmInfo:
    def number(key: str) -> int | None:
        value = fields.get(key, "")
        return int(value) if re.fullmatch(r"[0-9]{1,9}", value) else None

    manager = fields.get("Is Manager")
    return SwarmInfo(
        state=state, node_id=fields.get("NodeID") or None,
        is_manager=None if manager is None else manager.lower() == "true",
        cluster_id=fields.get("ClusterID") or None, managers=number("Managers"), nodes=number("Nodes"),
        node_address=fields.get("Node Address") or None, manager_addresses=addresses,
        error=fields.get("Error") or None,
    )
