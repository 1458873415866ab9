"""schemactl's own tables as SQLAlchemy Core: the version table, the audit in both layouts,
SQLite's step timings, and the backfills' progress."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import mysql

from tools.dialects.names import (
    AUDIT_TABLE,
    AUDIT_TIMING_TABLE,
    BACKFILL_TABLE,
    TIMED_AUDIT_TABLE,
    VERSION_TABLE,
)


@functools.cache
def version_and_audit_tables(
    version_table: str, version_table_schema: str | None
) -> dict[str, Table]:
    """The version table (keyed VERSION_TABLE whatever its name), the audit table in layout 1
    (AUDIT_TABLE) and layout 2 (TIMED_AUDIT_TABLE), and SQLite's table of step timings."""
    metadata = MetaData()
    return {
        # Exactly Alembic's own definition, so online Alembic can carry on from a script.
        VERSION_TABLE: Table(
            version_table,
            metadata,
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc"),
            schema=version_table_schema,
        ),
        AUDIT_TABLE: _audit(metadata),
        TIMED_AUDIT_TABLE: _audit(MetaData(), *_timing()),
        AUDIT_TIMING_TABLE: Table(
            AUDIT_TIMING_TABLE,
            metadata,
            # The audit row's id; no foreign key: pruning old audit rows must not make every
            # later script's foreign-key check fail.
            Column("audit_id", Integer, primary_key=True, autoincrement=False),
            *_timing(),
        ),
    }


def _timing() -> list[Column[Any]]:
    """What layout 2 adds: the step's start and end by the server's clock, and its release."""
    # Microseconds: MariaDB's DATETIME keeps whole seconds unless asked.
    timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return [
        Column("started_at", timestamp),
        Column("finished_at", timestamp),
        Column("duration_ms", Numeric(12, 3)),
        Column("release_name", String(100)),
    ]


def _audit(metadata: MetaData, *extra: Column[Any]) -> Table:
    """The audit table in layout 1, with ``extra`` columns after its own."""
    return Table(
        AUDIT_TABLE,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("revision", String(32), nullable=False),
        Column("direction", String(10), nullable=False),
        Column("revision_sha256", String(64), nullable=False),
        Column(
            "applied_at",
            DateTime(timezone=True),
            server_default=sql_text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        Column("applied_by", String(128)),
        *extra,
    )


@functools.cache
def backfill_table() -> Table:
    """A row per run of an op.backfill_online loop: which backfill (``label``: a hash of its
    table, values, rows and key), the keys it goes through (up to ``high``, fixed when it
    began), how far it went (``done_to``: every key below is done, written with each
    batch, in the batch's transaction), the rows it changed, and when."""
    timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    return Table(
        BACKFILL_TABLE,
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("label", String(32), nullable=False),
        Column("table_name", String(255), nullable=False),
        Column("done_to", BigInteger),
        Column("high", BigInteger),
        Column("rows_done", BigInteger, nullable=False),
        Column("started_at", timestamp, nullable=False),
        Column("updated_at", timestamp, nullable=False),
        Column("finished_at", timestamp),
    )
