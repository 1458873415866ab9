"""Raw SQL read with sqlglot: which statement of an op.execute string controls the
transaction itself (the script lays out its own)."""

from __future__ import annotations

import pytest

from tools.scripts.statements import actions, kinds, parse_one, split
from tools.scripts.transactions import transaction_control


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
        ("ALTER TABLE t ENGINE=InnoDB, LOCK=EXCLUSIVE", "mysql", ("forced-lock", "rebuild-table")),
        ("ALTER TABLE t FORCE", "mysql", ("rebuild-table",)),
        ("ALTER TABLE t ADD INDEX ix (a)", "mysql", ("add-index",)),
        ("ALTER INDEX a RENAME TO b", "postgres", ("alter-index",)),
        ("ALTER TABLE t ADD COLUMN x INT, ALGORITHM=INSTANT", "mysql", ()),
    ],
)
def test_what_an_alter_does(sql, dialect, expected):
    assert kinds(parse_one(sql, dialect)) == expected


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("CLUSTER invoices USING ix_invoices_customer_id", "postgres", ("rewrite-table",)),
        ("VACUUM (FULL, VERBOSE) invoices", "postgres", ("rewrite-table",)),
        ("VACUUM FULL invoices;", "postgres", ("rewrite-table",)),
        ("ALTER TABLE invoices VALIDATE CONSTRAINT ck", "postgres", ("validate-constraint",)),
        ("ALTER TABLE invoices CONVERT TO CHARACTER SET utf8mb4", "mysql", ("rebuild-table",)),
        ("VACUUM invoices", "postgres", ()),
    ],
)
def test_what_sqlglot_cannot_name_is_read_from_its_words(sql, dialect, expected):
    """Statements sqlglot keeps as a plain command (or misreads) are named from their words,
    with their table."""
    (raw,) = split(sql, dialect)
    assert raw.kinds == expected
    assert raw.table == ("invoices" if expected else None)


def test_shapes_follow_raw_sql():
    """The replayed shapes follow raw ALTERs: a column added, retyped, renamed, dropped; a
    NOT NULL check proven once it is validated, not while it is NOT VALID."""
    import sqlalchemy as sa

    from tools.scripts.shapes import Shapes

    shapes = Shapes()
    for sql in [
        "ALTER TABLE t ADD COLUMN a varchar(10) NOT NULL",
        "ALTER TABLE t ADD COLUMN b integer",
        "ALTER TABLE t ADD CONSTRAINT ck_b CHECK (b IS NOT NULL) NOT VALID",
    ]:
        shapes.follow_raw(split(sql, "postgres")[0])
    assert not shapes.not_null_proven("t", "b")
    for sql in [
        "ALTER TABLE t VALIDATE CONSTRAINT ck_b",
        "ALTER TABLE t RENAME COLUMN a TO c",
        "ALTER TABLE t ALTER COLUMN c TYPE text",
        "ALTER TABLE t ADD CONSTRAINT ck_c CHECK (c IS NOT NULL)",
    ]:
        shapes.follow_raw(split(sql, "postgres")[0])
    assert shapes.not_null_proven("t", "b") and shapes.not_null_proven("t", "c")
    column = shapes.column("t", "c")
    assert column is not None and isinstance(column.type, sa.Text) and column.nullable is False
    shapes.follow_raw(split("ALTER TABLE t DROP COLUMN c", "postgres")[0])
    assert shapes.column("t", "c") is None and not shapes.not_null_proven("t", "c")
    shapes.follow_raw(split("ALTER TABLE t MODIFY b ENUM('x', 'y') NOT NULL", "mysql")[0])
    column = shapes.column("t", "b")
    assert column is not None and list(column.type.enums) == ["x", "y"]
    assert column.nullable is False


@pytest.mark.parametrize(
    ("sql", "named", "online"),
    [
        ("ALTER TABLE t ADD COLUMN a INT", ("add-column",), True),
        ("ALTER TABLE t ADD COLUMN a INT NOT NULL DEFAULT 0", ("add-column",), True),
        (
            "ALTER TABLE t ADD COLUMN a INT AUTO_INCREMENT UNIQUE",
            ("add-auto-increment-column",),
            False,
        ),
        ("ALTER TABLE t ADD COLUMN g INT AS (a + 1) STORED", ("add-stored-generated",), False),
        ("ALTER TABLE t ADD COLUMN g INT AS (a + 1) VIRTUAL", ("add-column",), True),
        (
            "ALTER TABLE t ADD COLUMN u VARCHAR(40) DEFAULT (uuid())",
            ("add-volatile-default",),
            False,
        ),
        ("ALTER TABLE t DROP COLUMN a", ("drop-column",), True),
        ("ALTER TABLE t ALTER COLUMN a SET DEFAULT 'x'", ("set-default",), True),
        ("ALTER TABLE t ALTER COLUMN a DROP DEFAULT", ("drop-default",), True),
        ("ALTER TABLE t RENAME COLUMN a TO b", ("rename-column",), True),
        ("ALTER TABLE t MODIFY a VARCHAR(64) NOT NULL", (), False),  # a type change copies
        ("ALTER TABLE t CHANGE a b VARCHAR(64) NULL", (), False),
        (
            "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY(a) REFERENCES o (id)",
            ("add-constraint",),
            False,
        ),
        ("ALTER TABLE t ADD CONSTRAINT uq UNIQUE (a)", ("add-unique",), True),
        ("ALTER TABLE t ADD PRIMARY KEY (a)", ("add-primary-key",), False),
        ("ALTER TABLE t ADD FULLTEXT INDEX ix (a)", ("add-index",), False),  # writes wait
        ("ALTER TABLE t DROP FOREIGN KEY fk", ("drop-foreign-key",), True),
        ("ALTER TABLE t DROP CHECK ck", ("drop-check",), True),
        ("ALTER TABLE t DROP INDEX uq", ("drop-index",), True),
        ("ALTER TABLE t ADD COLUMN a INT, DROP COLUMN b", ("add-column", "drop-column"), True),
        ("ALTER TABLE t ADD COLUMN a INT, MODIFY b TEXT", (), False),  # one unnamed: none
        ("ALTER TABLE t RENAME t2", (), False),
        ("CREATE INDEX ix ON t (a)", ("create-index",), True),
        ("CREATE UNIQUE INDEX ix ON t (a)", ("create-index",), True),
        ("ALTER TABLE t ADD COLUMN a INT, ALGORITHM=COPY", ("add-column",), False),  # its own
        ("UPDATE t SET a = 1", (), False),
    ],
)
def test_alter_actions_are_named_and_mariadb_states_online_only_those_it_always_does(
    sql, named, online
):
    from tools.dialects.mariadb import MariaDB

    parsed = parse_one(sql, "mysql")
    assert actions(parsed) == named
    stated = MariaDB().stated_online(named, sql)
    assert (stated is not None) == online
    if online:
        clause = (
            " ALGORITHM=INPLACE LOCK=NONE"
            if sql.startswith("CREATE")
            else ", ALGORITHM=INPLACE, LOCK=NONE"
        )
        assert stated == sql + clause
