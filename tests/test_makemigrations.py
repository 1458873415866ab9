"""makemigrations writes revisions every database of the project runs, online and as scripts.

SQLite cannot ALTER a column's type or nullability, add a constraint, or add a column whose
default is not a constant: those become batch blocks that rebuild the table from a copy of
it written into the revision file (offline rendering cannot read the database).
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from .conftest import MODELS, schemactl

pytestmark = [pytest.mark.postgresql, pytest.mark.mariadb]


def _change_customers_and_invoices(repo):
    customers = repo / MODELS / "customers.py"
    customers.write_text(
        customers.read_text()
        .replace(
            "name: Mapped[str] = mapped_column(String(200))",
            "name: Mapped[str] = mapped_column(String(300), unique=True)",
        )
        .replace(
            "email: Mapped[str | None] = mapped_column(String(255))",
            "email: Mapped[str | None] = mapped_column(String(255), index=True)",
        )
    )
    billing = repo / MODELS / "billing.py"
    text = billing.read_text()
    anchor = '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'
    assert anchor in text
    billing.write_text(
        text.replace(
            anchor,
            anchor + "    reminded_at: Mapped[dt.datetime | None] = mapped_column("
            "server_default=func.now())\n",
        ).replace("from sqlalchemy import ", "from sqlalchemy import func, ", 1)
    )


@pytest.mark.slow
def test_changes_sqlite_cannot_alter_become_rebuilds_that_run_everywhere(
    repo_copy, scratch_servers
):
    """A type change, a unique constraint and a column defaulting to now(): the revision runs
    on the dev SQLite database online (up, down, up, rows kept), and `check` proves it as
    scripts with rows on SQLite, PostgreSQL and MariaDB; the next makemigrations still works."""
    servers = scratch_servers("postgresql", "mariadb")
    _change_customers_and_invoices(repo_copy)
    made = schemactl(repo_copy, "makemigrations", "-m", "widen customer names")
    assert made.returncode == 0, made.stderr
    path = repo_copy / made.stdout.splitlines()[0]
    body = path.read_text()
    # Both tables are rebuilt from a copy written into the file, in both directions.
    assert body.count('op.batch_alter_table("customers", copy_from=customers_table)') == 2
    assert body.count('op.batch_alter_table("invoices", copy_from=invoices_table)') == 2
    assert "\n    op.alter_column(" not in body and "\n    op.create_unique_constraint(" not in body

    dev = {"BILLGEN_DEV_URL": f"sqlite:///{repo_copy / 'dev.db'}"}
    # A customer before the change: the rebuild must copy the rows.
    parent = re.search(r'^down_revision: .* = "(\w+)"$', body, re.M)
    assert parent, body
    assert schemactl(repo_copy, "upgrade", parent.group(1), env=dev).returncode == 0
    with sqlite3.connect(repo_copy / "dev.db") as db:
        db.execute(
            "INSERT INTO users (id, email, full_name, password_hash) VALUES (1, 'a@b.c', 'A', 'x')"
        )
        db.execute("INSERT INTO customers (id, owner_id, name) VALUES (7, 1, 'Ada')")
    for step in ("upgrade", "downgrade", "upgrade"):
        ran = schemactl(repo_copy, step, *(["-1"] if step == "downgrade" else []), env=dev)
        assert ran.returncode == 0, ran.stderr
    with sqlite3.connect(repo_copy / "dev.db") as db:
        assert db.execute("SELECT id, name FROM customers").fetchall() == [(7, "Ada")]
        columns = [row[1] for row in db.execute("PRAGMA table_info(invoices)")]
    assert "reminded_at" in columns

    checked = schemactl(repo_copy, "check", env=servers)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    again = schemactl(repo_copy, "makemigrations")
    assert again.returncode == 0, again.stderr
    assert "No changes" in again.stdout + again.stderr


def _add_invoices_reminders(repo):
    """A model change: invoices.reminders, a column with a constant default."""
    billing = repo / MODELS / "billing.py"
    anchor = '    discount_total: Mapped[Decimal] = mapped_column(server_default=text("0"))\n'
    billing.write_text(
        billing.read_text().replace(
            anchor,
            anchor + '    reminders: Mapped[int] = mapped_column(server_default=text("0"))\n',
        )
    )


def test_a_column_sqlite_adds_in_place_is_no_rebuild(repo_copy):
    """A column with a constant default is a plain add_column: SQLite itself, asked with a
    row in the table, says it can."""
    _add_invoices_reminders(repo_copy)
    made = schemactl(repo_copy, "makemigrations")
    assert made.returncode == 0, made.stderr
    body = (repo_copy / made.stdout.splitlines()[0]).read_text()
    upgrade, _, downgrade = body.partition("def downgrade")
    assert "op.add_column(" in upgrade and "batch_alter_table" not in upgrade
    # Dropping it again is a rebuild (DROP COLUMN is too new for every sqlite3 a DBA has).
    assert "batch_op.drop_column(" in downgrade


def test_a_rebuild_and_a_change_to_its_table_on_two_branches_cannot_merge(repo_copy):
    """One branch rebuilds customers on SQLite from the copy it holds, the other indexes a
    column of it: in one order the rebuild would drop the index. merge refuses, naming the
    table and the way out, and the way out works."""
    assert schemactl(repo_copy, "branch", "start", "widen").returncode == 0
    assert schemactl(repo_copy, "branch", "start", "lookup").returncode == 0
    customers = repo_copy / MODELS / "customers.py"
    customers.write_text(
        customers.read_text().replace("mapped_column(String(200))", "mapped_column(String(300))")
    )
    widen = schemactl(repo_copy, "makemigrations", "--branch", "widen")
    assert widen.returncode == 0, widen.stderr
    customers.write_text(
        customers.read_text().replace(
            "email: Mapped[str | None] = mapped_column(String(255))",
            "email: Mapped[str | None] = mapped_column(String(255), index=True)",
        )
    )
    lookup = schemactl(repo_copy, "makemigrations", "--branch", "lookup")
    assert lookup.returncode == 0, lookup.stderr

    before = sorted(p.name for p in (repo_copy / "versions").iterdir())
    refused = schemactl(repo_copy, "merge")
    assert refused.returncode == 1
    assert "CONFLICT table customers (rebuilt from a copy on SQLite) is changed by" in (
        refused.stderr
    )
    assert "delete that revision's file, run `schemactl merge`" in refused.stderr
    assert sorted(p.name for p in (repo_copy / "versions").iterdir()) == before
    mixed = schemactl(repo_copy, "makemigrations", "--check", "-m", "Add reminders")
    assert mixed.returncode == 2 and "--check writes nothing" in mixed.stderr
    assert sorted(p.name for p in (repo_copy / "versions").iterdir()) == before

    (repo_copy / widen.stdout.splitlines()[0]).unlink()
    merged = schemactl(repo_copy, "merge")
    assert merged.returncode == 0, merged.stderr
    again = schemactl(repo_copy, "makemigrations")
    assert again.returncode == 0, again.stderr
    body = (repo_copy / again.stdout.splitlines()[0]).read_text()
    upgrade = body.partition("def downgrade")[0]
    assert 'sa.Index("ix_customers_email", "email", unique=False)' in upgrade


def test_check_says_whether_a_revision_is_missing_and_writes_nothing(repo_copy):
    """`makemigrations --check` (issue 31, as Django's): exit 0 while the models and the
    history agree; exit 1 naming the change once a model changed, with no file written."""
    clean = schemactl(repo_copy, "makemigrations", "--check")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout == "No changes detected\n"
    _add_invoices_reminders(repo_copy)
    before = sorted(p.name for p in (repo_copy / "versions").iterdir())
    changed = schemactl(repo_copy, "makemigrations", "--check")
    assert changed.returncode == 1
    assert "add_column invoices.reminders" in changed.stdout, changed.stdout
    assert changed.stdout.rstrip().endswith("run `schemactl makemigrations`")
    assert sorted(p.name for p in (repo_copy / "versions").iterdir()) == before


def test_a_slug_is_as_long_as_truncate_slug_length_says(repo_copy):
    """The file name's slug is cut at `truncate_slug_length` (between words), as Alembic's
    own `revision` cuts it (issue 31)."""
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("truncate_slug_length = 40", "truncate_slug_length = 12", 1)
    )
    made = schemactl(repo_copy, "makemigrations", "--empty", "-m", "Backfill invoice reminders")
    assert made.returncode == 0, made.stderr
    name = made.stdout.splitlines()[0].rsplit("/", 1)[-1]
    assert re.fullmatch(r"0011_[0-9a-f]{12}_backfill\.py", name), name
    ini.write_text(
        ini.read_text().replace("truncate_slug_length = 12", "truncate_slug_length = x", 1)
    )
    refused = schemactl(repo_copy, "makemigrations", "--empty", "-m", "Other")
    assert refused.returncode == 1
    assert "truncate_slug_length is a number" in refused.stderr
    assert len(refused.stderr.splitlines()) == 1


def _rename_customers_email(repo):
    customers = repo / MODELS / "customers.py"
    text = customers.read_text()
    old = "    email: Mapped[str | None] = mapped_column(String(255))\n"
    assert old in text
    customers.write_text(
        text.replace(old, "    contact_email: Mapped[str | None] = mapped_column(String(255))\n")
    )


def test_a_rename_is_written_as_one_and_keeps_the_values_everywhere(repo_copy, scratch_servers):
    """`--rename customers.email:contact_email` (issue 31): what autogenerate offers as a drop
    and an add is written as a rename, with the existing type (MariaDB's CHANGE needs it);
    `check` then takes it up, down and up with rows on SQLite, PostgreSQL and MariaDB, every
    value kept. Without --rename and without a terminal it stays a drop and an add; a
    --rename that names no such pair is refused, nothing written."""
    _rename_customers_email(repo_copy)
    versions = repo_copy / "versions"
    before = sorted(p.name for p in versions.iterdir())
    wrong = schemactl(repo_copy, "makemigrations", "--rename", "customers.mail:contact_email")
    assert wrong.returncode == 1 and sorted(p.name for p in versions.iterdir()) == before
    assert "the models do not drop customers.mail and add contact_email" in wrong.stderr
    bad = schemactl(repo_copy, "makemigrations", "--rename", "email:contact_email")
    assert bad.returncode == 1 and "is not TABLE.OLD:NEW" in bad.stderr
    made = schemactl(repo_copy, "makemigrations", "--rename", "customers.email:contact_email")
    assert made.returncode == 0, made.stderr
    body = (repo_copy / made.stdout.splitlines()[0]).read_text()
    upgrade, _, downgrade = body.partition("def downgrade")
    assert 'new_column_name="contact_email"' in upgrade and "existing_type=" in upgrade
    assert "drop_column" not in body and "add_column" not in body
    assert 'new_column_name="email"' in downgrade
    checked = schemactl(repo_copy, "check", env=scratch_servers("postgresql", "mariadb"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for dialect in ("sqlite", "postgresql", "mariadb"):
        assert f"ok   alembic/migrations-run:{dialect}" in checked.stdout


def test_a_rename_is_asked_about_as_django_asks(repo_copy):
    """On a terminal makemigrations asks about each drop + add of the same type in one table
    (here through the library's confirm, as the CLI wires it to the terminal); declined, the
    drop and add stay."""
    import os

    from tools.authoring import revisions
    from tools.config import load_project

    from .conftest import _as_a_fresh_interpreter

    _rename_customers_email(repo_copy)
    project = load_project(repo_copy / "alembic.ini")
    asked: list[str] = []
    # This copy's models, imported afresh (another test's copy may be in sys.modules).
    with _as_a_fresh_interpreter(repo_copy, dict(os.environ)):
        declined = revisions.makemigrations(
            project, confirm=lambda r: asked.append(str(r)) or False
        )
    assert asked == ["customers.email to customers.contact_email"]
    assert declined is not None
    body = declined.path.read_text()
    assert "drop_column" in body and "add_column" in body
    declined.path.unlink()
    with _as_a_fresh_interpreter(repo_copy, dict(os.environ)):
        accepted = revisions.makemigrations(project, confirm=lambda r: True)
    assert accepted is not None and "new_column_name" in accepted.path.read_text()


def test_a_hand_written_mariadb_rename_without_its_type_says_what_to_add(repo_copy):
    """Alembic refuses a MariaDB rename without existing_type ("All MySQL CHANGE/MODIFY
    COLUMN operations require the existing type."); the error says what to add (issue 31)."""
    (repo_copy / "versions" / "0011_0123456789ab_rename.py").write_text(
        '"""Rename"""\nfrom alembic import op\n\nrevision = "0123456789ab"\n'
        'down_revision = "68cfa590ad28"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n"
        '    op.alter_column("customers", "email", new_column_name="contact_email")\n\n\n'
        "def downgrade():\n"
        '    op.alter_column("customers", "contact_email", new_column_name="email")\n'
    )
    refused = schemactl(repo_copy, "sql", "--env", "mariadb", "--from", "68cfa590ad28", "--stdout")
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "give alter_column existing_type= (and existing_nullable=" in refused.stderr
    assert "(0011_0123456789ab_rename.py:11)" in refused.stderr  # the alter_column line


def test_a_batch_block_from_plain_alembic_says_to_use_makemigrations(repo_copy):
    """`alembic revision --autogenerate` writes SQLite batch blocks without the table's copy;
    the script cannot be rendered, and the error says what to run instead (issue 31)."""
    (repo_copy / "versions" / "0011_0123456789ab_batch.py").write_text(
        '"""Batch"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "0123456789ab"\ndown_revision = "68cfa590ad28"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade():\n"
        '    with op.batch_alter_table("customers") as batch_op:\n'
        '        batch_op.alter_column("name", existing_type=sa.String(200), type_=sa.String(300))\n'
        "\n\ndef downgrade():\n"
        '    with op.batch_alter_table("customers") as batch_op:\n'
        '        batch_op.alter_column("name", existing_type=sa.String(300), type_=sa.String(200))\n'
    )
    refused = schemactl(repo_copy, "sql", "--env", "dev", "--from", "68cfa590ad28", "--stdout")
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert "write the revision with `schemactl makemigrations`" in refused.stderr
