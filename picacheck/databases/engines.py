"""What differs between MySQL and PostgreSQL, in one place: quoting, the client's command
line, where the password goes (the client's environment, never its argv), how to list
tables and count or checksum their rows, how to feed a dump, which restore errors are
expected. Pure: no connection, no inventory.
"""

from __future__ import annotations

import re
import shlex

from picacheck.secrets import Secret

PG_SESSION = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c extra_float_digits=1 -c bytea_output=hex -c IntervalStyle=postgres"


def quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class Engine:
    name: str
    default_port: int
    default_user: str

    def quote_ident(self, name: str) -> str:
        raise NotImplementedError

    def client_argv(self, sql: str, *, user: str, database: str | None, socket: bool = False) -> list[str]:
        """The engine's client running `sql`, tab-separated rows, no headers."""
        raise NotImplementedError

    def client_env(self, password: Secret | None, read_only: bool = False) -> dict[str, str]:
        raise NotImplementedError

    def tables_sql(self, database: str) -> str:
        raise NotImplementedError

    def qualified(self, database: str, table: str) -> str:
        raise NotImplementedError

    def count_sql(self, database: str, table: str) -> str:
        return f"SELECT {quote_literal(table)}, COUNT(*) FROM {self.qualified(database, table)}"

    def error_lines(self, output: str) -> list[str]:
        raise NotImplementedError


class MySQL(Engine):
    name = "mysql"
    default_port = 3306
    default_user = "root"

    def quote_ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def client_argv(self, sql: str, *, user: str, database: str | None, socket: bool = False,
                    read_only: bool = False) -> list[str]:
        prefix = "SET SESSION TRANSACTION READ ONLY; " if read_only else ""
        argv = ["mysql", *(["--protocol=socket"] if socket else []), f"--user={user}", "--batch", "--skip-column-names",
                f"--execute={prefix}SET time_zone = '+00:00'; {sql}"]
        return argv + ([database] if database else [])

    def client_env(self, password: Secret | None, read_only: bool = False) -> dict[str, str]:
        return {"MYSQL_PWD": password.reveal()} if password else {}

    def tables_sql(self, database: str) -> str:
        return ("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                f"{quote_literal(database)} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")

    def columns_sql(self, database: str) -> str:
        return ("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                f"{quote_literal(database)} ORDER BY TABLE_NAME, ORDINAL_POSITION")

    def qualified(self, database: str, table: str) -> str:
        return f"{self.quote_ident(database)}.{self.quote_ident(table)}"

    def row_digest(self, columns: list[str]) -> str:
        parts = ", ".join(f"QUOTE({self.quote_ident(c)})" for c in columns)
        return f"MD5(CONCAT_WS(0x1f, {parts}))"

    def aggregate_sql(self, database: str, table: str, columns: list[str]) -> str:
        """Row count and an order-independent checksum (sum of per-row digests)."""
        return (f"SELECT {quote_literal(table)}, COUNT(*), "
                f"COALESCE(SUM(CAST(CONV(SUBSTRING({self.row_digest(columns)}, 1, 15), 16, 10) AS DECIMAL(40))), 0) "
                f"FROM {self.qualified(database, table)}")

    def rows_sql(self, database: str, table: str, columns: list[str]) -> str:
        return f"SELECT {quote_literal(table)}, {self.row_digest(columns)} FROM {self.qualified(database, table)}"

    def restore_shell(self, dump_path: str, *, user: str, into: str = "") -> str:
        target = f" {shlex.quote(into)}" if into else ""
        return f"mysql --user={shlex.quote(user)}{target} < {shlex.quote(dump_path)}"

    def error_lines(self, output: str) -> list[str]:
        return [line.strip() for line in output.splitlines() if line.startswith("ERROR")]


class PostgreSQL(Engine):
    name = "postgresql"
    default_port = 5432
    default_user = "postgres"

    def quote_ident(self, name: str) -> str:
        return ".".join('"' + part.replace('"', '""') + '"' for part in name.split(".", 1))

    def client_argv(self, sql: str, *, user: str, database: str | None, socket: bool = False,
                    read_only: bool = False, host: str = "127.0.0.1", port: int | None = None) -> list[str]:
        return ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", host,
                *(["-p", str(port)] if port else []), "-U", user, "-d", database or "postgres", "-c", sql]

    def client_env(self, password: Secret | None, read_only: bool = False) -> dict[str, str]:
        options = ("-c default_transaction_read_only=on " if read_only else "") + PG_SESSION
        return {**({"PGPASSWORD": password.reveal()} if password else {}), "PGOPTIONS": options,
                "PGCONNECT_TIMEOUT": "10"}

    def tables_sql(self, database: str) -> str:
        return ("SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1")

    def qualified(self, database: str, table: str) -> str:
        return self.quote_ident(table)  # "schema.table", in the database the client is connected to

    def aggregate_sql(self, database: str, table: str, columns: list[str]) -> str:
        return (f"SELECT {quote_literal(table)}, count(*), "
                f"coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint::numeric), 0) "
                f"FROM {self.quote_ident(table)} t")

    def rows_sql(self, database: str, table: str, columns: list[str]) -> str:
        return f"SELECT {quote_literal(table)}, md5(t::text) FROM {self.quote_ident(table)} t"

    def restore_argv(self, dump_path: str, *, user: str, database: str, port: int | None = None) -> list[str]:
        return ["psql", "-X", "-q", "-h", "127.0.0.1", *(["-p", str(port)] if port else []), "-U", user,
                "-d", database, "-v", "ON_ERROR_STOP=0", "-f", dump_path]

    def error_lines(self, output: str) -> list[str]:
        return [line.strip() for line in output.splitlines() if "ERROR:" in line]

    @staticmethod
    def expected_drop_error(line: str, drop_lines: set[str]) -> bool:
        """pg_dump -c begins by dropping what it creates (DROP …, ALTER TABLE … DROP
        CONSTRAINT …), which fails on an empty database: those errors are expected."""
        match = re.match(r"psql:[^:]*:(\d+): ERROR:", line)
        return bool(match and match.group(1) in drop_lines and "does not exist" in line)

    DROP_LINES_COMMAND = "grep -nE '^(DROP |ALTER [^;]* DROP )' {dump} | cut -d: -f1"


ENGINES: dict[str, Engine] = {"mysql": MySQL(), "postgresql": PostgreSQL()}


def engine_of(name: str) -> Engine:
    return ENGINES[name]
