"""What each kind of database knows: ids safe in SQL, stamps, clients, throwaway databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tools.core.errors import ConfigError
from tools.dialects import (
    DIALECTS,
    UnknownDialect,
    UnsafeRevisionId,
    dialect_of_url,
    driver_hint,
    embedded,
    rule_applies,
    safe_revision,
    script_dialect,
)


@pytest.mark.parametrize(
    "revision",
    [
        "abc123def456\n",
        "abc123def456\nDROP TABLE users;",
        "abc'; DROP TABLE users; --",
        "",
        "a" * 33,
        "abc def",
        "abc\u202e",
        "abc\x00",
    ],
)
def test_unsafe_revision_ids_are_refused(revision):
    with pytest.raises(UnsafeRevisionId) as err:
        safe_revision(revision)
    assert err.value.revision == revision
    assert "\n" not in str(err.value).replace(repr(revision), "")


@pytest.mark.parametrize("revision", ["abc123def456", "0001_initial", "a-b", "A" * 32])
def test_safe_revision_ids_pass(revision):
    assert safe_revision(revision) == revision


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_stamps_move_the_version_and_refuse_unsafe_ids(name):
    kind = script_dialect(name)
    update = "\n".join(kind.stamp(["aaa"], ["bbb"]))
    assert "UPDATE alembic_version SET version_num='bbb'" in update
    assert "WHERE alembic_version.version_num = 'aaa';" in update
    # Each UPDATE and DELETE must move exactly one row, or the script stops.
    assert "did not hold aaa" in update or "changes()" in update
    merged = "\n".join(kind.stamp(["a", "b"], ["m"]))
    assert merged.index("version_num = 'a';") < merged.index("version_num = 'b';")
    assert merged.rstrip().endswith("INSERT INTO alembic_version (version_num) VALUES ('m');")
    assert merged.count("DELETE FROM alembic_version") == 2
    with pytest.raises(UnsafeRevisionId):
        kind.stamp(["aaa"], ["bbb\n"])
    with pytest.raises(UnsafeRevisionId):
        kind.audit("x'y", "upgrade", "0" * 64)


def test_the_client_command_line_of_each_kind(tmp_path):
    script = tmp_path / "upgrade.sql"
    pg = script_dialect("postgresql").client_command(
        make_url("postgresql+psycopg://u%40x:p%40ss%25@h:5433/db"), script
    )
    # The password travels in the client's environment, never on its command line (ps shows it).
    assert pg.args == (
        "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", "postgresql://u%40x@h:5433/db", "-f", str(script),
    )  # fmt: skip
    assert pg.env == {"PGPASSWORD": "p@ss%"} and pg.stdin is None
    maria = script_dialect("mariadb").client_command(
        make_url("mariadb+pymysql://root:s%40cret@h/db"), script
    )
    assert maria.args == (
        "mariadb",
        "--no-defaults",
        "--host=h",
        "--port=3306",
        "--user=root",
        "db",
    )
    assert maria.env == {"MYSQL_PWD": "s@cret"} and maria.stdin == script
    lite = script_dialect("sqlite").client_command(make_url("sqlite:///x.db"), script)
    assert lite.args == ("sqlite3", "-bail", "x.db") and lite.env == {} and lite.stdin == script


def test_each_client_error_names_the_line_and_the_server_error():
    pg = script_dialect("postgresql").client_error(
        'psql:upgrade.sql:6: ERROR:  type "nosuchtype" does not exist\nLINE 3:   b nosuchtype\n'
    )
    assert pg == (6, 'ERROR:  type "nosuchtype" does not exist')
    maria = script_dialect("mariadb").client_error(
        "--------------\nDROP INDEX ix ON c\n--------------\n\n"
        "ERROR 1553 (HY000) at line 90: Cannot drop index 'ix': needed in a foreign key constraint\n"
    )
    assert maria == (
        90,
        "ERROR 1553 (HY000): Cannot drop index 'ix': needed in a foreign key constraint",
    )
    lite = script_dialect("sqlite")
    assert lite.client_error("Parse error near line 8: no such table: nosuch\n") == (
        8,
        "no such table: nosuch",
    )
    assert lite.client_error("Runtime error near line 3: stopped (19)") == (3, "stopped (19)")
    assert lite.client_error("Error: unable to open database") == (None, "unable to open database")
    assert lite.client_error("") == (None, "the client stopped without saying why")


def test_throwaway_databases(tmp_path):
    lite = embedded()
    assert not lite.needs_server and lite.create_database("x") is None
    assert lite.scratch_url(None, "t1", tmp_path).database == str(tmp_path / "t1.db")
    pg = script_dialect("postgresql")
    server = make_url("postgresql://postgres@h/postgres")
    assert pg.scratch_url(server, "t1", Path()).render_as_string() == (
        "postgresql+psycopg://postgres@h/t1"
    )
    assert pg.create_database("t1") == "CREATE DATABASE t1"
    assert pg.drop_database("t1") == "DROP DATABASE IF EXISTS t1 WITH (FORCE)"
    with pytest.raises(ValueError, match="not a plain identifier"):
        pg.create_database("t1; DROP DATABASE prod")
    with pytest.raises(ConfigError, match="needs a server"):
        pg.scratch_url(None, "t1", Path())


def test_names_urls_and_rules():
    assert dialect_of_url(make_url("postgres://h/db")).name == "postgresql"
    assert dialect_of_url(make_url("mysql+pymysql://h/db")).name == "mysql"
    with pytest.raises(UnknownDialect, match="use one of: mariadb, mysql, postgresql, sqlite"):
        script_dialect("oracle")
    assert "+psycopg (postgresql)" in driver_hint() and "+pymysql (mariadb)" in driver_hint()
    pg, maria = script_dialect("postgresql"), script_dialect("mariadb")
    assert rule_applies(pg, "postgresql-locks") and not rule_applies(maria, "postgresql-locks")
    assert rule_applies(maria, "destructive") and rule_applies(pg, "destructive")
    assert script_dialect("postgresql").complete(
        make_url("postgres+psycopg://h/db")
    ).drivername == ("postgresql+psycopg")


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_guard_and_stamps_follow_the_version_table_env_py_configures(name):
    from dataclasses import replace

    kind = replace(script_dialect(name), version_table="my_versions", version_table_schema="ops")
    table = "ops.my_versions"
    update = "\n".join(kind.stamp(["aaa"], ["bbb"]))
    assert f"UPDATE {table} SET version_num='bbb'" in update
    guard = kind.guard(["aaa"])
    assert "alembic_version" not in guard
    assert "my_versions" in guard
    created = kind.ensure_tables()[0]
    assert f"CREATE TABLE IF NOT EXISTS {table} (" in created
    assert "CONSTRAINT my_versions_pkc PRIMARY KEY (version_num)" in created


@pytest.mark.parametrize("name", ["postgresql", "mariadb", "sqlite"])
def test_a_hostile_release_name_stays_one_literal_in_the_timed_audit_row(name):
    """The audit row writes the release's name into SQL: quotes and comment markers in it
    stay inside one string literal."""
    import sqlglot

    kind = script_dialect(name)
    hostile = "0003_x'); DROP TABLE users; -- \\' */"
    statements = kind.audit_statements("abc123", "upgrade", "f" * 64, hostile)
    assert len(statements) == (1 if name == "postgresql" else 2)
    parsed = sqlglot.parse(statements[-1], read=kind.sqlglot)
    assert len(parsed) == 1 and isinstance(parsed[0], sqlglot.exp.Insert)
    literals = {lit.this for lit in parsed[0].find_all(sqlglot.exp.Literal) if lit.is_string}
    assert hostile in literals
    assert not list(parsed[0].find_all(sqlglot.exp.Drop))
    # No release (a `schemactl sql` script): NULL, not a string.
    assert "NULL AS release_name" in kind.audit_statements("abc123", "upgrade", "f" * 64)[-1]


def test_every_lint_rule_a_dialect_claims_exists():
    """A dialect names the lint rules only it needs; a name nothing defines (a typo, a rule
    renamed) would silently turn the rule on for every other kind instead."""
    from tools.dialects import DIALECTS
    from tools.lint import engine as lint

    for kind in DIALECTS.values():
        unknown = kind.lint_rules - set(lint.RULES) - lint.FAMILIES
        assert not unknown, (kind.name, sorted(unknown))


@pytest.mark.parametrize(
    ("name", "settings", "words", "statement"),
    [
        ("postgresql", {"lock_timeout": "1s"}, "waited for 1s", "SET LOCAL lock_timeout = '1s';"),
        ("postgresql", {}, "runs 15min at most", "SET LOCAL statement_timeout = '15min';"),
        ("mariadb", {"lock_wait_timeout": "3"}, "3 s", "SET SESSION lock_wait_timeout = 3;"),
        ("sqlite", {}, "10 s", ".timeout 10000"),
    ],
)
def test_the_header_states_the_timeouts_the_script_sets(name, settings, words, statement):
    """What the header says the script waits for is what its statements set."""
    from dataclasses import replace

    kind = replace(script_dialect(name), settings=settings)
    assert words in kind.timeouts_in_words()
    assert statement in kind.timeouts() + kind.preamble()


@pytest.mark.parametrize(
    ("given", "tried"),
    [
        ({}, ["INSTANT/None", "NOCOPY/NONE", "INPLACE/NONE", "INPLACE/SHARED", "COPY/SHARED"]),
        ({"ALGORITHM": "COPY"}, ["COPY/SHARED"]),
        # INPLACE allows a cheaper algorithm (MariaDB 10.3.7 on); COPY copies.
        (
            {"ALGORITHM": "INPLACE"},
            ["INSTANT/None", "NOCOPY/NONE", "INPLACE/NONE", "INPLACE/SHARED"],
        ),
        (
            {"ALGORITHM": "INPLACE", "LOCK": "NONE"},
            ["INSTANT/NONE", "NOCOPY/NONE", "INPLACE/NONE"],
        ),
        (
            {"LOCK": "EXCLUSIVE"},
            ["INSTANT/EXCLUSIVE", "NOCOPY/EXCLUSIVE", "INPLACE/EXCLUSIVE", "COPY/EXCLUSIVE"],
        ),
        ({"LOCK": "NONE"}, ["INSTANT/NONE", "NOCOPY/NONE", "INPLACE/NONE", "COPY/NONE"]),
        ({"ALGORITHM": "INSTANT", "LOCK": "SHARED"}, ["INSTANT/SHARED"]),
    ],
)
def test_mariadb_is_asked_only_what_the_statement_allows(given, tried):
    """A statement that names its own ALGORITHM or LOCK is measured within them: the
    server is asked for the cheapest of the pairs they allow (an ALGORITHM allows any
    cheaper one, but COPY)."""
    from tools.dialects.mariadb import MariaDB

    assert [f"{a}/{lock}" for a, lock in MariaDB()._attempts(given)] == tried


# MySQL 8.0's sql_mode values (its manual, "Server SQL Modes": the full list).
MYSQL8_MODES = {
    "ALLOW_INVALID_DATES", "ANSI_QUOTES", "ERROR_FOR_DIVISION_BY_ZERO", "HIGH_NOT_PRECEDENCE",
    "IGNORE_SPACE", "NO_AUTO_VALUE_ON_ZERO", "NO_BACKSLASH_ESCAPES", "NO_DIR_IN_CREATE",
    "NO_ENGINE_SUBSTITUTION", "NO_UNSIGNED_SUBTRACTION", "NO_ZERO_DATE", "NO_ZERO_IN_DATE",
    "ONLY_FULL_GROUP_BY", "PAD_CHAR_TO_FULL_LENGTH", "PIPES_AS_CONCAT", "REAL_AS_FLOAT",
    "STRICT_ALL_TABLES", "STRICT_TRANS_TABLES", "TIME_TRUNCATE_FRACTIONAL",
}  # fmt: skip


def test_the_mariadb_scripts_sql_mode_is_one_mysql_8_accepts():
    """Every mode the MariaDB/MySQL scripts (and online sessions) set exists in MySQL 8
    (NO_AUTO_CREATE_USER, which MySQL 8 removed, is not set: issue 31); and the script sets
    it before anything else it runs."""
    from tools.dialects.mariadb import MariaDB

    assert set(MariaDB.SQL_MODE.split(",")) <= MYSQL8_MODES
    assert "NO_BACKSLASH_ESCAPES" not in MariaDB.SQL_MODE
    assert f"SET SESSION sql_mode = '{MariaDB.SQL_MODE}';" in MariaDB().preamble()


def test_each_kind_is_registered_under_its_own_name_and_imported_when_asked_for():
    """DIALECTS imports a kind's module when the kind is first asked for: a command for one
    kind does not import the others'."""
    import subprocess
    import sys

    from tests.conftest import REPO
    from tools.dialects import DIALECTS

    assert {name: kind.name for name, kind in DIALECTS.items()} == {n: n for n in DIALECTS}
    assert sorted(DIALECTS) == ["mariadb", "mysql", "postgresql", "sqlite"]
    probe = (
        "import sys\n"
        "from tools.dialects import script_dialect\n"
        "script_dialect('sqlite')\n"
        "print(sorted(m for m in sys.modules if m.startswith('tools.dialects.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    loaded = done.stdout.strip()
    assert "tools.dialects.sqlite" in loaded
    assert "mariadb" not in loaded and "postgresql" not in loaded
