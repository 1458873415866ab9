"""MariaDB's safe CHECK (op.create_check_constraint_online): the table copied beside itself
while writes go on, then switched in. Proven against the server with the real client: a
writer inserting, updating and deleting the whole time, foreign keys to, from and within
the table, a name that is data; the client killed mid-copy and the script run again; and
the refusals, each leaving nothing behind."""

from __future__ import annotations

import os
import random
import re
import subprocess
import threading
import time

import pytest
from sqlalchemy import text

from tools.config import load_project
from tools.release import ranges

from .conftest import applied_fixture, apply_script

PARENT = "68cfa590ad28"
TABLE = "led'ger 100%"  # a name that is data: a quote, a percent sign, a space
ROWS = 20_000

TABLES = '''"""Tables for the shadow copy"""

import sqlalchemy as sa
from alembic import op

revision = "0b1100000001"
down_revision = "68cfa590ad28"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE")),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey(TABLE + ".id")),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("note", sa.String(40)),
        sa.Index("ix_ledger_note", "note"),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ledger_id", sa.Integer, sa.ForeignKey(TABLE + ".id", ondelete="SET NULL")),
    )


def downgrade():
    op.drop_table("entries")
    op.drop_table(TABLE)
    op.drop_table("accounts")
'''.replace("TABLE", repr(TABLE))

CHECK = '''"""A CHECK on a table with rows"""

from alembic import op

revision = "0b1100000002"
down_revision = "0b1100000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_check_constraint_online("amount", TABLE, CONDITION, key=KEY, batch_size=500)


def downgrade():
    op.drop_constraint("amount", TABLE, type_="check")  # named by the convention
'''.replace("TABLE", repr(TABLE))


def _project(tmp_path, db, condition="amount >= 0", key="id"):
    """The fixture with both revisions, at the first with rows in every table; the second's
    scripts rendered into tmp_path/check."""
    repo = applied_fixture(tmp_path, db, ("0011_0b1100000001_tables.py", TABLES))
    env = db.env
    name = _quoted(TABLE)
    with db.engine().begin() as connection:
        connection.execute(text("INSERT INTO accounts (id) SELECT seq FROM seq_1_to_10"))
        connection.execute(
            text(
                f"INSERT INTO {name} (id, account_id, parent_id, amount, note) "
                f"SELECT seq, 1 + seq % 10, IF(seq > 1, seq - 1, NULL), seq % 1000, "
                f"CONCAT('n ', seq, ' 50% off') FROM seq_1_to_{ROWS}"
            )
        )
        connection.execute(
            text(f"INSERT INTO entries SELECT seq, IF(seq = 50, {ROWS}, seq) FROM seq_1_to_50")
        )
    body = CHECK.replace("CONDITION", repr(condition)).replace("KEY", repr(key))
    (repo / "versions" / "0012_0b1100000002_check.py").write_text(body)
    project = load_project(repo / "alembic.ini")
    ranges.sql(project, project.environment(env), start="0b1100000001", out=tmp_path / "check")
    return repo


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _shapes(db) -> dict[str, frozenset[str]]:
    """SHOW CREATE TABLE of every table but the version table: names, keys, indexes."""
    with db.engine().connect() as connection:
        names = [r[0] for r in connection.execute(text("SHOW TABLES"))]
        shapes = {}
        for name in names:
            if name != "alembic_version" and not name.startswith("schemactl"):
                shown = connection.execute(text(f"SHOW CREATE TABLE {_quoted(name)}")).one()[1]
                # Each line (a column, a key), in any order: a copy lists its keys as the
                # server made them.
                lines = re.sub(r" AUTO_INCREMENT=\d+", "", shown).split("\n")
                shapes[name] = frozenset(line.rstrip(",") for line in lines)
        return shapes


def _rows(db) -> list[tuple[object, ...]]:
    with db.engine().connect() as connection:
        found = connection.execute(text(f"SELECT * FROM {_quoted(TABLE)} ORDER BY id"))
        return [tuple(r) for r in found]


def _leftovers(db) -> list[str]:
    with db.engine().connect() as connection:
        tables = [r[0] for r in connection.execute(text("SHOW TABLES LIKE '\\_%'"))]
        triggers = [r[0] for r in connection.execute(text("SHOW TRIGGERS"))]
        return tables + triggers


