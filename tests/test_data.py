"""Scripts true to the data, proven with rows on SQLite, PostgreSQL and MariaDB.

tests/scenarios/data/ is a foreign project (its env.py is Alembic's template, with the
drivers' paramstyle) whose revisions carry data and destroy some:

    d001 ── d002 ─┬─ d003 (pricing) ─────────────┬─ d006 merge ── d007 ── d008
                  └─ d004 (cleanup) ── d005 ─────┘

d002 seeds values scripts have got wrong (%, TAB, CR LF, quotes, backslashes, control
characters, a binary value, non-BMP text, a long text) with bulk_insert, raw SQL and bound
parameters; d003 rounds a FLOAT to NUMERIC(12, 2) and both branches change data; d004 drops a
foreign key, its column and the parent table; d005 a table with an enum column and the
enum type; d007 a column and a table whose backups one name would have served; d008 renames
a column. Every revision goes up (script and Alembic online from the same generated rows:
the same data), down (every row back) and up again, on every database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.config import load_project
from tools.dialects import script_dialect
from tools.history.load import load_history
from tools.proof import rows, scratch
from tools.proof.stairway import stairway
from tools.release import ranges

from .conftest import DIALECTS, SCENARIOS, admin_url, apply_script, scenario_copy, schemactl

DATA = SCENARIOS / "data"


def project_copy(tmp_path: Path, dialect: str, source: Path = DATA) -> Path:
    return scenario_copy(tmp_path, source, dialect)


def server(dialect: str) -> sa.URL | None:
    return admin_url(dialect) if script_dialect(dialect).needs_server else None


def prove(project_dir: Path, dialect: str, revisions: list[str] | None = None) -> list[str]:
    project = load_project(project_dir / "alembic.ini")
    history = load_history(project)
    kind = script_dialect(dialect)
    every = list(history.graph.order) if revisions is None else revisions
    return stairway(project, history, kind, server(dialect), revisions=every)


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_revision_goes_up_down_and_up_with_rows_offline_equal_to_online(tmp_path, dialect):
    assert prove(project_copy(tmp_path, dialect), dialect) == []


def rendered(
    project_dir: Path, start: str, end: str, kind: str = "upgrade", env: str | None = None
) -> str:
    """One script of a range, as `schemactl sql --stdout` renders it."""
    project = load_project(project_dir / "alembic.ini")
    return ranges.sql_one(project, project.environment(env), kind, start=start, target=end).text


# What d002 writes, as the database must hold it.
SEEDED = {
    "PCT": "still 50% off",
    "TAB": "tab\tinside",
    "CRLF": "line one\r\nline two",
    "QUOTE": 'it\'s "quoted" \\ back\\slash',
    "UNI": "caf\u00e9 \U0001f600 \u2603",
    "CTRL": "bell\x07 esc\x1b cr\r",
    "RAW": "raw\ttab and\r\ncrlf %% kept",
    "BOUND": "bound\r\n% and \\ and '",
}


def read(url: sa.URL, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_percent_tab_cr_and_binary_values_reach_the_database_exactly(
    tmp_path, dialect, throwaway_database
):
    """The script's values, read back from the database the real client applied it to, are
    the values the revision wrote: no %% for %, no spaces for a TAB, the CR of CR LF kept."""
    project = project_copy(tmp_path, dialect)
    db = throwaway_database(dialect)
    script = tmp_path / "upgrade.sql"
    script.write_text(rendered(project, "base", "d002"))
    applied = apply_script(db, script)
    assert applied.returncode == 0, applied.stderr
    names = dict(read(db.url, "SELECT code, name FROM tax_rates"))
    assert names == SEEDED
    ((image,),) = read(db.url, "SELECT image FROM products WHERE id = 901")
    assert bytes(image) == b"\x00\xff\r\n'\\\x1b"
    ((note,),) = read(db.url, "SELECT note FROM archived WHERE id = 901")
    assert note == "long " * 3000
    ((amount,),) = read(db.url, "SELECT amount FROM prices WHERE id = 901")
    assert amount == 10.555
    # The script says the % once, as plain `alembic upgrade --sql` with a named paramstyle.
    assert "'still 50% off'" in script.read_text() and "%%" not in script.read_text().replace(
        "%% kept", ""
    )


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "revision",
    [
        pytest.param("d004", id="parent-table-and-child-column"),
        pytest.param("d005", id="enum-table-and-type"),
        pytest.param("d007", id="column-and-table-one-name"),
        pytest.param("d003", id="rounded-float"),
    ],
)
def test_a_destructive_revision_gives_every_row_back(tmp_path, dialect, revision):
    """Alone, with rows: the rollback restores a parent table's rows before its child's
    column (PostgreSQL checks the key at once, MariaDB stops halfway); keeps an enum column
    as text, so the type can be dropped after the table; keeps users.phone and the table
    users_phone apart; keeps a rounded FLOAT's values (10.555, not 10.56)."""
    assert prove(project_copy(tmp_path, dialect), dialect, [revision]) == []


