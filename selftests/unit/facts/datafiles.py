"""Where the facts tests find their samples (see selftests/data/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "selftests" / "data"
# Traefik configs are people's files: read in place from the shared set, never copied here.
TRAEFIK = REPO / ".." / "shared" / "fixtures" / "traefik"


def data_files(kind: str) -> list[str]:
    return sorted(p.name for p in (DATA / kind).iterdir() if p.is_file())


def read(kind: str, name: str) -> str:
    return (DATA / kind / name).read_text(encoding="utf-8")


def traefik_files() -> list[str]:
    return sorted(p.name for p in TRAEFIK.iterdir()) if TRAEFIK.is_dir() else []


def read_traefik(name: str) -> str:
    if not TRAEFIK.is_dir():
        pytest.skip("../shared is absent")
    # newline="" keeps CRLF files as they are: the parser must cope with them
    with open(TRAEFIK / name, encoding="utf-8", newline="") as file:
        return file.read()
