"""The Docker registry's HTTP API answers (distribution's /v2/_catalog) → typed facts."""

from __future__ import annotations

import json

from .errors import ParseError


def parse_catalog(body: bytes | str) -> tuple[str, ...]:
    """The repository names of a `GET /v2/_catalog` answer."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ParseError("registry catalog", f"not JSON ({error})") from None
    repositories = data.get("repositories") if isinstance(data, dict) else None
    if not isinstance(repositories, list) or not all(isinstance(name, str) for name in repositories):
        raise ParseError("registry catalog", 'expected {"repositories": [names]}')
    return tuple(repositories)
