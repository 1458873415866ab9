"""Scripts under an adversary, applied with the real clients: two clients at once, a stamp
that finds nothing to move, the wrong kind of database, SQLite without -bail or with foreign
keys on, server settings that change what a literal means, a second schema on search_path."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, pool, text

from tools.config import load_project
from tools.dialects import script_dialect
from tools.release import ranges, release

from .conftest import DIALECTS, FIXTURE, apply_script

BRANCH_POINT = "9ecdc98b5e8a"


def script(tmp_path, env: str, *, start: str = "base", target: str = BRANCH_POINT, kind="upgrade"):
    project = load_project(FIXTURE / "alembic.ini")
    rendered = ranges.sql_one(project, project.environment(env), kind, start=start, target=target)
    path = tmp_path / f"{env}-{kind}-{start}-{target}.sql"
    path.write_text(rendered.text)
    return path


def scalar(database, sql: str):
    engine = create_engine(database.url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def start_client(database, path) -> subprocess.Popen[str]:
    command = database.kind.client_command(database.url, path)
    env = {**os.environ, **command.env}
    if command.stdin is None:
        return subprocess.Popen(
            command.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
    with command.stdin.open() as stdin:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command.args,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )


class Holder:
    """Another session holding the lock a script takes first, so clients queue behind it."""

    def __init__(self, database) -> None:
        self.database = database
        kind = database.kind
        if database.dialect == "sqlite":
            self.connection = sqlite3.connect(database.url.database, isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")
            return
        self.engine = create_engine(database.url, poolclass=pool.NullPool)
        self.connection = self.engine.connect()
        if database.dialect == "postgresql":
            self.connection.execute(text(f"SELECT pg_advisory_lock({kind.lock_key})"))
        else:
            name = f"schemactl:{database.url.database}:alembic_version"
            self.connection.execute(text(f"SELECT GET_LOCK('{name}', 10)"))

    def release(self) -> None:
        if self.database.dialect == "sqlite":
            self.connection.execute("COMMIT")
        self.connection.close()
        if self.database.dialect != "sqlite":
            self.engine.dispose()


def two_clients_at_once(db, path) -> tuple[list[int], list[tuple[str, str]]]:
    """Two real clients apply ``path`` at once, queued behind a held lock that is then let
    go: their exit codes (sorted) and outputs."""
    holder = Holder(db)
    first, second = start_client(db, path), start_client(db, path)
    time.sleep(1.0)
    holder.release()
    outputs = [first.communicate(timeout=60), second.communicate(timeout=60)]
    return sorted([first.returncode, second.returncode]), outputs


@pytest.mark.parametrize("database", DIALECTS)
def test_two_clients_at_once_apply_a_release_once(tmp_path, throwaway_database, database):
    """Both clients start while another session holds the lock; when it lets go, one applies
    the script and the other's guard finds the new state: the seed data goes in once."""
    db = throwaway_database(database)
    env = {"sqlite": "dev", "postgresql": "prod", "mariadb": "mariadb"}[database]
    path = script(tmp_path, env)
    if database == "sqlite":
        sqlite3.connect(db.url.database).close()  # the file exists before the holder locks it
    holder = Holder(db)
    first, second = start_client(db, path), start_client(db, path)
    time.sleep(1.0)
    assert first.poll() is None and second.poll() is None  # both are waiting for the lock
    holder.release()
    results = [first.communicate(timeout=60), second.communicate(timeout=60)]
    codes = sorted([first.returncode, second.returncode])
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(
        out + err
        for (out, err), code in zip(results, (first.returncode, second.returncode), strict=True)
        if code
    )
    assert "schemactl guard: expected revision base (no revision)" in loser
    assert "9ecdc98b5e8a" in loser
    assert scalar(db, "SELECT count(*) FROM tax_rates") == 3
    assert scalar(db, "SELECT count(*) FROM schemactl_audit") == 6


