"""The restore drill (B5): the newest dump of each database restores into a scratch server
that the drill starts for the purpose, and the restored data matches the live database it
was taken from. The report's own restore script is replayed too: its outcome is evidence
(the report's PostgreSQL script feeds a plain-SQL dump to pg_restore)."""

import pytest

from picacheck.probes import restore


@pytest.mark.claim("B5")
def test_newest_dump_restores_and_matches_the_live_database(hosts, inventory, dump_policy, evidence_note):
    result = restore.restore_drill(hosts, inventory, dump_policy)
    evidence_note(result.summary())
    evidence_note(result.report_script_note())
    for note in result.notes:
        evidence_note(f"{dump_policy.database}: {note}")
    problems = result.problems()
    assert not problems, f"{dump_policy.database}: the newest dump {result.dump} does not restore: " + "; ".join(problems)
