"""The pytest plugin: claims matrix verdicts, not-applicable claims, layers, bad inventories."""

import json
import textwrap

import pytest

INVENTORY = """
environment: {name: tiny, kind: lab}
hosts:
  node1:
    roles: [swarm]
    ssh: {address: 127.0.0.1, port: 1}
swarm: {managers: [node1]}
not_applicable:
  H8: "no GRUB in this environment"
"""

SUITE = '''
import pytest

@pytest.mark.claim("C4")
def test_holds():
    assert True

@pytest.mark.claim("C5")
def test_broken():
    assert 1 == 2, "bricks offline: pica02:/gluster-data N"

@pytest.mark.claim("C5")
def test_other_half_of_c5():
    pass

@pytest.mark.claim("H8")
def test_not_applicable():
    raise AssertionError("must not run")

def test_per_node(swarm_node):
    assert swarm_node is None or swarm_node == "node1"
'''


@pytest.fixture
def suite(pytester):
    pytester.makeconftest('pytest_plugins = ["picacheck.plugin"]')
    pytester.makefile(".yml", inventory=INVENTORY)
    pytester.mkdir("tests")
    pytester.mkdir("tests/cluster")
    (pytester.path / "tests" / "cluster" / "test_checks.py").write_text(SUITE)
    return pytester


def _summary(pytester):
    data = json.loads((pytester.path / "out" / "summary.json").read_text())
    return {row["id"]: row for row in data["claims"]}, data


def test_claims_matrix_verdicts(suite):
    result = suite.runpytest("--inventory", "inventory.yml", "--report-dir", "out", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    rows, data = _summary(suite)
    assert rows["C4"]["verdict"] == "holds"
    assert rows["C5"]["verdict"] == "broken"
    assert any("bricks offline" in note for note in rows["C5"]["evidence"])
    assert rows["H8"]["verdict"] == "not applicable here"
    assert "no GRUB" in " ".join(rows["H8"]["evidence"])
    assert rows["S1"]["verdict"] == "not checked"
    assert data["counts"]["holds"] == 1 and data["counts"]["broken"] == 1
    assert data["inventory"]["kind"] == "lab"


def test_swarm_node_is_parametrised_from_the_inventory(suite):
    result = suite.runpytest("--inventory", "inventory.yml", "--collect-only", "-q")
    assert "test_per_node[node1]" in result.stdout.str()


def test_layer_marker_comes_from_the_folder(suite):
    result = suite.runpytest("--inventory", "inventory.yml", "-m", "cluster", "-q")
    result.assert_outcomes(passed=3, failed=1, skipped=1)
    result = suite.runpytest("--inventory", "inventory.yml", "-m", "hosts", "-q")
    assert result.ret == 5  # nothing selected


def test_the_detailed_test_log_links_to_the_report(suite):
    suite.runpytest("--inventory", "inventory.yml", "--html", "out/tests.html", "--self-contained-html")
    page = (suite.path / "out" / "tests.html").read_text()
    assert "picacheck: the detailed test log" in page
    assert page.index('href="report.html"') < page.index("test_holds")


def test_bad_inventory_ends_the_run_with_status_2(suite):
    suite.makefile(".yml", broken="environment: {name: x, kind: moon}\nhosts: {}\n")
    result = suite.runpytest("--inventory", "broken.yml")
    assert result.ret == 2
    assert "environment.kind" in result.stdout.str() + result.stderr.str()
