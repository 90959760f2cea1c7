"""What a claim's row says, in words a reader can trust: its status's name and colour class,
the measured truth in one sentence, and its evidence cleaned of misleading lines.

Shared by the HTML report, summary.md and `picacheck report diff`, so that all three say
the same thing. Input is a claim as summary.json stores it (see matrix.Row.as_dict).
"""

from __future__ import annotations

import re

from picacheck.claims import Status

NOT_APPLICABLE = "not applicable here: "
PARTLY = "Not applicable to part of this claim: "

# CSS class and a one-character mark per status: the mark keeps the meaning without colour
# (a black-and-white print, a colour-blind reader).
CSS_CLASS = {
    Status.holds: "holds",
    Status.holds_with_finding: "finding",
    Status.broken: "broken",
    Status.not_applicable: "na",
    Status.not_checked: "unchecked",
}
MARK = {
    Status.holds: "✓",
    Status.holds_with_finding: "!",
    Status.broken: "✗",
    Status.not_applicable: "–",
    Status.not_checked: "?",
}

# A check's failure as pytest words it: "AssertionError: …", "Failed: …", "ParseError: …".
_FAILURE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)|Failed): ")
_SENTENCE_LIMIT = 300
SEVERITY_ORDER = ("critical", "high", "medium", "low")


def status_of(claim: dict) -> Status:
    try:
        return Status(claim.get("status") or claim.get("verdict"))
    except ValueError:
        return Status.not_checked


def evidence_lines(claim: dict) -> list[str]:
    """The evidence as it should be read: a claim that holds shows "not applicable here"
    notes (one parametrised check skipped, e.g. bob has no port forward) as what they are,
    after the real evidence; a claim not applicable here shows only its reason."""
    notes = [note for note in claim.get("evidence", []) if isinstance(note, str) and note.strip()]
    status = status_of(claim)
    if status == Status.not_applicable:
        return [_reason(claim, note) for note in notes]
    if status in (Status.holds, Status.holds_with_finding):
        measured = [note for note in notes if not note.startswith(NOT_APPLICABLE)]
        partial = [PARTLY + _reason(claim, note)
                   for note in notes if note.startswith(NOT_APPLICABLE)]
        return measured + partial
    return notes


def measured_truth(claim: dict) -> str:
    """One sentence: what this run measured about the claim."""
    status = status_of(claim)
    notes = evidence_lines(claim)
    checks = len(claim.get("checks", []))
    if status == Status.broken:
        failure = next((note for note in notes if _FAILURE.match(note)), None)
        if failure:
            return sentence(_FAILURE.sub("", failure, count=1))
        return sentence(notes[0]) if notes else "A check failed without saying why (see the test log)."
    if status == Status.holds_with_finding:
        texts = [finding.get("text", "") for finding in claim.get("findings", [])]
        return sentence("; ".join(t for t in texts if t)) or "It holds, but a check attached a finding."
    if status == Status.holds:
        if notes and not notes[0].startswith(PARTLY):
            return sentence(notes[0])
        passed = f"Every check of it passed ({checks} check{'s' if checks != 1 else ''})"
        if notes:  # only "not applicable to part of it" notes: say so, they are not evidence
            return sentence(f"{passed}; not applicable to the rest: " + "; ".join(n.removeprefix(PARTLY) for n in notes))
        return passed + "."
    if status == Status.not_applicable:
        return sentence(notes[0]) if notes else "Not applicable to this environment."
    if claim.get("section") == "Failures" or claim.get("id") == "C13":
        return "Not checked in this run: the failure drills run with `picacheck verify --chaos`."
    return "Not checked in this run: no check of this run tested it."


def sentence(text: str, limit: int = _SENTENCE_LIMIT) -> str:
    """The first line of a text, cut at a word near `limit` characters."""
    line = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def _reason(claim: dict, note: str) -> str:
    """"not applicable here: H7: no GRUB" → "no GRUB"."""
    reason = note.removeprefix(NOT_APPLICABLE)
    return reason.removeprefix(f"{claim.get('id')}: ")


def findings_with_claims(summary: dict) -> list[tuple[dict, dict | None]]:
    """Every finding of a run once, with the claim it is shown on, the most severe first."""
    found: list[tuple[dict, dict | None]] = []
    for claim in summary.get("claims", []):
        for finding in claim.get("findings", []):
            found.append((finding, claim))
    for finding in summary.get("findings", []):
        if not any(_same_finding(finding, other) for other, _ in found):
            found.append((finding, None))
    return sorted(found, key=lambda item: _severity_rank(item[0]))


def _same_finding(one: dict, other: dict) -> bool:
    return all(one.get(k) == other.get(k) for k in ("kind", "severity", "text", "check"))


def _severity_rank(finding: dict) -> int:
    severity = finding.get("severity")
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)