class Writer(threading.Thread):
    """The application: inserts, updates and deletes on the table, one row a transaction,
    keeping what it committed; every error it meets is kept."""

    def __init__(self, db, rows: dict[int, tuple[object, ...]]) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.rows = rows
        self.errors: list[str] = []
        self.writes = 0
        self.longest = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        pick = random.Random(7)
        name = _quoted(TABLE)
        with self.db.engine().connect() as connection:
            while not self.done.is_set():
                began = time.monotonic()
                try:
                    choice = pick.random()
                    if choice < 0.4:
                        amount, note = pick.randrange(1000), f"w {self.writes} 100%"
                        made = connection.execute(
                            text(
                                f"INSERT INTO {name} (account_id, amount, note) VALUES (2, :a, :n)"
                            ),
                            {"a": amount, "n": note},
                        )
                        connection.commit()
                        self.rows[int(made.lastrowid)] = (made.lastrowid, 2, None, amount, note)
                    elif choice < 0.8 and self.rows:
                        row = pick.choice(sorted(self.rows))
                        amount = pick.randrange(1000)
                        connection.execute(
                            text(f"UPDATE {name} SET amount = :a WHERE id = :i"),
                            {"a": amount, "i": row},
                        )
                        connection.commit()
                        self.rows[row] = (*self.rows[row][:3], amount, self.rows[row][4])
                    elif self.rows:
                        row = max(self.rows)  # no row's parent: the newest
                        if self.rows[row][2] is not None or row <= ROWS:
                            continue
                        connection.execute(text(f"DELETE FROM {name} WHERE id = :i"), {"i": row})
                        connection.commit()
                        del self.rows[row]
                    self.writes += 1
                except Exception as err:  # every failure is the test's finding
                    connection.rollback()
                    self.errors.append(str(err).splitlines()[0])
                self.longest = max(self.longest, time.monotonic() - began)


def test_the_table_is_copied_beside_itself_while_a_writer_writes(tmp_path, throwaway_database):
    db = throwaway_database("mariadb")
    _project(tmp_path, db)
    before_shapes, before_rows = _shapes(db), _rows(db)
    rows = {int(r[0]): r for r in before_rows}  # type: ignore[call-overload]
    script = (tmp_path / "check" / "upgrade.sql").read_text()
    assert "COPIES A TABLE" not in script.split("\n\n", 1)[0]
    for loop in ("copy", "keys"):  # each loop says it ended; the script stops where not
        assert f"    SET @schemactl_{loop}_ended = 1;\nEND //" in script
        assert f"IF(@schemactl_{loop}_ended = 1, 'DO 0', " in script

    writer = Writer(db, rows)
    writer.start()
    time.sleep(0.3)
    up = apply_script(db, tmp_path / "check" / "upgrade.sql")
    time.sleep(0.3)
    writer.done.set()
    writer.join()
    assert up.returncode == 0, up.stdout + up.stderr
    assert writer.errors == [], writer.errors
    assert writer.writes > 100, writer.writes  # it wrote all along
    # Every write the application committed is in the table it now has, and nothing else.
    assert _rows(db) == [rows[k] for k in sorted(rows)]
    after = _shapes(db)
    # The same tables, keys (to, from and within it), indexes and names; and the CHECK.
    assert sorted(after) == sorted(before_shapes) and _leftovers(db) == []
    added = "  CONSTRAINT `ck_led'ger 100%_amount` CHECK (`amount` >= 0)"
    assert after[TABLE] == before_shapes[TABLE] | {added}, after[TABLE]
    assert {k: v for k, v in after.items() if k != TABLE} == {
        k: v for k, v in before_shapes.items() if k != TABLE
    }
    with db.engine().connect() as connection:  # the keys hold: the server enforces them
        with pytest.raises(Exception, match="foreign key constraint fails"):
            connection.execute(text("INSERT INTO entries (id, ledger_id) VALUES (999, 0)"))
        connection.rollback()
        with pytest.raises(Exception, match="ck_led'ger 100%_amount"):
            connection.execute(text(f"UPDATE {_quoted(TABLE)} SET amount = -1 WHERE id = 1"))
        connection.rollback()
        # ON DELETE SET NULL moved with the key: an entry's row deleted sets it NULL.
        connection.execute(text(f"DELETE FROM {_quoted(TABLE)} WHERE id = {ROWS}"))
        unset = connection.execute(text("SELECT ledger_id FROM entries WHERE id = 50"))
        assert unset.scalar() is None
        connection.rollback()

    down = apply_script(db, tmp_path / "check" / "rollback.sql")
    assert down.returncode == 0, down.stdout + down.stderr
    assert _shapes(db) == before_shapes
    assert _rows(db) == [rows[k] for k in sorted(rows)]