@pytest.mark.parametrize("database", DIALECTS)
def test_a_stamp_that_moves_no_row_stops_the_script(tmp_path, throwaway_database, database):
    db = throwaway_database(database)
    kind = script_dialect(database)
    (tmp_path / "setup.sql").write_text(
        "\n".join(
            kind.preamble()
            + kind.begin()
            + kind.lock()
            + kind.ensure_tables()
            + ["INSERT INTO alembic_version (version_num) VALUES ('zzz');"]
            + kind.commit()
        )
        + "\n"
    )
    assert apply_script(db, tmp_path / "setup.sql").returncode == 0
    (tmp_path / "stamp.sql").write_text(
        "\n".join(
            kind.preamble()
            + kind.begin()
            + kind.lock()
            + kind.stamp(["aaa"], ["bbb"])
            + kind.commit()
        )
        + "\n"
    )
    result = apply_script(db, tmp_path / "stamp.sql")
    assert result.returncode != 0
    assert "did not hold" in result.stderr
    assert scalar(db, "SELECT version_num FROM alembic_version") == "zzz"


CLIENT_FOR = {"dev": "sqlite", "prod": "postgresql", "mariadb": "mariadb"}


@pytest.mark.parametrize(
    ("env", "database"),
    [
        pytest.param(env, param.values[0], marks=param.marks, id=f"{env}-on-{param.id}")
        for env in ("dev", "prod", "mariadb")
        for param in DIALECTS
        if CLIENT_FOR[env] != param.values[0]
    ],
)
def test_a_script_for_another_kind_stops_at_its_first_line(
    tmp_path, throwaway_database, env, database
):
    db = throwaway_database(database)
    result = apply_script(db, script(tmp_path, env))
    assert result.returncode != 0
    engine = create_engine(db.url, poolclass=pool.NullPool)
    from sqlalchemy import inspect

    with engine.connect() as connection:
        assert inspect(connection).get_table_names() == []
    engine.dispose()


