"""Measured verdicts (issue 30): a revision's statements run on the real servers at the
revision's starting schema, with rows, and what each server did read back from the server:
PostgreSQL's rewritten tables (relfilenode) and held locks (pg_locks), MariaDB's cheapest
accepted ALGORITHM and LOCK. The expected verdicts are the servers' documented behaviour."""

from __future__ import annotations

import pytest

from tools.config import load_project
from tools.dialects import script_dialect
from tools.history.load import load_history
from tools.proof.measure import measure_revision

from .conftest import admin_url, apply_script

REVISION = '''"""Measured cases"""

from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

STATEMENTS = {statements!r}


def upgrade():
    for sql in STATEMENTS[op.get_context().dialect.name]:
        op.execute(sql)


def downgrade():
    pass
'''

# (statement, what the server is documented to do with it)
CASES = {
    "postgresql": [
        # A plain CREATE INDEX: SHARE (writes wait), no rewrite. (First: a revision's
        # statements share a transaction, and a later one holds the locks earlier ones took.)
        ("CREATE INDEX ix_products_name ON products (name)", "share"),
        # A VARCHAR widened, numeric precision raised at the same scale: the catalog only.
        ("ALTER TABLE products ALTER COLUMN name TYPE varchar(200)", "no-rewrite"),
        ("ALTER TABLE discounts ALTER COLUMN percent_off TYPE numeric(7, 2)", "no-rewrite"),
        # A scale changed: every row written again, under ACCESS EXCLUSIVE.
        ("ALTER TABLE discounts ALTER COLUMN percent_off TYPE numeric(7, 3)", "rewrite"),
        ("ALTER TABLE products ADD COLUMN weight integer", "no-rewrite"),
        # A serial column's default is written into every row; (UN)LOGGED writes the table again.
        ("ALTER TABLE discounts ADD COLUMN seq bigserial", "rewrite"),
        ("ALTER TABLE discounts SET UNLOGGED", "rewrite"),
        # Validating a new CHECK reads every row under ACCESS EXCLUSIVE.
        ("ALTER TABLE products ADD CONSTRAINT ck_products_name CHECK (name <> '')", "scan"),
    ],
    "mariadb": [
        ("ALTER TABLE products ADD COLUMN weight INT", "INSTANT"),
        ("CREATE INDEX ix_products_name ON products (name)", "NOCOPY"),
        ("ALTER TABLE discounts MODIFY percent_off DECIMAL(7, 3) NOT NULL", "COPY"),
    ],
}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_each_statement_is_measured_on_its_server(repo_copy, dialect):
    statements = {d: [sql for sql, _ in CASES.get(d, [])] for d in ("postgresql", "mariadb")}
    (repo_copy / "versions" / "0011_0123456789ab_measured.py").write_text(
        REVISION.format(statements=statements)
    )
    project = load_project(repo_copy / "alembic.ini")
    kind = script_dialect(dialect)
    measured = measure_revision(
        project, load_history(project), kind, admin_url(dialect), "0123456789ab"
    )
    assert [m.sql.strip().rstrip(";") for m in measured] == statements[dialect]
    for m, (sql, expected) in zip(measured, CASES[dialect], strict=True):
        seen = m.observed
        assert seen.measured, sql
        assert m.server.startswith(kind.title), m.server
        if dialect == "postgresql":
            table = sql.split()[2] if sql.startswith("ALTER") else "products"
            locks = dict(seen.locks)
            if expected == "rewrite":
                assert seen.rewritten == (table,) and locks[table] == "ACCESS EXCLUSIVE", m
                assert m.rewrites and m.blocks_writes
                assert f"rewrote {table}; held ACCESS EXCLUSIVE on {table}" in m.words()
            elif expected == "scan":
                assert seen.rewritten == () and seen.scanned == (table,), m
                assert locks[table] == "ACCESS EXCLUSIVE" and m.blocks_writes
            elif expected == "share":  # it reads every row, and writes wait meanwhile
                assert seen.rewritten == () and seen.scanned == (table,), m
                assert locks[table] == "SHARE" and m.blocks_writes and not m.rewrites
                assert f"read every row of {table}; held SHARE on {table}" in m.words()
            else:  # ACCESS EXCLUSIVE for a catalog change only: brief, not counted
                assert seen.rewritten == seen.scanned == (), m
                assert locks[table] == "ACCESS EXCLUSIVE", m
                assert not m.rewrites and not m.blocks_writes
        else:
            assert seen.algorithm == expected, (sql, seen)
            assert m.rewrites == (expected == "COPY")
            assert m.blocks_writes == (expected == "COPY")
            if expected == "COPY":  # the server's own reason for refusing the cheaper ones
                assert any("Cannot change column type" in r for r in seen.refused), seen


