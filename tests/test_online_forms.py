"""The online operations (tools.operations.online) on tables with rows: rendered into the
release scripts in each server's safe form, applied with the real client both ways, values
compared; the server's catalog shows what was built (a validated constraint, a valid index,
NOT NULL) and `verify` finds the schema Alembic's online run makes. A row that breaks a new
foreign key stops the script before anything is added."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from sqlalchemy import MetaData, Table, inspect, select, text

from tools.config import load_project
from tools.release import ranges

from .conftest import ENV_FOR_DIALECT, MODELS, apply_script, copy_fixture, schemactl, scratch_env

PARENT = "68cfa590ad28"

REVISION = '''"""Online forms on tables with rows"""

import sqlalchemy as sa
from alembic import op

revision = "0a1100000001"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("discounts", sa.Column("customer_id", sa.Integer()))
    op.execute("UPDATE discounts SET customer_id = {customer}")
    op.create_foreign_key_online(
        "fk_discounts_customer_id", "discounts", "customers", ["customer_id"], ["id"]
    )
    op.create_index_online("ix_payments_reference", "payments", ["reference"])
    op.create_unique_constraint_online("uq_customers_tax_id", "customers", ["tax_id"])
    op.create_check_constraint_online("amount_positive", "payments", "amount >= 0")
    op.set_not_null_online("customers", "email", existing_type=sa.String(255))
    op.add_column("payments", sa.Column("cents", sa.BigInteger()))
    op.backfill_online("payments", {{"cents": "amount * 100"}}, where="cents IS NULL", batch_size=1)


def downgrade():
    op.drop_column("payments", "cents")
    op.alter_column("customers", "email", existing_type=sa.String(255), nullable=True)
    op.drop_constraint("amount_positive", "payments", type_="check")  # named by convention
    op.drop_constraint("uq_customers_tax_id", "customers", type_="unique")
    op.drop_index_online("ix_payments_reference", table_name="payments")
    op.drop_constraint("fk_discounts_customer_id", "discounts", type_="foreignkey")
    op.drop_column("discounts", "customer_id")
'''.replace("{{", "{").replace("}}", "}")

# What each server's upgrade script must say, in order (its safe forms).
SAFE_FORMS = {
    "postgresql": [
        "ALTER TABLE discounts ADD CONSTRAINT fk_discounts_customer_id FOREIGN KEY(customer_id) "
        "REFERENCES customers (id) NOT VALID;",
        "ALTER TABLE discounts VALIDATE CONSTRAINT fk_discounts_customer_id;",
        "CREATE INDEX CONCURRENTLY ix_payments_reference ON payments (reference);",
        "CREATE UNIQUE INDEX CONCURRENTLY uq_customers_tax_id ON customers (tax_id);",
        "ALTER TABLE customers ADD CONSTRAINT uq_customers_tax_id UNIQUE USING INDEX "
        "uq_customers_tax_id;",
        "ALTER TABLE payments ADD CONSTRAINT ck_payments_amount_positive CHECK (amount >= 0) "
        "NOT VALID;",
        "ALTER TABLE payments VALIDATE CONSTRAINT ck_payments_amount_positive;",
        "ALTER TABLE customers ADD CONSTRAINT ck_customers_email_not_null CHECK (email IS NOT "
        "NULL) NOT VALID;",
        "ALTER TABLE customers VALIDATE CONSTRAINT ck_customers_email_not_null;",
        "ALTER TABLE customers ALTER COLUMN email SET NOT NULL;",
        "ALTER TABLE customers DROP CONSTRAINT ck_customers_email_not_null;",
        "SET SESSION statement_timeout = 0;",
        "SET SESSION statement_timeout = '15min';",
    ],
    "mariadb": [
        "PREPARE schemactl_rows_check FROM @schemactl_rows;",
        "SET SESSION foreign_key_checks = 0;",
        "ALTER TABLE discounts ADD CONSTRAINT fk_discounts_customer_id FOREIGN KEY(customer_id) "
        "REFERENCES customers (id), ALGORITHM=INPLACE, LOCK=NONE;",
        "SET SESSION foreign_key_checks = 1;",
        "CREATE INDEX ix_payments_reference ON payments (reference) ALGORITHM=INPLACE LOCK=NONE;",
        "ALTER TABLE customers ADD CONSTRAINT uq_customers_tax_id UNIQUE (tax_id), "
        "ALGORITHM=INPLACE, LOCK=NONE;",
        # MariaDB checks a new CHECK only by copying the table: copied beside it instead,
        # writes going on, then switched.
        "CREATE TABLE _payments_schemactl_new LIKE payments;",
        "ALTER TABLE _payments_schemactl_new ADD CONSTRAINT ck_payments_amount_positive CHECK (amount >= 0);",
        "RENAME TABLE payments TO _payments_schemactl_old, _payments_schemactl_new TO payments;",
        "DROP TABLE _payments_schemactl_old;",
        "ALTER TABLE customers MODIFY email VARCHAR(255) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;",
        "DELIMITER // BEGIN NOT ATOMIC DECLARE low BIGINT;",
    ],
}

# Rows in every table the revision touches, values a script could mangle among them.
ROWS = [
    "INSERT INTO users (id, email, full_name, password_hash) VALUES (1, 'a@x.io', 'A', 'h')",
    "INSERT INTO customers (id, owner_id, name, email, tax_id) VALUES "
    "(1, 1, 'Ada 100%', 'ada@x.io', 'T-1'), (2, 1, 'Bo :name', 'bo@x.io', NULL), "
    "(3, 1, 'Cy', 'cy@x.io', NULL)",
    "INSERT INTO invoices (id, number, customer_id, issued_by_id, issue_date, total_amount) "
    "VALUES (1, 'INV-1', 1, 1, '2026-01-02', 10.50), (2, 'INV-2', 2, 1, '2026-01-03', 0)",
    "INSERT INTO payments (id, invoice_id, amount, method, paid_at, reference) VALUES "
    "(1, 1, 10.50, 'card', '2026-01-04 10:00:00', 'r-100%'), "
    "(2, 2, 0, 'cash', '2026-01-05 11:00:00', NULL)",
    "INSERT INTO discounts (id, code, percent_off, valid_from) VALUES "
    "(1, 'TEN', 10, '2026-01-01'), (2, 'FIVE', 5.5, '2026-02-01')",
]
TABLES = ("users", "customers", "invoices", "payments", "discounts")


def _contents(db) -> dict[str, list[tuple[object, ...]]]:
    with db.engine().connect() as connection:
        found = {}
        for table in TABLES:
            columns = [c["name"] for c in inspect(connection).get_columns(table)]
            # Those the revision adds are left out.
            kept = ", ".join(c for c in columns if c not in ("customer_id", "cents"))
            found[table] = [
                tuple(row) for row in connection.execute(text(f"SELECT {kept} FROM {table}"))
            ]
        return {t: sorted(rows, key=repr) for t, rows in found.items()}


def _at_parent_with_rows(tmp_path, throwaway_database, dialect, customer="1"):
    repo = copy_fixture(tmp_path / "repo")
    db = throwaway_database(dialect)
    env = ENV_FOR_DIALECT[dialect][0]
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="base", out=tmp_path / "base")
    applied = apply_script(db, tmp_path / "base" / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    with db.engine().begin() as connection:
        for statement in ROWS:
            connection.execute(text(statement.replace(":", r"\:")))
    (repo / "versions" / "0011_0a1100000001_online_forms.py").write_text(
        REVISION.replace("{customer}", customer)
    )
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start=PARENT, out=tmp_path / "new")
    return repo, db, env


def _statements(script: str) -> list[str]:
    """The script's statements, each on one line."""
    return [re.sub(r"\s+", " ", s.strip()) + ";" for s in script.split(";\n") if s.strip()]


