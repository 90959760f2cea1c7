"""Each experiment, run against the inventory's environment; one test per claim it tests.

A claim the measurement refutes fails its test: the claims matrix reports it broken, with
the measured figures as evidence."""

import pytest

pytestmark = pytest.mark.chaos

# (experiment, options, claims it gives a verdict on, what the inventory must have)
PLAN = [
    ("fail-disk", {}, ["X7"], "raid"),
    ("kill-hypervisor", {}, ["X6"], "corosync"),
    ("kill-service-node", {"victim": "pica02"}, ["X1", "X2", "X3", "C13"], "swarm"),
    ("kill-service-node", {"victim": "pica01"}, ["X1", "X2", "X3", "C13"], "swarm"),
    ("kill-db-container", {"database": "mysql"}, ["X4"], "databases"),
    ("kill-db-container", {"database": "postgresql"}, ["X4"], "databases"),
    ("lose-database", {"database": "mysql"}, ["X5"], "databases"),
    ("lose-database", {"database": "postgresql"}, ["X5"], "databases"),
    ("partition-service-nodes", {"side": "pica01"}, ["C9"], "gluster"),
]


def _cases():
    for name, options, claims, needs in PLAN:
        for claim in claims:
            label = "-".join([name, *options.values(), claim])
            yield pytest.param(name, options, claim, needs, id=label, marks=pytest.mark.claim(claim))


def _has(inventory, needs: str) -> bool:
    if needs == "raid":
        return any(host.raid for host in inventory.hosts.values())
    if needs == "databases":
        return bool(inventory.databases) and inventory.swarm is not None
    return getattr(inventory, needs) is not None


@pytest.mark.parametrize("name, options, claim, needs", list(_cases()))
def test_experiment_claim(inventory, experiment_results, attach_timeline, evidence_note, name, options, claim, needs):
    if not _has(inventory, needs):
        pytest.skip(f"not applicable here: the inventory has no {needs} for {name}")
    journal, picture = experiment_results(name, **options)
    attach_timeline(picture)
    assert journal.outcome == "completed", f"{name} did not complete: {journal.error}"
    verdict = next((v for v in journal.verdicts if v.claim == claim), None)
    assert verdict is not None, f"{name} gave no verdict on {claim}"
    evidence_note(f"{name} {options or ''}: {verdict.evidence}")
    assert verdict.verdict.value == "holds", f"{claim} refuted by {name}: {verdict.evidence}"