ALTERS = '''"""Type changes"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

CHANGES = [
    ("products", "name", sa.String(100), sa.String(200)),
    ("products", "sku", sa.String(64), sa.Text()),
    ("discounts", "percent_off", sa.Numeric(5, 2), sa.Numeric(9, 2)),
    ("discounts", "percent_off", sa.Numeric(9, 2), sa.Numeric(9, 3)),
    ("products", "name", sa.String(200), sa.String(150)),
    ("tax_rates", "rate", sa.Numeric(5, 2), sa.Float()),
]


def upgrade():
    for table, column, old, new in CHANGES:
        op.alter_column(table, column, existing_type=old, type_=new)


def downgrade():
    pass
'''


def test_lints_rewrite_verdicts_agree_with_what_postgresql_does(repo_copy):
    """Each type change lint judges offline (rewrites the table or only the catalog) is run
    on PostgreSQL with rows, and the server's relfilenode says the same."""
    from tools.lint.findings import _rewrites
    from tools.scripts.capture import capture_operations

    (repo_copy / "versions" / "0011_0123456789ab_types.py").write_text(ALTERS)
    project = load_project(repo_copy / "alembic.ini")
    history = load_history(project)
    kind = script_dialect("postgresql")
    measured = measure_revision(project, history, kind, admin_url("postgresql"), "0123456789ab")
    operations = capture_operations(history, "postgresql", ["0123456789ab"])["0123456789ab"]
    static = [_rewrites(op.source) for op in operations]
    observed = [bool(m.observed.rewritten) for m in measured]
    assert static == observed == [False, False, False, True, True, True]


def test_lint_measure_reports_what_the_server_did(repo_copy, monkeypatch):
    """`lint --measure`: the findings, and per statement what PostgreSQL did; without it the
    verdicts are static, said so; without a scratch server, one line and exit 1."""
    import json

    from typer.testing import CliRunner

    from tools.cli import app

    admin_url("postgresql")
    statements = {d: [sql for sql, _ in CASES.get(d, [])] for d in ("postgresql", "mariadb")}
    (repo_copy / "versions" / "0011_0123456789ab_measured.py").write_text(
        REVISION.format(statements=statements)
    )
    runner = CliRunner()
    args = ["-c", str(repo_copy / "alembic.ini"), "lint", "68cfa590ad28:heads", "--env", "prod"]
    static = runner.invoke(app, [*args, "--json"])
    assert json.loads(static.stdout)["verdicts"] == "static"
    measured = runner.invoke(app, [*args, "--json", "--measure"])
    report = json.loads(measured.stdout)
    assert report["verdicts"] == "measured"
    # A finding says what the server did on its line: here the revision's one op.execute
    # line runs every statement.
    said = [f["measured"] for f in report["findings"] if f["measured"]]
    assert said and all(s.startswith("PostgreSQL 15") for s in said), report["findings"]
    assert "rewrote discounts" in said[0] and "; then " in said[0]
    assert all(f["measured"] is None for f in json.loads(static.stdout)["findings"])
    rows = report["measured"]["0123456789ab"]
    assert [r["rewritten"] for r in rows] == [[], [], [], ["discounts"], []] + [
        ["discounts"]
    ] * 2 + [[]]
    assert rows[0]["locks"] == {"products": "SHARE"} and rows[0]["says"].endswith(
        "read every row of products; held SHARE on products"
    )
    text = runner.invoke(app, [*args, "--measure"])
    assert "Measured on PostgreSQL" in text.stdout
    assert "5 rewriting or copying a table, stopping writes or refused" in text.stdout
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        "".join(
            line
            for line in ini.read_text().splitlines(True)
            if not line.startswith("scratch_postgresql_url")
        )
    )
    monkeypatch.delenv("SCHEMACTL_SCRATCH_POSTGRESQL_URL", raising=False)
    refused = runner.invoke(app, [*args, "--measure"])
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: no scratch PostgreSQL server: set ")
    assert len(refused.output.splitlines()) == 1