def _catalog(db) -> dict[str, object]:
    """What the server says was built."""
    with db.engine().connect() as connection:
        seen = inspect(connection)
        found: dict[str, object] = {
            "fk": [k["name"] for k in seen.get_foreign_keys("discounts")],
            "index": [
                i["name"]
                for i in seen.get_indexes("payments")
                if i["name"] == "ix_payments_reference"
            ],
            "unique": [u["name"] for u in seen.get_unique_constraints("customers")],
            "checks": sorted(c["name"] for c in seen.get_check_constraints("payments"))
            + sorted(c["name"] for c in seen.get_check_constraints("customers")),
            "email_nullable": next(
                c["nullable"] for c in seen.get_columns("customers") if c["name"] == "email"
            ),
        }
        if db.dialect == "postgresql":  # validated, and no index left INVALID
            found["not_validated"] = connection.execute(
                text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")
            ).scalar()
            found["invalid_indexes"] = connection.execute(
                text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            ).scalar()
        return found


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_online_forms_run_both_ways_with_rows_in_each_servers_safe_form(
    tmp_path, throwaway_database, dialect
):
    repo, db, env = _at_parent_with_rows(tmp_path, throwaway_database, dialect)
    script = (tmp_path / "new" / "upgrade.sql").read_text()
    said = _statements(script)
    expected = SAFE_FORMS[dialect]
    found = iter(said)  # each expected statement, in order, among the script's
    assert all(any(s == e for s in found) for e in expected), script
    # No table copied under a lock (the CHECK's copy is made beside the table).
    assert "-- COPIES A TABLE:" not in script.split("\n\n", 1)[0]
    before = _contents(db)

    up = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert up.returncode == 0, up.stdout + up.stderr
    built = _catalog(db)
    assert built["fk"] == ["fk_discounts_customer_id"], built
    assert built["index"] == ["ix_payments_reference"], built
    assert "uq_customers_tax_id" in built["unique"], built  # type: ignore[operator]
    assert built["checks"] == ["ck_payments_amount_positive"], built  # the temporary one gone
    assert built["email_nullable"] is False, built
    assert built.get("not_validated", 0) == 0 and built.get("invalid_indexes", 0) == 0, built
    assert _contents(db) == before
    with db.engine().connect() as connection:
        linked = connection.execute(text("SELECT id, customer_id FROM discounts ORDER BY id"))
        assert [tuple(r) for r in linked] == [(1, 1), (2, 1)]
        # Backfilled a row at a time (two batches, each committed), every row.
        cents = connection.execute(text("SELECT id, cents FROM payments ORDER BY id"))
        assert [tuple(r) for r in cents] == [(1, 1050), (2, 0)]
    environ = {db.url_var: db.url.render_as_string(hide_password=False)}
    verified = schemactl(repo, "verify", "--env", env, env=environ)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    down = apply_script(db, tmp_path / "new" / "rollback.sql")
    assert down.returncode == 0, down.stdout + down.stderr
    back = _catalog(db)
    assert back["fk"] == [] and back["index"] == [] and back["checks"] == [], back
    assert back["email_nullable"] is True, back
    assert _contents(db) == before
    again = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _contents(db) == before


