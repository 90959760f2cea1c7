"""B9: the report's own restore.sh, replayed on the newest dump as its procedure would run it.

The script is made by the report's heredoc (the dump image's run.sh, picacheck/documented)
with a fresh scratch server's address in its variables, then `/restore.sh <dump>` runs in
that server: MySQL's feeds the dump to `mysql`, PostgreSQL's feeds a plain-SQL dump to
`pg_restore`. What it restored is compared with what the drill restored (tables, row
counts, checksums).
"""

from __future__ import annotations

import shlex

from picacheck import documented
from picacheck.restore.compare import aggregates, columns_of
from picacheck.restore.result import ScriptReplay
from picacheck.restore.scratch import Scratch, run_in

# The values the report's run.sh would have, pointing at the scratch server (which trusts
# local connections, or has no grant tables: the passwords are placeholders).
SCRIPT_ENVIRONMENT = {
    "mysql": {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": "3306", "MYSQL_USER": "root",
              "MYSQL_PASS": "scratch-server-without-grants"},
    "postgresql": {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432", "POSTGRES_USER": "postgres",
                   "POSTGRES_PASS": "scratch-server-trusts-local"},
}
COMMANDS = {"mysql": "mysql < dump", "postgresql": "pg_restore -w -d DB < dump"}


def run_report_script(server: Scratch, live_query) -> ScriptReplay:
    """The report's restore.sh in `server`, a fresh scratch server that has the database
    (PostgreSQL) but none of the data."""
    server.copy_dump_in()
    server.prepare(live_query)
    engine = server.engine.name
    env = {**SCRIPT_ENVIRONMENT[engine], **({"POSTGRES_DB": server.database} if engine == "postgresql" else {})}
    script = documented.restore_script_maker(engine) + f"/restore.sh {shlex.quote(server.dump_path)}\n"
    code, out, err = run_in(server.container, ["bash", "-c", script], env, user="root")
    output = [line.rstrip() for line in (out + err).splitlines() if line.strip()]
    succeeded = code == 0 and any("Restore succeeded" in line for line in output)
    return ScriptReplay(COMMANDS[engine], succeeded, [line[:240] for line in output[:12]])


def replay(drilled: Scratch, fresh: Scratch, live_query) -> ScriptReplay:
    """The replay in `fresh`, compared with what the drill restored in `drilled`."""
    result = run_report_script(fresh, live_query)
    engine, database = drilled.engine, drilled.database
    tables = [row[0] for row in drilled.query(engine.tables_sql(database))]
    replayed = {row[0] for row in fresh.query(engine.tables_sql(database))} if result.succeeded else set()
    missing = [t for t in tables if t not in replayed]
    common = [t for t in tables if t in replayed]
    columns = columns_of(engine, database, drilled.query) if common else {}
    expected = aggregates(engine, database, drilled.query, common, columns)
    got = aggregates(engine, database, fresh.query, common, columns)
    differing = [t for t in common if expected[t] != got[t]]
    result.differences = ([f"{len(missing)} of {len(tables)} tables not restored"] if missing else []) + \
        [f"{t}: {got[t][0]} rows, the dump holds {expected[t][0]}" for t in differing[:5]]
    return result