MARIADB_ALTERS = '''"""Type changes on MariaDB"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

STATUS = ("draft", "sent", "paid", "void")
CHANGES = [
    ("discounts", "code", sa.String(32), sa.String(60), False),
    ("invoices", "status", sa.Enum(*STATUS, name="invoice_status"),
     sa.Enum(*STATUS, "disputed", name="invoice_status"), False),
    ("discounts", "percent_off", sa.Numeric(5, 2), sa.Numeric(7, 3), False),
]


def upgrade():
    for table, column, old, new, nullable in CHANGES:
        op.alter_column(table, column, existing_type=old, type_=new, existing_nullable=nullable)


def downgrade():
    pass
'''


def test_lints_copy_verdicts_agree_with_what_mariadb_accepts(repo_copy):
    """A VARCHAR lengthened within its length bytes and an ENUM value added at the end are
    done in place; a DECIMAL's scale changed copies the table: lint says so offline, and
    MariaDB, asked for the cheapest algorithm with rows in every table, agrees."""
    import json

    from typer.testing import CliRunner

    from tools.cli import app

    (repo_copy / "versions" / "0011_0123456789ab_types.py").write_text(MARIADB_ALTERS)
    project = load_project(repo_copy / "alembic.ini")
    kind = script_dialect("mariadb")
    measured = measure_revision(
        project, load_history(project), kind, admin_url("mariadb"), "0123456789ab"
    )
    assert [m.observed.algorithm for m in measured] == ["INSTANT", "INSTANT", "COPY"]
    ini = str(repo_copy / "alembic.ini")
    args = ["-c", ini, "lint", "68cfa590ad28:heads", "--env", "mariadb", "--json"]
    linted = CliRunner().invoke(app, args)
    copies = [
        f["message"] for f in json.loads(linted.stdout)["findings"] if f["rule"] == "table-copy"
    ]
    assert copies == ["changes the type of discounts.percent_off: MariaDB copies the table"]


# Raw MariaDB statements: what lint says offline (its table-copy finding, or none) and the
# cheapest ALGORITHM the server accepts with rows.
MARIADB_RAW = [
    ("ALTER TABLE products ADD COLUMN name_len INT AS (length(name)) STORED", True, "COPY/SHARED"),
    (
        "ALTER TABLE products ADD COLUMN name_chars INT AS (length(name)) VIRTUAL",
        False,
        "INSTANT/NONE",
    ),
    (
        "ALTER TABLE payments ADD CONSTRAINT fk_payments_invoice FOREIGN KEY (invoice_id) "
        "REFERENCES invoices (id)",
        True,
        "COPY/SHARED",
    ),
    (
        "ALTER TABLE products ADD CONSTRAINT ck_products_name CHECK (name <> '')",
        True,
        "COPY/SHARED",
    ),
    ("ALTER TABLE products ADD COLUMN token VARCHAR(36) DEFAULT (uuid())", True, "COPY/SHARED"),
    ("ALTER TABLE products ADD FULLTEXT INDEX ft_products_name (name)", True, "INPLACE/SHARED"),
    # A new primary key rebuilds the table in place; writes go on.
    ("ALTER TABLE discounts DROP PRIMARY KEY, ADD PRIMARY KEY (id, code)", True, "INPLACE/NONE"),
]


