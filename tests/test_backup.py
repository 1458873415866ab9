"""Rollback that gives the data back: a release that drops a populated column, drops a
populated table and narrows a populated column, applied with the real client and rolled
back, leaves every table's rows as they were; with backup = off the header says they will
not come back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.conftest import DIALECTS, apply_script, schemactl
from tests.test_audit import str_url

HEAD = "68cfa590ad28"
REV = "de57c0de0001"
DESTRUCTIVE = f'''"""Drop users.phone and discounts, round invoice totals

Revision ID: {REV}
Revises: {HEAD}
"""

import sqlalchemy as sa
from alembic import op

revision = "{REV}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None

# schemactl: allow destructive: the backups of the release bring the data back


def _tax_rates(rate):
    # SQLite rebuilds the table offline from this (batch "move and copy").
    return sa.Table(
        "tax_rates",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", rate, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tax_rates"),
        sa.UniqueConstraint("code", name="uq_tax_rates_code"),
    )


def upgrade():
    op.drop_column("users", "phone")
    op.drop_table("discounts")
    with op.batch_alter_table("tax_rates", copy_from=_tax_rates(sa.Numeric(5, 2))) as batch:
        batch.alter_column(
            "rate", type_=sa.Numeric(5, 0), existing_type=sa.Numeric(5, 2), existing_nullable=False
        )


def downgrade():
    with op.batch_alter_table("tax_rates", copy_from=_tax_rates(sa.Numeric(5, 0))) as batch:
        batch.alter_column(
            "rate", type_=sa.Numeric(5, 2), existing_type=sa.Numeric(5, 0), existing_nullable=False
        )
    op.create_table(
        "discounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent_off", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
        sa.UniqueConstraint("code", name=op.f("uq_discounts_code")),
    )
    op.add_column("users", sa.Column("phone", sa.String(length=20), nullable=True))
'''

ROWS = [
    "INSERT INTO users (id, email, full_name, password_hash, phone) VALUES "
    "(1, 'a@x.test', 'Ann', 'h', '+32 1'), (2, 'b@x.test', 'Bob', 'h', NULL), "
    "(3, 'c@x.test', 'Cy', 'h', '+1 555')",
    "INSERT INTO customers (id, name, email, owner_id, billing_address) "
    "VALUES (1, 'Acme', 'acme@x.test', 1, '1 Main St')",
    "INSERT INTO invoices (id, number, customer_id, issued_by_id, issue_date, total_amount) VALUES "
    "(1, 'F-1', 1, 1, '2026-01-02', 10.55), (2, 'F-2', 1, 2, '2026-02-03', 99.99)",
    "INSERT INTO tax_rates (id, code, name, rate) VALUES (10, 'HALF', 'Half rate', 5.50)",
    "INSERT INTO discounts (id, code, percent_off, valid_from, valid_until) VALUES "
    "(1, 'SPRING', 12.50, '2026-03-01', NULL), (2, 'VIP', 5.00, '2026-01-01', '2026-12-31')",
]


def checksums(db) -> dict[str, str]:
    """A checksum of each table's rows, in primary-key order (tool tables aside)."""
    engine = db.engine()
    found = {}
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for name in sorted(inspector.get_table_names()):
                if name.startswith(("schemactl_", "alembic_")):
                    continue
                key = inspector.get_pk_constraint(name)["constrained_columns"] or ["1"]
                rows = connection.execute(
                    text(f"SELECT * FROM {name} ORDER BY {', '.join(key)}")
                ).all()
                found[name] = hashlib.sha256(
                    repr([tuple(map(str, r)) for r in rows]).encode()
                ).hexdigest()
    finally:
        engine.dispose()
    return found


def first_release_with_rows(repo: Path, db) -> dict[str, str]:
    """Release 0001 (to the current head) recorded, applied with the client, and filled with
    ROWS; returns the variables later schemactl runs need (URL, scratch server)."""
    from tests.conftest import scratch_env
    from tools.proof.scratch import run_statements

    env = {db.url_var: str_url(db), **scratch_env(db.dialect)}
    first = schemactl(repo, "release", "--env", db.env, "--to", HEAD, env=env)
    assert first.returncode == 0, first.stderr
    (folder,) = (repo / "sql_out" / db.env).glob("0001_*")
    assert apply_script(db, folder / "upgrade.sql").returncode == 0
    run_statements(db.url, ROWS)
    return env


