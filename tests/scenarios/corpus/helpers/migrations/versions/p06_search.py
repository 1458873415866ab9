"""Start search: search terms"""

import sqlalchemy as sa
from alembic import op

revision = "p6p6p6p6p6p6"
down_revision = "p4p4p4p4p4p4"
branch_labels = ("search",)
depends_on = None


def upgrade():
    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("term", sa.String(60), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),
        sa.Index("ix_search_terms_term", "term"),
    )


def downgrade():
    op.drop_table("search_terms")
