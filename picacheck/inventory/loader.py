"""Load an inventory file into the typed model, with errors a person can act on.

Every failure becomes a `UserError` whose one line starts with the file name, then the key
or line and what was expected, e.g.
``inventory/x.yml: hosts.alice.ssh.address: missing (a value is required)`` or
``inventory/x.yml: line 40: duplicate key 'environment' (first at line 1)``.

The file is read defensively, as it may be anything a user typed after `--inventory`: a
directory, a FIFO (opening it would wait for a writer), /dev/zero (endless), a binary file.
Only a regular UTF-8 file of at most MAX_BYTES is read, and its YAML is refused when keys
repeat (YAML keeps the last one silently: a second `environment:` block would turn a
production inventory into a lab one) or when it nests deeper than MAX_DEPTH or expands
(through aliases) to more than MAX_NODES values.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml
from pydantic import ValidationError

from picacheck.errors import UserError
from picacheck.inventory.model import InconsistentInventory, Inventory
from picacheck.inventory.values import shown

MAX_BYTES = 1024 * 1024  # the production inventory is 8 KiB
MAX_DEPTH = 32  # levels of nested mappings and lists (production: 7)
MAX_NODES = 100_000  # values once aliases are expanded (production: about 700)
MAX_SHOWN = 5  # problems listed in one error line

_EXPLAINED = {
    "missing": "missing (a value is required)",
    "extra_forbidden": "unknown key (a typo? see picacheck/inventory/model.py for the keys)",
}


def load_inventory(path: str | Path) -> Inventory:
    if str(path) == "":  # Path("") is the current directory
        raise UserError("'': no inventory file given (an empty path)")
    path = Path(path)
    data = _read_yaml(path)
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as error:
        raise UserError(_line(path, describe_validation_error(error))) from None
    return _resolve_paths(inventory, path)


# --- reading the file --------------------------------------------------------------------


def _line(path: Path, text: str) -> str:
    """`file: text` on one line, whatever the file name and the text hold."""
    name = str(path)
    name = name if name.isprintable() else shown(name, limit=200)
    return f"{name}: {text}".replace("\r", "\\r").replace("\n", "\\n")


def _read_text(path: Path) -> str:
    """The file's text; stat() first, so that a FIFO or a device is never opened."""
    try:
        kind = os.stat(path).st_mode
        if stat.S_ISREG(kind):
            # O_NONBLOCK: had the file become a FIFO since stat(), open() would not wait.
            with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY), "rb") as file:
                kind = os.fstat(file.fileno()).st_mode
                data = file.read(MAX_BYTES + 1) if stat.S_ISREG(kind) else b""
    except FileNotFoundError:
        raise UserError(_line(path, "inventory file not found")) from None
    except OSError as error:
        raise UserError(_line(path, f"cannot read the inventory ({error.strerror or error})")) from None
    except ValueError:  # a NUL byte in the name
        raise UserError(_line(path, "not a usable file name")) from None
    if stat.S_ISDIR(kind):
        raise UserError(_line(path, "is a directory, not an inventory file"))
    if not stat.S_ISREG(kind):
        raise UserError(_line(path, "not a regular file (a device, FIFO or socket?), not an inventory"))
    if len(data) > MAX_BYTES:
        raise UserError(_line(path, f"larger than {MAX_BYTES // 2**20} MiB, not an inventory"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UserError(_line(path, f"line {line}: not UTF-8 text (byte {data[error.start]:#04x})")) from None


def _read_yaml(path: Path) -> dict:
    text = _read_text(path)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 -- a SafeLoader
    except _Refused as error:
        raise UserError(_line(path, f"line {error.problem_mark.line + 1}: {error.problem}")) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UserError(_line(path, f"{where}not valid YAML ({problem})")) from None
    except RecursionError:  # MAX_DEPTH keeps it from happening; a traceback must not, whatever the input
        raise UserError(_line(path, "nested too deep")) from None
    if not isinstance(data, dict):
        raise UserError(_line(path, "expected a mapping with 'environment' and 'hosts' at the top"))
    # Top-level "x-" keys only hold YAML anchors shared by several hosts (as in compose files).
    return {key: value for key, value in data.items() if not (isinstance(key, str) and key.startswith("x-"))}


class _Refused(yaml.MarkedYAMLError):
    """YAML that parses but that an inventory must not be: `problem` says why."""

    def __init__(self, problem: str, mark):
        super().__init__(problem=problem, problem_mark=mark)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses repeated keys, deep nesting, alias bombs and unreadable numbers."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._checked: set[int] = set()

    def compose_node(self, parent, index):
        # The composer recurses once per level: stop before Python's recursion limit does.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _measure(node, 1, {})
        return node

    def flatten_mapping(self, node):
        # Called on each mapping before it is built (and before `<<:` merges are copied into
        # it): its own keys are the ones written in the file. Merged keys may be overridden.
        if id(node) not in self._checked:
            self._checked.add(id(node))
            first_line: dict = {}
            for key_node, _ in node.value:
                key = "<<" if key_node.tag == "tag:yaml.org,2002:merge" else self.construct_object(key_node, deep=True)
                try:
                    if key in first_line:
                        raise _Refused(f"duplicate key {shown(key)} (first at line {first_line[key]})",
                                       key_node.start_mark)
                    first_line[key] = key_node.start_mark.line + 1
                except TypeError:  # a list or mapping as key: SafeLoader refuses it with its own message
                    continue
        super().flatten_mapping(node)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except ValueError as error:  # int("5000 digits"), a date like 2024-02-30
            if node.tag == "tag:yaml.org,2002:int":
                raise _Refused("a number with too many digits", node.start_mark) from None
            raise _Refused(f"cannot read the value {shown(node.value)} ({error})", node.start_mark) from None


def _measure(node, depth: int, seen: dict) -> tuple[int, int]:
    """(levels below, values) of `node` with aliases expanded; refuses loops and bombs.

    An alias shares its node, so a 1 KiB file of aliases of aliases can stand for 10^9
    values ("billion laughs"): the model would take hours to walk them.
    """
    if depth > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels (through aliases)", node.start_mark)
    key = id(node)
    if key in seen:
        if seen[key] is None:
            raise _Refused("an alias inside the value it refers to (an endless value)", node.start_mark)
        height, count = seen[key]
        if depth + height > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels (through aliases)", node.start_mark)
        return seen[key]
    seen[key] = None
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    height, count = 0, 1
    for child in children:
        child_height, child_count = _measure(child, depth + 1, seen)
        height, count = max(height, child_height + 1), count + child_count
        if count > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES} values once aliases are expanded", node.start_mark)
    seen[key] = (height, count)
    return seen[key]


# --- describing the model's errors -------------------------------------------------------


def describe_validation_error(error: ValidationError) -> str:
    """All problems on one line: `key: what was expected; key: …` (the first MAX_SHOWN)."""
    parts = []
    for problem in error.errors():
        cause = problem.get("ctx", {}).get("error")
        if isinstance(cause, InconsistentInventory):
            parts += cause.problems  # they carry their own keys
            continue
        key = _key(problem["loc"])
        message = _EXPLAINED.get(problem["type"], problem["msg"]).removeprefix("Value error, ")
        parts.append(f"{key}: {message}")
    more = f"; and {len(parts) - MAX_SHOWN} more" if len(parts) > MAX_SHOWN else ""
    return "; ".join(parts[:MAX_SHOWN]) + more


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,60}")  # other keys are quoted: 'a b', '10.0.0.1'


