"""The lab's backups without the lab: the dump jobs run the report's own scripts, the lab's
policy fits the inventory model, the vzdump stand-in names and prunes its archives as
Proxmox does, and the restore drill's verdict (issue 6)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from picacheck import documented
from picacheck.facts.crontab import parse_crontab
from picacheck.facts.dumps import parse_vzdump_name
from picacheck.inventory.model import Backups, DumpPolicy
from picacheck.lab.backups import images, plan
from picacheck.lab.backups import manage as backups_manage
from picacheck.lab.hypervisors import vzdump
from picacheck.lab.inventory import VM_PLACEMENT
from picacheck import restore
from picacheck.databases import engines
from picacheck.restore.compare import Comparison

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO.parent / "shared" / "seed" / "000_f49f0423bc94ed1b.txt"


def _run_sh(job: plan.DumpJob) -> str:
    return documented.backup_run_script(job.recipe_dir)


# --- the dump jobs ------------------------------------------------------------------------


@pytest.mark.parametrize("job", plan.JOBS.values(), ids=lambda job: job.name)
def test_the_jobs_run_the_reports_scripts(job):
    text = _run_sh(job)
    for line in ("BACKUP_NAME=\\$(date +\\%Y.\\%m.\\%d.\\%H\\%M\\%S).sql",
                 '    rm -rf /backup/\\${BACKUP_NAME}',
                 "        BACKUP_TO_BE_DELETED=\\$(ls /backup -N1 | sort | head -n 1)",
                 'if [ -n "${INIT_BACKUP}" ]; then',
                 "exec cron -f"):
        assert line in text, f"{job.name}: run.sh lacks the report's line {line!r}"
    assert "${CRON_TIME} /backup.sh >>" in text
    subprocess.run(["bash", "-n"], input=_run_sh(job), text=True, check=True)


@pytest.mark.skipif(not REPORT.exists(), reason="the hand-over report is not in ../shared")
@pytest.mark.parametrize("job", plan.JOBS.values(), ids=lambda job: job.name)
def test_run_sh_is_the_reports_text(job):
    """Every command line of run.sh is in the report (the PDF's line breaks aside)."""
    report = re.sub(r"\s+", " ", REPORT.read_text())
    for line in _run_sh(job).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert re.sub(r"\s+", " ", line.strip()) in report.replace("$ {", "${").replace("- p$ {", "-p${"), line


@pytest.mark.parametrize("engine", ["mysql", "postgresql"])
def test_the_drill_replays_the_same_restore_script_as_the_job(engine):
    job = plan.JOBS[engine]
    assert documented.restore_script_maker(engine).strip() in _run_sh(job)
    assert "/restore.sh" in documented.restore_script_maker(engine)


def test_the_labs_policy_fits_the_inventory_model():
    section = backups_manage.inventory_section()
    policies = [DumpPolicy(**entry) for entry in section["dumps"]]
    assert {p.database for p in policies} == {"mysql", "postgresql"}
    for policy in policies:
        assert policy.directory == f"/DATA/BACKUP/{policy.database}"
        assert policy.cron_time == plan.CRON_TIME and policy.max_backups == plan.MAX_BACKUPS
        assert policy.period_hours == pytest.approx(plan.PERIOD_HOURS) and policy.period_hours < 1 / 30
    assert set(section["registry_images"]) == {"mysql-backup", "postgres-backup"}


def test_the_jobs_read_their_password_from_a_secret_file():
    for job in plan.JOBS.values():
        env = plan.job_environment(job)
        assert not any("PASS=" in f"{k}=" for k in env), env  # never the password itself
        assert env[f"{job.env_prefix}_PASS_FILE"] == f"/run/secrets/{job.secret}"
        assert env["CRON_TIME"] == plan.CRON_TIME and env["MAX_BACKUPS"] == str(plan.MAX_BACKUPS)


# --- vzdump on the hypervisors ----------------------------------------------------------------


def test_vzdump_cron_is_proxmoxs_nightly_job():
    entries = parse_crontab(vzdump.cron(), system=True).entries
    assert [e.fields for e in entries] == [("0", "3", "*", "*", "*")]
    assert entries[0].command.startswith("vzdump --all") and "/SAVE/dump" in entries[0].command


def test_vzdump_conf_lists_each_nodes_vms():
    for hypervisor in ("alice", "bob"):
        ids = [int(line.split()[0]) for line in vzdump.conf(hypervisor).splitlines() if not line.startswith("#")]
        assert sorted(ids) == sorted(vmid for host, vmid in VM_PLACEMENT.values() if host == hypervisor)


def test_inventory_section_declares_vzdump():
    from picacheck.lab import hypervisors

    backups = Backups(**hypervisors.inventory_section()["backups"])
    assert backups.vzdump.schedule == "0 3 * * *" and backups.vzdump.directory == "/SAVE/dump"
    assert backups.vzdump.cron_file == vzdump.CRON_FILE and set(backups.vzdump.hosts) == {"alice", "bob"}


@pytest.fixture
def fake_node(tmp_path):
    """The vzdump script with a fake `ssh` (prints a tar of a small folder) and a config."""
    if not shutil.which("zstd"):
        pytest.skip("zstd is not installed on this machine")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    data = tmp_path / "vmdata"
    data.mkdir()
    (data / "file").write_text("some VM data\n")
    (bin_dir / "ssh").write_text(f"#!/bin/sh\n"
                                 f"case \"$*\" in *unreachable*) exit 255;; esac\n"
                                 f"exec tar -C {data} -c -f - .\n")
    (bin_dir / "ssh").chmod(0o755)
    conf = tmp_path / "vzdump.conf"
    conf.write_text("# test\n100 pica01 192.0.2.11 /etc\n101 admin 192.0.2.20 /etc\n")
    dump = tmp_path / "dump"
    script = tmp_path / "vzdump"
    script.write_text(vzdump.script())
    script.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", VZDUMP_CONF=str(conf),
               VZDUMP_LOCK=str(tmp_path / "lock"))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(script), *args, "--dumpdir", str(dump)], env=env, capture_output=True, text=True)

    return run, dump, conf


