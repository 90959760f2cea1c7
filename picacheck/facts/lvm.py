"""LVM's JSON reports: `lvs`/`pvs --reportformat json` → typed facts."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .errors import ParseError


@dataclass(frozen=True)
class LvmVolume:
    vg: str
    lv: str
    dm_path: str | None  # /dev/mapper/vg-lv, when the report has the lv_dm_path column


@dataclass(frozen=True)
class LvmPhysicalVolume:
    device: str
    vg: str | None  # None: a PV in no volume group


def _report_rows(parser: str, text: str, kind: str) -> list[dict]:
    """The rows of the first report of an LVM JSON report (`{"report": [{kind: [...]}]}`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ParseError(parser, f"not a JSON report ({error.msg} at char {error.pos})") from None
    try:
        rows = data["report"][0][kind]
    except (KeyError, IndexError, TypeError):
        raise ParseError(parser, f'expected {{"report": [{{"{kind}": [...]}}]}}') from None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise ParseError(parser, f'"{kind}" is not a list of rows')
    return rows


def _field(parser: str, row: dict, name: str) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value:
        raise ParseError(parser, f"a row lacks {name}: {row!r}"[:200])
    return value


def parse_lvs_report(text: str) -> tuple[LvmVolume, ...]:
    """`lvs --reportformat json -o vg_name,lv_name[,lv_dm_path]`."""
    rows = _report_rows("lvs", text, "lv")
    return tuple(LvmVolume(_field("lvs", row, "vg_name"), _field("lvs", row, "lv_name"), row.get("lv_dm_path") or None)
                 for row in rows)


def parse_pvs_report(text: str) -> tuple[LvmPhysicalVolume, ...]:
    """`pvs --reportformat json -o pv_name,vg_name`."""
    rows = _report_rows("pvs", text, "pv")
    return tuple(LvmPhysicalVolume(_field("pvs", row, "pv_name"), row.get("vg_name") or None) for row in rows)
