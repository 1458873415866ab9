"""Raw SQL read with sqlglot: which statement of an op.execute string controls the
transaction itself (the script lays out its own)."""

from __future__ import annotations

import pytest

from tools.scripts.statements import kinds, parse_one, transaction_control


@pytest.mark.parametrize(
    ("sql", "dialect", "found"),
    [
        ("COMMIT", "postgres", "COMMIT"),
        ("  rollback work; ", "mysql", "  rollback work; "),
        ("START TRANSACTION", "mysql", "START TRANSACTION"),
        ("UPDATE users SET a = 1; COMMIT; UPDATE users SET b = 2", "postgres", "COMMIT"),
        ("UPDATE t SET a = 1; BEGIN; UPDATE t SET b = 2", "sqlite", "BEGIN TRANSACTION"),
        ("UPDATE users SET note = 'COMMIT'", "postgres", None),
        ("UPDATE t SET a = 1; UPDATE t SET b = 2", "postgres", None),
        ("DO $$BEGIN PERFORM 1; END$$", "postgres", None),
        ("CREATE TABLE begin_log (id INT)", "mysql", None),
    ],
)
def test_the_statement_that_controls_the_transaction_is_found(sql, dialect, found):
    assert transaction_control(sql, dialect) == found


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        # NULL allows NULL; the server fills an AUTO_INCREMENT or a generated column itself.
        ("ALTER TABLE t ADD COLUMN x VARCHAR(32) NULL", "postgres", ()),
        ("ALTER TABLE t ADD COLUMN x INT NOT NULL", "postgres", ("add-not-null-column",)),
        ("ALTER TABLE t ADD COLUMN s INT NOT NULL AUTO_INCREMENT UNIQUE", "mysql", ()),
        (
            "ALTER TABLE t ADD COLUMN n INT AS (length(a)) STORED",
            "mysql",
            ("add-stored-generated",),
        ),
        ("ALTER TABLE t ADD COLUMN n INT AS (length(a)) VIRTUAL", "mysql", ()),
        ("ALTER TABLE t ADD COLUMN x INT, ALGORITHM=COPY", "mysql", ("forced-copy",)),
        ("ALTER TABLE t ENGINE=InnoDB, LOCK=EXCLUSIVE", "mysql", ("forced-lock",)),
        ("ALTER TABLE t ADD COLUMN x INT, ALGORITHM=INSTANT", "mysql", ()),
    ],
)
def test_what_an_alter_does(sql, dialect, expected):
    assert kinds(parse_one(sql, dialect)) == expected