def test_raw_mariadb_statements_are_judged_as_the_server_does_them(repo_copy):
    """What copies the table or stops writes on MariaDB (a stored generated column, a foreign
    key or check added, an expression default, a FULLTEXT index, a new primary key) is
    flagged, and the server, asked for the cheapest algorithm with rows, agrees; a virtual
    generated column is instant (no finding: VIRTUAL is the advice, proven here)."""
    import json

    from typer.testing import CliRunner

    from tools.cli import app

    statements = {"mariadb": [sql for sql, _, _ in MARIADB_RAW], "postgresql": []}
    (repo_copy / "versions" / "0011_0123456789ab_measured.py").write_text(
        REVISION.format(statements=statements)
    )
    project = load_project(repo_copy / "alembic.ini")
    measured = measure_revision(
        project,
        load_history(project),
        script_dialect("mariadb"),
        admin_url("mariadb"),
        "0123456789ab",
    )
    assert [m.failed for m in measured] == [None] * len(MARIADB_RAW)
    seen = [f"{m.observed.algorithm}/{m.observed.lock}" for m in measured]
    assert seen == [algorithm for *_, algorithm in MARIADB_RAW]
    args = ["-c", str(repo_copy / "alembic.ini"), "lint", "68cfa590ad28:heads", "--env", "mariadb"]
    findings = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)["findings"]
    lines = {
        f["message"].rsplit(": ", 1)[-1].rstrip(";")[:60]  # a long statement is shortened
        for f in findings
        if f["rule"] != "irreversible"
    }
    assert lines == {sql[:60] for sql, copies, _ in MARIADB_RAW if copies}


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_measured_statement_runs_as_written(throwaway_database, dialect):
    """A % in a statement's data is a %: the drivers read % markers even without
    parameters, and the measurement must not change the data it runs (or fail on it)."""
    db = throwaway_database(dialect)
    kind = script_dialect(dialect)
    engine = kind.engine(db.url)
    try:
        with engine.connect() as connection:
            kind.observe(connection, "CREATE TABLE pct (id INT PRIMARY KEY, note VARCHAR(20))")
            sql = "INSERT INTO pct VALUES (1, '50%'), (2, '50%%'), (3, '%s'), (4, '%(x)s')"
            kind.observe(connection, sql)
            rows = connection.exec_driver_sql("SELECT note FROM pct ORDER BY id").all()
    finally:
        engine.dispose()
    assert [r[0] for r in rows] == ["50%", "50%%", "%s", "%(x)s"]


CHANGE = '''"""Add users.nick"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("nick", sa.String(20)))
    op.create_index("ix_users_nick", "users", ["nick"])


def downgrade():
    op.drop_index("ix_users_nick", table_name="users")
    op.drop_column("users", "nick")
'''


def test_a_release_review_says_what_the_server_did(repo_copy, scratch_servers):
    """review.md: per statement, what PostgreSQL did with rows in every table, its version,
    and the environment's timeouts; on SQLite (nothing to measure), static verdicts, said
    so."""
    import json

    from .conftest import schemactl

    (repo_copy / "versions" / "0011_0123456789ab_nick.py").write_text(CHANGE)
    servers = scratch_servers("postgresql")
    released = schemactl(repo_copy, "release", "--env", "prod", env=servers)
    assert released.returncode == 0, released.stderr
    review = next((repo_copy / "sql_out" / "prod").glob("0003_*/review.md")).read_text()
    section = review.split("## Measured on the server", 1)[1].split("\n## ", 1)[0]
    assert "Each statement was run on PostgreSQL 15" in section
    rows = [line for line in section.splitlines() if line.startswith("| 0123456789ab")]
    assert rows[0].endswith("| held ACCESS EXCLUSIVE on users | brief |"), rows
    # The index is built while the ADD COLUMN's lock is held: reads wait too.
    assert rows[1].startswith("| 0123456789ab | 14 | CREATE INDEX ix_users_nick ON users (nick);")
    assert rows[1].endswith("| **stops reads and writes** |"), rows
    assert "Timeouts in force in prod: a lock is waited for 5s at most (lock_timeout)" in review
    # What the DBA sizes first (users has rows), and what the rollback cannot give back.
    assert "WHERE n.nspname = current_schema() AND c.relname IN ('users')" in review
    assert (
        "- 0123456789ab: the rollback drops users.nick: values written to it since the upgrade "
        "are lost"
    ) in review
    released = schemactl(repo_copy, "release", "--env", "dev")
    assert released.returncode == 0, released.stderr
    review = next((repo_copy / "sql_out" / "dev").glob("*_0123456789ab/review.md")).read_text()
    assert "Static verdicts only: SQLite has nothing to measure" in review
    # check, with nothing left unreleased: nothing measured, nothing said.
    checked = json.loads(schemactl(repo_copy, "check", "--json", env=servers).stdout)
    assert checked["verdicts"] == checked["measured"] == {}