def test_vzdump_writes_proxmox_named_archives_and_logs(fake_node):
    run, dump, _ = fake_node
    done = run("--all", "--compress", "zstd", "--quiet", "1")
    assert done.returncode == 0, done.stderr
    archives = sorted(p.name for p in dump.glob("*.vma.zst"))
    assert [parse_vzdump_name(name).vmid for name in archives] == [100, 101]
    for name in archives:
        log = (dump / name.replace(".vma.zst", ".log")).read_text()
        assert f"INFO: Finished Backup of VM {parse_vzdump_name(name).vmid}" in log
        listing = subprocess.run(f"zstd -dc {dump / name} | tar -t", shell=True, capture_output=True, text=True)
        assert "./file" in listing.stdout


def test_vzdump_keeps_maxfiles_per_vm_and_backs_up_named_vms(fake_node):
    run, dump, _ = fake_node
    for _ in range(2):
        assert run("100", "--maxfiles", "1").returncode == 0
        subprocess.run(["sleep", "1.1"])
    archives = [parse_vzdump_name(p.name) for p in dump.glob("*.vma.zst")]
    assert [a.vmid for a in archives] == [100]  # the older one pruned, 101 not asked for


def test_vzdump_failure_leaves_no_partial_archive(fake_node):
    run, dump, conf = fake_node
    conf.write_text("102 pica02 unreachable /etc\n")
    done = run("--all")
    assert done.returncode == 1
    assert not list(dump.glob("*.vma.zst*"))
    assert "ERROR: Backup of VM 102 failed" in next(dump.glob("*.log")).read_text()


# --- the restore drill's verdict -----------------------------------------------------------------


def _result(**changes) -> restore.DrillResult:
    result = restore.DrillResult("postgresql", "postgresql", dump="2026.11.25.120000.sql", dump_complete=True,
                                 dump_started=1000.0, drill_started=1090.0, restore_status=0, live_host="pica01",
                                 scratch_host="pica01", dump_bytes=2048)
    result.tables = [restore.TableCheck("public.users", 3, 3, True),
                     restore.TableCheck("public.events", 10, 11, False, only_live=1)]
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def test_a_restore_with_only_newer_changes_holds():
    result = _result()
    assert result.problems() == []
    assert result.rpo_s == 90
    summary = result.summary()
    assert "RPO 1.5 min" in summary and "2 tables" in summary and "public.events (+1/-0 rows)" in summary
    assert "restore time" in summary


@pytest.mark.parametrize("change, expected", [
    ({"dump_complete": False}, "incomplete"),
    ({"restore_status": 1, "restore_errors": ["ERROR 1064 (42000) at line 12"]}, "error"),
    ({"missing_tables": ["public.rooms"]}, "older than the dump missing from the restore: public.rooms"),
])
def test_a_bad_restore_is_a_problem(change, expected):
    assert any(expected in problem for problem in _result(**change).problems())


