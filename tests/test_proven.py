"""Proven releases, with real servers and real clients.

The scenario that started it, on MariaDB: a feature adds a table with a foreign key and an
index, and its downgrade drops the index before the table. MariaDB refuses (error 1553) and
a rollback stops halfway. `check` must catch it before any release, `release` must refuse to
write it, and the same feature with a correct downgrade must prove and be written. Then:
`release --prove` over the committed releases, a release whose rollback is broken, and a DBA
backing a half-applied MariaDB upgrade out to where its release started.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import create_engine, pool, text

from .conftest import MODELS, apply_script, schema_snapshot, schemactl

HEAD = "68cfa590ad28"

REMINDERS = '''"""Invoice reminders

Revision ID: 7e57ab1e0001
Revises: 68cfa590ad28
"""

import sqlalchemy as sa
from alembic import op

revision = "7e57ab1e0001"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None
{silence}

def upgrade():
    op.create_table(
        "invoice_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_invoice_reminders_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_reminders")),
    )
    op.create_index(
        op.f("ix_invoice_reminders_invoice_id"), "invoice_reminders", ["invoice_id"], unique=False
    )


def downgrade():
{downgrade}
'''
# What autogenerate wrote before: the index first. MariaDB will not drop it (error 1553).
BROKEN = """    op.drop_index(op.f("ix_invoice_reminders_invoice_id"), table_name="invoice_reminders")
    op.drop_table("invoice_reminders")"""
CORRECT = """    op.drop_table("invoice_reminders")"""
MODEL = """

class InvoiceReminder(Base):
    __tablename__ = "invoice_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    sent_at: Mapped[dt.datetime]
"""
FILE = "0011_7e57ab1e0001_invoice_reminders.py"


def add_reminders(repo, downgrade: str, *, silence: str = "") -> None:
    (repo / "versions" / FILE).write_text(REMINDERS.format(downgrade=downgrade, silence=silence))
    billing = repo / MODELS / "billing.py"
    if "InvoiceReminder" not in billing.read_text():
        billing.write_text(billing.read_text() + MODEL)


def lines_of(result) -> dict[str, list[str]]:
    """check's report as {check: [status, messages...]}."""
    report: dict[str, list[str]] = {}
    current = ""
    for line in result.stdout.splitlines():
        if line.startswith("     "):
            report[current].append(line.strip())
        else:
            status, rest = line.split(" ", 1)
            current = rest.strip().split(": ", 1)[0]
            report[current] = [status]
    return report


@pytest.mark.slow(30)
@pytest.mark.mariadb
@pytest.mark.postgresql
def test_the_mariadb_downgrade_is_caught_by_check_and_refused_by_release(
    repo_copy, scratch_servers
):
    servers = scratch_servers("postgresql", "mariadb")
    add_reminders(repo_copy, BROKEN)

    checked = schemactl(repo_copy, "-n", "alembic", "check", env=servers)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    report = lines_of(checked)
    assert report["migrations-run:mariadb"][0] == "FAIL"
    (problem,) = report["migrations-run:mariadb"][1:]
    assert "downgrade of 7e57ab1e0001 (versions/" in problem and "fails on MariaDB" in problem
    assert "Cannot drop index 'ix_invoice_reminders_invoice_id'" in problem
    assert "ERROR 1553" in problem and FILE in problem
    assert report["migrations-run:postgresql"] == ["ok"]
    assert report["migrations-run:sqlite"] == ["ok"]

    # Lint says so too, before anything runs: for MariaDB only.
    linted = schemactl(repo_copy, "lint", "--env", "mariadb")
    assert linted.returncode == 1
    assert "index-needed-by-foreign-key: its downgrade drops index ix_invoice_reminders" in (
        linted.stdout
    )
    assert "index-needed-by-foreign-key" not in schemactl(repo_copy, "lint", "--env", "prod").stdout

    # Silenced in lint, the release still proves the rollback with the real client: refused.
    add_reminders(repo_copy, BROKEN, silence="# schemactl: allow index-needed-by-foreign-key: x")
    released = schemactl(repo_copy, "release", "--env", "mariadb", env=servers)
    assert released.returncode == 1
    (message,) = released.stderr.splitlines()
    assert re.fullmatch(
        r"Error: release not written: sql_out/mariadb/0001_7e57ab1e0001/rollback\.sql, line \d+ "
        r"failed at `DROP INDEX ix_invoice_reminders_invoice_id ON invoice_reminders;`: "
        r"ERROR 1553 \(HY000\): Cannot drop index 'ix_invoice_reminders_invoice_id': needed in "
        rf"a foreign key constraint; fix the downgrade of 7e57ab1e0001 \(versions/{FILE}\)",
        message,
    ), message
    assert not (repo_copy / "sql_out" / "mariadb").exists()

    # The same feature with a downgrade that drops just the table: proven and written.
    add_reminders(repo_copy, CORRECT)
    assert schemactl(repo_copy, "-n", "alembic", "check", env=servers).returncode == 0
    released = schemactl(repo_copy, "release", "--env", "mariadb", env=servers)
    assert released.returncode == 0, released.stderr
    assert "proven on mariadb" in released.stdout
    manifest = json.loads((repo_copy / "sql_out" / "mariadb" / "manifest.json").read_text())
    (made,) = manifest["releases"]
    assert made["proven"]["client"].startswith("mariadb ")
    assert made["proven"]["server"].startswith("MariaDB 10.")
    # The record does not touch the byte-for-byte promise, and the release proves again.
    assert schemactl(repo_copy, "release", "--check").returncode == 0
    again = schemactl(repo_copy, "release", "--prove", "--env", "mariadb", env=servers)
    assert again.returncode == 0, again.stderr
    # Once released, the revision is no longer run by check: no server needed for it.
    assert "ok   migrations-run:mariadb" in schemactl(repo_copy, "-n", "alembic", "check").stdout


