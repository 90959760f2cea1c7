"""The restore drill: the newest dump of each database restores into a scratch server that
the drill starts for the purpose, and the restored data matches the live database it was
taken from (B5). The report's own restore.sh is replayed on the same dump in a fresh
scratch server (B9): the report's PostgreSQL script feeds a plain-SQL dump to pg_restore."""

import pytest

from picacheck.findings import FindingKind, Severity


@pytest.mark.claim("B5")
def test_newest_dump_restores_and_matches_the_live_database(restore_drills, dump_policy, evidence_note, finding):
    result = restore_drills(dump_policy)
    evidence_note(result.summary())
    for note in result.notes:
        evidence_note(f"{dump_policy.database}: {note}")
    if result.report_script is not None and not result.report_script.restores:
        finding(FindingKind.procedure, Severity.high,
                f"{dump_policy.database}: the dump restores with the right client, but the documented restore "
                f"procedure (the report's restore.sh) does not: {result.report_script.summary()} (B9)")
    problems = result.problems()
    assert not problems, f"{dump_policy.database}: the newest dump {result.dump} does not restore: " + "; ".join(problems)


@pytest.mark.claim("B9")
def test_the_reports_restore_script_restores_the_newest_dump(restore_drills, dump_policy, evidence_note):
    result = restore_drills(dump_policy)
    replay = result.report_script
    assert replay is not None, f"{dump_policy.database}: the report's restore.sh was not replayed"
    evidence_note(result.report_script_note())
    assert replay.restores, (f"{dump_policy.database}: the report's restore.sh ({replay.command}) does not restore "
                             f"{result.dump}: {replay.summary()}")
