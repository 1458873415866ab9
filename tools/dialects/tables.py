"""schemactl's own tables as SQLAlchemy Core: the version table, the audit in both layouts,
and SQLite's step timings."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from tools.dialects.names import (
    AUDIT_TABLE,
    AUDIT_TIMING_TABLE,
    TIMED_AUDIT_TABLE,
    VERSION_TABLE,
)

if TYPE_CHECKING:
    pass


@functools.cache
def version_and_audit_tables(
    version_table: str, version_table_schema: str | None
) -> dict[str, Any]:
    """The version table (keyed VERSION_TABLE whatever its name), the audit table in layout 1
    (AUDIT_TABLE) and layout 2 (TIMED_AUDIT_TABLE), and SQLite's table of step timings."""
    from sqlalchemy import (
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

    # Microseconds: MariaDB's DATETIME keeps whole seconds unless asked.
    timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

    def timing() -> list[Column[Any]]:
        return [
            Column("started_at", timestamp),
            Column("finished_at", timestamp),
            Column("duration_ms", Numeric(12, 3)),
            Column("release_name", String(100)),
        ]

    def layout_1(metadata: MetaData, *extra: Column[Any]) -> Table:
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

    metadata = MetaData()
    audit = layout_1(metadata)
    return {
        # Exactly Alembic's own definition, so online Alembic can carry on from a script.
        VERSION_TABLE: Table(
            version_table,
            metadata,
            Column("version_num", String(32), nullable=False),
            PrimaryKeyConstraint("version_num", name=f"{version_table}_pkc"),
            schema=version_table_schema,
        ),
        AUDIT_TABLE: audit,
        TIMED_AUDIT_TABLE: layout_1(MetaData(), *timing()),
        AUDIT_TIMING_TABLE: Table(
            AUDIT_TIMING_TABLE,
            metadata,
            # The audit row's id; no foreign key: pruning old audit rows must not make every
            # later script's foreign-key check fail.
            Column("audit_id", Integer, primary_key=True, autoincrement=False),
            *timing(),
        ),
    }