def test_the_rollback_restores_in_foreign_key_order(tmp_path):
    rollback = rendered(project_copy(tmp_path, "mariadb"), "d002", "d004", "rollback")
    assert rollback.index("INSERT INTO tax_rates") < rollback.index("UPDATE products")


def test_a_rounding_is_linted_backed_up_and_said_in_the_review(tmp_path):
    project_dir = project_copy(tmp_path, "postgresql")
    linted = schemactl(project_dir, "lint", "d002:d003", "--json")
    assert linted.returncode == 0, linted.stderr
    (finding,) = [f for f in json.loads(linted.stdout)["findings"] if f["rule"] == "destructive"]
    assert finding["severity"] == "warning"
    assert finding["message"] == "rounds prices.amount from FLOAT to NUMERIC(12, 2)"
    upgrade = rendered(project_dir, "d002", "d003")
    assert "rounds column prices.amount -> schemactl_backup.rd003_prices_amount" in upgrade
    from tools.history.load import plan_range
    from tools.release.review import render_review
    from tools.scripts.render import render_scripts

    project = load_project(project_dir / "alembic.ini")
    history = load_history(project)
    span = plan_range(history.graph, ("d002",), ("d003",))
    environment = project.environment(None)
    up, down = render_scripts(project, environment, history, span, out_dir=None)
    review = render_review("0001_d003", span, up, down, history.graph, [], [])
    assert "| d003 | rounds column prices.amount |" in review
    assert "puts it back" in review


@pytest.mark.postgresql
def test_two_environments_in_two_schemas_of_one_database_keep_their_own_backups(
    tmp_path, throwaway_database
):
    """staging works in schema a, prod in schema b of the same database: each one's rollback
    restores its own phone numbers, and neither drops the other's backup."""
    project_dir = project_copy(tmp_path, "postgresql")
    ini = project_dir / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "\n[schemactl.env.a]\ndialect = postgresql\nurl_env = DATA_A_URL\nschema = a\n"
        + "\n[schemactl.env.b]\ndialect = postgresql\nurl_env = DATA_B_URL\nschema = b\n"
    )
    db = throwaway_database("postgresql")
    scripts = {}
    for env in ("a", "b"):
        out = tmp_path / env
        done = schemactl(project_dir, "sql", "--env", env, "--from", "base", "--to", "d007",
                         "--out", str(out))  # fmt: skip
        assert done.returncode == 0, done.stderr
        scripts[env] = out
    engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE SCHEMA a; CREATE SCHEMA b"))
    # Each environment's tables up to d006, with a phone number of its own.
    for env in ("a", "b"):
        before = tmp_path / f"{env}-before"
        done = schemactl(project_dir, "sql", "--env", env, "--from", "base", "--to", "d006",
                         "--out", str(before))  # fmt: skip
        assert apply_script(db, before / "upgrade.sql").returncode == 0
        with engine.begin() as connection:
            connection.execute(
                sa.text(f"INSERT INTO {env}.users (id, email, phone) VALUES (1, :e, :p)"),
                {"e": f"{env}@example.test", "p": f"+{ord(env)}"},
            )
    for env in ("a", "b"):
        upgrade = tmp_path / f"{env}-d007" / "upgrade.sql"
        upgrade.parent.mkdir()
        upgrade.write_text(rendered(project_dir, "d006", "d007", env=env))
        applied = apply_script(db, upgrade)
        assert applied.returncode == 0, applied.stderr
    phones = ("SELECT table_schema FROM information_schema.tables WHERE table_schema LIKE "
              "'schemactl_backup%' AND table_name LIKE 'rd007_%'")  # fmt: skip
    assert (
        sorted(read(db.url, phones))
        == [("schemactl_backup_a",)] * 2 + [("schemactl_backup_b",)] * 2
    )
    rollback = tmp_path / "a-d007" / "rollback.sql"
    rollback.write_text(rendered(project_dir, "d006", "d007", "rollback", env="a"))
    assert apply_script(db, rollback).returncode == 0
    assert read(db.url, "SELECT phone FROM a.users WHERE id = 1") == [("+97",)]
    assert sorted(read(db.url, phones)) == [("schemactl_backup_b",)] * 2
    rollback = tmp_path / "b-d007" / "rollback.sql"
    rollback.write_text(rendered(project_dir, "d006", "d007", "rollback", env="b"))
    assert apply_script(db, rollback).returncode == 0
    assert read(db.url, "SELECT phone FROM b.users WHERE id = 1") == [("+98",)]
    engine.dispose()


