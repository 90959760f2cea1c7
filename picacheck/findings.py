"""Findings: a danger a check sees even where its claim holds (an exposed dashboard, a
documented procedure that fails), with a kind and a severity (as InSpec's impact).

A claim that holds but carries a finding is shown as "holds, with a finding", never in
green; `picacheck verify --fail-on SEVERITY` makes findings at or above it fail the run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum


class FindingKind(str, Enum):
    security = "security"
    procedure = "documented procedure fails"
    data_loss = "data loss risk"
    documentation = "documentation is wrong"


class Severity(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    def at_least(self, threshold: "Severity") -> bool:
        return self.rank >= threshold.rank


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    severity: Severity
    text: str  # one sentence: what is dangerous, measured
    claim: str | None = None  # the claim whose check saw it
    check: str | None = None  # the check's node id

    def as_dict(self) -> dict:
        return {**asdict(self), "kind": self.kind.value, "severity": self.severity.value}

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(FindingKind(data["kind"]), Severity(data["severity"]), data["text"], data.get("claim"),
                   data.get("check"))

    def line(self) -> str:
        return f"{self.severity.value.upper()} {self.kind.value}: {self.text}"


# `--fail-on`: "none", or a severity. The default depends on the environment's kind.
FAIL_ON_CHOICES = ("none", *(severity.value for severity in Severity))


def default_fail_on(environment_kind: str) -> str:
    """The lab reproduces the documentation's exposures on purpose (the dashboard is
    published because the report says so), so its findings are the documentation's and do
    not fail a lab run; on staging and production a high finding is a real exposure that a
    nightly job must turn red."""
    return "none" if environment_kind == "lab" else Severity.high.value


def failing(findings: list[Finding], fail_on: str) -> list[Finding]:
    """The findings that make the run fail under `--fail-on`."""
    if fail_on == "none":
        return []
    threshold = Severity(fail_on)
    return [finding for finding in findings if finding.severity.at_least(threshold)]
