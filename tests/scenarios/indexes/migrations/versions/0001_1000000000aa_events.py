"""Events and their tags, indexed many ways

Revision ID: 1000000000aa
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "1000000000aa"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("a", sa.Integer, index=True),
        sa.Column("b", sa.Integer, index=True),
        sa.Column("c", sa.Integer, index=True),
        sa.Column("d", sa.Integer, unique=True),
        sa.Column("e", sa.Integer),
        sa.Column("kind", sa.Enum("open", "shut", "gone", name="event_kind")),
        sa.Index("ix_events_e_a", "e", "a"),
        sa.Index("ix_events_d_b", "d", "b"),
        sa.UniqueConstraint("a", "b", name="uq_events_a_b"),
        sa.CheckConstraint("a > 0", name="ck_events_a"),
        sa.CheckConstraint("b > 0", name="ck_events_b"),
    )
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id"), index=True),
        sa.Column("name", sa.String(40), index=True),
        sa.Column("rank", sa.Integer, index=True),
        sa.UniqueConstraint("event_id", "name", name="uq_tags_event_id_name"),
    )


def downgrade():
    op.drop_table("tags")
    op.drop_table("events")
    sa.Enum(name="event_kind").drop(op.get_bind(), checkfirst=False)
