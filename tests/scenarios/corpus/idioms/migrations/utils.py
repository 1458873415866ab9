"""Helpers shared by revisions: a type per dialect, read from alembic.context."""

import sqlalchemy as sa
from alembic import context
from sqlalchemy.dialects import postgresql


def json_type() -> sa.types.TypeEngine:
    if context.get_context().dialect.name == "postgresql":
        return postgresql.JSONB()
    return sa.JSON()


def settings_default() -> str:
    return context.config.get_main_option("settings_default", "{}")
