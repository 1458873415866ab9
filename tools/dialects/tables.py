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
from sqlalchemy.types import TypeDecorator, TypeEngine

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


class Timestamp(TypeDecorator[Any]):
    """A point in time, with microseconds: DateTime(timezone=True), and MariaDB's and
    MySQL's DATETIME(6) (theirs keeps whole seconds unless asked). SQLAlchemy's MySQL dialect
    (with every driver it names) is imported only for them, where it is loaded already."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))  # type: ignore[no-any-return]
        return dialect.type_descriptor(DateTime(timezone=True))  # type: ignore[no-any-return]


def _timing() -> list[Column[Any]]:
    """What layout 2 adds: the step's start and end by the server's clock, and its release."""
    return [
        Column("started_at", Timestamp()),
        Column("finished_at", Timestamp()),
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
    timestamp = Timestamp()
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
