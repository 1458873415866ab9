"""The one schema comparer (verify's drift, merge's order check), on schemas built in memory."""

from __future__ import annotations

from tools.proof.snapshot import (
    Column,
    ForeignKey,
    Index,
    Schema,
    Table,
    Unique,
    compare,
    invalid_indexes,
    without_invalid_indexes,
)


def invoices(**changes: object) -> Table:
    base = {
        "name": "invoices",
        "columns": (
            Column("customer_id", "INTEGER", False),
            Column("id", "INTEGER", False),
            Column("total", "NUMERIC(12, 2)", False),
        ),
        "primary_key": ("id",),
        "foreign_keys": (ForeignKey("fk_invoices_customer_id", ("customer_id",), "customers"),),
        "indexes": (Index("ix_invoices_customer_id", ("customer_id",), False),),
        "uniques": (Unique("uq_invoices_number", ("id",)),),
    }
    return Table(**{**base, **changes})  # type: ignore[arg-type]


EXPECTED = Schema((Table("customers", (Column("id", "INTEGER", False),), ("id",)), invoices()))


def drift(actual: Schema) -> list[str]:
    return [str(d) for d in compare(EXPECTED, actual)]


def test_identical_schemas_have_no_difference():
    assert compare(EXPECTED, EXPECTED) == []


def test_tables_missing_and_extra():
    actual = Schema((invoices(), Table("notes")))
    assert drift(actual) == ["missing table customers", "extra table notes"]


def test_every_kind_of_column_difference():
    actual = Schema(
        (
            EXPECTED.tables[0],
            invoices(
                columns=(
                    Column("customer_id", "INTEGER", True),  # nullability
                    Column("id", "BIGINT", False),  # type
                    Column("note", "VARCHAR(20)", True),  # extra
                    # total: missing
                )
            ),
        )
    )
    assert drift(actual) == [
        "column invoices.customer_id should be NOT NULL",
        "column invoices.id is BIGINT, expected INTEGER",
        "extra column invoices.note (VARCHAR(20), nullable)",
        "missing column invoices.total",
    ]


def test_primary_key_indexes_uniques_and_foreign_keys():
    actual = Schema(
        (
            EXPECTED.tables[0],
            invoices(
                primary_key=("id", "customer_id"),
                indexes=(
                    Index("ix_invoices_customer_id", ("customer_id",), True),
                    Index("ix_invoices_total", ("total",), False),
                ),
                uniques=(),
                foreign_keys=(ForeignKey("fk_invoices_customer_id", ("customer_id",), "users"),),
            ),
        )
    )
    assert drift(actual) == [
        "primary key of invoices is ['id', 'customer_id'], expected ['id']",
        "index ix_invoices_customer_id on invoices differs",
        "extra index ix_invoices_total on invoices",
        "missing unique constraint uq_invoices_number on invoices",
        "foreign key fk_invoices_customer_id on invoices differs",
    ]


def test_differences_keep_their_data():
    (difference,) = compare(EXPECTED, Schema((EXPECTED.tables[0],)))
    assert (difference.kind, difference.what, difference.table) == ("missing", "table", "invoices")
    assert EXPECTED.table("invoices") == invoices() and EXPECTED.table("nope") is None


def test_an_invalid_index_is_drift_said_as_such():
    """PostgreSQL keeps the index a failed CREATE INDEX CONCURRENTLY made, marked invalid:
    present to a plain reading of the catalog, absent to every query."""
    good = Index("ix_a", ("a",), False)
    want = Schema((Table("t", indexes=(good,)),))
    have = Schema((Table("t", indexes=(Index("ix_a", ("a",), False, valid=False),)),))
    (difference,) = compare(want, have)
    assert str(difference).startswith("index ix_a on t is INVALID: a CREATE INDEX CONCURRENTLY")
    (extra,) = compare(Schema((Table("t"),)), have)
    assert str(extra).startswith("extra index ix_a on t (INVALID: ")
    assert invalid_indexes(have) == [("t", "ix_a")]
    assert compare(Schema((Table("t"),)), without_invalid_indexes(have)) == []
    assert compare(want, want) == []


def test_a_foreign_key_never_validated_is_drift_said_as_such():
    """PostgreSQL keeps a foreign key added NOT VALID whose VALIDATE failed or never ran:
    enforced on new rows, never checked on the old ones."""
    unchecked = ForeignKey("fk_invoices_customer_id", ("customer_id",), "customers", valid=False)
    (difference,) = drift(Schema((EXPECTED.tables[0], invoices(foreign_keys=(unchecked,)))))
    assert difference.startswith(
        "foreign key fk_invoices_customer_id on invoices is NOT VALID: its rows were never"
    )
    (extra,) = compare(Schema((Table("t"),)), Schema((Table("t", foreign_keys=(unchecked,)),)))
    assert str(extra).startswith("extra foreign key fk_invoices_customer_id on t (NOT VALID: ")


def test_across_dialects_types_are_compared_by_family_and_defaults_by_presence():
    """diff between two kinds of database: only what differs in meaning."""
    from sqlalchemy import Boolean, Integer, String
    from sqlalchemy.dialects import mysql, postgresql

    from tools.proof.snapshot import Check, family

    assert family(postgresql.VARCHAR(40)) == family(mysql.VARCHAR(40)) == "STRING(40)"
    assert family(mysql.TINYINT(display_width=1)) == family(Boolean()) == "BOOLEAN"
    assert family(postgresql.TIMESTAMP(timezone=True)) == family(mysql.DATETIME()) == "DATETIME"
    assert (
        family(postgresql.ENUM("b", "a", name="e")) == family(mysql.ENUM("a", "b")) == "ENUM(a, b)"
    )
    assert family(Integer()) != family(String(10))

    def users(column: Column, checks=()) -> Schema:
        return Schema((Table("users", columns=(column,), checks=checks),))

    pg = Column("id", "INTEGER", False, "nextval('users_id_seq'::regclass)", "INTEGER")
    maria = Column("id", "INTEGER(11)", False, None, "INTEGER")
    assert compare(users(pg), users(maria), across=True, detailed=True) == []
    assert [str(d) for d in compare(users(pg), users(maria), detailed=True)] == [
        "column users.id is INTEGER(11), expected INTEGER",
        "column users.id has default None, expected nextval('users_id_seq'::regclass)",
    ]
    narrow = Column("id", "VARCHAR(10)", False, None, "STRING(10)")
    wide = Column("id", "VARCHAR(20)", False, None, "STRING(20)")
    assert [str(d) for d in compare(users(wide), users(narrow), across=True)] == [
        "column users.id is STRING(10), expected STRING(20)"
    ]
    # A check: by its text on one dialect, by its name across two.
    one, other = (Check("ck_age", "age > 0"),), (Check("ck_age", "(`age` > 0)"),)
    assert compare(users(wide, one), users(wide, other), across=True, detailed=True) == []
    assert [str(d) for d in compare(users(wide, one), users(wide, other), detailed=True)] == [
        "check constraint ck_age on users differs"
    ]
    assert compare(users(wide, one), users(wide), detailed=False) == []  # verify: not read