@pytest.mark.slow(20)
@pytest.mark.mariadb
def test_makemigrations_writes_a_downgrade_mariadb_runs(repo_copy, scratch_servers):
    servers = scratch_servers("mariadb")
    billing = repo_copy / MODELS / "billing.py"
    billing.write_text(billing.read_text() + MODEL)
    made = schemactl(repo_copy, "makemigrations", "-m", "invoice reminders")
    assert made.returncode == 0, made.stderr
    (path,) = (repo_copy / "versions").glob("0011_*_invoice_reminders.py")
    downgrade = path.read_text().split("def downgrade")[1]
    assert "drop_index" not in downgrade and 'op.drop_table("invoice_reminders")' in downgrade
    checked = schemactl(repo_copy, "-n", "alembic", "check", env=servers)
    assert "ok   migrations-run:mariadb" in checked.stdout, checked.stdout

    # Removing the model again: the upgrade drops the table, its index with it.
    billing.write_text(billing.read_text().replace(MODEL, ""))
    made = schemactl(repo_copy, "makemigrations", "-m", "no more reminders")
    assert made.returncode == 0, made.stderr
    (path,) = (repo_copy / "versions").glob("0012_*_no_more_reminders.py")
    upgrade = path.read_text().split("def upgrade")[1].split("def downgrade")[0]
    assert "drop_index" not in upgrade and 'op.drop_table("invoice_reminders")' in upgrade
    checked = schemactl(repo_copy, "-n", "alembic", "check", env=servers)
    assert "ok   migrations-run:mariadb" in checked.stdout, checked.stdout


@pytest.mark.postgresql
def test_release_prove_passes_for_the_committed_prod_releases(repo_copy, scratch_servers):
    servers = scratch_servers("postgresql")
    proved = schemactl(repo_copy, "release", "--prove", "--env", "prod", env=servers)
    assert proved.returncode == 0, proved.stderr
    assert proved.stdout.splitlines()[:2] == [
        "proven sql_out/prod/0001_9ecdc98b5e8a  (" + proved.stdout.split("(", 1)[1].split("\n")[0],
        "proven sql_out/prod/0002_68cfa590ad28  (" + proved.stdout.split("(", 1)[1].split("\n")[0],
    ]
    assert "psql (PostgreSQL)" in proved.stdout and "PostgreSQL 15" in proved.stdout


@pytest.mark.postgresql
def test_release_prove_names_the_statement_of_a_broken_rollback(repo_copy, scratch_servers):
    servers = scratch_servers("postgresql")
    rollback = repo_copy / "sql_out" / "prod" / "0002_68cfa590ad28" / "rollback.sql"
    original = rollback.read_text()
    assert "DROP TABLE discounts;" in original
    rollback.write_text(original.replace("DROP TABLE discounts;", "DROP TABLE discount;"))
    proved = schemactl(repo_copy, "release", "--prove", "--env", "prod", env=servers)
    assert proved.returncode == 1
    (message,) = proved.stderr.splitlines()
    line = original.splitlines().index("DROP TABLE discounts;") + 1
    assert message == (
        f"Error: sql_out/prod/0002_68cfa590ad28/rollback.sql, line {line} failed at "
        '`DROP TABLE discount;`: ERROR: table "discount" does not exist; fix the downgrade of '
        "466a3e31682b (versions/0007_466a3e31682b_create_discounts.py)"
    )

    # A rollback that runs but leaves something behind is refused by the schema comparison.
    rollback.write_text(original.replace("DROP TABLE discounts;", "SELECT 1;"))
    proved = schemactl(repo_copy, "release", "--prove", "--env", "prod", env=servers)
    assert proved.returncode == 1
    assert proved.stderr.startswith(
        "Error: sql_out/prod/0002_68cfa590ad28/rollback.sql applied, but the schema differs "
        "from the from-state (9ecdc98b5e8a) (extra table discounts"
    ), proved.stderr


