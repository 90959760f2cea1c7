"""Safety, as a careless user meets it: planted secrets reach no output; every CLI path ends
in 0, 1 or 2 with one line (130/143 when interrupted, the partial report written); an
interrupted start never becomes `latest`; no temporary folder is left behind."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from selftests.unit.sshd import SilentListener, free_port

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = REPO / "inventory" / "picasoft.yml"
SECRETS = {"registry": "planted-registry-secret-4f1c", "mysql": "planted-mysql-secret-9a2e",
           "postgresql": "planted-pg-secret-77b0", "apikey": "planted-etherpad-apikey-3d5a"}


def cli(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "picacheck.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})


def one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("picacheck: error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


# --- secrets -----------------------------------------------------------------------------------------


def planted_inventory(tmp_path: Path) -> Path:
    """The production inventory as staging, every host on a closed port of 127.0.0.1, the
    registry on another, its passwords in files holding recognisable secrets."""
    data = yaml.safe_load(PRODUCTION.read_text())
    data = {key: value for key, value in data.items() if not key.startswith("x-")}
    data["environment"] = {"name": "planted", "kind": "staging"}
    closed = free_port()
    key = tmp_path / "key"
    key.write_text("not a key")
    for host in data["hosts"].values():
        host["ssh"] = {"address": "127.0.0.1", "port": closed, "key_file": str(key), "connect_timeout": 2}
        host.pop("network", None)
        host.pop("public_ipv4", None)
        host.pop("public_ipv6", None)
    data["registry"].update(url=f"https://127.0.0.1:{free_port()}", password_file=str(_secret(tmp_path, "registry")))
    data["registry"].pop("password_env")
    data["registry"].pop("forwarded_by")
    for database in data["databases"]:
        database["password_file"] = str(_secret(tmp_path, database["name"]))
        database.pop("password_env")
    data["dns"] = {"servers": [], "round_robin_hosts": ["pica01", "pica02"]}
    path = tmp_path / "planted.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _secret(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.secret"
    path.write_text(SECRETS[name] + "\n")
    return path


def forms(value: str, user: str = "pica") -> list[str]:
    return [value, base64.b64encode(value.encode()).decode(), base64.b64encode(f"{user}:{value}".encode()).decode()]


def assert_no_secret(texts: dict[str, str]) -> None:
    for where, text in texts.items():
        for name, value in SECRETS.items():
            for form in forms(value):
                assert form not in text, f"the {name} secret ({form}) is in {where}"


def test_planted_secrets_reach_no_output_of_failing_checks(tmp_path):
    """The registry's password is sent (and refused: nothing answers), the databases' are
    read by the drill and the load's API key by the load layer; every check fails. (The lab
    tests do the same with the lab's own secrets and the experiments' journals.)"""
    inventory = planted_inventory(tmp_path)
    reports = tmp_path / "reports"
    apikey = {"PICACHECK_ETHERPAD_APIKEY_FILE": str(_secret(tmp_path, "apikey"))}
    result = cli("verify", "--inventory", str(inventory), "--reports", str(reports), "--layer", "services",
                 "--layer", "backup", env=apikey)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    files = {str(path): path.read_text(errors="replace") for path in reports.rglob("*") if path.is_file()
             and path.suffix in (".json", ".html", ".xml", ".md", ".jsonl", ".csv", ".log", ".out", ".txt")}
    summary = json.loads(next(text for name, text in files.items() if name.endswith("summary.json")))
    s9 = next(row for row in summary["claims"] if row["id"] == "S9")
    assert s9["verdict"] == "broken", "the registry check must have run and failed with the planted password"
    assert_no_secret({"stdout": result.stdout, "stderr": result.stderr, **files})


def test_the_secret_type_and_the_scrubber():
    from picacheck import secrets

    secret = secrets.Secret("planted-inline-secret-0001")
    assert "planted" not in repr(secret) and "planted" not in str(secret) and "planted" not in f"{[secret]}"
    secrets.basic_auth_pair("pica", secret)
    text = "Authorization: Basic " + base64.b64encode(b"pica:planted-inline-secret-0001").decode()
    assert secrets.scrub(text) == "Authorization: Basic ***"
    assert secrets.scrub("url?key=planted-inline-secret-0001&x") == "url?key=***&x"


# --- CLI paths -----------------------------------------------------------------------------------------


def test_an_unwritable_or_odd_reports_folder_is_one_line(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    line = one_line_error(cli("verify", "--inventory", str(planted_inventory(tmp_path)), "--layer", "hosts",
                              "--reports", str(not_a_dir)))
    assert f"--reports {not_a_dir}: cannot make a run folder there" in line


def test_output_to_a_full_device_is_one_line():
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "picacheck.cli", "plan", "--inventory", str(PRODUCTION)],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2 and "No space left on device" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, expected", [
    (["chaos", "kill-service-node", "--dry-run", "--option", "bogus=1"], "unknown option bogus"),
    (["chaos", "kill-hypervisor", "--dry-run", "--option", "victim=carol"], "no host 'carol'"),
    (["chaos", "kill-hypervisor", "--dry-run", "--option", "victim=pica01"], "pica01 is not a corosync host"),
    (["chaos", "kill-service-node", "--dry-run", "--option", "duration=abc"], "expected a number of seconds"),
    (["chaos", "/some/dir/x", "--dry-run"], "no experiment named '/some/dir/x'"),
    (["chaos", "conftest", "--dry-run"], "no experiment named 'conftest'"),
    (["chaos", "kill-service-node", "--option", "novalue"], "expected KEY=VALUE"),
    (["verify", "--inventory", ""], "--inventory: an empty path"),
    (["verify", "--layer", "moon"], "invalid choice: 'moon'"),
    (["chaos", "fail-disk"], "production inventory"),
])
def test_bad_options_are_one_line_and_exit_2(args, expected):
    inventory = [] if "--inventory" in args else ["--inventory", str(PRODUCTION)]
    assert expected in one_line_error(cli(*args, *inventory))


def test_chaos_on_production_needs_the_flag_and_the_typed_name_and_no_terminal_is_a_refusal():
    line = one_line_error(cli("chaos", "fail-disk", "--inventory", str(PRODUCTION), env={"PICACHECK_ALLOW_PRODUCTION": "1"}))
    assert "--allow-production" in line
    line = one_line_error(cli("chaos", "fail-disk", "--inventory", str(PRODUCTION), "--allow-production"))
    assert "no confirmation" in line and "nothing was done" in line
    line = one_line_error(cli("verify", "--chaos", "--inventory", str(PRODUCTION), "--allow-production",
                              env={"PICACHECK_ALLOW_PRODUCTION": "1"}))
    assert "no confirmation" in line


def test_a_dry_run_on_production_prints_its_plan_and_needs_no_flag():
    result = cli("chaos", "fail-disk", "--dry-run", "--inventory", str(PRODUCTION))
    assert result.returncode == 0 and "[dry-run] fail-disk: fault: mdadm --fail sdb2 in md1 on alice" in result.stderr


def test_only_the_guard_reads_the_opt_in_variable_and_nothing_sets_it():
    def grep(pattern: str) -> list[str]:
        return subprocess.run(["git", "grep", "-n", "-E", pattern, "--", "picacheck", "chaos", "tests", "scripts"],
                              capture_output=True, text=True, cwd=REPO).stdout.splitlines()

    assert {hit.split(":", 1)[0] for hit in grep("PICACHECK_ALLOW_PRODUCTION")} == {"picacheck/guard.py"}
    assert grep(r"environ\[[^]]*(ALLOW_PRODUCTION|READ_OPT_IN)|putenv|setenv.*ALLOW_PRODUCTION") == []
    reads = grep("READ_OPT_IN_VARIABLE")
    assert [hit for hit in reads if "environ.get(READ_OPT_IN_VARIABLE)" in hit], reads


# --- interrupts -----------------------------------------------------------------------------------------


def slow_inventory(tmp_path: Path, listener: SilentListener) -> Path:
    """One host whose SSH port accepts and never speaks: its banner check takes 20 s."""
    path = tmp_path / "slow.yml"
    path.write_text("environment: {name: slow, kind: staging}\n"
                    f"hosts:\n  node1:\n    roles: [swarm]\n    ssh: {{address: 127.0.0.1, port: {listener.port}, "
                    "connect_timeout: 20}\nswarm: {managers: [node1]}\n")
    return path


def _as_a_foreground_job() -> None:
    """Ctrl-C's default disposition, as a terminal's foreground job has it: a suite started in
    the background of a non-interactive shell (`cmd &`, as a CI script may) passes SIGINT on as
    ignored, and Python then installs no KeyboardInterrupt (both CI rehearsals failed so)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_verify_writes_its_partial_report_and_exits_130_or_143(tmp_path, signum, status):
    listener = SilentListener()
    reports = tmp_path / "reports"
    try:
        process = subprocess.Popen([sys.executable, "-m", "picacheck.cli", "verify", "--inventory",
                                    str(slow_inventory(tmp_path, listener)), "--reports", str(reports), "--layer",
                                    "cluster"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=_as_a_foreground_job)
        deadline = time.monotonic() + 60
        while not listener.held and time.monotonic() < deadline:  # the pre-flight is waiting for a banner
            time.sleep(0.2)
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        listener.close()
    assert process.returncode == status, out[-2000:] + err[-2000:]
    assert "Traceback" not in out + err
    summary = json.loads((reports / "latest" / "summary.json").read_text())
    assert summary["exit_status"] == status


def test_a_killed_run_never_becomes_latest_and_a_run_leaves_no_ssh_folder(tmp_path):
    listener = SilentListener()
    reports = tmp_path / "reports"
    own_tmp = tmp_path / "tmp"  # the runs' temporary folders, apart from the other tests' (xdist)
    own_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(own_tmp)}
    try:
        process = subprocess.Popen([sys.executable, "-m", "picacheck.cli", "verify", "--inventory",
                                    str(slow_inventory(tmp_path, listener)), "--reports", str(reports), "--layer",
                                    "cluster"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        while not listener.held and time.monotonic() < deadline:
            time.sleep(0.2)
        process.kill()
        process.wait(timeout=30)
    finally:
        listener.close()
    assert not (reports / "latest").exists(), "a run that wrote nothing became latest"
    before = set(own_tmp.glob("picacheck-ssh-*"))  # a killed run cannot clean up
    listener = SilentListener()
    try:
        result = cli("verify", "--inventory", str(slow_inventory(tmp_path, listener)), "--reports", str(reports),
                     "--layer", "cluster", env={"TMPDIR": str(own_tmp)}, timeout=120)
    finally:
        listener.close()
    assert result.returncode == 1 and (reports / "latest" / "summary.json").exists()
    assert not set(own_tmp.glob("picacheck-ssh-*")) - before, "the run left its ssh_config folder"