def test_mariadb_refuses_a_foreign_key_its_rows_break_before_adding_it(
    tmp_path, throwaway_database
):
    """MariaDB adds the key without checking the rows: the script checks them first, and
    stops there, the key not added, naming it."""
    _, db, _ = _at_parent_with_rows(tmp_path, throwaway_database, "mariadb", customer="99")
    stopped = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert stopped.returncode != 0
    assert "schemactl: rows break fk_discounts_customer_id; nothing added" in stopped.stderr
    assert _catalog(db)["fk"] == []


def test_postgresql_validation_refuses_a_foreign_key_its_rows_break(tmp_path, throwaway_database):
    """VALIDATE refuses the rows, and the key stays NOT VALID (enforced on new rows only):
    the catalog says so, verify calls it drift, recover tells the ADD that ran from the
    VALIDATE that did not."""
    import json

    repo, db, env = _at_parent_with_rows(tmp_path, throwaway_database, "postgresql", "99")
    stopped = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert stopped.returncode != 0
    assert 'violates foreign key constraint "fk_discounts_customer_id"' in stopped.stderr
    environ = {
        db.url_var: db.url.render_as_string(hide_password=False),
        **scratch_env("postgresql"),
    }
    verified = schemactl(repo, "verify", "--env", env, env=environ)
    assert verified.returncode == 1
    # (The version table holds the parent: the key is extra, and said to be unchecked.)
    said = "extra foreign key fk_discounts_customer_id on discounts (NOT VALID: its rows were"
    assert said in verified.stdout, verified.stdout
    said = schemactl(repo, "recover", "--env", env, "--json", env=environ)
    assert said.returncode == 0, said.stdout + said.stderr
    ran = {s["sql"]: s["ran"] for s in json.loads(said.stdout)["statements"]}
    add = next(sql for sql in ran if "ADD CONSTRAINT fk_discounts_customer_id" in sql)
    check = next(sql for sql in ran if "VALIDATE CONSTRAINT fk_discounts_customer_id" in sql)
    assert ran[add] is True and ran[check] is False, ran