def test_check_reports_the_unreleased_revisions_measured(repo_copy, scratch_servers):
    """check measures what no release contains yet on each kind's scratch server; a kind
    without one gives lint's static verdicts, said so."""
    import json

    from .conftest import schemactl

    (repo_copy / "versions" / "0011_0123456789ab_nick.py").write_text(CHANGE)
    servers = scratch_servers("postgresql", "mariadb")
    text = schemactl(repo_copy, "check", env=servers).stdout
    assert "measured alembic/postgresql" in text
    assert "0123456789ab line 14: PostgreSQL 15" in text
    assert "static alembic/sqlite: lint's verdicts only (SQLite has nothing to measure)" in text
    report = json.loads(schemactl(repo_copy, "check", "--json", env=servers).stdout)
    assert report["verdicts"]["alembic/postgresql"] == "measured"
    index = report["measured"]["alembic/mariadb"]["0123456789ab"][1]
    assert (index["algorithm"], index["lock"]) == ("NOCOPY", "NONE")
    without = {k: v for k, v in servers.items() if "MARIADB" not in k}
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        "".join(
            line
            for line in ini.read_text().splitlines(True)
            if not line.startswith("scratch_mariadb_url")
        )
    )
    report = json.loads(schemactl(repo_copy, "check", "--json", env=without).stdout)
    assert report["verdicts"]["alembic/mariadb"].startswith("static: migrations-run:mariadb")


def test_the_reviews_preflight_query_runs_with_each_client(database, tmp_path):
    """review.md's "Before you apply" query, run with the real client as a DBA would, names
    each table the release changes with its rows (a hostile name included)."""
    kind = database.kind
    tables = ["items", "odd name's `tbl`"]
    quote = kind.sa_dialect.identifier_preparer.quote
    engine = database.engine()
    with engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f"CREATE TABLE {quote(table)} (id INT PRIMARY KEY)")
            connection.exec_driver_sql(f"INSERT INTO {quote(table)} VALUES (1), (2), (3)")
        if database.dialect == "postgresql":
            connection.exec_driver_sql("ANALYZE")
        if database.dialect == "mariadb":
            for table in tables:
                connection.exec_driver_sql(f"ANALYZE TABLE {quote(table)}")
    engine.dispose()
    script = tmp_path / "preflight.sql"
    script.write_text(kind.size_query(tables) + "\n")
    ran = apply_script(database, script)
    assert ran.returncode == 0, ran.stderr
    for table in tables:
        assert table in ran.stdout, ran.stdout
    assert "3" in ran.stdout


LOOSENED = '''"""Loosen users"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("users", "phone", existing_type=sa.String(20), type_=sa.String(40))
    op.alter_column("users", "full_name", existing_type=sa.String(120), nullable=True)
    op.drop_constraint("uq_users_email", "users", type_="unique")
    op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("notes")
    op.create_unique_constraint("uq_users_email", "users", ["email"])
    op.alter_column("users", "full_name", existing_type=sa.String(120), nullable=False)
    op.alter_column("users", "phone", existing_type=sa.String(40), type_=sa.String(20))
'''


def test_the_review_says_what_the_rollback_cannot_give_back(repo_copy, scratch_servers):
    """A type widened, a NOT NULL and a constraint dropped, a table created: once the
    application has written to them, the rollback may fail or lose rows; review.md says
    which, per revision (issue 31). A release that only creates tables has nothing to size."""
    from .conftest import schemactl

    (repo_copy / "versions" / "0011_0123456789ab_loosen.py").write_text(LOOSENED)
    servers = scratch_servers("postgresql")
    released = schemactl(repo_copy, "release", "--env", "prod", env=servers)
    assert released.returncode == 0, released.stderr
    review = next((repo_copy / "sql_out" / "prod").glob("*_0123456789ab/review.md")).read_text()
    risks = review.split("### What the rollback cannot give back, or may fail on", 1)[1]
    risks = risks.split("###", 1)[0]
    said = [line for line in risks.splitlines() if line.startswith("- ")]
    assert said == [
        "- 0123456789ab: the rollback changes users.phone back to VARCHAR(20): values written "
        "since the upgrade that do not fit it make it fail or are cut",
        "- 0123456789ab: the rollback makes users.full_name NOT NULL again: it fails if a NULL "
        "was written since the upgrade",
        "- 0123456789ab: the rollback adds uq_users_email back to users: rows written since the "
        "upgrade that break it make it fail",
        "- 0123456789ab: the rollback drops notes with every row written to it since the upgrade",
    ], said
    assert "c.relname IN ('users')" in review  # notes is new: nothing to size