def _key(loc: tuple) -> str:
    """hosts.alice.ssh.address; a bad mapping key as `hosts: key 'a b'`."""
    if loc and loc[-1] == "[key]":
        return f"{_key(loc[:-2]) if len(loc) > 2 else '(top level)'}: key {shown(loc[-2])}"
    parts = [str(part) if isinstance(part, int) or _PLAIN_KEY.fullmatch(part) else shown(part) for part in loc]
    return ".".join(parts) or "(top level)"


# --- paths relative to the inventory -----------------------------------------------------


def _resolve_paths(inventory: Inventory, path: Path) -> Inventory:
    """Key and CA files may be written relative to the inventory or with `~`."""
    base = path.parent

    def resolve(value: str | None, key: str) -> str | None:
        if value is None:
            return None
        try:
            candidate = Path(value).expanduser()
            return str(candidate if candidate.is_absolute() else (base / candidate).resolve())
        except (RuntimeError, OSError):  # ~someone without a home here, a symlink loop
            raise UserError(_line(path, f"{key}: cannot find the file {shown(value)} from here")) from None

    hosts = {}
    for name, host in inventory.hosts.items():
        key_file = resolve(host.ssh.key_file, f"hosts.{name}.ssh.key_file")
        hosts[name] = host.model_copy(update={"ssh": host.ssh.model_copy(update={"key_file": key_file})})
    updates: dict = {"hosts": hosts}
    updates["tls"] = inventory.tls.model_copy(update={"ca_file": resolve(inventory.tls.ca_file, "tls.ca_file")})
    if inventory.registry:
        updates["registry"] = inventory.registry.model_copy(
            update={
                "ca_file": resolve(inventory.registry.ca_file, "registry.ca_file"),
                "password_file": resolve(inventory.registry.password_file, "registry.password_file"),
            }
        )
    return inventory.model_copy(update=updates)