def test_safe_false_renders_the_plain_forms(tmp_path):
    """An environment with safe = false: Alembic's own forms, as op.create_index would."""
    repo = copy_fixture(tmp_path / "repo")
    ini = repo / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl.env.prod]\n", "[schemactl.env.prod]\nsafe = false\n")
    )
    (repo / "versions" / "0011_0a1100000001_online_forms.py").write_text(
        REVISION.replace("{customer}", "1")
    )
    rendered = schemactl(repo, "sql", "--env", "prod", "--from", PARENT, "--stdout")
    assert rendered.returncode == 0, rendered.stderr
    said = _statements(rendered.stdout)
    assert "CREATE INDEX ix_payments_reference ON payments (reference);" in said
    assert not [s for s in said if "CONCURRENTLY" in s or "NOT VALID" in s or "VALIDATE" in s]
    assert "ALTER TABLE customers ALTER COLUMN email SET NOT NULL;" in said
    bad = ini.read_text().replace("safe = false", "safe = maybe")
    ini.write_text(bad)
    refused = schemactl(repo, "sql", "--env", "prod", "--from", PARENT, "--stdout")
    assert refused.returncode != 0 and "safe = 'maybe' is not true or false" in refused.stderr


def test_a_statement_that_copies_a_table_is_named_in_the_header_with_its_commands(tmp_path):
    """MariaDB: an ALTER that says ALGORITHM=COPY is named under COPIES A TABLE, with the
    pt-online-schema-change and gh-ost commands that make the same change while writes go
    on; the statement itself is left as the revision wrote it."""
    repo = copy_fixture(tmp_path / "repo")
    copies = (
        "ALTER TABLE payments MODIFY amount NUMERIC(14, 4) NOT NULL, ALGORITHM=COPY, LOCK=SHARED"
    )
    revision = REVISION.replace("{customer}", "1").replace(
        "def upgrade():\n", f"def upgrade():\n    op.execute({copies!r})\n"
    )
    (repo / "versions" / "0011_0a1100000001_online_forms.py").write_text(revision)
    env = ENV_FOR_DIALECT["mariadb"][0]
    rendered = schemactl(repo, "sql", "--env", env, "--from", PARENT, "--stdout")
    assert rendered.returncode == 0, rendered.stderr
    header = rendered.stdout.split("\n\n", 1)[0]
    assert "-- COPIES A TABLE:" in header, header
    assert f"--   0a1100000001  {copies};" in header, header
    change = "MODIFY amount NUMERIC(14, 4) NOT NULL"
    assert (
        f"--     pt-online-schema-change --alter '{change}' D=DBNAME,t=payments --execute" in header
    )
    assert (
        f"--     gh-ost --database=DBNAME --table=payments --alter='{change}' --execute" in header
    )
    assert f"{copies};" in _statements(rendered.stdout)
    # The online CHECK is no copy under a lock: it is not named.
    assert header.count("ALGORITHM=COPY") == 1, header