@pytest.mark.slow
def test_release_refuses_without_a_scratch_server_and_writes_nothing(repo_copy):
    add_reminders(repo_copy, CORRECT)
    ini = repo_copy / "alembic.ini"
    committed = ini.read_text()
    listing = sorted(p.name for p in (repo_copy / "sql_out" / "prod").iterdir())
    # A server that is not there: one line, the URL without its password.
    down = {"SCHEMACTL_SCRATCH_POSTGRESQL_URL": "postgresql://ops:s3cr%40t@127.0.0.1:9/postgres"}
    released = schemactl(repo_copy, "release", "--env", "prod", env=down)
    assert released.returncode == 1
    (message,) = released.stderr.splitlines()
    assert message.startswith(
        "Error: cannot create a scratch database on postgresql://ops:***@127.0.0.1:9/postgres ("
    ), message
    assert "s3cr" not in message and message.endswith(
        "check that the server is up and that its user may create databases"
    )
    # No server at all: alembic.ini without its scratch URLs, and no variable.
    ini.write_text(
        "\n".join(line for line in committed.splitlines() if not line.startswith("scratch_"))
    )
    released = schemactl(repo_copy, "release", "--env", "prod")
    assert released.returncode == 1
    assert released.stderr.splitlines() == [
        "Error: release not written: it is measured and proven on a scratch database first, and there is "
        "no scratch PostgreSQL server: set $SCHEMACTL_SCRATCH_POSTGRESQL_URL (or scratch_postgresql_url in [schemactl]) to a "
        "server where schemactl may create and drop databases"
    ]
    assert sorted(p.name for p in (repo_copy / "sql_out" / "prod").iterdir()) == listing
    # check skips what it cannot run here, and says why; --strict fails instead.
    ini.write_text(committed)
    checked = schemactl(repo_copy, "-n", "alembic", "check", env=down)
    assert checked.returncode == 0, checked.stdout
    assert (
        "skip migrations-run:postgresql: cannot create a scratch database on "
        "postgresql://ops:***@127.0.0.1:9/postgres ("
    ) in checked.stdout
    strict = schemactl(repo_copy, "-n", "alembic", "check", "--strict", env=down)
    assert strict.returncode == 1
    assert "FAIL migrations-run:postgresql" in strict.stdout and "s3cr" not in strict.stdout


def test_a_sqlite_release_is_proven_with_sqlite3(repo_copy):
    """SQLite needs no server: the scratch database is a file, the client sqlite3."""
    released = schemactl(repo_copy, "release", "--env", "dev")
    assert released.returncode == 0, released.stderr
    manifest = json.loads((repo_copy / "sql_out" / "dev" / "manifest.json").read_text())
    assert manifest["releases"][0]["proven"]["client"].startswith("3.")
    assert manifest["releases"][0]["proven"]["server"].startswith("SQLite 3.")


# -- backing out of a half-applied MariaDB script ------------------------------------------

LABEL = '''"""Label tax rates, one name per rate"""

import sqlalchemy as sa
from alembic import op

revision = "7e57ab1e0002"
down_revision = "7e57ab1e0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tax_rates", sa.Column("label", sa.String(40), nullable=True))
    op.create_unique_constraint("uq_tax_rates_name", "tax_rates", ["name"])


def downgrade():
    op.drop_constraint("uq_tax_rates_name", "tax_rates", type_="unique")
    op.drop_column("tax_rates", "label")
'''


