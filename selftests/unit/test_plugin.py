"""The pytest plugin (the checks' kit and the report's hooks): claims matrix verdicts, typed
not-applicable claims, layers, bad inventories, and runs in parallel by host (pytest-xdist)."""

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

@pytest.mark.claim("C6")
def test_typed_not_applicable():
    from picacheck.kit.applicability import not_applicable
    not_applicable("no volume requires auth.allow here")

@pytest.mark.claim("C7")
def test_words_alone_do_not_make_a_claim_not_applicable():
    pytest.skip("not applicable here: says a plain skip")

@pytest.mark.claim("C9")
def test_no_volume(gluster_volume):
    raise AssertionError("must not run: the inventory has no GlusterFS")
'''


@pytest.fixture
def suite(pytester):
    pytester.makeconftest('pytest_plugins = ["picacheck.kit.plugin", "picacheck.report.pytest_hooks"]')
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
    result.assert_outcomes(passed=3, failed=1, skipped=4)
    rows, data = _summary(suite)
    assert rows["C4"]["verdict"] == "holds"
    assert rows["C5"]["verdict"] == "broken"
    assert any("bricks offline" in note for note in rows["C5"]["evidence"])
    assert rows["H8"]["verdict"] == "not applicable here"
    assert "no GRUB" in " ".join(rows["H8"]["evidence"])
    assert rows["S1"]["verdict"] == "not checked"
    assert data["counts"]["holds"] == 1 and data["counts"]["broken"] == 1
    assert data["inventory"]["kind"] == "lab"


def test_not_applicable_is_the_type_not_the_words(suite):
    suite.runpytest("--inventory", "inventory.yml", "--report-dir", "out", "-p", "no:cacheprovider")
    rows, _ = _summary(suite)
    assert rows["C6"]["verdict"] == "not applicable here"
    assert rows["C6"]["evidence"] == ["not applicable here: no volume requires auth.allow here"]
    assert rows["C7"]["verdict"] == "not checked"  # pytest.skip, whatever it says
    assert rows["C9"]["verdict"] == "not applicable here"  # an empty parametrisation
    assert rows["C9"]["evidence"] == ["not applicable here: the inventory has no gluster volume"]


def test_swarm_node_is_parametrised_from_the_inventory(suite):
    result = suite.runpytest("--inventory", "inventory.yml", "--collect-only", "-q")
    assert "test_per_node[node1]" in result.stdout.str()


def test_layer_marker_comes_from_the_folder(suite):
    result = suite.runpytest("--inventory", "inventory.yml", "-m", "cluster", "-q")
    result.assert_outcomes(passed=3, failed=1, skipped=4)
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


# --- in parallel, by host ------------------------------------------------------------------

HOSTS_INVENTORY = """
environment: {name: tiny, kind: lab}
hosts:
  alice: {roles: [hypervisor], ssh: {address: 127.0.0.1, port: 1, connect_timeout: 2}}
  bob: {roles: [hypervisor], ssh: {address: 127.0.0.1, port: 1, connect_timeout: 2}}
  carol: {roles: [hypervisor], ssh: {address: 127.0.0.1, port: 1, connect_timeout: 2}}
"""

# Each check writes where (which worker) and when (a step of a shared, locked log) it ran.
LOGGING = '''
import fcntl, os
from pathlib import Path

def log(what):
    with open(Path(os.environ["PICACHECK_TEST_LOG"]), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f"{what} {os.environ.get('PYTEST_XDIST_WORKER', 'main')}\\n")
'''

HOST_CHECKS = '''
import pytest
from logging_helper import log

@pytest.mark.claim("H14")
def test_first(hypervisor):
    log(f"start first {hypervisor}")
    log(f"end first {hypervisor}")

@pytest.mark.claim("H14")
def test_second(hypervisor):
    log(f"start second {hypervisor}")
    log(f"end second {hypervisor}")
'''

LOAD_CHECK = '''
import pytest
from logging_helper import log

@pytest.mark.claim("L1")
def test_load():
    log("start load")
    log("end load")