PLAIN = '''"""Plain operations on tables with rows"""

import sqlalchemy as sa
from alembic import op

revision = "0a1100000001"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("payments", sa.Column("memo", sa.String(40)))
    op.alter_column("payments", "memo", server_default="n/a", existing_type=sa.String(40))
    op.create_index("ix_payments_memo", "payments", ["memo"])
    op.alter_column("payments", "memo", new_column_name="note", existing_type=sa.String(40))
    op.alter_column("discounts", "code", type_=sa.String(64), existing_type=sa.String(32))
    op.execute("ALTER TABLE customers ADD COLUMN raw_note VARCHAR(10)")


def downgrade():
    op.drop_column("customers", "raw_note")
    op.alter_column("discounts", "code", type_=sa.String(32), existing_type=sa.String(64))
    op.alter_column("payments", "note", new_column_name="memo", existing_type=sa.String(40))
    op.drop_index("ix_payments_memo", table_name="payments")
    op.drop_column("payments", "memo")
'''

ONLINE = "ALGORITHM=INPLACE, LOCK=NONE"


def test_mariadb_alters_say_online_what_mariadb_always_does_online(tmp_path, throwaway_database):
    """Alembic's own operations on MariaDB: an ALTER that adds or drops a column, an index
    or a key, renames a column or sets a default says ALGORITHM=INPLACE, LOCK=NONE (a
    server that would copy refuses); a type change (a MODIFY) and raw SQL are left as
    written. Plain `alembic upgrade --sql` writes the same; safe = false writes neither.
    Applied with the real client both ways on tables with rows."""
    repo = copy_fixture(tmp_path / "repo")
    (repo / "versions" / "0011_0a1100000001_plain.py").write_text(PLAIN)
    env = ENV_FOR_DIALECT["mariadb"][0]
    rendered = schemactl(repo, "sql", "--env", env, "--from", PARENT, "--stdout")
    assert rendered.returncode == 0, rendered.stderr
    said = _statements(rendered.stdout)
    for statement in (
        f"ALTER TABLE payments ADD COLUMN memo VARCHAR(40), {ONLINE};",
        f"ALTER TABLE payments ALTER COLUMN memo SET DEFAULT 'n/a', {ONLINE};",
        "CREATE INDEX ix_payments_memo ON payments (memo) ALGORITHM=INPLACE LOCK=NONE;",
        "ALTER TABLE customers ADD COLUMN raw_note VARCHAR(10);",  # raw SQL: as written
    ):
        assert statement in said, "\n".join(said)
    modify = [
        s
        for s in said
        if s.startswith(("ALTER TABLE discounts MODIFY", "ALTER TABLE payments CHANGE"))
    ]
    assert modify and not [s for s in modify if "ALGORITHM" in s], modify  # may copy: unsaid
    rollback = schemactl(repo, "sql", "--env", env, "--from", PARENT, "--rollback", "--stdout")
    assert rollback.returncode == 0, rollback.stderr
    assert f"ALTER TABLE payments DROP COLUMN memo, {ONLINE};" in _statements(rollback.stdout)

    # Plain Alembic, through env.py, writes the same statements.
    plain = subprocess.run(
        [sys.executable, "-m", "alembic", "-x", f"env={env}", "upgrade", f"{PARENT}:head", "--sql"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert plain.returncode == 0, plain.stderr
    theirs = _statements("\n".join(line for line in plain.stdout.splitlines() if line[:2] != "--"))
    assert [s for s in said if ONLINE.split(",")[0] in s] == [
        s for s in theirs if ONLINE.split(",")[0] in s
    ]

    # Applied, both ways, on rows: the server takes every one, and the values are kept.
    db = throwaway_database("mariadb")
    project = load_project(repo / "alembic.ini")
    ranges.sql(
        project, project.environment(env), start="base", target=PARENT, out=tmp_path / "base"
    )
    assert apply_script(db, tmp_path / "base" / "upgrade.sql").returncode == 0
    with db.engine().begin() as connection:
        for statement in ROWS:
            connection.execute(text(statement.replace(":", r"\:")))
    before = _contents(db)
    ranges.sql(project, project.environment(env), start=PARENT, out=tmp_path / "new")
    for script in ("upgrade.sql", "rollback.sql", "upgrade.sql"):
        applied = apply_script(db, tmp_path / "new" / script)
        assert applied.returncode == 0, applied.stderr
        now = _contents(db)  # the columns that were there (those added come last)
        assert {t: [r[: len(before[t][0])] for r in rows] for t, rows in now.items()} == before

    ini = repo / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            f"[schemactl.env.{env}]\n", f"[schemactl.env.{env}]\nsafe = false\n"
        )
    )
    unsafe = schemactl(repo, "sql", "--env", env, "--from", PARENT, "--stdout")
    assert unsafe.returncode == 0 and "ALGORITHM" not in unsafe.stdout, unsafe.stdout


