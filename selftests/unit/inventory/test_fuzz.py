"""Fuzzing `picacheck inventory check` with mutated inventories (issue 13).

Each case starts from inventory/picasoft.yml or from the lab's rendered inventory and
changes it the ways people and tools break files: keys deleted, duplicated or added,
values of another type or odd scalars, the text cut short, odd literals, bytes flipped.
Whatever the result, the command ends with exit 0 and one OK line, or with exit 2 and one
line on stderr that names the file: never a traceback, never a hang (each case is bounded).

Every case goes through `cli.main` in this process (the loader, then the CLI's handling of
its UserError: any other exception would escape main() and fail the test); a few go through
a real `python -m picacheck.cli` to show the exit status a shell sees. The examples are
derived from the test's name (derandomize), so CI runs the same ones every time.
`pytest --hypothesis-show-statistics` shows how many were accepted and refused.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from picacheck import cli

from .samples import PRODUCTION, LAB_PARTS, bounded, lab_parts_up

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when present: the fuzz spends its time loading

# Values of every type, and strings that look like what a field wants but are not.
ODD_VALUES = [
    None, True, False, 0, -1, 1, 2, 65536, 2**64, 1.5, -0.0, float("inf"), float("-inf"), float("nan"),
    "", " ", "\t", "x", "a b", "*", "-", "~", "null", "yes", "0", "22", "1e400", "0x10",
    "999.1.1.1", "not-an-ip", "10.0.0.1/99", "10.0.0.1/24", "::1", "fe80::1%eth0", "[::1]:80", "1.2.3.4:0",
    "every night", "* * * * *", "@reboot", "0 25 * * *", "../../etc/passwd", "/tmp/a b", "/DATA;reboot",
    "alice", "pica01", "H1", "mysql", "production", "lab", "é", "\x00", "\u202e", "a" * 5000,
    [], [None], [1, "a"], ["alice", "alice"], {}, {"name": "x"}, {"": None},
]
ODD_KEYS = ["bogus", "x-extra", "", "a b", "<<", "name", "hosts", 1, True, None, "é"]
# Literals written straight into the text: what cannot survive a YAML round trip.
ODD_TEXT = [
    "9" * 5000, "0x" + "f" * 5000, ".inf", ".nan", "2024-02-30", "!!binary ===", "!!set {a}", "*nowhere",
    "&anchor", "[" * 300, "{a: " * 300, "'unterminated", '"\\q"', "|", "? [a]", "@x", "`x`", "!!python/object:os.system",
    "&a [*a]", "{a: 1, a: 2}", "- x", ": :",
    "{? 0x" + "f" * 5000 + ": 1, ? 0x" + "f" * 5000 + ": 2}",  # a key too long for repr(), twice
]


@cache
def base(name: str) -> str:
    """The YAML text a case starts from."""
    if name == "production":
        return PRODUCTION.read_text()
    with tempfile.TemporaryDirectory() as folder, lab_parts_up(LAB_PARTS) as lab_inventory:
        return lab_inventory.write_lab_inventory(Path(folder) / "lab.yml").read_text()


def _places(node, path=()):
    """Every place in the data: a tuple of keys and list indexes from the top."""
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _places(child, path + (key,))


def _at(data, path):
    for key in path:
        data = data[key]
    return data


@st.composite
def data_mutant(draw, data):
    """The data with one key deleted, one value replaced or one key added."""
    data = copy.deepcopy(data)
    places = list(_places(data))
    action = draw(st.sampled_from(["delete", "replace", "add"]))
    if action == "add":
        mappings = [place for place in places if isinstance(_at(data, place), dict)]
        _at(data, draw(st.sampled_from(mappings)))[draw(st.sampled_from(ODD_KEYS))] = draw(st.sampled_from(ODD_VALUES))
        return data, "added key"
    place = draw(st.sampled_from(places[1:]))
    parent = _at(data, place[:-1])
    if action == "delete":
        del parent[place[-1]]
        return data, "deleted key"
    parent[place[-1]] = draw(st.sampled_from(ODD_VALUES))
    return data, "replaced value"


@st.composite
def text_mutant(draw, text):
    """The text with a key duplicated, an odd literal, a cut, or flipped bytes."""
    lines = text.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if re.match(r"\s*-?\s*[\w-]+:", line)]
    action = draw(st.sampled_from(["duplicate key", "duplicate block", "odd literal", "truncate", "flip bytes"]))
    if action in ("duplicate key", "duplicate block"):
        i = draw(st.sampled_from(keyed))
        indent = len(lines[i]) - len(lines[i].lstrip(" -"))
        end = i + 1
        while action == "duplicate block" and end < len(lines) and (
                len(lines[end]) - len(lines[end].lstrip(" -")) > indent or not lines[end].strip()):
            end += 1
        copied = [" " * indent + lines[i].lstrip(" -")] + lines[i + 1:end]
        return "".join(lines[:end] + copied + lines[end:]).encode(), action
    if action == "odd literal":
        i = draw(st.sampled_from(keyed))
        key = lines[i].split(":", 1)[0]
        lines[i] = f"{key}: {draw(st.sampled_from(ODD_TEXT))}\n"
        return "".join(lines).encode(), action
    data = bytearray(text.encode())
    if action == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))]), action
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    return bytes(data), action


@st.composite
def mutants(draw) -> bytes:
    """A mutated inventory file: one to three changes to its data, then maybe one to its text."""
    name = draw(st.sampled_from(["production", "lab"]))
    text = base(name)
    kinds = []
    if draw(st.booleans()):
        data = yaml.safe_load(text)
        for _ in range(draw(st.integers(1, 3))):
            data, kind = draw(data_mutant(data))
            kinds.append(kind)
        text = yaml.dump(data, Dumper=DUMPER, sort_keys=False, allow_unicode=draw(st.booleans()))
    if not kinds or draw(st.booleans()):
        content, kind = draw(text_mutant(text))
        kinds.append(kind)
    else:
        content = text.encode()
    event(f"base: {name}")
    for kind in kinds:
        event(f"mutation: {kind}")
    return content


def _check_outcome(path: Path, status: int, out: str, err: str) -> None:
    """Exit 0 with one OK line, or exit 2 with one line on stderr naming the file."""
    if status == 0:
        event("accepted")
        assert err == "" and len(out.splitlines()) == 1 and out.startswith(f"{path}: OK: "), (out, err)
    else:
        event("refused")
        assert status == 2 and out == "", (status, out, err)
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"picacheck: error: {path}: "), err
        assert "Traceback" not in err


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(content=mutants())
def test_mutated_inventories_through_inventory_check(content, folder, capsys):
    path = folder / "mutant.yml"
    path.write_bytes(content)
    capsys.readouterr()  # capsys is shared by the examples: start each one empty
    with bounded(20):
        status = cli.main(["inventory", "check", str(path)])
    captured = capsys.readouterr()
    _check_outcome(path, status, captured.out, captured.err)


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(content=mutants())
def test_mutated_inventories_through_a_real_process(content, folder):
    path = folder / "process.yml"
    path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "picacheck.cli", "inventory", "check", str(path)],
                            capture_output=True, text=True, timeout=60)
    _check_outcome(path, result.returncode, result.stdout, result.stderr)
