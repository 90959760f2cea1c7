"""Where the facts tests find their samples (see selftests/data/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "selftests" / "data"
# Traefik configs are people's files: the shared set is read in place, never copied here;
# the samples this project collected itself are in selftests/data/traefik.
TRAEFIK = REPO / ".." / "shared" / "fixtures" / "traefik"
OWN_TRAEFIK = DATA / "traefik"


def data_files(kind: str) -> list[str]:
    return sorted(p.name for p in (DATA / kind).iterdir() if p.is_file())


def read(kind: str, name: str) -> str:
    return (DATA / kind / name).read_text(encoding="utf-8")


def traefik_files() -> list[str]:
    return sorted(p.name for p in TRAEFIK.iterdir()) if TRAEFIK.is_dir() else []


def own_traefik_files() -> list[str]:
    return data_files("traefik")


def read_traefik(name: str) -> str:
    """A Traefik sample: ours (selftests/data/traefik) or the shared set's."""
    folder = OWN_TRAEFIK if (OWN_TRAEFIK / name).is_file() else TRAEFIK
    if not folder.is_dir():
        pytest.skip("../shared is absent")
    # newline="" keeps CRLF files as they are: the parser must cope with them
    with open(folder / name, encoding="utf-8", newline="") as file:
        return file.read()
