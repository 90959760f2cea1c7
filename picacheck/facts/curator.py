"""Elasticsearch Curator jobs in a shell script (a /etc/cron.daily job) → `CuratorCommand`s.

Reads the `curator_cli … ACTION --filter_list JSON` commands (curator_cli's singleton
actions, as in curator 5's documentation), split as sh would (picacheck/facts/_shell.py); the filter list is JSON (or the YAML flow form that
curator also accepts). An index-age filter is read into `age_filters`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import yaml

from ._shell import shell_commands
from .errors import ParseError

PARSER = "curator job"


@dataclass(frozen=True)
class AgeFilter:
    direction: str | None  # "older" / "younger"
    unit: str | None  # "days", "hours", …
    unit_count: int | None
    source: str | None  # "creation_date", "name", "field_stats"


@dataclass(frozen=True)
class CuratorCommand:
    action: str  # "delete_indices", "close", …
    filters: tuple[dict, ...]
    line_no: int

    @property
    def age_filters(self) -> tuple[AgeFilter, ...]:
        return tuple(AgeFilter(f.get("direction"), f.get("unit"), _int(f.get("unit_count")), f.get("source"))
                     for f in self.filters if f.get("filtertype") == "age")

    def deletes_older_than(self, days: int) -> bool:
        """Deletes indices older than `days` days."""
        return self.action == "delete_indices" and any(
            f.direction == "older" and f.unit == "days" and f.unit_count == days for f in self.age_filters)


def parse_curator_script(text: str) -> tuple[CuratorCommand, ...]:
    commands = []
    for line_no, words in shell_commands(text):
        if not words[0].endswith("curator_cli"):
            continue
        action = _action(words)
        if action is None:
            raise ParseError(PARSER, "curator_cli without an action", line_no=line_no)
        filters = _after(words, "--filter_list")
        commands.append(CuratorCommand(action, _filters(filters, line_no) if filters is not None else (), line_no))
    return tuple(commands)


# curator_cli's options that take a value (the others are flags: --dry-run, --use_ssl, …).
_VALUED_OPTIONS = ("--config", "--host", "--port", "--url_prefix", "--certificate", "--client-cert", "--client-key",
                   "--http_auth", "--timeout", "--loglevel", "--logfile", "--logformat", "--filter_list")


def _action(words: list[str]) -> str | None:
    """The first word after curator_cli that is neither an option nor an option's value."""
    for index, word in enumerate(words[1:], start=1):
        if not word.startswith("-") and words[index - 1] not in _VALUED_OPTIONS:
            return word
    return None


def _after(words: list[str], option: str) -> str | None:
    for index, word in enumerate(words):
        if word == option and index + 1 < len(words):
            return words[index + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None


def _filters(text: str, line_no: int) -> tuple[dict, ...]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        try:
            value = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError, OverflowError):
            raise ParseError(PARSER, "--filter_list is neither JSON nor YAML", line_no=line_no, line=text) from None
    value = [value] if isinstance(value, dict) else value
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ParseError(PARSER, "--filter_list must be a list of filters", line_no=line_no, line=text)
    return tuple(value)


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
