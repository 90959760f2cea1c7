"""What each check's report carries for the claims matrix, as plain data.

Its claims, its notes (measured figures; on failure, the check's message and the commands
run on the hosts), its findings, and whether it was not applicable here. One attribute of pytest's report,
`report.picacheck`: pytest-xdist sends the report, with it, from the worker that ran the
check to the controller that writes the report (picacheck/report/pytest_hooks.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pytest

from picacheck.findings import Finding


@dataclass
class CheckOutcome:
    claims: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)  # Finding.as_dict()
    not_applicable: bool = False

    def attach(self, report: pytest.TestReport) -> None:
        report.picacheck = asdict(self)  # type: ignore[attr-defined]

    @classmethod
    def of(cls, report: pytest.TestReport) -> "CheckOutcome | None":
        data = getattr(report, "picacheck", None)
        return cls(**data) if data else None

    def finding_objects(self) -> list[Finding]:
        return [Finding.from_dict(data) for data in self.findings]
