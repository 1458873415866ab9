"""Raw SQL read with sqlglot: which statement of an op.execute string controls the
transaction itself (the script lays out its own)."""

from __future__ import annotations

import pytest

from tools.scripts.statements import kinds, parse_one, split, transaction_control


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
