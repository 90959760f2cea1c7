"""What a backup job's command line says: the source an rsync pull copies, the directory
vzdump writes to. Read from the command of a cron entry (facts.crontab), shell-split.

    rsync -avzh --progress 192.168.10.2:/SAVE/dump/* /SAVE/dump/ >> log 2>&1
        → RsyncPull(address "192.168.10.2", path "/SAVE/dump", user None, destination "/SAVE/dump")
    vzdump --all --mode snapshot --dumpdir /SAVE/dump --quiet 1
        → VzdumpJob(dumpdir "/SAVE/dump", vms "all")

Anything else (no remote source, an rsync daemon's host::module, unbalanced quotes) is
None: not such a job, or not one these words can read.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_REMOTE = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<address>\[[0-9A-Fa-f:.]+\]|[^@/:\s\[\]]+):(?P<path>/.*)$")
_COMMAND_ENDS = {"|", ";", "&&", "||", "&"}
# rsync options written apart from their value: the value is no source nor destination.
_RSYNC_VALUED = {"-e", "--rsh", "--exclude", "--include", "--filter", "-f", "--rsync-path", "--password-file",
                 "--log-file", "--bwlimit", "--timeout", "--port", "--exclude-from", "--include-from", "--files-from"}


@dataclass(frozen=True)
class RsyncPull:
    address: str  # the host pulled from, as written (a name or an address)
    path: str  # the directory copied, without its trailing "/" or "/*"
    user: str | None
    destination: str | None


def _words(command: str) -> list[str] | None:
    """The words of the first command of a shell line, without its redirections (`>> log 2>&1`)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    try:
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote
        return None
    kept: list[str] = []
    redirected = False
    for token in tokens:
        if token in _COMMAND_ENDS:
            break
        if redirected:  # the file (or &1) a redirection names
            redirected = False
            continue
        if set(token) <= set("<>&") and ("<" in token or ">" in token):
            redirected = True
            if kept and kept[-1].isdigit():  # the 2 of 2>&1
                kept.pop()
            continue
        kept.append(token)
    return kept


def _directory(path: str) -> str:
    trimmed = path[:-2] if path.endswith("/*") else path
    return trimmed.rstrip("/") or "/"


def rsync_pull(command: str) -> RsyncPull | None:
    words = _words(command)
    if not words or "rsync" not in words[0].rsplit("/", 1)[-1]:
        return None
    operands, valued = [], False
    for word in words[1:]:
        if valued:
            valued = False
        elif word in _RSYNC_VALUED:
            valued = True
        elif not word.startswith("-"):
            operands.append(word)
    for i, operand in enumerate(operands):
        match = _REMOTE.match(operand)
        if match:
            rest = operands[i + 1:]
            return RsyncPull(match.group("address").strip("[]"), _directory(match.group("path")), match.group("user"),
                             _directory(rest[-1]) if rest else None)
    return None


@dataclass(frozen=True)
class VzdumpJob:
    dumpdir: str | None  # None: no --dumpdir (vzdump.conf's, or its storage's)
    vms: str  # "all", or the VM ids named


def vzdump_job(command: str) -> VzdumpJob | None:
    """A vzdump command line (None: the command is not vzdump)."""
    words = _words(command)
    if not words or words[0].rsplit("/", 1)[-1] != "vzdump":
        return None
    dumpdir, ids = None, []
    for i, word in enumerate(words[1:], start=1):
        if word == "--dumpdir" and i + 1 < len(words):
            dumpdir = _directory(words[i + 1])
        elif word.startswith("--dumpdir="):
            dumpdir = _directory(word.split("=", 1)[1])
        elif word.isdigit() and not words[i - 1].startswith("--"):
            ids.append(word)
    return VzdumpJob(dumpdir, "all" if "--all" in words else " ".join(ids))
