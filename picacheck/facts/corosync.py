"""Corosync: quorum status (`corosync-quorumtool -s`, `pvecm status`, `pcs quorum status`,
`crm corosync status`) → `QuorumStatus`, and corosync.conf(5) → `CorosyncConf`.

The quorum status is a series of titled sections ("Quorum information" underlined with
"-" or, in the pve-docs, "~") of "Key: value" lines, ending with the membership table
"Nodeid Votes [Qdevice] Name". `pvecm status` adds a "Cluster information" section;
`crm corosync status` starts with the ring status of `corosync-cfgtool -s`. The Qdevice
row of the table (node id 0, name "Qdevice") is not a member: it is `QuorumStatus.qdevice`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ._text import numbered_lines, raise_if_tool_error, to_int
from .errors import ParseError

QUORUM_PARSER = "corosync quorum status"
CONF_PARSER = "corosync.conf"

_TITLE_RULE = re.compile(r"^[-~=]{3,}$")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z ]*?):(?:\s+(?P<value>.*))?$")
_MEMBER_HEADER = re.compile(r"^Nodeid\s+Votes(?P<qdevice>\s+Qdevice)?\s+Name$")
_NODE_ID = r"0x[0-9a-fA-F]{1,16}|[0-9]{1,20}"
_MEMBER_ROW = re.compile(
    rf"^(?P<nodeid>{_NODE_ID})\s+(?P<votes>[0-9]{{1,9}})\s+(?:(?P<qdevice>[A-Z]+(?:,[A-Z]+)*)\s+)??"
    r"(?P<name>\S+)(?:\s+\((?:(?P<local>local)|votes (?P<qdevice_votes>[0-9]{1,9}))\))?$"
)
_RING_HEADER = re.compile(r"^(?:Printing (?:ring|link) status\.|Local node ID (?P<nodeid>[0-9]{1,20})(?:,.*)?)$")
_RING_ID = re.compile(r"^(?:RING|LINK) ID (?P<ring>[0-9]{1,5})\b.*$")
_RING_FIELD = re.compile(r"^(?P<key>id|addr|status)\s*[=:]\s*(?P<value>.*)$")
_LINK_NODE = re.compile(r"^nodeid:\s*(?P<nodeid>[0-9]{1,20}):\s*(?P<state>.*)$")  # corosync 3 link status
_QUORUM_VALUE = re.compile(r"^(?P<quorum>[0-9]{1,9})(?P<blocked>\s+Activity blocked)?$")

_TOOL_ERRORS = (
    re.compile(r"^Cannot initialize (?:QUORUM|CMAP|CFG|VOTEQUORUM) service"),
    re.compile(r"^Error: "),
    re.compile(r"^Unable to "),
    re.compile(r"^ipcc_send_rec\["),
    re.compile(r"^Could not connect to "),
)


@dataclass(frozen=True)
class QuorumMember:
    """A row of the membership table. `qdevice` is the Qdevice column ("A,V,NMW", "NR"), if shown."""

    nodeid: int
    votes: int | None
    name: str
    local: bool = False
    qdevice: str | None = None


@dataclass(frozen=True)
class QdeviceVotes:
    """The Qdevice row: the votes it gives now, and the votes it would give ("Qdevice (votes 1)")."""

    votes: int
    configured_votes: int | None = None


@dataclass(frozen=True)
class RingStatus:
    """One ring (corosync 2) or link (corosync 3 knet) of `corosync-cfgtool -s`."""

    ring_id: int
    address: str | None = None
    status: str | None = None

    @property
    def faulty(self) -> bool:
        return self.status is not None and "FAULTY" in self.status.upper()


@dataclass(frozen=True)
class QuorumStatus:
    quorate: bool
    provider: str | None = None
    date: str | None = None
    nodes: int | None = None
    node_id: int | None = None
    ring_id: str | None = None
    expected_votes: int | None = None
    highest_expected: int | None = None
    total_votes: int | None = None
    quorum: int | None = None
    activity_blocked: bool = False
    flags: tuple[str, ...] | None = ()  # None: no "Flags:" line (not stated); () an empty one
    members: tuple[QuorumMember, ...] = ()
    qdevice: QdeviceVotes | None = None
    cluster_name: str | None = None  # pvecm status "Cluster information"
    config_version: int | None = None
    transport: str | None = None
    secure_auth: str | None = None
    local_node_id: int | None = None  # crm corosync status ring part
    rings: tuple[RingStatus, ...] = ()

    @property
    def two_node(self) -> bool | None:
        return None if self.flags is None else "2Node" in self.flags

    @property
    def wait_for_all(self) -> bool | None:
        return None if self.flags is None else "WaitForAll" in self.flags

    @property
    def local_member(self) -> QuorumMember | None:
        return next((m for m in self.members if m.local), None)

    def member(self, name_or_id: str | int) -> QuorumMember | None:
        return next((m for m in self.members if name_or_id in (m.name, m.nodeid)), None)


def parse_quorum_status(text: str) -> QuorumStatus:
    """Parse `corosync-quorumtool -s`, `pvecm status`, `pcs quorum status` or `crm corosync status`."""
    raise_if_tool_error(QUORUM_PARSER, text, _TOOL_ERRORS)
    keys: dict[str, str] = {}
    members: list[QuorumMember] = []
    rings: list[RingStatus] = []
    values: dict = {}
    table: bool | None = None  # None before the membership header, else: has a Qdevice column
    lines = [(n, line) for n, line in numbered_lines(text) if line.strip()]
    for index, (number, raw) in enumerate(lines):
        line = raw.strip()
        following = lines[index + 1][1].strip() if index + 1 < len(lines) else ""
        if _TITLE_RULE.match(line) or _TITLE_RULE.match(following) and ":" not in line:
            continue  # a section title or its underline
        if header := _MEMBER_HEADER.match(line):
            table = header["qdevice"] is not None
        elif table is not None:
            _add_member_row(number, raw, table, members, values)
        elif _parse_ring_line(line, rings, values):
            continue
        elif match := _KEY_VALUE.match(line):
            keys[match["key"].strip()] = (match["value"] or "").strip()
        else:
            raise ParseError(QUORUM_PARSER, "expected 'Key: value', a section title or the membership table", line_no=number, line=raw)
    if "Quorate" not in keys:
        raise ParseError(QUORUM_PARSER, "no 'Quorate:' line: this is not a quorum status")
    return _status_from_keys(keys, tuple(members), tuple(rings), values)


def _add_member_row(number: int, raw: str, has_qdevice_column: bool, members: list, values: dict) -> None:
    match = _MEMBER_ROW.match(raw.strip())
    if not match:
        raise ParseError(QUORUM_PARSER, "expected a membership row 'Nodeid Votes [Qdevice] Name'", line_no=number, line=raw)
    nodeid = to_int(match["nodeid"])
    assert nodeid is not None
    if nodeid == 0 and match["name"] == "Qdevice":
        configured = int(match["qdevice_votes"]) if match["qdevice_votes"] else None
        values["qdevice"] = QdeviceVotes(votes=int(match["votes"]), configured_votes=configured)
        return
    if match["qdevice_votes"]:
        raise ParseError(QUORUM_PARSER, "'(votes N)' only belongs to the Qdevice row", line_no=number, line=raw)
    if match["qdevice"] and not has_qdevice_column:
        raise ParseError(QUORUM_PARSER, "a Qdevice column value but no Qdevice column in the header", line_no=number, line=raw)
    members.append(QuorumMember(
        nodeid=nodeid, votes=int(match["votes"]), name=match["name"],
        local=match["local"] is not None, qdevice=match["qdevice"],
    ))


def _parse_ring_line(line: str, rings: list[RingStatus], values: dict) -> bool:
    """The `corosync-cfgtool -s` part of `crm corosync status`; True when the line was one of it."""
    if header := _RING_HEADER.match(line):
        if header["nodeid"]:
            values["local_node_id"] = int(header["nodeid"])
        return True
    if ring := _RING_ID.match(line):
        rings.append(RingStatus(ring_id=int(ring["ring"])))
        return True
    if rings and (match := _LINK_NODE.match(line)):
        last = rings[-1]
        node = f"node {match['nodeid']} {match['state'].strip()}".strip()
        rings[-1] = RingStatus(last.ring_id, last.address, f"{last.status}; {node}" if last.status else node)
        return True
    if rings and (match := _RING_FIELD.match(line)):
        last = rings[-1]
        if match["key"] in ("id", "addr"):
            rings[-1] = RingStatus(last.ring_id, match["value"].strip(), last.status)
        else:
            status = match["value"].strip()
            rings[-1] = RingStatus(last.ring_id, last.address, f"{last.status} {status}".strip() if last.status else status)
        return True
    return False


def _status_from_keys(keys: dict[str, str], members: tuple, rings: tuple, values: dict) -> QuorumStatus:
    def number(key: str) -> int | None:
        return to_int(keys.get(key, ""))

    quorate = keys["Quorate"].lower()
    if quorate not in ("yes", "no"):
        raise ParseError(QUORUM_PARSER, f"'Quorate:' must be Yes or No, got {keys['Quorate']!r}")
    quorum, blocked = None, False
    if keys.get("Quorum"):
        match = _QUORUM_VALUE.match(keys["Quorum"])
        if not match:
            raise ParseError(QUORUM_PARSER, f"'Quorum:' must be a number, got {keys['Quorum']!r}")
        quorum, blocked = int(match["quorum"]), match["blocked"] is not None
    return QuorumStatus(
        quorate=quorate == "yes", provider=keys.get("Quorum provider"), date=keys.get("Date"),
        nodes=number("Nodes"), node_id=number("Node ID"), ring_id=keys.get("Ring ID"),
        expected_votes=number("Expected votes"), highest_expected=number("Highest expected"),
        total_votes=number("Total votes"), quorum=quorum, activity_blocked=blocked,
        flags=tuple(keys["Flags"].split()) if "Flags" in keys else None, members=members, qdevice=values.get("qdevice"),
        cluster_name=keys.get("Name"), config_version=number("Config Version"),
        transport=keys.get("Transport"), secure_auth=keys.get("Secure auth"),
        local_node_id=values.get("local_node_id"), rings=rings,
    )


def render_quorum_status(status: QuorumStatus) -> str:
    """Write `status` as `corosync-quorumtool -s` does (with pvecm's "Cluster information" when set)."""
    out: list[str] = []
    cluster = [("Name", status.cluster_name), ("Config Version", status.config_version),
               ("Transport", status.transport), ("Secure auth", status.secure_auth)]
    if any(value is not None for _, value in cluster):
        out += _section("Cluster information", cluster)
    out += _section("Quorum information", [
        ("Date", status.date), ("Quorum provider", status.provider), ("Nodes", status.nodes),
        ("Node ID", status.node_id), ("Ring ID", status.ring_id), ("Quorate", "Yes" if status.quorate else "No"),
    ])
    quorum = None if status.quorum is None else f"{status.quorum}{' Activity blocked' * status.activity_blocked}"
    out += _section("Votequorum information", [
        ("Expected votes", status.expected_votes), ("Highest expected", status.highest_expected),
        ("Total votes", status.total_votes), ("Quorum", quorum),
        ("Flags", None if status.flags is None else " ".join(status.flags)),
    ])
    out += ["Membership information", "----------------------", _member_header(status)]
    out += [_member_row(status, m) for m in status.members]
    if status.qdevice is not None:
        suffix = f" (votes {status.qdevice.configured_votes})" if status.qdevice.configured_votes is not None else ""
        qdevice_column = " " * 11 if _has_qdevice_column(status) else ""
        out.append(f"{0:>10} {status.qdevice.votes:>10}{qdevice_column} Qdevice{suffix}")
    return "\n".join(out) + "\n"


def _section(title: str, items: list[tuple[str, object]]) -> list[str]:
    lines = [title, "-" * len(title)]
    lines += [f"{key + ':':<17} {value}".rstrip() for key, value in items if value is not None]
    return lines + [""]


def _has_qdevice_column(status: QuorumStatus) -> bool:
    return any(m.qdevice is not None for m in status.members)


def _member_header(status: QuorumStatus) -> str:
    return "    Nodeid      Votes    Qdevice Name" if _has_qdevice_column(status) else "    Nodeid      Votes Name"


def _member_row(status: QuorumStatus, member: QuorumMember) -> str:
    qdevice = f" {member.qdevice or '':>10}" if _has_qdevice_column(status) else ""
    local = " (local)" if member.local else ""
    return f"{member.nodeid:>10} {member.votes:>10}{qdevice} {member.name}{local}"


# ---------------------------------------------------------------------------- corosync.conf

# Sections that corosync allows more than once: always lists, even when written once.
LIST_SECTIONS = frozenset({"node", "interface", "logger_subsys"})

_SECTION_OPEN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)\s*\{$")
_SECTION_CLOSE = re.compile(r"^\}$")
_OPTION = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+)\s*:\s*(?P<value>.*)$")