@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_a_destructive_release_rolled_back_gives_every_row_back(repo_copy, database):
    """Release 0001 (to the current head) applied and filled with rows; release 0002 drops a
    column, drops a table and narrows a column; its upgrade then its rollback, applied with
    the real client, leave every table's rows as they were."""
    env = first_release_with_rows(repo_copy, database)
    folder = repo_copy / "sql_out" / database.env
    before = checksums(database)
    (repo_copy / "versions" / f"0011_{REV}_drop_phone_and_discounts.py").write_text(DESTRUCTIVE)
    second = schemactl(repo_copy, "release", "--env", database.env, env=env)
    assert second.returncode == 0, second.stderr  # proven: upgrade, rollback, upgrade
    (release,) = folder.glob("0002_*")
    upgrade, rollback = release / "upgrade.sql", release / "rollback.sql"
    header = upgrade.read_text().split("\n\n")[0]
    assert f"--   {REV}  drops column users.phone -> " in header
    assert f"--   {REV}  drops table discounts -> " in header
    assert f"--   {REV}  rounds column tax_rates.rate -> " in header

    applied = apply_script(database, upgrade)
    assert applied.returncode == 0, applied.stderr
    after = checksums(database)
    assert "discounts" not in after and after["users"] != before["users"]
    if database.dialect != "sqlite":  # SQLite keeps 5.5 in a NUMERIC(5, 0) column
        assert after["tax_rates"] != before["tax_rates"]  # 5.50 became 6
    backups = [n for n in _all_tables(database) if "r" + REV in n]
    assert len(backups) == 3, backups

    rolled = apply_script(database, rollback)
    assert rolled.returncode == 0, rolled.stderr
    assert checksums(database) == before
    assert [n for n in _all_tables(database) if "r" + REV in n] == []  # backups dropped
    if database.dialect == "postgresql":  # the restored table's sequence moved past its rows
        engine = database.engine()
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO discounts (code, percent_off, valid_from) VALUES ('NEW', 1, '2026-05-05')"
                )
            )
        engine.dispose()


def _all_tables(db) -> list[str]:
    engine = db.engine()
    try:
        with engine.connect() as connection:
            if db.dialect == "postgresql":
                return [r[0] for r in connection.execute(text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                ))]  # fmt: skip
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_with_backup_off_the_header_says_the_data_will_not_come_back(repo_copy, tmp_path):
    (repo_copy / "versions" / f"0011_{REV}_drop_phone_and_discounts.py").write_text(DESTRUCTIVE)
    ini = repo_copy / "alembic.ini"
    ini.write_text(
        ini.read_text().replace("[schemactl.env.dev]\n", "[schemactl.env.dev]\nbackup = off\n")
    )
    rendered = schemactl(
        repo_copy, "sql", "--env", "dev", "--from", HEAD, "--out", str(tmp_path / "o")
    )
    assert rendered.returncode == 0, rendered.stderr
    for name in ("upgrade.sql", "rollback.sql"):
        script = (tmp_path / "o" / name).read_text()
        header = script.split("\n\n")[0]
        assert (
            "-- backup = off for this environment: what these revisions destroy will NOT come back "
            "with\n-- the rollback script (the structure comes back, empty):\n"
            f"--   {REV}  drops column users.phone\n"
        ) in header
        assert "schemactl_backup" not in script


REV2 = "de57c0de0002"
SECOND = f'''"""Drop customers.billing_address"""

import sqlalchemy as sa
from alembic import op

revision = "{REV2}"
down_revision = "{REV}"
branch_labels = None
depends_on = None

# schemactl: allow destructive: kept by the release's backup


def upgrade():
    op.drop_column("customers", "billing_address")


def downgrade():
    op.add_column("customers", sa.Column("billing_address", sa.Text(), nullable=True))
'''


