"""`schemactl audit`: who applied what to a database, when, and how long each step took.

Reads the database's schemactl_audit rows (as Flyway's `info` reads its history table): every
step a script or an online command ran, with the server's start, end and duration where the
row has them (layout 2, script format 4 on), whether each revision file still has the sha256
it had when applied, the slowest steps, and the time per release.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tools.config import redact
from tools.history.load import load_graph, sha256_of
from tools.live.database_errors import translate_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from tools.config import Environment, Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import Graph

SLOWEST = 5
# The sha256 of a row's revision file as it is now, compared with the one recorded.
SAME, EDITED, UNKNOWN = "same", "edited", "not in this checkout"


@dataclass(frozen=True)
class AuditRow:
    id: int
    revision: str
    direction: str  # as the audit table holds it: a step (upgrade, downgrade, stamp), or anything
    sha256: str
    applied_at: str  # as the server recorded it (layout 1: the transaction's time)
    applied_by: str | None
    started_at: str | None  # layout 2 on: the step's start and end by the server's clock
    finished_at: str | None
    duration_ms: float | None
    release: str | None  # the release folder, 'online', or None (a `schemactl sql` script)
    file: str = UNKNOWN  # SAME, EDITED or UNKNOWN

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "revision": self.revision,
            "direction": self.direction,
            "applied_at": self.applied_at,
            "applied_by": self.applied_by,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_ms": self.duration_ms,
            "release": self.release,
            "revision_sha256": self.sha256,
            "file": self.file,
        }

    @property
    def when(self) -> str:
        """When it ran, as precisely as the row says (its start, else the applied_at)."""
        return self.started_at or self.applied_at

    @property
    def source(self) -> str:
        """Where the step came from, for people: the release, 'online', or 'script' (one
        rendered by `schemactl sql`, not a release); '-' before rows were timed."""
        return self.release or ("script" if self.started_at else "-")


@dataclass(frozen=True)
class ReleaseTime:
    release: str | None
    direction: str
    steps: int
    total_ms: float | None  # None: no row of it was timed (scripts before format 4)

    def as_json(self) -> dict[str, object]:
        return {
            "release": self.release,
            "direction": self.direction,
            "steps": self.steps,
            "total_ms": self.total_ms,
        }


@dataclass(frozen=True)
class BackfillRun:
    """One run of an op.backfill_online loop (schemactl_backfill): how far it went."""

    id: int
    table: str
    done_to: int | None  # every key below is done (None: the table had no rows)
    high: int | None  # the last key it goes to, fixed when it began
    rows_done: int
    started_at: str
    updated_at: str
    finished_at: str | None  # None: stopped (run again, it goes on from done_to), or running

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "table": self.table,
            "done_to": self.done_to,
            "high": self.high,
            "rows_done": self.rows_done,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "finished_at": self.finished_at,
            "finished": self.finished_at is not None,
        }


@dataclass(frozen=True)
class AuditReport:
    environment: Environment
    url: str  # redacted
    rows: tuple[AuditRow, ...] | None  # None: the database has no audit table
    backfills: tuple[BackfillRun, ...] = ()

    @property
    def slowest(self) -> tuple[AuditRow, ...]:
        timed = [row for row in self.rows or () if row.duration_ms is not None]
        return tuple(sorted(timed, key=lambda row: (-(row.duration_ms or 0), row.id))[:SLOWEST])

    @property
    def per_release(self) -> tuple[ReleaseTime, ...]:
        found: dict[tuple[str | None, str], list[AuditRow]] = {}
        for row in self.rows or ():
            if row.direction != "stamp":
                found.setdefault((row.release, row.direction), []).append(row)
        return tuple(
            ReleaseTime(
                release,
                direction,
                len(rows),
                _total([row.duration_ms for row in rows]),
            )
            for (release, direction), rows in found.items()
        )

    @property
    def edited(self) -> tuple[AuditRow, ...]:
        return tuple(row for row in self.rows or () if row.file == EDITED)

    def as_json(self) -> dict[str, object]:
        return {
            "environment": self.environment.name,
            "audit_table": self.rows is not None,
            "rows": [row.as_json() for row in self.rows or ()],
            "slowest": [row.id for row in self.slowest],
            "releases": [r.as_json() for r in self.per_release],
            "edited": sorted({row.revision for row in self.edited}),
            "backfills": [run.as_json() for run in self.backfills],
        }


def _total(durations: list[float | None]) -> float | None:
    timed = [d for d in durations if d is not None]
    return round(sum(timed), 3) if timed else None


def audit(project: Project, environment: Environment) -> AuditReport:
    """The audit rows of the environment's database, oldest first, each with whether its
    revision file is still the one applied."""

    url = environment.url()
    graph = load_graph(project.alembic_config())
    if not environment.kind.exists(url):  # no database yet: reading must not create one
        return AuditReport(environment, redact(url), None)
    engine = environment.kind.engine(url)
    try:
        with translate_errors(url), engine.connect() as connection:
            rows = read(connection, environment.kind)
            backfills = read_backfills(connection)
    finally:
        engine.dispose()
    if rows is not None:
        rows = [_with_file(row, graph) for row in rows]
    found = None if rows is None else tuple(rows)
    return AuditReport(environment, redact(url), found, tuple(backfills))


def read(connection: Connection, kind: ScriptDialect) -> list[AuditRow] | None:
    """Every audit row, oldest first, whatever the table's layout (None: there is none)."""
    from sqlalchemy import inspect

    inspector = inspect(connection)
    layout = kind.audit_layout(inspector)
    if layout is None:
        return None
    result = connection.exec_driver_sql(kind.audit_rows_sql(layout))
    return [
        AuditRow(
            id=_number(row.id, int) or 0,
            revision=str(row.revision),
            direction=str(row.direction),
            sha256=str(row.revision_sha256),
            applied_at=_when(row.applied_at) or "",
            applied_by=None if row.applied_by is None else str(row.applied_by),
            started_at=_when(row.started_at),
            finished_at=_when(row.finished_at),
            duration_ms=_number(row.duration_ms, float),
            release=None if row.release_name is None else str(row.release_name),
        )
        for row in result
    ]


def read_backfills(connection: Connection) -> list[BackfillRun]:
    """Every run of a backfill loop, oldest first (none: the database has no such table)."""
    from sqlalchemy import inspect, select

    from tools.dialects.tables import backfill_table

    table = backfill_table()
    if table.name not in inspect(connection).get_table_names():
        return []
    return [
        BackfillRun(
            id=_number(row.id, int) or 0,
            table=str(row.table_name),
            done_to=_number(row.done_to, int),
            high=_number(row.high, int),
            rows_done=_number(row.rows_done, int) or 0,
            started_at=_when(row.started_at) or "",
            updated_at=_when(row.updated_at) or "",
            finished_at=_when(row.finished_at),
        )
        for row in connection.execute(select(table).order_by(table.c.id))
    ]


def _number(value: Any, kind: Callable[[Any], Any]) -> Any:
    """A number the audit table holds; None for one it holds that is none (the table is
    anyone's to write: SQLite keeps text in a numeric column)."""
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _when(value: Any) -> str | None:
    """A time as the server recorded it, written the same way for every kind of database."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


def _with_file(row: AuditRow, graph: Graph) -> AuditRow:
    from dataclasses import replace

    if row.revision not in graph.revisions:
        return replace(row, file=UNKNOWN)
    same = sha256_of(graph[row.revision].path) == row.sha256
    return replace(row, file=SAME if same else EDITED)