def scalar(url, sql):
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql))
            return result.scalar() if result.returns_rows else None
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_a_half_applied_mariadb_upgrade_goes_back_to_the_release_start(
    repo_copy, scratch_servers, throwaway_database
):
    servers = scratch_servers("mariadb")
    first = schemactl(repo_copy, "release", "--env", "mariadb", "--to", HEAD, env=servers)
    assert first.returncode == 0, first.stderr
    (repo_copy / "versions" / FILE).write_text(REMINDERS.format(downgrade=CORRECT, silence=""))
    (repo_copy / "versions" / "0012_7e57ab1e0002_label_tax_rates.py").write_text(LABEL)
    second = schemactl(repo_copy, "release", "--env", "mariadb", env=servers)
    assert second.returncode == 0, second.stderr  # proven: the scratch database has no rows
    folder = repo_copy / "sql_out" / "mariadb"
    upgrade = folder / "0002_7e57ab1e0002" / "upgrade.sql"
    header = upgrade.read_text().split("\n\n")[0]
    assert (
        f"--   back to {HEAD}:\n--     schemactl sql --env mariadb --from REVISION --to {HEAD}"
        in (header)
    )
    assert "--   on to 7e57ab1e0002:\n--     schemactl sql --env mariadb --from REVISION --to " in (
        header
    )

    # Production: the first release, then rows the second one's unique constraint refuses.
    prod = throwaway_database("mariadb")
    at_start = throwaway_database("mariadb")
    for db in (prod, at_start):
        assert apply_script(db, folder / "0001_68cfa590ad28" / "upgrade.sql").returncode == 0
    scalar(prod.url, "INSERT INTO tax_rates (code, name, rate) VALUES ('XTRA', 'Standard rate', 1)")
    stopped = apply_script(prod, upgrade)
    assert stopped.returncode != 0 and "Duplicate entry" in stopped.stderr
    # Where it stopped: the first new revision recorded, the second's ADD COLUMN committed.
    assert scalar(prod.url, "SELECT version_num FROM alembic_version") == "7e57ab1e0001"
    assert scalar(prod.url, "SELECT count(*) FROM information_schema.columns WHERE "
                  "table_schema = DATABASE() AND table_name = 'tax_rates' AND column_name = 'label'") == 1  # fmt: skip

    # The DBA undoes the failed revision's statements by hand, as the header says, then
    # renders the way back from the recorded revision to where the release started.
    scalar(prod.url, "ALTER TABLE tax_rates DROP COLUMN label")
    back = schemactl(
        repo_copy, "sql", "--env", "mariadb", "--from", "7e57ab1e0001", "--to", HEAD, "--stdout"
    )
    assert back.returncode == 0, back.stderr
    assert back.stdout.startswith("-- " + "=" * 77 + "\n-- schemactl rollback script")
    script = repo_copy / "back.sql"
    script.write_text(back.stdout)
    applied = apply_script(prod, script)
    assert applied.returncode == 0, applied.stderr
    assert scalar(prod.url, "SELECT version_num FROM alembic_version") == HEAD
    assert schema_snapshot(prod.url) == schema_snapshot(at_start.url)
    # The files form too: rollback.sql is the way back, upgrade.sql the way forward again.
    written = schemactl(
        repo_copy, "sql", "--env", "mariadb", "--from", "7e57ab1e0001", "--to", HEAD
    )
    assert written.stdout.splitlines() == [
        f"var/sql/mariadb/alembic/rollback.sql   1 revision undone, from 7e57ab1e0001 back to {HEAD}",
        "var/sql/mariadb/alembic/upgrade.sql    the way forward again, to 7e57ab1e0001",
    ]
    body = (repo_copy / "var/sql/mariadb/alembic/rollback.sql").read_text().split("\n\n", 1)[1]
    assert body == back.stdout.split("\n\n", 1)[1]  # the same statements; only the header


@pytest.mark.postgresql
def test_release_without_a_scratch_server_is_written_unproven_and_proven_later(
    repo_copy, scratch_servers
):
    """`release --no-prove` (issue 31): a release manager without a scratch server writes the
    release, marked NOT PROVEN in manifest.json, review.md and the output; CI's `release
    --prove` (with a server) proves it afterwards."""
    import json

    add_reminders(repo_copy, CORRECT)
    ini = repo_copy / "alembic.ini"
    committed = ini.read_text()
    ini.write_text(
        "\n".join(line for line in committed.splitlines() if not line.startswith("scratch_"))
    )
    written = schemactl(repo_copy, "release", "--env", "prod", "--no-prove")
    assert written.returncode == 0, written.stderr
    assert "NOT proven (--no-prove): run `schemactl release --prove --env prod`" in written.stdout
    manifest = json.loads((repo_copy / "sql_out" / "prod" / "manifest.json").read_text())
    newest = manifest["releases"][-1]
    assert newest["unproven"] is True and "proven" not in newest
    review = next((repo_copy / "sql_out" / "prod").glob("0003_*/review.md")).read_text()
    assert "**NOT PROVEN.**" in review
    assert "Static verdicts only: written with `--no-prove`" in review
    for script in ("upgrade.sql", "rollback.sql"):  # the header says it, before any SQL
        header = next((repo_copy / "sql_out" / "prod").glob(f"0003_*/{script}")).read_text()
        assert "-- NOT PROVEN: written with `release --no-prove`" in header.split("\n\n")[0]
        assert "-- Prove it before applying it: schemactl release --prove --env prod" in header
    # check holds the unproven release's scripts to a fresh render like any other's.
    checked = schemactl(repo_copy, "release", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    both = schemactl(repo_copy, "release", "--no-prove", "--prove")
    assert both.returncode == 2
    ini.write_text(committed)
    proven = schemactl(
        repo_copy, "release", "--prove", "--env", "prod", env=scratch_servers("postgresql")
    )
    assert proven.returncode == 0, proven.stderr
    assert "proven sql_out/prod/0003_7e57ab1e0001  (psql" in proven.stdout, proven.stdout