@dataclass(frozen=True)
class CorosyncNode:
    name: str | None
    nodeid: int | None
    quorum_votes: int | None
    ring0_addr: str | None
    ring1_addr: str | None = None


@dataclass(frozen=True)
class CorosyncConf:
    """`sections` is the whole file as nested dicts: options are strings, a sub-section is a
    dict, a repeated option or sub-section is a list, and node/interface/logger_subsys
    sections are always lists."""

    sections: dict = field(default_factory=dict)

    def get(self, path: str, default: str | None = None) -> str | None:
        """An option by dotted path, e.g. "totem.cluster_name" (first element of lists)."""
        node: object = self.sections
        for part in path.split("."):
            if isinstance(node, list):
                node = node[0] if node else None
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        if isinstance(node, list):
            node = node[-1] if node else None
        return node if isinstance(node, str) else default

    @property
    def cluster_name(self) -> str | None:
        return self.get("totem.cluster_name")

    @property
    def config_version(self) -> int | None:
        return to_int(self.get("totem.config_version", "") or "")

    @property
    def two_node(self) -> bool:
        return self.get("quorum.two_node") == "1"

    @property
    def provider(self) -> str | None:
        return self.get("quorum.provider")

    @property
    def transport(self) -> str | None:
        return self.get("totem.transport")

    @property
    def secauth(self) -> bool | None:
        value = self.get("totem.secauth")
        return None if value is None else value.lower() in ("on", "yes", "1")

    @property
    def crypto_cipher(self) -> str | None:
        return self.get("totem.crypto_cipher")

    @property
    def crypto_hash(self) -> str | None:
        return self.get("totem.crypto_hash")

    @property
    def authenticated(self) -> bool:
        """secauth on, or both crypto_cipher and crypto_hash set to something other than "none"."""
        crypto = all(v not in (None, "none") for v in (self.crypto_cipher, self.crypto_hash))
        return bool(self.secauth) or crypto

    @property
    def nodes(self) -> tuple[CorosyncNode, ...]:
        nodelist = self.sections.get("nodelist")
        if isinstance(nodelist, list):
            nodelist = nodelist[0] if nodelist else {}
        entries = nodelist.get("node", []) if isinstance(nodelist, dict) else []
        return tuple(_node(entry) for entry in entries if isinstance(entry, dict))