'''


@pytest.fixture
def host_suite(pytester, monkeypatch):
    pytester.makeconftest('pytest_plugins = ["picacheck.kit.plugin", "picacheck.report.pytest_hooks"]')
    pytester.makefile(".yml", inventory=HOSTS_INVENTORY)
    for folder in ("tests", "tests/hosts", "tests/load"):
        pytester.mkdir(folder)
    (pytester.path / "logging_helper.py").write_text(LOGGING)
    (pytester.path / "tests" / "hosts" / "test_hosts.py").write_text(HOST_CHECKS)
    (pytester.path / "tests" / "load" / "test_load.py").write_text(LOAD_CHECK)
    monkeypatch.setenv("PICACHECK_TEST_LOG", str(pytester.path / "log.txt"))
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    return pytester


def _log(pytester) -> list[list[str]]:
    return [line.split() for line in (pytester.path / "log.txt").read_text().splitlines()]


def test_a_hosts_checks_run_on_one_worker_and_the_load_layer_alone_after_them(host_suite):
    result = host_suite.runpytest_subprocess("tests", "--inventory", "inventory.yml", "-n", "3", "-p", "no:cacheprovider")
    log = _log(host_suite)
    workers_of = {}
    for event, check, *rest in log:
        if check != "load":
            workers_of.setdefault(rest[0], set()).add(rest[1])
    assert workers_of.keys() == {"alice", "bob", "carol"}
    assert all(len(workers) == 1 for workers in workers_of.values()), workers_of
    load_start = log.index(next(entry for entry in log if entry[:2] == ["start", "load"]))
    assert load_start == len(log) - 2, log  # every other check had ended before the load layer began
    output = result.stdout.str()
    for host in ("alice", "bob", "carol"):
        assert output.count(f"{host} is unreachable") == 1, output  # the pre-flight runs once
        assert f"[picacheck] {host}: 2 checks done" in output
    assert result.ret == 1  # unreachable hosts fail the run, as in one process


def test_the_claims_matrix_is_the_same_in_parallel(suite):
    suite.runpytest("--inventory", "inventory.yml", "--report-dir", "serial", "-p", "no:cacheprovider")
    suite.runpytest_subprocess("--inventory", "inventory.yml", "--report-dir", "parallel", "-n", "2",
                               "-p", "no:cacheprovider")
    serial, parallel = (json.loads((suite.path / name / "summary.json").read_text()) for name in ("serial", "parallel"))
    assert parallel["claims"] == serial["claims"]
    assert (parallel["counts"], parallel["findings"], parallel["exit_status"]) == (
        serial["counts"], serial["findings"], serial["exit_status"])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real sshd on 127.0.0.1: the pre-flight finds the host reachable."""
    from selftests.unit.sshd import start_sshd

    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


FINDING_SUITE = '''
import pytest
from picacheck.findings import FindingKind, Severity

@pytest.mark.claim("S4")
def test_dashboard(finding):
    finding(FindingKind.security, Severity.high, "the dashboard answers from outside")

@pytest.mark.claim("C4")
def test_holds():
    assert True
'''


@pytest.mark.parametrize("kind, fail_on, status", [
    ("lab", None, 0),          # the lab's default: none (it reproduces the documentation's exposures)
    ("lab", "high", 1),        # asked for: a high finding fails the run
    ("lab", "critical", 0),    # above the finding's severity: reported, not failing
    ("staging", None, 1),      # staging's default: high
])
def test_fail_on_makes_findings_at_or_above_it_fail_the_run(pytester, sshd, kind, fail_on, status):
    pytester.makeconftest('pytest_plugins = ["picacheck.kit.plugin", "picacheck.report.pytest_hooks"]')
    reachable = f"ssh: {{address: 127.0.0.1, port: {sshd.port}, key_file: {sshd.key_file}}}"
    pytester.makefile(".yml", inventory=INVENTORY.replace("kind: lab", f"kind: {kind}")
                      .replace("ssh: {address: 127.0.0.1, port: 1}", reachable))
    pytester.mkdir("tests")
    pytester.mkdir("tests/services")
    (pytester.path / "tests" / "services" / "test_findings.py").write_text(FINDING_SUITE)
    args = ["--inventory", "inventory.yml", "--report-dir", "out", "-p", "no:cacheprovider"]
    result = pytester.runpytest(*args, *(["--fail-on", fail_on] if fail_on else []))
    result.assert_outcomes(passed=2)
    rows, data = _summary(pytester)
    assert rows["S4"]["status"] == "holds, with a finding"
    assert data["fail_on"] == (fail_on or ("none" if kind == "lab" else "high"))
    assert result.ret == status, result.stdout.str()[-2000:]
