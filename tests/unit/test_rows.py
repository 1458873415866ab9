"""Generated rows, in memory: parents before children, values that fit the schema, the same
rows every time, and the values scripts have been seen to get wrong among them."""

from __future__ import annotations

import datetime
import decimal

import sqlalchemy as sa

from tools.proof.rows import HOSTILE, RowMaker, fill_order


def tables() -> dict[str, sa.Table]:
    metadata = sa.MetaData()
    sa.Table(
        "users",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(40), nullable=False, unique=True),
        sa.Column("nick", sa.String(3)),
        sa.Column("manager_id", sa.Integer, sa.ForeignKey("users.id")),
    )
    sa.Table(
        "invoices",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("total", sa.Numeric(12, 2), nullable=False),
        sa.Column("rate", sa.Float),
        sa.Column("status", sa.Enum("draft", "paid", name="status"), nullable=False),
        sa.Column("issued", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("blob", sa.LargeBinary),
        sa.Column("tiny", sa.SmallInteger, nullable=False),
    )
    sa.Table("audit", metadata, sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoices.id")))
    return dict(metadata.tables)


def test_parents_are_filled_before_children_whatever_the_names():
    found = [t.name for t in fill_order(list(reversed(tables().values())))]
    assert found == ["users", "invoices", "audit"]


def test_a_cycle_of_foreign_keys_is_filled_in_a_fixed_order():
    metadata = sa.MetaData()
    sa.Table("a", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("b_id", sa.Integer, sa.ForeignKey("b.id")))  # fmt: skip
    sa.Table("b", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("a_id", sa.Integer, sa.ForeignKey("a.id")))  # fmt: skip
    assert [t.name for t in fill_order(list(metadata.tables.values()))] == ["a", "b"]


def test_values_fit_their_columns_and_keys_point_at_rows_that_exist():
    invoices = tables()["invoices"]
    maker = RowMaker(invoices, start={"id": 41}, parents={"0": [(7,), (9,)]})
    rows = [maker.row(n, 0) for n in range(3)]
    assert [r["id"] for r in rows] == [41, 42, 43]  # unique, after what the table holds
    assert {r["user_id"] for r in rows} <= {7, 9}
    for row in rows:
        assert isinstance(row["total"], decimal.Decimal) and -row["total"].as_tuple().exponent == 2
        assert row["status"] in ("draft", "paid")
        assert row["issued"].tzinfo is datetime.UTC
        assert 0 <= row["tiny"] <= 32767
    # A float with a third decimal: a rounding to two shows.
    assert any(r["rate"] is not None and round(r["rate"], 2) != r["rate"] for r in rows)
    assert rows[2]["note"] is None and rows[2]["rate"] is None  # nullable: a NULL among them
    assert isinstance(rows[0]["blob"], bytes) and b"\x00" in rows[0]["blob"]
    assert len(rows[0]["note"]) >= 5000  # one long value per unbounded text column


def test_text_carries_what_scripts_get_wrong_within_its_length():
    users = tables()["users"]
    maker = RowMaker(users)
    rows = [maker.row(n, 0) for n in range(6)]
    assert all(len(r["email"]) <= 40 and len(r["nick"] or "") <= 3 for r in rows)
    text = "".join(r["email"] for r in rows)
    assert sum(piece in text for piece in HOSTILE) >= 5
    assert len({r["email"] for r in rows}) == 6  # unique, as the constraint asks
    # No parent row yet: a nullable self-reference stays NULL.
    assert {r["manager_id"] for r in rows} == {None}


def test_the_same_rows_every_time_and_other_ones_as_variants():
    users = tables()["users"]
    first = [RowMaker(users).row(n, 0) for n in range(3)]
    again = [RowMaker(users).row(n, 0) for n in range(3)]
    assert first == again
    assert RowMaker(users).row(0, 1) != first[0]
    # Plainer variants, for CHECK constraints the hostile text fails.
    assert RowMaker(users).row(0, 4)["email"].isascii()


def test_nul_only_where_the_database_keeps_it():
    users = tables()["users"]
    texts = [RowMaker(users, text_holds_nul=False).row(n, 0)["email"] for n in range(6)]
    assert not any("\x00" in t for t in texts)
    texts = [RowMaker(users, text_holds_nul=True).row(n, 0)["email"] for n in range(6)]
    assert any("\x00" in t for t in texts)
