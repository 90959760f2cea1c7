"""The documented claims (IDs H1…L1) and the verdicts a run gives them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources

import yaml


class Verdict(str, Enum):
    holds = "holds"
    broken = "broken"
    not_applicable = "not applicable here"
    not_checked = "not checked"


class Status(str, Enum):
    """How a claim is shown: its verdict, except that a claim that holds with a finding is
    never shown as plainly holding (never green)."""

    holds = "holds"
    holds_with_finding = "holds, with a finding"
    broken = "broken"
    not_applicable = "not applicable here"
    not_checked = "not checked"

    @classmethod
    def of(cls, verdict: Verdict, has_findings: bool) -> "Status":
        if verdict == Verdict.holds and has_findings:
            return cls.holds_with_finding
        return cls(verdict.value)


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    text: str


@cache
def all_claims() -> tuple[Claim, ...]:
    data = yaml.safe_load(resources.files("picacheck").joinpath("claims.yml").read_text(encoding="utf-8"))
    return tuple(Claim(**entry) for entry in data)


def claim_ids() -> set[str]:
    return {claim.id for claim in all_claims()}


def combine(outcomes: list[Verdict]) -> Verdict:
    """A claim's verdict from the outcomes of its checks: one broken check breaks it."""
    if not outcomes:
        return Verdict.not_checked
    if Verdict.broken in outcomes:
        return Verdict.broken
    if Verdict.holds in outcomes:
        return Verdict.holds
    if all(outcome == Verdict.not_applicable for outcome in outcomes):
        return Verdict.not_applicable
    return Verdict.not_checked
