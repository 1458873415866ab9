"""op.backfill_online keeps its progress in schemactl_backfill, a row per run, written with
each batch in the batch's transaction. Stopped midway, the script run again, as a DBA would,
goes on from the last batch committed: with a backfill that must run once per row (qty + 1),
every row ends incremented exactly once. `schemactl audit` shows the runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time

import pytest
from sqlalchemy import text

from tools.config import load_project
from tools.release import ranges

from .conftest import applied_fixture, apply_script, schemactl

ROWS = 40_000
ITEMS = '''"""Items"""

import sqlalchemy as sa
from alembic import op

revision = "0c1100000001"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("qty", sa.Integer)
    )


def downgrade():
    op.drop_table("items")
'''
BACKFILL = '''"""Every quantity one more, 20 rows a batch"""

from alembic import op

revision = "0c1100000002"
down_revision = "0c1100000001"
branch_labels = None
depends_on = None


def upgrade():
    op.backfill_online("items", {"qty": "qty + 1"}, batch_size=20)


def downgrade():
    op.backfill_online("items", {"qty": "qty - 1"}, batch_size=20)
'''


def _cancel(db) -> None:
    """Stop what every other session on the database runs: PostgreSQL's statement cancelled
    (as psql's Ctrl-C does); MariaDB's session killed (KILL QUERY may go unheeded by a
    compound statement on 10.11, which then runs on to its end)."""
    with db.engine().connect() as connection:
        if db.dialect == "postgresql":
            connection.execute(
                text(
                    "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return
        sessions = connection.execute(
            text(
                "SELECT id FROM information_schema.PROCESSLIST "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            )
        )
        for (session,) in list(sessions):
            connection.execute(text(f"KILL {int(session)}"))


def _progress(db) -> list[tuple[object, ...]]:
    with db.engine().connect() as connection:
        found = connection.execute(
            text(
                "SELECT done_to, high, rows_done, finished_at IS NOT NULL FROM schemactl_backfill "
                "ORDER BY id"
            )
        )
        return [tuple(r) for r in found]


@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_a_backfill_killed_midway_goes_on_from_its_last_batch(
    tmp_path, throwaway_database, dialect
):
    db = throwaway_database(dialect)
    repo = applied_fixture(tmp_path, db, ("0011_0c1100000001_items.py", ITEMS))
    env = db.env
    with db.engine().begin() as connection:
        connection.execute(
            text(
                "INSERT INTO items (id, qty) SELECT n, n % 7 FROM "
                + (
                    f"generate_series(1, {ROWS}) AS n"
                    if dialect == "postgresql"
                    else f"(SELECT seq AS n FROM seq_1_to_{ROWS}) AS s"
                )
            )
        )
    (repo / "versions" / "0012_0c1100000002_backfill.py").write_text(BACKFILL)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="0c1100000001", out=tmp_path / "new")
    if dialect == "mariadb":  # the loop says it ended; the script stops where it did not
        script = (tmp_path / "new" / "upgrade.sql").read_text()
        assert re.search(
            r"    SET @schemactl_backfill_ended = 1;\nEND //\nDELIMITER ;\n\n"
            r"SET @schemactl_backfill = IF\(@schemactl_backfill_ended = 1, 'DO 0', ",
            script,
        ), script

    # The script, stopped on the server once the loop is under way (a client killed leaves
    # the server running the statement).
    command = db.kind.client_command(db.url, tmp_path / "new" / "upgrade.sql")
    with (tmp_path / "new" / "upgrade.sql").open("rb") as script:
        client = subprocess.Popen(
            command.args,
            stdin=script if command.stdin is not None else None,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **command.env},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                seen = _progress(db)
            except Exception:  # the table is not made yet
                seen = []
            if seen and seen[0][0] is not None and int(seen[0][0]) > 500:
                break
            time.sleep(0.01)
        _cancel(db)
        client.wait(timeout=60)
    with db.engine().connect() as connection:  # not stamped: the step did not end
        stamped = connection.execute(text("SELECT version_num FROM alembic_version"))
        assert stamped.scalar() == "0c1100000001"
    (done_to, high, changed, finished), *others = _progress(db)
    assert not others and not finished and high == ROWS, _progress(db)
    assert 500 < int(done_to) < ROWS  # stopped midway
    with db.engine().connect() as connection:  # what it did is what it says it did
        moved = connection.execute(text("SELECT count(*) FROM items WHERE qty <> id % 7 + 1"))
        assert moved.scalar() == ROWS - int(done_to) + 1
        assert int(changed) == int(done_to) - 1

    # `schemactl audit` shows the run stopped, and how far it went.
    environ = {db.url_var: db.url.render_as_string(hide_password=False)}
    shown = json.loads(schemactl(repo, "audit", "--env", env, "--json", env=environ).stdout)
    assert [(b["table"], b["done_to"], b["finished"]) for b in shown["backfills"]] == [
        ("items", int(done_to), False)
    ]
    # As a DBA would: the step changes data only, so the same script is run again (its guard
    # passes: the revision was not stamped). The loop goes on from its last batch.
    again = apply_script(db, tmp_path / "new" / "upgrade.sql")
    assert again.returncode == 0, again.stderr

    # Every row once more, no row twice; one run, finished, that changed every row.
    with db.engine().connect() as connection:
        wrong = connection.execute(text("SELECT count(*) FROM items WHERE qty <> id % 7 + 1"))
        assert wrong.scalar() == 0
    ((_, high, changed, finished),) = _progress(db)
    assert (high, changed, finished) == (ROWS, ROWS, True)
    shown = json.loads(schemactl(repo, "audit", "--env", env, "--json", env=environ).stdout)
    assert [(b["table"], b["rows_done"], b["finished"]) for b in shown["backfills"]] == [
        ("items", ROWS, True)
    ]