def test_tables_created_or_dropped_since_the_dump_are_evidence():
    result = _result(new_tables=["public.canary"], dropped_tables=["public.old"])
    assert result.problems() == []
    assert "created since the dump: public.canary" in result.summary()
    assert "dropped since the dump: public.old" in result.summary()


def test_rows_older_than_the_dump_must_come_back():
    result = _result()
    result.tables[1].missing_old = 2
    assert any("public.events (2)" in p for p in result.problems())


def test_the_report_scripts_failure_is_b9s_verdict_not_b5s():
    result = _result(report_script=restore.ScriptReplay(
        "pg_restore -w -d DB < dump", False,
        ["=> Restore database from /x.sql",
         "pg_restore: error: input file appears to be a text format dump. Please use psql.", "   Restore failed"]))
    assert result.problems() == []  # B5: the dump restores with the right client
    assert not result.report_script.restores
    note = result.report_script_note()
    assert "FAILS" in note and "pg_restore: error: input file appears to be a text format dump" in note


def test_a_report_script_that_runs_but_restores_other_data_does_not_restore():
    replay = restore.ScriptReplay("mysql < dump", True, ["   Restore succeeded"], ["public.pads: 3 rows, the dump holds 5"])
    assert not replay.restores
    assert "restores other data than the dump holds: public.pads: 3 rows" in replay.summary()
    assert restore.ScriptReplay("mysql < dump", True, ["   Restore succeeded"]).restores


def test_identifiers_are_quoted():
    assert engines.ENGINES["postgresql"].quote_ident("public.we\"ird") == '"public"."we""ird"'
    assert engines.ENGINES["mysql"].quote_ident("we`ird") == "`we``ird`"
    assert engines.quote_literal("it's") == "'it''s'"


class _FakeServer:
    def __init__(self, tables: dict[str, list[str]]):
        self.tables = tables

    def query(self, sql: str) -> list[list[str]]:
        if "pg_class" in sql:
            return [[name] for name in sorted(self.tables)]
        if "count(*)" in sql:
            rows = []
            for name, digests in self.tables.items():
                if f"'{name}'" in sql:
                    rows.append([name, str(len(digests)), str(sum(int(d, 16) for d in digests))])
            return rows
        return [[name, d] for name, digests in self.tables.items() if f"'{name}'" in sql for d in digests]


def _compare(live: dict, newest: dict, previous: dict | None):
    engine = engines.ENGINES["postgresql"]
    result = restore.DrillResult("pg", "postgresql", dump_complete=True, restore_status=0)
    witness = _FakeServer(previous) if previous is not None else None
    made = []

    def previous_dump():
        made.append(1)
        return witness

    Comparison(engine, "db", _FakeServer(newest).query, _FakeServer(live).query, previous_dump).run(result)
    return result, made


def test_rows_changed_after_the_dump_are_expected():
    result, made = _compare(live={"public.t": ["a1", "b2", "c3"], "public.u": ["e5"]},
                            newest={"public.t": ["a1", "b0"], "public.u": ["e5"]},
                            previous={"public.t": ["a1", "b9"], "public.u": ["e5"]})
    t = result.tables[0]
    assert (t.only_live, t.only_in_dump, t.missing_old) == (2, 1, 0)
    assert result.tables[1].identical and result.problems() == []
    assert made  # the previous dump was consulted (once) for the table that differs


def test_a_row_the_previous_dump_had_and_the_newest_lost_is_missing():
    result, _ = _compare(live={"public.t": ["a1", "b2", "c3"]}, newest={"public.t": ["a1", "c3"]},
                         previous={"public.t": ["a1", "b2"]})
    assert result.tables[0].missing_old == 1
    assert any("public.t (1)" in p for p in result.problems())


def test_identical_tables_need_no_witness():
    result, made = _compare(live={"public.t": ["a1"]}, newest={"public.t": ["a1"]}, previous={"public.t": []})
    assert not made and result.problems() == []


def test_a_live_table_missing_from_the_newest_dump():
    lost, _ = _compare(live={"public.t": ["a1"], "public.v": ["f6"]}, newest={"public.t": ["a1"]},
                       previous={"public.t": ["a1"], "public.v": ["f6"]})
    assert lost.missing_tables == ["public.v"]
    new, _ = _compare(live={"public.t": ["a1"], "public.v": ["f6"]}, newest={"public.t": ["a1"]},
                      previous={"public.t": ["a1"]})
    assert new.new_tables == ["public.v"] and new.problems() == []