@pytest.mark.slow
@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_backups_are_listed_and_a_purge_drops_exactly_the_old_ones(repo_copy, database):
    """Three releases; each destroys data. `backups` lists what each kept; the purge script
    for releases before 0003 drops the first's and second's backups and no other, and
    the second's rollback still applies afterwards (its data does not come back)."""
    env = first_release_with_rows(repo_copy, database)
    folder = repo_copy / "sql_out" / database.env
    (repo_copy / "versions" / f"0011_{REV}_drop_phone_and_discounts.py").write_text(DESTRUCTIVE)
    second = schemactl(repo_copy, "release", "--env", database.env, env=env)
    assert second.returncode == 0, second.stderr
    (repo_copy / "versions" / f"0012_{REV2}_drop_billing_address.py").write_text(SECOND)
    third = schemactl(repo_copy, "release", "--env", database.env, env=env)
    assert third.returncode == 0, third.stderr
    (folder_2,), (folder_3,) = folder.glob("0002_*"), folder.glob("0003_*")
    for release in (folder_2, folder_3):
        applied = apply_script(database, release / "upgrade.sql")
        assert applied.returncode == 0, applied.stderr

    listed = schemactl(repo_copy, "--env", database.env, "backups", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    kept = {b["name"]: (b["release"], b["rows"]) for b in json.loads(listed.stdout)["backups"]}
    (folder_1,) = folder.glob("0001_*")
    assert kept == {
        # 0005 rounds invoices.total_amount: release 0001 kept its values (none yet, then).
        "ra66186b7cc1d_invoices_total_amount": (folder_1.name, 0),
        f"r{REV}_discounts": (folder_2.name, 2),
        f"r{REV}_tax_rates_rate": (folder_2.name, 4),
        f"r{REV}_users_phone": (folder_2.name, 3),
        f"r{REV2}_customers_billing_address": (folder_3.name, 1),
    }
    shown = schemactl(repo_copy, "--env", database.env, "backups", env=env)
    assert shown.stdout.splitlines()[1].split() == ["backup", "table", "release", "rows", "size"]

    purge = repo_copy / "purge.sql"
    rendered = schemactl(
        repo_copy, "--env", database.env, "backups", "--purge-before", "3", "--out", str(purge)
    )
    assert rendered.returncode == 0, rendered.stderr
    assert rendered.stdout == "purge.sql   drops 4 backup tables\n"
    assert apply_script(database, purge).returncode == 0
    listed = schemactl(repo_copy, "--env", database.env, "backups", "--json", env=env)
    assert [b["name"] for b in json.loads(listed.stdout)["backups"]] == [
        f"r{REV2}_customers_billing_address"
    ]

    # Back down: the third gives its column back; the second's data was purged, so its
    # rollback rebuilds the structure empty (and still applies).
    before_third = checksums(database)
    for release in (folder_3, folder_2):
        rolled = apply_script(database, release / "rollback.sql")
        assert rolled.returncode == 0, rolled.stderr
    after = checksums(database)
    assert after["customers"] != before_third.get("customers")  # billing_address is back
    engine = database.engine()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM discounts")).scalar() == 0
        assert connection.execute(text("SELECT count(phone) FROM users")).scalar() == 0
        assert (
            connection.execute(text("SELECT billing_address FROM customers")).scalar()
            == "1 Main St"
        )
    engine.dispose()


NO_KEY = '''"""Log table without a primary key, then drop its note"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None

# schemactl: allow destructive: a test of what cannot be restored


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


def test_what_cannot_be_restored_is_named_in_the_header_and_the_review(repo_copy):
    """A column dropped from a table without a primary key: copied whole, kept, and named
    as not restored; a dropped table the downgrade does not recreate: the same."""
    versions = repo_copy / "versions"
    (versions / "0011_ab0000000001_log.py").write_text(NO_KEY.format(
        rev="ab0000000001", down=HEAD,
        upgrade='    op.create_table("log", sa.Column("at", sa.Integer()), sa.Column("note", sa.Text()))\n'
        '    op.create_table("pad", sa.Column("id", sa.Integer(), primary_key=True))',
        downgrade='    op.drop_table("log")\n    op.execute("DROP TABLE IF EXISTS pad")',
    ))  # fmt: skip
    (versions / "0012_ab0000000002_drop.py").write_text(NO_KEY.format(
        rev="ab0000000002", down="ab0000000001",
        upgrade='    op.drop_column("log", "note")\n    op.drop_table("pad")',
        downgrade='    op.add_column("log", sa.Column("note", sa.Text()))',
    ))  # fmt: skip
    released = schemactl(repo_copy, "release", "--env", "dev")
    assert released.returncode == 0, released.stderr
    (folder,) = (repo_copy / "sql_out" / "dev").glob("0001_*")
    header = (folder / "upgrade.sql").read_text().split("\n\n")[0]
    assert (
        "--   ab0000000002  drops column log.note -> schemactl_backup_rab0000000002_log_note\n"
        "--     NOT restored by the rollback: table log has no primary key, so the values of "
        "note cannot be matched to their rows: the backup holds the whole table; the backup "
        "table is kept (and a\n--     copy an earlier run kept is left as it was).\n"
    ) in header
    assert (
        "--     NOT restored by the rollback: the downgrade of ab0000000002 does not recreate"
        in header
    )
    upgrade = (folder / "upgrade.sql").read_text()
    assert (
        "CREATE TABLE IF NOT EXISTS schemactl_backup_rab0000000002_log_note AS SELECT * FROM log;"
        in upgrade
    )
    review = (folder / "review.md").read_text()
    assert (
        "| ab0000000002 | drops column log.note | `schemactl_backup_rab0000000002_log_note` | "
        "does **not** put it back: table log has no primary key"
    ) in review
    assert "`SELECT count(*) AS kept FROM schemactl_backup_rab0000000002_log_note;` |" in review
    assert "- log: `sqlite3 DATABASE_FILE '.dump log' > log.before.sql`" in review
    rollback = (folder / "rollback.sql").read_text()
    assert "schemactl_backup_rab0000000002_log_note" in rollback.split("\n\n")[0]
    assert "DROP TABLE schemactl_backup_rab0000000002_log_note" not in rollback  # kept


def test_a_purge_asked_wrongly_is_one_line_and_writes_nothing(repo_copy):
    cases = [
        (("backups", "--purge-before", "1"), "Error: dev has no recorded releases, so no backups "
         "to purge; releases are rendered with `schemactl release --env dev`\n"),
        (("--env", "prod", "backups", "--purge-before", "9"), "Error: --purge-before 9: prod has "
         "releases 1 to 2; give the number of the oldest release whose backups to keep\n"),
        (("--env", "prod", "backups", "--purge-before", "2", "--out", "sql_out"),
         "Error: sql_out is a folder; give --out the purge script's file name\n"),
    ]  # fmt: skip

    def files() -> list[Path]:
        caches = ("__pycache__", ".schemactl_cache")  # neither is part of the project
        return sorted(p for p in repo_copy.rglob("*") if not set(caches) & set(p.parts))

    before = files()
    for args, said in cases:
        result = schemactl(repo_copy, *args)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", said)
    assert files() == before


@pytest.mark.parametrize("env", ["dev", "staging", "mariadb"])
def test_a_script_captured_without_sources_is_the_one_a_whole_capture_renders(repo_copy, env):
    """`sql` keeps of each created table and added column only what it made (no Alembic
    objects); its scripts are byte for byte those of a whole capture, backups included: the
    primary keys they match rows by, and the columns, order and types the rollback restores
    a dropped table and column with, come from what the operations made."""
    from tools.config import load_project
    from tools.history.load import load_history, plan_range
    from tools.scripts.render import ROLLBACK, UPGRADE, render_script

    (repo_copy / "versions" / f"0011_{REV}_drop_phone_and_discounts.py").write_text(DESTRUCTIVE)
    project = load_project(repo_copy / "alembic.ini")
    environment = project.environment(env)
    rendered = {}
    for sources in (True, False):
        history = load_history(project)
        span = plan_range(history.graph, (), history.graph.heads)
        rendered[sources] = [
            render_script(
                project, environment, history, span, kind, out_dir=None, sources=sources
            ).text
            for kind in (UPGRADE, ROLLBACK)
        ]
    assert rendered[False] == rendered[True]
    upgrade, rollback = rendered[False]
    for kept in (f"r{REV}_discounts", f"r{REV}_users_phone", "ra66186b7cc1d"):
        assert kept in upgrade and kept in rollback  # the plan the lean capture made


def test_a_script_keeps_the_enum_type_its_restore_casts_back_to(tmp_path):
    """What a PostgreSQL rollback needs of a dropped table's types, a script captured without
    sources keeps: the named enum a restored value is cast back to (tests/scenarios/data,
    d005 drops a table with an enum column); its scripts are those of a whole capture."""
    from tests.conftest import SCENARIOS, scenario_copy
    from tools.config import load_project
    from tools.history.load import load_history, plan_range
    from tools.scripts.render import ROLLBACK, render_script

    project = load_project(
        scenario_copy(tmp_path, SCENARIOS / "data", "postgresql") / "alembic.ini"
    )
    rendered = {}
    for sources in (True, False):
        history = load_history(project)
        span = plan_range(history.graph, ("d004",), ("d005",))
        rendered[sources] = render_script(
            project, project.environment(None), history, span, ROLLBACK, out_dir=None,
            sources=sources,
        ).text  # fmt: skip
    assert rendered[False] == rendered[True]
    assert "AS archive_status)" in rendered[False]  # CAST(b.status AS archive_status)


def test_a_script_rendered_alone_lets_its_revision_modules_go(repo_copy):
    """`sql --stdout` renders one script and nothing more from a history: its revision
    modules are let go once captured (and freed), its audit rows still name the sha256 of
    the very bytes that ran, and a later run imports the files again."""
    import gc
    import types

    from tools.config import load_project
    from tools.history.load import load_history, plan_range
    from tools.scripts.capture import capture_session
    from tools.scripts.render import UPGRADE, render_script

    project = load_project(repo_copy / "alembic.ini")
    environment = project.environment("staging")

    def render(**options):
        history = load_history(project)
        span = plan_range(history.graph, (), history.graph.heads)
        return history, render_script(
            project, environment, history, span, UPGRADE, out_dir=None, **options
        )

    def revision_modules():
        """The revision files' functions still in memory (a module's weight: its code, and
        its namespace, which each function refers to)."""
        files = {str(p) for p in (repo_copy / "versions").glob("*.py")}
        return [
            o
            for o in gc.get_objects()
            if isinstance(o, types.FunctionType) and o.__code__.co_filename in files
        ]

    whole = render()[1]  # (its history, and the modules it imported, let go)
    gc.collect()
    gc.disable()  # as under the entry point's high threshold: the render frees them itself
    try:
        history, alone = render(sources=False, alone=True)
        assert not history.imported and not revision_modules()
    finally:
        gc.enable()
    assert alone.text == whole.text
    for step in alone.steps:
        assert step.sha256 == hashlib.sha256(step.revision.path.read_bytes()).hexdigest()
        assert f"'{step.sha256}'" in alone.text  # in its audit row
    (first, *_) = history.graph.order
    session = capture_session(history, "postgresql", [(first, "downgrade")])
    assert session.get(first, "downgrade").statements and revision_modules()
    # A module names its file with the very string the graph holds (one per file, not two).
    (modules,) = history.imported.values()
    assert all(modules[rev].__file__ is history.graph[rev].file for rev in modules)
    # It freezes what it need not walk, and thaws it after; a freeze of the process's own
    # (a server that forks) is left as it was.
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        render(sources=False, alone=True)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


def test_a_capture_without_sources_is_captured_again_whole_when_lint_needs_them(repo_copy):
    """Operations captured for a script alone keep no Alembic objects; a later whole capture
    in the same run (lint, review) does not take them for whole."""
    from tools.config import load_project
    from tools.history.load import load_history
    from tools.scripts.capture import capture_session
    from tools.scripts.shapes import KEYS_CHANGED_BY, ColumnAdded, TableMade

    def untyped(made):
        if isinstance(made, TableMade):
            return replace(made, columns=tuple((n, None, null) for n, _, null in made.columns))
        return replace(made, type=None)

    # A module-level Index passed to create_table attaches to the one Table it builds: run
    # twice on one import, the upgrade would fail (each capture imports the files anew).
    (head,) = load_history(load_project(repo_copy / "alembic.ini")).graph.heads
    (repo_copy / "versions" / "0099_de57c0de0003_notes.py").write_text(
        '"""Notes"""\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        f'revision = "de57c0de0003"\ndown_revision = "{head}"\n'
        "branch_labels = None\ndepends_on = None\n\n"
        'BODY = sa.Index("ix_notes_body", "body")\n\n\n'
        "def upgrade():\n"
        '    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), '
        'sa.Column("body", sa.String(50)), BODY)\n\n\n'
        'def downgrade():\n    op.drop_table("notes")\n'
    )
    project = load_project(repo_copy / "alembic.ini")
    history = load_history(project)
    requests = [(rev, "upgrade") for rev in history.graph.order]

    def made(session, name):
        return [
            op
            for rev, direction in requests
            for op in session.get(rev, direction).operations
            if op.name == name
        ]

    lean = capture_session(history, "sqlite", requests, sources=False)
    whole = capture_session(history, "sqlite", requests)
    assert not lean.sources and whole.sources
    for session in (lean, whole):  # every revision rendered, the notes table's too
        assert "ix_notes_body" in session.get("de57c0de0003", "upgrade").statements[-1].sql
    for name, kind in (("create_table", TableMade), ("add_column", ColumnAdded)):
        assert made(lean, name) and all(op.source is None for op in made(lean, name))
        assert all(op.source is not None for op in made(whole, name))
        # The same, but for the types: a script keeps none on SQLite (nothing is cast back
        # when restored). (SQLAlchemy types compare by identity: each capture has its own.)
        assert [repr(op.made) for op in made(lean, name)] == [
            repr(untyped(op.made)) for op in made(whole, name)
        ]
        assert all(isinstance(op.made, kind) for op in made(whole, name))
    # Of the other operations, a script keeps the Alembic objects of those that change a
    # table's keys (its backup plan follows them), and lets the others go.
    others = [
        (lean_op, whole_op)
        for request in requests
        for lean_op, whole_op in zip(
            lean.get(*request).operations, whole.get(*request).operations, strict=True
        )
        if lean_op.name not in ("create_table", "add_column")
    ]
    assert {op.name for op, _ in others} >= {"create_index", "alter_column"}
    for lean_op, whole_op in others:
        assert whole_op.source is not None
        assert (lean_op.source is not None) == (lean_op.name in KEYS_CHANGED_BY)
    # A whole capture serves a lean request as it is.
    assert capture_session(history, "sqlite", requests, sources=False).sources


def test_an_operation_whose_table_cannot_be_read_is_kept_whole(repo_copy, monkeypatch):
    """Reading what a create_table made is schemactl's own work: where it fails, the
    operation is kept as it is and the render goes on, its table unknown to the replay."""
    from tools.config import load_project
    from tools.history.load import load_history
    from tools.scripts import shapes
    from tools.scripts.capture import capture_session

    def unreadable(table):
        raise AttributeError("no such attribute")

    monkeypatch.setattr(shapes, "table_made", unreadable)
    history = load_history(load_project(repo_copy / "alembic.ini"))
    requests = [(rev, "upgrade") for rev in history.graph.order]
    session = capture_session(history, "sqlite", requests, sources=False)
    created = [
        op
        for request in requests
        for op in session.get(*request).operations
        if op.name == "create_table"
    ]
    assert created and all(op.made is None and op.source is not None for op in created)
    replayed = shapes.Shapes()
    for op in created:
        replayed.follow(op)
    assert replayed.tables == {}