def revision_d009(message: str, upgrade: str, downgrade: str, imports: str = "op") -> str:
    """A revision on top of the corpus's head."""
    return (
        f'"""{message}\n\nRevision ID: d009\nRevises: d008\n"""\n\n'
        f"from alembic import {imports}\n\n"
        'revision = "d009"\ndown_revision = "d008"\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade():\n{upgrade}\n\n\ndef downgrade():\n{downgrade}\n"
    )


BAD_ROLLBACK = revision_d009(
    "Raise every price by one (its downgrade takes off two)",
    '    op.execute("UPDATE prices SET amount = amount + 1")',
    '    op.execute("UPDATE prices SET amount = amount - 2")',
)
OFFLINE_DIFFERS = revision_d009(
    "Write one thing offline and another online",
    '    label = "offline" if context.is_offline_mode() else "online"\n'
    "    op.execute(f\"UPDATE prices SET label = '{label}'\")",
    "    pass",
    imports="context, op",
)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_release_refuses_a_release_whose_rollback_cannot_restore_its_rows(
    tmp_path, dialect, scratch_servers
):
    """The proof fills every table first: the rollback leaves other prices than it found,
    and the release is refused, naming the revision, the table and a row; nothing is
    written."""
    project_dir = project_copy(tmp_path, dialect)
    env = scratch_servers(dialect)
    first = schemactl(project_dir, "release", env=env)  # base -> d008: no rows yet to prove
    assert first.returncode == 0, first.stderr
    (project_dir / "migrations" / "versions" / "d009_raise_prices.py").write_text(BAD_ROLLBACK)
    before = sorted(p.relative_to(project_dir) for p in (project_dir / "sql_out").rglob("*"))
    done = schemactl(project_dir, "release", env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.strip()
    assert len(error.splitlines()) == 1 and "Traceback" not in error
    assert "rollback.sql applied to a database with rows, but the data differs" in error
    assert "table prices row id=901: amount is" in error
    assert (
        "fix d009 (migrations/versions/d009_raise_prices.py), which changes table prices" in error
    )
    assert (
        sorted(p.relative_to(project_dir) for p in (project_dir / "sql_out").rglob("*")) == before
    )


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def test_a_script_that_writes_other_data_than_online_fails_the_proof(tmp_path, dialect):
    project_dir = project_copy(tmp_path, dialect)
    (project_dir / "migrations" / "versions" / "d009_differ.py").write_text(OFFLINE_DIFFERS)
    (problem,) = prove(project_dir, dialect, ["d009"])
    assert problem.startswith(
        "the upgrade script of d009 (versions/d009_differ.py) leaves other data than Alembic "
        f"online from the same rows on {script_dialect(dialect).title} (offline must equal online) "
        "(table prices row id=901: label is 'offline', expected 'online';"
    )
    assert problem.endswith("make its offline SQL do what it does online")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_rows_fill_every_table_of_the_corpus(tmp_path, dialect, throwaway_database):
    """Not a proof on empty tables: at head, every table takes rows, values that scripts
    get wrong among them, and foreign keys point at rows that exist."""
    project_dir = project_copy(tmp_path, dialect)
    db = throwaway_database(dialect)
    project = load_project(project_dir / "alembic.ini")
    kind = script_dialect(dialect)
    scratch.upgrade(scratch.scratch_config(project, kind, db.url), "heads")
    engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        tables = rows.data_tables(connection, {"alembic_version"})
        seeded = rows.seed(connection, list(tables.values()), text_holds_nul=kind.text_holds_nul)
    engine.dispose()
    assert seeded.unfilled == {}
    assert set(seeded.rows) == {"users", "products", "prices"}
    assert all(len(found) == rows.DEFAULT_ROWS for found in seeded.rows.values())
    texts = "".join(str(r["email_address"]) for r in seeded.rows["users"])
    assert "%" in texts and "\t" in texts and "\r\n" in texts


# -- values through every client (hypothesis) ----------------------------------------------------

VALUES = SCENARIOS / "values"
PROBE = '''"""Values of one generated example

Revision ID: {rev}
Revises: v001
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "v001"
branch_labels = None
depends_on = None

probe = sa.table(
    "probe",
    sa.column("id", sa.Integer),
    sa.column("label", sa.Text),
    sa.column("amount", sa.Numeric(30, 10)),
    sa.column("ratio", sa.Double),
    sa.column("tally", sa.BigInteger),
    sa.column("payload", sa.LargeBinary),
)
ROWS = {rows!r}
RAW = {raw!r}


def upgrade():
    op.bulk_insert(probe, ROWS)
    op.execute(sa.text("INSERT INTO probe (id, label) VALUES (:id, :label)").bindparams(
        id=1000, label=ROWS[0]["label"]))
    op.execute(RAW)


def downgrade():
    op.execute("DELETE FROM probe")
'''


def text_values(dialect: str) -> st.SearchStrategy[str]:
    # Every character the database can hold in a text column (PostgreSQL: no NUL).
    excluded = "\x00" if dialect == "postgresql" else ""
    characters = st.characters(exclude_categories=("Cs",), exclude_characters=excluded)
    tricky = st.sampled_from(["%", "%%", "\t", "\r", "\r\n", "\n", "'", "\\", "\U0001f600", "\x1b"])
    return st.lists(st.one_of(characters, tricky), max_size=40).map("".join)


def raw_literal(dialect: str, value: str) -> str:
    """``value`` as a developer writes it in raw SQL for ``dialect``."""
    quoted = value.replace("'", "''")
    return "'" + (quoted.replace("\\", "\\\\") if dialect == "mariadb" else quoted) + "'"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_values_arrive_unchanged_through_every_client(
    tmp_path, dialect, throwaway_database
):
    kind = script_dialect(dialect)
    project_dir = project_copy(tmp_path, dialect, VALUES)
    project = load_project(project_dir / "alembic.ini")
    scripted, online = throwaway_database(dialect), throwaway_database(dialect)
    for db in (scripted, online):
        scratch.upgrade(scratch.scratch_config(project, kind, db.url), "v001")
    online_cfg = scratch.scratch_config(project, kind, online.url)
    versions = project_dir / "migrations" / "versions"
    examples = iter(range(1, 10_000))
    raw_text = text_values(dialect).filter(
        lambda v: "\x00" not in v and not any(ord(c) < 32 and c not in "\t\r\n" for c in v)
    )

    @settings(
        max_examples=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(
        labels=st.lists(text_values(dialect), min_size=1, max_size=4),
        amounts=st.lists(
            st.decimals(
                min_value=-(10**19),
                max_value=10**19,
                places=10,
                allow_nan=False,
                allow_infinity=False,
            ),
            min_size=1,
            max_size=4,
        ),
        ratios=st.lists(
            st.floats(min_value=-1e300, max_value=1e300, allow_subnormal=False, allow_nan=False),
            min_size=1,
            max_size=4,
        ),
        counts=st.lists(
            st.integers(min_value=-(2**63), max_value=2**63 - 1), min_size=1, max_size=4
        ),
        blobs=st.lists(st.binary(max_size=40), min_size=1, max_size=4),
        raw=raw_text,
    )
    def example(labels, amounts, ratios, counts, blobs, raw):
        n = max(len(labels), len(amounts), len(ratios), len(counts), len(blobs))
        values = [
            {
                "id": i + 1,
                "label": labels[i % len(labels)],
                "amount": amounts[i % len(amounts)],
                "ratio": ratios[i % len(ratios)],
                "tally": counts[i % len(counts)],
                "payload": blobs[i % len(blobs)],
            }
            for i in range(n)
        ]
        rev = f"v{next(examples):03d}x"
        for old in versions.glob("v*x_probe.py"):
            old.unlink()
        sql = f"INSERT INTO probe (id, label) VALUES (1001, {raw_literal(dialect, raw)})"
        (versions / f"{rev}_probe.py").write_text(PROBE.format(rev=rev, rows=values, raw=sql))
        script, rollback = tmp_path / "upgrade.sql", tmp_path / "rollback.sql"
        script.write_text(rendered(project_dir, "v001", rev))
        rollback.write_text(rendered(project_dir, "v001", rev, "rollback"))
        query = "SELECT id, label, amount, ratio, tally, payload FROM probe ORDER BY id"
        applied = apply_script(scripted, script)
        try:
            assert applied.returncode == 0, applied.stderr
            scratch.upgrade(online_cfg, rev)
            found, expected = read(scripted.url, query), read(online.url, query)
            assert found == expected  # offline equals online, value for value
            by_id = {row[0]: row for row in found}
            for row in values:
                got = by_id[row["id"]]
                assert got[1] == row["label"]
                assert bytes(got[5]) == row["payload"] and got[4] == row["tally"]
                if dialect != "sqlite":  # SQLite keeps NUMERIC and REAL as doubles
                    assert got[2] == row["amount"] and got[3] == row["ratio"]
            assert by_id[1000][1] == values[0]["label"] and by_id[1001][1] == raw
        finally:  # back to v001 for the next example, whatever happened
            if applied.returncode == 0:
                assert apply_script(scripted, rollback).returncode == 0
            if read(online.url, "SELECT version_num FROM alembic_version") == [(rev,)]:
                scratch.step(online_cfg, rev, "downgrade")
        assert read(scripted.url, query) == [] == read(online.url, query)

    example()


NARROW = '''"""Narrow users.email_address to 26 characters (every address fits)

Revision ID: d009
Revises: d008
"""

import sqlalchemy as sa
from alembic import op

revision = "d009"
down_revision = "d008"
branch_labels = None
depends_on = None

# schemactl: allow destructive: the longest address in production has 25 characters


def upgrade():
    op.alter_column(
        "users", "email_address", type_=sa.String(26), existing_type=sa.String(120),
        existing_nullable=False,
    )


def downgrade():
    op.alter_column(
        "users", "email_address", type_=sa.String(120), existing_type=sa.String(26),
        existing_nullable=False,
    )
'''


@pytest.mark.parametrize(
    "dialect",
    [
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_a_narrowing_is_proven_with_rows_that_fit_it(tmp_path, dialect):
    """The rows a proof generates fit the narrower type too (values only the old type holds
    would make the step fail where the team knows its data fits), and the rollback gives
    them back."""
    project_dir = project_copy(tmp_path, dialect)
    (project_dir / "migrations" / "versions" / "d009_narrow_email.py").write_text(NARROW)
    assert prove(project_dir, dialect, ["d009"]) == []


def test_check_without_the_client_skips_the_proof_and_strict_fails_it(tmp_path):
    """The proof applies scripts with the client a DBA uses: where it is not installed the
    check cannot run here (a skip that says what to install), and --strict fails it."""
    project_dir = project_copy(tmp_path, "sqlite")
    no_clients = {"PATH": str(tmp_path / "empty")}
    done = schemactl(project_dir, "check", "--json", env=no_clients)
    skipped = {s["check"]: s["reason"] for s in json.loads(done.stdout)["skipped"]}
    assert skipped["migrations-run:sqlite"].startswith("the sqlite3 client is not installed")
    strict = schemactl(project_dir, "check", "--strict", env=no_clients)
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert "FAIL migrations-run:sqlite" in strict.stdout


@pytest.mark.parametrize("dialect", DIALECTS)
def test_rows_satisfy_check_constraints_the_database_enforces(dialect, throwaway_database):
    """What the schema cannot say the database answers: a row a CHECK refuses is tried
    again as a plainer variant, and every table still gets its rows."""
    db = throwaway_database(dialect)
    metadata = sa.MetaData()
    sa.Table(
        "contacts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(80), nullable=False),
        sa.Column("age", sa.Integer, nullable=False),
        sa.CheckConstraint("email LIKE '%@%'", name="ck_contacts_email"),
        sa.CheckConstraint("age BETWEEN 0 AND 150", name="ck_contacts_age"),
    )
    engine = sa.create_engine(db.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        metadata.create_all(connection)
        tables = rows.data_tables(connection)
        seeded = rows.seed(connection, list(tables.values()))
        stored = connection.execute(sa.text("SELECT email, age FROM contacts")).all()
    engine.dispose()
    assert seeded.unfilled == {} and len(stored) == rows.DEFAULT_ROWS
    assert all("@" in email and 0 <= age <= 150 for email, age in stored)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_names_that_need_quoting_are_proven_with_rows(tmp_path, dialect):
    """A table called "Order Items" with columns "select" and "50%": rows generated into it,
    a column of it dropped and the table dropped, backed up and restored, on every database
    (PostgreSQL's sequence reset once read such a name unquoted)."""
    project_dir = project_copy(tmp_path, dialect, VALUES)
    for path in (SCENARIOS / "quoted_names").glob("*.py"):
        shutil.copy(path, project_dir / "migrations" / "versions" / path.name)
    assert prove(project_dir, dialect) == []
