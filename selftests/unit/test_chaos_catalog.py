"""The experiments' catalogue and options: names only, options checked against what each
experiment declares (types, hosts, roles) before anything is touched, defaults and the
`verify --chaos` plan from the inventory's roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from picacheck.chaos import catalog
from picacheck.errors import UserError
from picacheck.inventory import load_inventory

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = load_inventory(REPO / "inventory" / "picasoft.yml")


@pytest.mark.parametrize("name", ["/some/dir/x", "../chaos/fail_disk", "conftest", "test-experiments",
                                  "fail_disk", "Fail-Disk", "", "fail-disk.py"])
def test_only_catalogued_names_are_experiments(name):
    with pytest.raises(UserError, match=r"no experiment named .*\(known: fail-disk, kill-db-container"):
        catalog.load(name)


def test_a_path_is_never_imported(tmp_path):
    planted = tmp_path / "x.py"
    planted.write_text("raise SystemExit('imported!')\n")
    with pytest.raises(UserError, match="no experiment named"):
        catalog.load(str(tmp_path / "x"))


@pytest.mark.parametrize("given, message", [
    ({"bogus": "1"}, r"kill-service-node: unknown option bogus \(its options: victim .*duration"),
    ({"victim": "carol"}, r"--option victim=carol: no host 'carol' in the inventory"),
    ({"victim": "alice"}, r"--option victim=alice: alice is not a swarm host \(swarm hosts: pica01, pica02\)"),
    ({"duration": "abc"}, r"--option duration=abc: expected a number of seconds"),
    ({"duration": "inf"}, r"--option duration=inf: expected seconds between 0 and 600"),
    ({"duration": "-5"}, r"expected seconds between 0 and 600"),
])
def test_bad_options_are_one_clear_line(given, message):
    with pytest.raises(UserError, match=message):
        catalog.options_of("kill-service-node", given, PRODUCTION)


def test_options_of_other_kinds_are_checked_against_the_inventory():
    with pytest.raises(UserError, match=r"no database 'oracle' in the inventory \(databases: mysql, postgresql"):
        catalog.options_of("kill-db-container", {"database": "oracle"}, PRODUCTION)
    with pytest.raises(UserError, match="pica01 is not a hypervisor host"):
        catalog.options_of("fail-disk", {"host": "pica01"}, PRODUCTION)
    with pytest.raises(UserError, match="pica01 is not a corosync host"):
        catalog.options_of("kill-hypervisor", {"victim": "pica01"}, PRODUCTION)
    with pytest.raises(UserError, match="alice has no documented array 'md9'"):
        catalog.options_of("fail-disk", {"array": "md9"}, PRODUCTION)


def test_defaults_come_from_the_inventorys_roles():
    assert catalog.options_of("kill-service-node", {}, PRODUCTION) == {"victim": "pica02", "duration": 75.0}
    assert catalog.options_of("kill-hypervisor", {}, PRODUCTION) == {"victim": "bob"}
    assert catalog.options_of("fail-disk", {}, PRODUCTION) == {"host": "alice", "array": "md1"}
    assert catalog.options_of("fail-disk", {"host": "bob"}, PRODUCTION)["array"] == "md1"
    assert catalog.options_of("partition-service-nodes", {}, PRODUCTION)["side"] == "pica01"
    assert catalog.options_of("lose-database", {}, PRODUCTION)["database"] == "mysql"


def test_the_verify_chaos_plan_is_what_the_experiments_declare():
    planned = {(run.label, run.claims) for run in catalog.plan(PRODUCTION)}
    assert ("kill-service-node-pica01", ("X1", "X2", "X3", "C13", "X8")) in planned
    assert ("kill-service-node-pica02", ("X1", "X2", "X3", "C13", "X8")) in planned
    assert {label for label, _ in planned} >= {"fail-disk", "kill-hypervisor", "kill-db-container-mysql",
                                               "kill-db-container-postgresql", "lose-database-mysql",
                                               "lose-database-postgresql", "partition-service-nodes"}
    claims = {claim for _, claims in planned for claim in claims}
    assert claims == {"X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "C9", "C13"}


def test_an_environment_without_what_an_experiment_needs_says_why():
    bare = PRODUCTION.model_copy(update={"corosync": None})
    run = next(run for run in catalog.plan(bare) if run.experiment == "kill-hypervisor")
    assert run.not_applicable == "no corosync cluster of two nodes"