def _models_change_tables_with_rows(repo):
    """Model changes to existing tables: an index, a unique constraint, a new column with
    a foreign key."""
    customers = repo / MODELS / "customers.py"
    customers.write_text(
        customers.read_text().replace(
            "tax_id: Mapped[str | None] = mapped_column(String(32), index=True)",
            "tax_id: Mapped[str | None] = mapped_column(String(32), unique=True)",
        )
    )
    billing = repo / MODELS / "billing.py"
    billing.write_text(
        billing.read_text()
        .replace(
            "    reference: Mapped[str | None] = mapped_column(String(64))\n",
            "    reference: Mapped[str | None] = mapped_column(String(64), index=True)\n",
        )
        .replace(
            "    valid_until: Mapped[dt.date | None]\n",
            "    valid_until: Mapped[dt.date | None]\n"
            '    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))\n',
        )
    )


@pytest.mark.slow
def test_makemigrations_writes_online_forms_that_check_and_release_prove_with_rows(
    repo_copy, scratch_servers
):
    """makemigrations writes the online operations for tables with rows; check proves the
    revision up, down and up with rows on SQLite, PostgreSQL and MariaDB; lint measures
    each server's form: nothing that rewrites a table or stops writes; release proves the
    scripts and its review says so per statement."""
    import json

    servers = scratch_servers("postgresql", "mariadb")
    _models_change_tables_with_rows(repo_copy)
    made = schemactl(repo_copy, "makemigrations", "-m", "online")
    assert made.returncode == 0, made.stderr
    for line in (
        "- Remove index ix_customers_tax_id from customers, online",
        "+ Add unique constraint uq_customers_tax_id to customers, online",
        "+ Add foreign key fk_discounts_customer_id_customers to discounts, online",
    ):
        assert line in made.stdout, made.stdout
    body = (repo_copy / made.stdout.splitlines()[0]).read_text()
    for call in (
        'op.create_index_online(op.f("ix_payments_reference"), "payments", ["reference"]',
        'batch_op.create_unique_constraint_online(batch_op.f("uq_customers_tax_id"), ["tax_id"])',
        "batch_op.create_foreign_key_online(",
        'op.drop_index_online(op.f("ix_payments_reference"), table_name="payments")',
    ):
        assert call in body, body

    checked = schemactl(repo_copy, "check", "--json", env=servers)
    report = json.loads(checked.stdout)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for dialect in ("postgresql", "mariadb"):
        assert report["verdicts"][f"alembic/{dialect}"] == "measured", report
    for environment in ("staging", "mariadb"):
        linted = schemactl(
            repo_copy,
            "lint",
            f"{PARENT}:heads",
            "--env",
            environment,
            "--measure",
            "--json",
            env=servers,
        )
        findings = json.loads(linted.stdout)
        assert linted.returncode == 0, linted.stdout + linted.stderr
        assert findings["verdicts"] == "measured" and findings["findings"] == [], findings
        for measured in findings["measured"].values():
            for statement in measured:  # no table written again, no copy, no refusal
                assert not statement["rewritten"] and not statement["failed"], statement
                assert statement["algorithm"] in (None, "INSTANT", "NOCOPY", "INPLACE"), statement
                assert statement["lock"] in (None, "NONE"), statement
        released = schemactl(repo_copy, "release", "--env", environment, env=servers)
        assert released.returncode == 0, released.stdout + released.stderr
        review = next((repo_copy / "sql_out" / environment).glob("*/review.md"))
        section = review.read_text().split("## Measured on the server", 1)[1].split("\n## ")[0]
        revision = made.stdout.split("_")[1]  # versions/0011_<revision>_online.py
        verdicts = [
            line.rsplit("|", 2)[-2].strip()
            for line in section.splitlines()
            if line.startswith(f"| {revision} |")
        ]
        # (MariaDB's session statements, SET and the check's PREPARE, are not measured.)
        assert verdicts.count("brief") >= 4, section
        assert set(verdicts) <= {"brief", "not measured"}, section


