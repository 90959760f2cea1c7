"""The discovered inventory as YAML with comments, without a comment-preserving YAML library:
block mappings and lists written here, every scalar (and short lists of scalars) written by
`yaml.safe_dump`, so that quoting is PyYAML's own and the file loads back to `tree.plain()`.
"""

from __future__ import annotations

import yaml

from picacheck.discover.tree import Noted, Unknown

INDENT = "  "
FLOW_WIDTH = 100  # a list of scalars up to this width is written on one line: [a, b, c]


def render(tree: dict, header: list[str] = ()) -> str:
    """The YAML text: `header` as comment lines, then one block per top-level key."""
    lines = [f"# {line}".rstrip() for line in header]
    for key, value in tree.items():
        if lines:
            lines.append("")
        lines += _entry(key, value, 0)
    return "\n".join(lines) + "\n"


def scalar(value) -> str:
    """One scalar (or a list of scalars, or an empty mapping) as YAML flow text."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, allow_unicode=True, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _is_flat(value) -> bool:
    return isinstance(value, (list, tuple)) and all(not isinstance(v, (dict, list, tuple, Noted, Unknown)) for v in value)


def _comment(note: str) -> str:
    return f"  # {note}" if note else ""


def _entry(key, value, depth: int) -> list[str]:
    pad = INDENT * depth
    name = scalar(key)
    if isinstance(value, Unknown):
        return [f"{pad}# {name}: {value.example}{_comment(value.reason)}"]
    note = ""
    if isinstance(value, Noted):
        value, note = value.value, value.note
    if isinstance(value, dict) and value:
        return [f"{pad}{name}:{_comment(note)}"] + _mapping(value, depth + 1)
    if isinstance(value, (list, tuple)) and value and not (_is_flat(value) and len(scalar(list(value))) <= FLOW_WIDTH):
        return [f"{pad}{name}:{_comment(note)}"] + _sequence(value, depth + 1)
    shown = scalar(list(value) if isinstance(value, tuple) else value)
    return [f"{pad}{name}: {shown}{_comment(note)}"]


def _mapping(mapping: dict, depth: int) -> list[str]:
    lines = []
    for key, value in mapping.items():
        lines += _entry(key, value, depth)
    return lines


def _sequence(items, depth: int) -> list[str]:
    pad = INDENT * depth
    lines = []
    for item in items:
        note = ""
        if isinstance(item, Noted):
            item, note = item.value, item.note
        if isinstance(item, dict) and item:
            body = _mapping(item, depth + 1)
            # "- " takes the place of the first key's indentation (comment lines stay as they are).
            first = next((i for i, line in enumerate(body) if not line.lstrip().startswith("#")), None)
            if first is None:
                body.append(f"{pad}- {{}}")
            else:
                body[first] = f"{pad}- {body[first].lstrip()}"
            lines += ([f"{pad}# {note}"] if note else []) + body
        elif isinstance(item, (list, tuple)) and item:
            lines += [f"{pad}-{_comment(note)}"] + _sequence(item, depth + 1)
        else:
            lines.append(f"{pad}- {scalar(item)}{_comment(note)}")
    return lines
