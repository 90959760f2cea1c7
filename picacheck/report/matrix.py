"""The claims matrix: for every documented claim, its verdict in this run, its findings and
the evidence.

Checks and experiments report outcomes per test; a claim's verdict combines the outcomes of
every test that carries its ID (one broken check breaks the claim). A claim that no test
checked is "not checked"; one the inventory declares unshowable is "not applicable here".
A claim that holds but whose checks attached findings is shown "holds, with a finding".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from picacheck.claims import Claim, Status, Verdict, combine
from picacheck.findings import Finding


@dataclass
class Row:
    claim: Claim
    verdict: Verdict
    checks: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def status(self) -> Status:
        return Status.of(self.verdict, bool(self.findings))

    def as_dict(self) -> dict:
        return {
            "id": self.claim.id,
            "section": self.claim.section,
            "text": self.claim.text,
            "verdict": self.verdict.value,
            "status": self.status.value,
            "checks": self.checks,
            "evidence": self.evidence,
            "findings": [finding.as_dict() for finding in self.findings],
        }


class Outcomes:
    """What each test (node id) said, and which claims it carries."""

    def __init__(self) -> None:
        self._claims_of: dict[str, list[str]] = {}
        self._verdicts: dict[str, list[Verdict]] = defaultdict(list)
        self._notes: dict[str, list[str]] = defaultdict(list)
        self._findings: dict[str, list[Finding]] = defaultdict(list)

    def expect(self, nodeid: str, claims: list[str]) -> None:
        self._claims_of[nodeid] = claims

    def record(self, nodeid: str, verdict: Verdict, notes: list[str], findings: list[Finding] = ()) -> None:
        self._verdicts[nodeid].append(verdict)
        self._notes[nodeid].extend(notes)
        self._findings[nodeid].extend(f for f in findings if f not in self._findings[nodeid])

    def matrix(self, claims: tuple[Claim, ...], not_applicable: dict[str, str]) -> list[Row]:
        by_claim: dict[str, list[str]] = defaultdict(list)
        for nodeid, ids in self._claims_of.items():
            for claim_id in ids:
                by_claim[claim_id].append(nodeid)
        rows = []
        for claim in claims:
            nodeids = by_claim.get(claim.id, [])
            verdicts = [_test_verdict(self._verdicts[n]) for n in nodeids if self._verdicts.get(n)]
            verdict = combine(verdicts)
            notes = list(dict.fromkeys(note for n in nodeids for note in self._notes.get(n, [])))
            findings = [f for n in nodeids for f in self._findings.get(n, []) if f.claim in (None, claim.id)]
            if verdict == Verdict.not_checked and claim.id in not_applicable:
                verdict = Verdict.not_applicable
                notes.append(not_applicable[claim.id])
            rows.append(Row(claim, verdict, nodeids, notes, list(dict.fromkeys(findings))))
        return rows


def _test_verdict(phases: list[Verdict]) -> Verdict:
    """A test's outcome from its phases (setup, call, teardown): any broken phase breaks it."""
    return combine(phases)


def count(rows: list[Row]) -> dict[str, int]:
    """How many claims are shown with each status."""
    totals = {status.value: 0 for status in Status}
    for row in rows:
        totals[row.status.value] += 1
    return totals


def all_findings(rows: list[Row]) -> list[Finding]:
    return list(dict.fromkeys(finding for row in rows for finding in row.findings))