HOSTILE = '''"""Online forms on a table whose names are data"""

import sqlalchemy as sa
from alembic import op

revision = "0a1100000002"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

T = 'li:ne "x" 100%'


def upgrade():
    table = op.create_table(
        T,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("who :id", sa.Integer()),
        sa.Column("code %s", sa.String(20)),
        sa.Column("n", sa.Integer()),
    )
    op.bulk_insert(table, [{"id": i, "who :id": 1, "code %s": f"c{i}", "n": i} for i in (1, 2, 3)])
    op.create_index_online('ix "1":%', T, ["n"])
    op.create_foreign_key_online("fk :who", T, T, ["who :id"], ["id"])  # rows of its own
    op.create_unique_constraint_online("uq 'code'", T, ["code %s"])
    op.set_not_null_online(T, "code %s", existing_type=sa.String(20))
    op.backfill_online(T, {"n": "n * 10"}, batch_size=2)


def downgrade():
    op.drop_index_online('ix "1":%', table_name=T)
    op.drop_table(T)
'''


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_names_that_are_data_stay_names_in_every_form(tmp_path, throwaway_database, dialect):
    """Quotes, a colon (a bound parameter to SQLAlchemy's text()), a % (a driver's marker)
    in a table's, columns' and constraints' names: each online form writes them as names,
    the script runs both ways with the real client, and the values come out as written."""
    repo = copy_fixture(tmp_path / "repo")
    db = throwaway_database(dialect)
    env = ENV_FOR_DIALECT[dialect][0]
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="base", out=tmp_path / "base")
    assert apply_script(db, tmp_path / "base" / "upgrade.sql").returncode == 0
    (repo / "versions" / "0011_0a1100000002_hostile.py").write_text(HOSTILE)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start=PARENT, out=tmp_path / "new")
    up = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert up.returncode == 0, up.stdout + up.stderr
    name = 'li:ne "x" 100%'
    with db.engine().connect() as connection:
        seen = inspect(connection)
        assert [k["name"] for k in seen.get_foreign_keys(name)] == ["fk :who"]
        assert 'ix "1":%' in [i["name"] for i in seen.get_indexes(name)]
        assert "uq 'code'" in [u["name"] for u in seen.get_unique_constraints(name)]
        table = Table(name, MetaData(), autoload_with=connection)
        rows = connection.execute(select(table.c.id, table.c.n).order_by(table.c.id))
        assert [tuple(r) for r in rows] == [(1, 10), (2, 20), (3, 30)]
    environ = {db.url_var: db.url.render_as_string(hide_password=False)}
    verified = schemactl(repo, "verify", "--env", env, env=environ)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    down = apply_script(db, tmp_path / "new" / "rollback.sql")
    assert down.returncode == 0, down.stdout + down.stderr
    assert name not in db.tables()
