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
