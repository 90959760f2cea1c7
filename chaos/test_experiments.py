"""Each experiment, run against the inventory's environment; one test per claim it tests.

The plan comes from what each experiment declares (its RUNS, resolved on the inventory's
roles: picacheck.chaos.catalog.plan), never from a list kept here. A claim the measurement
refutes fails its test: the claims matrix reports it broken, with the measured figures as
evidence."""

import pytest

pytestmark = pytest.mark.chaos


def test_experiment_claim(planned_claim, experiment_results, attach_timeline, evidence_note):
    planned, claim = planned_claim
    if planned.not_applicable:
        pytest.skip(f"not applicable here: {planned.experiment}: {planned.not_applicable}")
    journal, picture = experiment_results(planned)
    attach_timeline(picture)
    assert journal.outcome == "completed", f"{planned.experiment} did not complete: {journal.error}"
    verdict = next((v for v in journal.verdicts if v.claim == claim), None)
    assert verdict is not None, f"{planned.experiment} gave no verdict on {claim}"
    evidence_note(f"{planned.experiment} {planned.options or ''}: {verdict.evidence}")
    if verdict.verdict.value == "not checked":
        pytest.skip(f"not checked: {verdict.evidence}")
    assert verdict.verdict.value == "holds", f"{claim} refuted by {planned.experiment}: {verdict.evidence}"