@pytest.mark.postgresql
@pytest.mark.parametrize("env", ["dev", "mariadb"])
def test_plain_psql_stops_before_the_first_statement_of_another_kind(
    tmp_path, throwaway_database, env
):
    """`psql -f` without ON_ERROR_STOP goes on past every error: given a SQLite or MariaDB
    script it created tables. The script's first lines (comments to sqlite3 and mariadb)
    stop it, exit 3, with a line saying which client to use."""
    db = throwaway_database("postgresql")
    path = script(tmp_path, env)
    result = subprocess.run(
        ["psql", "-X", "--dbname", db.url.render_as_string(hide_password=False).replace(
            "postgresql+psycopg", "postgresql"), "-f", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    client = script_dialect(CLIENT_FOR[env]).client
    assert f"apply it with {client}, not psql" in result.stdout
    assert scalar(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0


def test_sqlite_without_bail_stops_at_the_guard(tmp_path, throwaway_database):
    db = throwaway_database("sqlite")
    assert apply_script(db, script(tmp_path, "dev")).returncode == 0
    again = script(tmp_path, "dev", start=BRANCH_POINT, target="heads")
    (tmp_path / "wrong.sql").write_text(
        again.read_text().replace(f"'{BRANCH_POINT}'", "'ab251de0ab93'")
    )
    # The DBA forgot -bail and the database is at another revision.
    with (tmp_path / "wrong.sql").open() as stdin:
        result = subprocess.run(
            ["sqlite3", str(db.url.database)], stdin=stdin, capture_output=True, text=True
        )
    assert result.returncode != 0 and "schemactl guard" in result.stdout + result.stderr
    assert scalar(db, "SELECT version_num FROM alembic_version") == BRANCH_POINT
    assert scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'payments'") == 0


def test_sqlite_rebuilds_never_cascade_even_with_foreign_keys_on(tmp_path, throwaway_database):
    """0005 rebuilds invoices; with PRAGMA foreign_keys=ON (a common setting) DROP TABLE used to
    delete every invoice item. Rolled back to before 0005, the items are all still there."""
    db = throwaway_database("sqlite")

    def run(path):
        # As a DBA whose sqlite3 turns foreign keys on for every session (.sqliterc, -cmd).
        args = ["sqlite3", "-bail", "-cmd", "PRAGMA foreign_keys=ON", str(db.url.database)]
        with path.open() as stdin:
            return subprocess.run(args, stdin=stdin, capture_output=True, text=True)

    assert run(script(tmp_path, "dev")).returncode == 0
    with sqlite3.connect(db.url.database) as connection:
        connection.executescript(
            "INSERT INTO users (id, email, full_name, password_hash) VALUES (1, 'a@b', 'A', 'x');"
            "INSERT INTO customers (id, owner_id, name) VALUES (1, 1, 'C');"
            "INSERT INTO invoices (id, number, customer_id, issued_by_id, issue_date, total_amount)"
            " VALUES (1, 'N1', 1, 1, '2026-01-01', 10);"
            "INSERT INTO invoice_items (invoice_id, description, quantity, unit_price, line_total)"
            " VALUES (1, 'x', 1, 10, 10), (1, 'y', 2, 5, 10);"
        )
    rollback = script(tmp_path, "dev", start="45c580e85327", kind="rollback")
    result = run(rollback)
    assert result.returncode == 0, result.stderr
    assert scalar(db, "SELECT count(*) FROM invoice_items") == 2
    assert scalar(db, "SELECT version_num FROM alembic_version") == "45c580e85327"


SEED = '''"""Seed a path with backslashes"""

import sqlalchemy as sa
from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None

rates = sa.table("tax_rates", sa.column("code", sa.String), sa.column("name", sa.String))


def upgrade():
    # SQLAlchemy writes the literal for each dialect; the server must read it as written.
    op.execute(rates.update().where(rates.c.code == "STD").values(name="C:\\\\temp\\\\new"))


def downgrade():
    op.execute(rates.update().where(rates.c.code == "STD").values(name="Standard rate"))
'''


@pytest.mark.parametrize(
    "database",
    [
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_server_settings_cannot_change_a_literal(repo_copy, tmp_path, throwaway_database, database):
    db = throwaway_database(database)
    (repo_copy / "versions" / "0011_0123456789ab_seed_path.py").write_text(SEED)
    project = load_project(repo_copy / "alembic.ini")
    env = "prod" if database == "postgresql" else "mariadb"
    path = tmp_path / "up.sql"
    path.write_text(ranges.sql_one(project, project.environment(env), "upgrade", start="base").text)
    if database == "postgresql":
        engine = create_engine(db.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(
                text(f"ALTER DATABASE {db.url.database} SET standard_conforming_strings = off")
            )
            connection.execute(text("CREATE SCHEMA evil"))
            connection.execute(
                text("CREATE TABLE evil.alembic_version (version_num varchar(32) PRIMARY KEY)")
            )
            connection.execute(
                text(f"ALTER DATABASE {db.url.database} SET search_path = evil, public")
            )
        engine.dispose()
        result = apply_script(db, path)
    else:
        command = db.kind.client_command(db.url, path)
        args = list(command.args)
        args.insert(2, "--init-command=SET sql_mode = 'NO_BACKSLASH_ESCAPES'")
        with path.open() as stdin:
            result = subprocess.run(
                args, stdin=stdin, capture_output=True, text=True, env={**os.environ, **command.env}
            )
    assert result.returncode == 0, result.stderr
    name = (
        "SELECT name FROM public.tax_rates WHERE code = 'STD'"
        if database == "postgresql"
        else "SELECT name FROM tax_rates WHERE code = 'STD'"
    )
    assert scalar(db, name) == "C:\\temp\\new"
    if database == "postgresql":
        assert scalar(db, "SELECT count(*) FROM evil.alembic_version") == 0
        assert scalar(db, "SELECT version_num FROM public.alembic_version") == "0123456789ab"


def test_new_releases_record_the_current_format_and_old_ones_stay_as_written(
    repo_copy, scratch_servers
):
    import json

    scratch_servers("postgresql")
    from tools.dialects import FORMAT

    manifest = repo_copy / "sql_out" / "prod" / "manifest.json"
    before = json.loads(manifest.read_text())
    (repo_copy / "versions" / "0011_0123456789ab_seed_path.py").write_text(SEED)
    project = load_project(repo_copy / "alembic.ini")
    made = release.release(project, project.environment("prod"))
    assert made is not None and made.format == FORMAT
    after = json.loads(manifest.read_text())
    assert after["releases"][:2] == before["releases"]
    assert after["releases"][2]["format"] == FORMAT
    assert "format" not in after["releases"][0]
    report = release.check(project, "prod")
    assert report.problems == [] and len(report.checked) == 3
    upgrade = (repo_copy / "sql_out" / "prod" / made.name / "upgrade.sql").read_text()
    assert "pg_advisory_lock" in upgrade
    old = (repo_copy / "sql_out" / "prod" / "0001_9ecdc98b5e8a" / "upgrade.sql").read_text()
    assert "pg_advisory_lock" not in old
    assert shutil.which("psql")


BUMP = '''"""Raise the standard rate by one point"""

from alembic import op

revision = "0123456789ab"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE tax_rates SET rate = rate + 1 WHERE code = 'STD'")


def downgrade():
    op.execute("UPDATE tax_rates SET rate = rate - 1 WHERE code = 'STD'")
'''


@pytest.mark.parametrize("database", DIALECTS)
def test_two_clients_at_once_apply_a_data_revision_once(
    repo_copy, tmp_path, throwaway_database, database
):
    """The adversary's case: a database at head takes a data revision from two DBAs at once.
    Before, both passed the guard and the rate went 19 -> 21 with two audit rows."""
    db = throwaway_database(database)
    env = {"sqlite": "dev", "postgresql": "prod", "mariadb": "mariadb"}[database]
    project = load_project(repo_copy / "alembic.ini")
    (tmp_path / "base.sql").write_text(
        ranges.sql_one(project, project.environment(env), "upgrade", start="base").text
    )
    assert apply_script(db, tmp_path / "base.sql").returncode == 0
    (repo_copy / "versions" / "0011_0123456789ab_bump.py").write_text(BUMP)
    project = load_project(repo_copy / "alembic.ini")
    path = tmp_path / "bump.sql"
    path.write_text(
        ranges.sql_one(project, project.environment(env), "upgrade", start="68cfa590ad28").text
    )
    codes, outputs = two_clients_at_once(db, path)
    assert codes[0] == 0 and codes[1] != 0, outputs
    assert float(scalar(db, "SELECT rate FROM tax_rates WHERE code = 'STD'")) == 20.0
    assert scalar(db, "SELECT count(*) FROM schemactl_audit WHERE revision = '0123456789ab'") == 1


@pytest.mark.postgresql
def test_a_postgresql_script_runs_without_notice_noise(tmp_path, throwaway_database):
    """client_min_messages is pinned: IF NOT EXISTS on a second release says nothing."""
    db = throwaway_database("postgresql")
    assert apply_script(db, script(tmp_path, "prod")).returncode == 0
    second = apply_script(db, script(tmp_path, "prod", start=BRANCH_POINT, target="heads"))
    assert second.returncode == 0
    assert second.stderr == "" and second.stdout == ""


@pytest.mark.parametrize("database", DIALECTS)
def test_three_online_upgrades_at_once_apply_a_data_revision_once(
    repo_copy, throwaway_database, database
):
    """Three `schemactl upgrade` at once behind a held lock: one runs the data revision, the
    others find the database moved (read again under the lock, in a fresh snapshot: MariaDB's
    REPEATABLE READ kept the old one and ran it three times) and run nothing."""
    from .conftest import ENV_FOR_DIALECT

    db = throwaway_database(database)
    env_name, variable = ENV_FOR_DIALECT[database]
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))},
        variable: db.url.render_as_string(hide_password=False),
    }

    def schemactl(*args):
        return subprocess.Popen(
            [sys.executable, "-m", "tools", "--env", env_name, *args],
            cwd=repo_copy, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = schemactl("upgrade")
    said = first.communicate(timeout=120)
    assert first.returncode == 0, said
    # DDL after the data change: MariaDB commits at it, so a second run's UPDATE would stay
    # even where its stamp then finds the version moved.
    update = """    op.execute("UPDATE tax_rates SET rate = rate + 1 WHERE code = 'STD'")\n"""
    ddl = """    op.execute("CREATE TABLE IF NOT EXISTS bump_note (id INTEGER)")\n"""
    assert update in BUMP
    bump = BUMP.replace(update, update + ddl)
    (repo_copy / "versions" / "0011_0123456789ab_bump.py").write_text(bump)
    holder = Holder(db)
    clients = [schemactl("upgrade") for _ in range(3)]
    time.sleep(1.5)
    holder.release()
    outputs = [client.communicate(timeout=120) for client in clients]
    codes = sorted(client.returncode for client in clients)
    assert codes[0] == 0, outputs
    assert float(scalar(db, "SELECT rate FROM tax_rates WHERE code = 'STD'")) == 20.0, outputs
    assert scalar(db, "SELECT count(*) FROM schemactl_audit WHERE revision = '0123456789ab'") == 1
    for (_out, err), code in zip(outputs, (c.returncode for c in clients), strict=True):
        assert "Traceback" not in err
        if code != 0:
            assert "another client moved the database" in err, err


@pytest.mark.postgresql
def test_online_commands_pin_the_search_path_as_the_scripts_do(repo_copy, throwaway_database):
    """A database (or role) whose search_path starts with another schema: status reads, and
    upgrade writes, the environment's schema, never the first one on the path (there a fresh
    version table said 'base' and the whole history ran again)."""
    db = throwaway_database("postgresql")
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))},
        "BILLGEN_STAGING_URL": db.url.render_as_string(hide_password=False),
    }

    def schemactl(*args):
        return subprocess.run(
            [sys.executable, "-m", "tools", "--env", "staging", *args],
            cwd=repo_copy, env=environ, capture_output=True, text=True,
        )  # fmt: skip

    assert schemactl("upgrade").returncode == 0
    engine = create_engine(db.url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE SCHEMA evil"))
        connection.execute(text(f"ALTER DATABASE {db.url.database} SET search_path = evil, public"))
    engine.dispose()
    status = schemactl("status", "--check")
    assert status.returncode == 0, status.stdout + status.stderr
    again = schemactl("upgrade")
    assert again.returncode == 0, again.stderr
    assert "Running upgrade" not in again.stderr
    assert scalar(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'evil'") == 0


def test_sqlite_keeps_its_lock_across_an_autocommit_block(repo_copy, tmp_path, throwaway_database):
    """SQLite's lock is its transaction: a script that committed around an autocommit block
    let a second sqlite3 in to run the step again. The block's statements stay inside; two
    clients at once apply it once."""
    db = throwaway_database("sqlite")
    project = load_project(repo_copy / "alembic.ini")
    (tmp_path / "base.sql").write_text(
        ranges.sql_one(project, project.environment("dev"), "upgrade", start="base").text
    )
    assert apply_script(db, tmp_path / "base.sql").returncode == 0
    update = """    op.execute("UPDATE tax_rates SET rate = rate + 1 WHERE code = 'STD'")\n"""
    assert update in BUMP
    inside = "    with op.get_context().autocommit_block():\n    " + update
    (repo_copy / "versions" / "0011_0123456789ab_bump.py").write_text(BUMP.replace(update, inside))
    project = load_project(repo_copy / "alembic.ini")
    text = ranges.sql_one(project, project.environment("dev"), "upgrade", start="68cfa590ad28").text
    assert text.count("COMMIT;") == 1 and text.count("BEGIN IMMEDIATE;") == 1, text
    path = tmp_path / "bump.sql"
    path.write_text(text)
    codes, outputs = two_clients_at_once(db, path)
    assert codes[0] == 0, outputs
    assert float(scalar(db, "SELECT rate FROM tax_rates WHERE code = 'STD'")) == 20.0
    assert scalar(db, "SELECT count(*) FROM schemactl_audit WHERE revision = '0123456789ab'") == 1


@pytest.mark.postgresql
def test_a_step_outside_the_transaction_keeps_the_lock_timeout(
    repo_copy, tmp_path, throwaway_database
):
    """An autocommit_block's ALTER behind a reader: it fails at the environment's
    lock_timeout (set for the session: SET LOCAL ended with the transaction) instead of
    queueing every writer behind it for as long as the reader stays."""
    db = throwaway_database("postgresql")
    ini = repo_copy / "alembic.ini"
    text_ = ini.read_text()
    ini.write_text(text_.replace("lock_timeout = 5s", "lock_timeout = 1s"))
    project = load_project(repo_copy / "alembic.ini")
    (tmp_path / "base.sql").write_text(
        ranges.sql_one(project, project.environment("prod"), "upgrade", start="base").text
    )
    assert apply_script(db, tmp_path / "base.sql").returncode == 0
    (repo_copy / "versions" / "0011_0123456789ab_alter.py").write_text(
        BUMP.replace(
            """    op.execute("UPDATE tax_rates SET rate = rate + 1 WHERE code = 'STD'")\n""",
            "    with op.get_context().autocommit_block():\n"
            """        op.execute("ALTER TABLE users ADD COLUMN nick VARCHAR(9)")\n""",
        )
    )
    project = load_project(repo_copy / "alembic.ini")
    script = ranges.sql_one(
        project, project.environment("prod"), "upgrade", start="68cfa590ad28"
    ).text
    assert "SET SESSION lock_timeout = '1s';" in script
    path = tmp_path / "alter.sql"
    path.write_text(script)
    reader = create_engine(db.url, poolclass=pool.NullPool)
    with reader.connect() as connection:
        connection.execute(text("SELECT count(*) FROM users"))  # holds its lock till the end
        started = time.monotonic()
        done = apply_script(db, path)
        waited = time.monotonic() - started
    reader.dispose()
    assert done.returncode != 0 and "lock timeout" in done.stderr, done.stderr
    assert waited < 10, waited


REFUSE_AUDIT = {
    "sqlite": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON schemactl_audit "
        "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'audit refused'; END$$",
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON schemactl_audit "
        "FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
    ],
    "mariadb": [
        "CREATE TRIGGER refuse_audit BEFORE INSERT ON schemactl_audit FOR EACH ROW "
        "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused'"
    ],
}


@pytest.mark.parametrize("database", DIALECTS)
def test_a_stamp_whose_audit_row_fails_leaves_the_version_table_as_it_was(
    repo_copy, throwaway_database, database
):
    """Stamp and audit are one transaction, taken under the lock: when the audit row cannot
    be written, the version table still holds what it held (Alembic's purge had committed the
    emptied table at once on MariaDB, and the next upgrade ran the whole history again)."""
    from .conftest import ENV_FOR_DIALECT, schemactl

    db = throwaway_database(database)
    env_name, variable = ENV_FOR_DIALECT[database]
    env = {variable: db.url.render_as_string(hide_password=False)}
    upgraded = schemactl(repo_copy, "--env", env_name, "upgrade", BRANCH_POINT, env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_engine(db.url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        for statement in REFUSE_AUDIT[database]:
            connection.exec_driver_sql(statement)
    engine.dispose()
    stamped = schemactl(repo_copy, "--env", env_name, "stamp", "heads", env=env)
    assert stamped.returncode == 1
    assert stamped.stderr.count("\n") == 1 and "audit refused" in stamped.stderr, stamped.stderr
    assert scalar(db, "SELECT version_num FROM alembic_version") == BRANCH_POINT
    assert scalar(db, "SELECT count(*) FROM alembic_version") == 1
    assert scalar(db, "SELECT count(*) FROM schemactl_audit WHERE direction = 'stamp'") == 0


@pytest.mark.parametrize("database", DIALECTS)
def test_an_online_upgrade_killed_mid_revision_leaves_the_revision_before(
    repo_copy, tmp_path, throwaway_database, database
):
    """kill -9 while a data revision is running online: the database rolls its transaction
    back (the server, or SQLite's journal at the next open), the lock goes with the session,
    and the next upgrade applies the revision once, with one audit row."""
    import signal

    from .conftest import ENV_FOR_DIALECT

    db = throwaway_database(database)
    env_name, variable = ENV_FOR_DIALECT[database]
    marker = tmp_path / "running"
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))},
        variable: db.url.render_as_string(hide_password=False),
        "KILL_MARKER": str(marker),
    }

    def upgrade() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tools", "--env", env_name, "upgrade"],
            cwd=repo_copy, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    first = upgrade()
    said = first.communicate(timeout=120)
    assert first.returncode == 0, said
    update = """    op.execute("UPDATE tax_rates SET rate = rate + 1 WHERE code = 'STD'")\n"""
    stall = (
        "    import os, pathlib, time\n"
        "    if not pathlib.Path(os.environ['KILL_MARKER']).exists():\n"
        "        pathlib.Path(os.environ['KILL_MARKER']).touch()\n"
        "        time.sleep(60)\n"
    )
    (repo_copy / "versions" / "0011_0123456789ab_bump.py").write_text(
        BUMP.replace(update, update + stall)
    )
    victim = upgrade()
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert victim.poll() is None and time.monotonic() < deadline, victim.communicate()
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert float(scalar(db, "SELECT rate FROM tax_rates WHERE code = 'STD'")) == 19.0
    assert scalar(db, "SELECT version_num FROM alembic_version") == "68cfa590ad28"
    again = upgrade()
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert float(scalar(db, "SELECT rate FROM tax_rates WHERE code = 'STD'")) == 20.0
    assert scalar(db, "SELECT count(*) FROM schemactl_audit WHERE revision = '0123456789ab'") == 1