def test_a_copy_killed_midway_is_run_again_from_the_start(tmp_path, throwaway_database):
    """The client killed while the rows are copied: the triggers and the half copy stay,
    the table is as it was; the same script run again clears them and finishes."""
    db = throwaway_database("mariadb")
    _project(tmp_path, db)
    before_rows = _rows(db)
    command = db.kind.client_command(db.url, tmp_path / "check" / "upgrade.sql")
    script = (tmp_path / "check" / "upgrade.sql").open("rb")
    client = subprocess.Popen(
        command.args,
        stdin=script,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **command.env},
    )
    shadow = "_" + TABLE + "_schemactl_new"
    deadline = time.monotonic() + 30
    with db.engine().connect() as connection:
        while time.monotonic() < deadline:  # until the copy has begun
            found = connection.execute(
                text("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_NAME = :t"),
                {"t": shadow},
            ).scalar()
            connection.rollback()
            if found:
                break
            time.sleep(0.005)
    client.kill()
    client.wait()
    script.close()
    assert _rows(db) == before_rows
    assert shadow in _leftovers(db), _leftovers(db)  # what the stop left

    again = apply_script(db, tmp_path / "check" / "upgrade.sql")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _rows(db) == before_rows and _leftovers(db) == []


@pytest.mark.parametrize(
    ("condition", "key", "said"),
    [
        ("amount >= 5", "id", "rows break ck_led'ger 100%_amount; nothing added"),
        ("amount >= 0", "amount", "amount is no integer primary key"),
    ],
)
def test_refused_with_nothing_made(tmp_path, throwaway_database, condition, key, said):
    db = throwaway_database("mariadb")
    _project(tmp_path, db, condition=condition, key=key)
    before = _shapes(db)
    stopped = apply_script(db, tmp_path / "check" / "upgrade.sql")
    assert stopped.returncode != 0
    assert f"schemactl: {said}" in stopped.stderr, stopped.stderr
    assert _shapes(db) == before and _leftovers(db) == []


@pytest.mark.parametrize("triggers", [1, 2])
def test_writes_between_the_triggers_leave_no_row_behind(tmp_path, throwaway_database, triggers):
    """The script stopped after its first (or second) trigger, the application inserts,
    updates and deletes, then the rest runs: the rows are the application's. (With the
    insert trigger made before the delete trigger, a row inserted and deleted between
    them stayed in the shadow, and came back at the switch.)"""
    db = throwaway_database("mariadb")
    _project(tmp_path, db)
    script = (tmp_path / "check" / "upgrade.sql").read_text()
    statements = script.split("\n\n")
    made = [i for i, s in enumerate(statements) if "CREATE TRIGGER" in s]
    assert len(made) == 3, made
    cut = made[triggers - 1] + 1
    session = [s for s in statements[:cut] if re.match(r"SET (NAMES|SESSION) ", s)]
    (tmp_path / "first.sql").write_text("\n\n".join(statements[:cut]) + "\n")
    (tmp_path / "rest.sql").write_text("\n\n".join([*session, *statements[cut:]]))
    first = apply_script(db, tmp_path / "first.sql")
    assert first.returncode == 0, first.stderr
    name = _quoted(TABLE)
    with db.engine().begin() as connection:
        for amount in (7, 8, 9):
            connection.execute(text(f"INSERT INTO {name} (amount, note) VALUES ({amount}, 'w')"))
        connection.execute(text(f"UPDATE {name} SET amount = 70 WHERE amount = 7 AND note = 'w'"))
        connection.execute(text(f"DELETE FROM {name} WHERE amount IN (8, 70) AND note = 'w'"))
        connection.execute(text(f"UPDATE {name} SET note = 'changed' WHERE id = 3"))
    expected = _rows(db)
    rest = apply_script(db, tmp_path / "rest.sql")
    assert rest.returncode == 0, rest.stderr
    assert _rows(db) == expected and _leftovers(db) == []


def test_a_table_with_a_generated_column_is_refused_with_nothing_made(tmp_path, throwaway_database):
    """A generated column takes no value: the copy (and through its triggers, every write of
    the application) would fail on it. Refused before anything is made."""
    db = throwaway_database("mariadb")
    _project(tmp_path, db)
    with db.engine().begin() as connection:
        connection.execute(
            text(f"ALTER TABLE {_quoted(TABLE)} ADD COLUMN twice INT AS (amount * 2) VIRTUAL")
        )
    before = _shapes(db)
    stopped = apply_script(db, tmp_path / "check" / "upgrade.sql")
    assert stopped.returncode != 0
    assert "schemactl: the table has generated columns; nothing added" in stopped.stderr
    assert _shapes(db) == before and _leftovers(db) == []
