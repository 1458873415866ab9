"""The one comparer of table contents, on rows built in memory: what a proof says when a
script leaves other rows or values than it should."""

from __future__ import annotations

import datetime
from decimal import Decimal

from tools.proof.contents import Contents, TableRows, compare_contents, without

COLUMNS = ("amount", "id", "name")


def prices(*rows: tuple[object, ...], key: tuple[str, ...] = ("id",)) -> Contents:
    return Contents({"prices": TableRows("prices", COLUMNS, key, tuple(rows))})


BEFORE = prices((10.555, 1, "50% off"), (2.5, 2, "tab\there"))


def said(expected: Contents, actual: Contents, **options: object) -> list[str]:
    return [str(d) for d in compare_contents(expected, actual, **options)]  # type: ignore[arg-type]


def test_the_same_rows_in_any_order_are_the_same():
    assert said(BEFORE, prices((2.5, 2, "tab\there"), (10.555, 1, "50% off"))) == []


def test_a_changed_value_names_the_table_the_row_and_both_values():
    rounded = prices((Decimal("10.56"), 1, "50% off"), (2.5, 2, "tab\there"))
    assert said(BEFORE, rounded) == [
        "table prices row id=1: amount is Decimal('10.56'), expected 10.555"
    ]
    doubled = prices((10.555, 1, "50%% off"), (2.5, 2, "tab\there"))
    assert said(BEFORE, doubled) == [
        "table prices row id=1: name is '50%% off', expected '50% off'"
    ]


def test_a_row_lost_or_added_is_shown_whole():
    assert said(BEFORE, prices((10.555, 1, "50% off"))) == [
        "table prices lost row id=2 (amount=2.5, id=2, name='tab\\there')"
    ]
    assert said(prices((10.555, 1, "50% off")), BEFORE) == [
        "table prices has an extra row id=2 (amount=2.5, id=2, name='tab\\there')"
    ]


def test_rows_without_a_key_are_matched_whole_and_counted():
    twice = prices((1.0, 1, "a"), (1.0, 1, "a"), key=())
    once = prices((1.0, 1, "a"), key=())
    assert len(said(twice, once)) == 1
    assert said(twice, twice) == []


def test_loose_values_compare_by_their_nulls_and_moments_by_a_clock_slack():
    noon = datetime.datetime(2026, 1, 1, 12, 0, 0)
    made = Contents({"t": TableRows("t", ("at", "id"), ("id",), ((noon, 1),))})
    later = Contents(
        {"t": TableRows("t", ("at", "id"), ("id",), ((noon + datetime.timedelta(seconds=3), 1),))}
    )
    assert said(made, later) != []
    assert said(made, later, clock_slack=True) == []
    assert said(made, later, loose={("t", "at")}) == []
    gone = Contents({"t": TableRows("t", ("at", "id"), ("id",), ((None, 1),))})
    assert said(made, gone, loose={("t", "at")}) != []


def test_what_a_step_says_it_loses_is_left_out():
    emptied = prices((None, 1, "50% off"), (None, 2, "tab\there"))
    assert said(BEFORE, emptied) != []
    assert (
        said(without(BEFORE, {("prices", "amount")}), without(emptied, {("prices", "amount")}))
        == []
    )
    assert without(BEFORE, {("prices", None)}).tables == {}


def test_the_comparison_stops_at_a_limit():
    many = prices(*((float(i), i, "x") for i in range(20)))
    other = prices(*((float(i) + 1, i, "x") for i in range(20)))
    assert len(said(many, other, limit=5)) == 5


def test_rows_read_through_the_catalog_are_the_rows_reflection_reads(tmp_path):
    """A proof reads rows through the tables its schema snapshot already read (row_tables):
    the same values, types converted alike (a SQLite DATETIME comes back a datetime, a
    NUMERIC a Decimal), the same key, schemactl's own tables left out as reflection's are."""
    import sqlalchemy as sa

    from tools.proof.contents import contents_of, row_tables
    from tools.proof.rows import data_tables
    from tools.proof.snapshot import read_catalog

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    metadata = sa.MetaData()
    sa.Table(
        "payments",
        metadata,
        sa.Column("invoice", sa.Integer, primary_key=True),
        sa.Column("line", sa.Integer, primary_key=True),
        sa.Column("paid_at", sa.DateTime),
        sa.Column("amount", sa.Numeric(12, 2)),
        sa.Column("kind", sa.Enum("card", "cash", name="kind")),
        sa.Column("receipt", sa.LargeBinary),
    )
    sa.Table("notes", metadata, sa.Column("body", sa.Text))  # no primary key
    sa.Table("schemactl_audit", metadata, sa.Column("id", sa.Integer, primary_key=True))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            metadata.tables["payments"].insert(),
            [
                {"invoice": 1, "line": 2, "paid_at": datetime.datetime(2026, 1, 2, 3, 4, 5),
                 "amount": Decimal("10.55"), "kind": "card", "receipt": b"\x00\xff"},
                {"invoice": 1, "line": 1, "paid_at": None, "amount": None, "kind": "cash",
                 "receipt": None},
            ],
        )  # fmt: skip
        connection.execute(metadata.tables["notes"].insert(), [{"body": "50% off"}])
    with engine.connect() as connection:
        through_catalog = contents_of(connection, row_tables(read_catalog(connection)))
        reflected = contents_of(connection, data_tables(connection))
    engine.dispose()
    assert through_catalog == reflected
    assert set(through_catalog.tables) == {"notes", "payments"}
    payments = through_catalog.tables["payments"]
    assert payments.key == ("invoice", "line")
    assert payments.columns == ("amount", "invoice", "kind", "line", "paid_at", "receipt")
    assert (
        Decimal("10.55"),
        1,
        "card",
        2,
        datetime.datetime(2026, 1, 2, 3, 4, 5),
        b"\x00\xff",
    ) in (payments.rows)