def _node(entry: dict) -> CorosyncNode:
    def text(key: str) -> str | None:
        value = entry.get(key)
        return value if isinstance(value, str) else None

    return CorosyncNode(
        name=text("name"), nodeid=to_int(text("nodeid") or ""), quorum_votes=to_int(text("quorum_votes") or ""),
        ring0_addr=text("ring0_addr"), ring1_addr=text("ring1_addr"),
    )


def parse_corosync_conf(text: str) -> CorosyncConf:
    """Parse corosync.conf: "name {" … "}" sections, "key: value" options, "#" comment lines."""
    root: dict = {}
    stack: list[tuple[str, dict, int]] = []  # (name, dict, line number) of open sections
    current = root
    for number, raw in numbered_lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if match := _SECTION_OPEN.match(line):
            child: dict = {}
            _add(current, match["name"], child, section=True)
            stack.append((match["name"], current, number))
            current = child
        elif _SECTION_CLOSE.match(line):
            if not stack:
                raise ParseError(CONF_PARSER, "'}' without an open section", line_no=number, line=raw)
            current = stack.pop()[1]
        elif match := _OPTION.match(line):
            _add(current, match["key"], match["value"].strip(), section=False)
        else:
            raise ParseError(CONF_PARSER, "expected 'name {', '}' or 'key: value'", line_no=number, line=raw)
    if stack:
        name, _, number = stack[-1]
        raise ParseError(CONF_PARSER, f"section '{name}' opened on line {number} is never closed")
    return CorosyncConf(sections=root)


def _add(container: dict, key: str, value: object, *, section: bool) -> None:
    if section and key in LIST_SECTIONS:
        existing = container.setdefault(key, [])
        if not isinstance(existing, list):
            existing = container[key] = [existing]
        existing.append(value)
    elif key in container:
        existing = container[key]
        container[key] = existing + [value] if isinstance(existing, list) else [existing, value]
    else:
        container[key] = value
