"""Seed values scripts have got wrong: %, TAB, CR LF, quotes, backslashes, binary

Revision ID: d002
Revises: d001
"""

import sqlalchemy as sa
from alembic import op

revision = "d002"
down_revision = "d001"
branch_labels = None
depends_on = None

tax_rates = sa.table(
    "tax_rates",
    sa.column("id", sa.Integer),
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("rate", sa.Float),
)
products = sa.table(
    "products",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("price", sa.Float),
    sa.column("image", sa.LargeBinary),
)
prices = sa.table(
    "prices",
    sa.column("id", sa.Integer),
    sa.column("label", sa.String),
    sa.column("amount", sa.Float),
)
archived = sa.table(
    "archived",
    sa.column("id", sa.Integer),
    sa.column("status", sa.Enum("open", "closed", name="archive_status")),
    sa.column("note", sa.Text),
)


def upgrade():
    op.bulk_insert(
        tax_rates,
        [
            {"id": 901, "code": "PCT", "name": "50% off", "rate": 0.5},
            {"id": 902, "code": "TAB", "name": "tab\tinside", "rate": 0.125},
            {"id": 903, "code": "CRLF", "name": "line one\r\nline two", "rate": 10.555},
            {"id": 904, "code": "QUOTE", "name": 'it\'s "quoted" \\ back\\slash', "rate": 1},
            {"id": 905, "code": "UNI", "name": "caf\u00e9 \U0001f600 \u2603", "rate": 2.5},
            {"id": 906, "code": "CTRL", "name": "bell\x07 esc\x1b cr\r", "rate": 3},
        ],
    )
    op.bulk_insert(
        products,
        [{"id": 901, "name": "binary", "price": 10.555, "image": b"\x00\xff\r\n'\\\x1b"}],
    )
    op.bulk_insert(prices, [{"id": 901, "label": "ten and a half-cent", "amount": 10.555}])
    op.bulk_insert(archived, [{"id": 901, "status": "open", "note": "long " * 3000}])
    # Raw SQL, as data migrations are often written.
    op.execute("UPDATE tax_rates SET name = 'still 50% off' WHERE code = 'PCT'")
    op.execute(
        "INSERT INTO tax_rates (id, code, name, rate) VALUES "
        "(907, 'RAW', 'raw\ttab and\r\ncrlf %% kept', 0.25)"
    )
    op.execute(
        sa.text(
            "INSERT INTO tax_rates (id, code, name, rate) VALUES (908, :code, :name, 0.75)"
        ).bindparams(code="BOUND", name="bound\r\n% and \\ and '")
    )


def downgrade():
    op.execute("DELETE FROM archived WHERE id = 901")
    op.execute("DELETE FROM prices WHERE id = 901")
    op.execute("DELETE FROM products WHERE id = 901")
    op.execute("DELETE FROM tax_rates WHERE id BETWEEN 901 AND 908")
