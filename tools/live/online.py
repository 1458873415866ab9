"""Online runs with the safety of the scripts: what `schemactl upgrade` and `downgrade` run.

Alembic computes and runs the steps, through the project's own env.py, as `alembic upgrade`
does. Around them, on env.py's connection, come what a DBA script does around its steps:
the timeouts and the lock first (a script and an online run at once: one waits for the other),
the tool's tables brought to their layout, and after each revision its audit row, timed by
the server's clock, with 'online' as its release. Each step's duration is reported as it
finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.errors import DatabaseError
from tools.core.internals import (
    downgrade_steps,
    empty_version_table,
    one_transaction,
    stamp_steps,
    upgrade_steps,
    version_writer,
)
from tools.dialects import AUDITED, ONLINE
from tools.history.load import sha256_of

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext, MigrationInfo
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection

    from tools.dialects import ScriptDialect
    from tools.history.graph import AuditedStep


@dataclass(frozen=True)
class StepDone:
    """One revision run online, as its audit row records it."""

    revision: str
    direction: AuditedStep  # 'upgrade', 'downgrade' or 'stamp'
    duration_ms: float | None


class MovedWhileWaiting(DatabaseError):
    def __init__(self, before: Sequence[str], after: Sequence[str]) -> None:
        super().__init__(
            "another client moved the database while this one waited for its lock (from "
            f"{', '.join(before) or 'base'} to {', '.join(after) or 'base'}); nothing was run: "
            "check `schemactl status` and run the command again"
        )


def run(
    cfg: Config,
    kind: ScriptDialect,
    target: str,
    direction: AuditedStep,
    report: Callable[[StepDone], None] | None = None,
) -> None:
    """Upgrade, downgrade or stamp (``direction``) the database ``cfg`` points at to
    ``target``, as Alembic's command would, with ``kind``'s timeouts, lock and a timed audit
    row per revision (a stamp: per revision it sets)."""
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(cfg)

    def steps(heads: Sequence[str], context: MigrationContext) -> list[Any]:
        dialect = _writing_to(kind, context)
        connection = _session(context, dialect, heads)
        if direction == "stamp":
            # One transaction, under the lock: the version table emptied, the target's heads
            # written and their audit rows, or nothing at all.
            with one_transaction(context):
                _stamp(context, dialect, scripts, target, report)
            return []
        if direction == "upgrade":
            planned = upgrade_steps(scripts, target, heads)
        else:
            planned = downgrade_steps(scripts, target, heads)

        def record(*, ctx: MigrationContext, step: MigrationInfo, **_: Any) -> None:
            rev = step.up_revision_id
            assert rev is not None  # a revision run up or down: it has one
            path = Path(scripts.get_revision(rev).path)
            done = write_audit(connection, dialect, rev, direction, path)
            if report is not None:
                report(done)

        context.on_version_apply_callbacks = (*context.on_version_apply_callbacks, record)
        if planned:
            for statement in dialect.clock_start():
                connection.exec_driver_sql(statement)
        return list(planned)

    # This run writes its own audit rows (record above): env.py must not add plain Alembic's.
    cfg.attributes[AUDITED] = True
    with EnvironmentContext(
        cfg,
        scripts,
        fn=steps,
        as_sql=False,
        starting_rev=None,
        destination_rev=(target,) if direction == "stamp" else target,
        tag=None,
    ):
        scripts.run_env()


def _session(context: MigrationContext, dialect: ScriptDialect, heads: Sequence[str]) -> Connection:
    """The migration's connection with the scripts' session (timeouts, lock, clock) and
    schemactl's tables; MovedWhileWaiting when the heads changed while it waited."""
    connection = context.connection
    assert connection is not None
    for statement in dialect.online_session() + dialect.clock_setup():
        connection.exec_driver_sql(statement)
    # Read again under the lock: the heads Alembic read before may be gone.
    now = context.get_current_heads()
    if set(now) != set(heads):
        raise MovedWhileWaiting(sorted(heads), sorted(now))
    for statement in dialect.ensure_tables(online=True):
        connection.exec_driver_sql(statement)
    return connection


def _stamp(
    context: MigrationContext,
    dialect: ScriptDialect,
    scripts: ScriptDirectory,
    target: str,
    report: Callable[[StepDone], None] | None,
) -> None:
    """Replace whatever the version table holds by ``target`` (as `alembic stamp --purge`:
    heads this checkout does not know go too), with a 'stamp' audit row per step. Alembic's
    own purge is not used: it commits the emptied table at once, before the lock is taken,
    where the database commits each revision (MariaDB)."""
    connection = context.connection
    assert connection is not None
    empty_version_table(context)
    planned = stamp_steps(scripts, target)
    if planned:
        for statement in dialect.clock_start():
            connection.exec_driver_sql(statement)
    written = version_writer(context)
    for step in planned:
        written.update_to_step(step)
        rev = step.info.up_revision_id
        assert rev is not None  # stamped from base: each step writes a revision
        done = write_audit(connection, dialect, rev, "stamp", Path(scripts.get_revision(rev).path))
        if report is not None:
            report(done)


def plain_alembic_audit(connection: Connection, kind: ScriptDialect) -> Callable[..., None]:
    """For env.py under plain `alembic upgrade/downgrade/stamp` (or Flask-Migrate,
    pytest-alembic): the session's clock started, and an on_version_apply callback that
    writes each step's timed audit row (release 'alembic'), as schemactl's own online
    commands do, so `verify` and `audit` agree. The audit table is made (if missing) when
    the first step is recorded: a command that applies nothing (`alembic current`) writes
    nothing to the database."""
    for statement in kind.clock_setup() + kind.clock_start():
        connection.exec_driver_sql(statement)
    made: list[bool] = []

    def record(*, ctx: MigrationContext, step: MigrationInfo, **_: Any) -> None:
        if not made:
            for statement in kind.ensure_tables(online=True):
                connection.exec_driver_sql(statement)
            made.append(True)
        direction: AuditedStep = (
            "stamp" if step.is_stamp else "upgrade" if step.is_upgrade else "downgrade"
        )
        for rev in step.up_revision_ids if step.is_stamp else (step.up_revision_id,):
            if rev is None:
                continue
            path = Path(ctx.script.get_revision(rev).path) if ctx.script else None
            if path is not None:
                write_audit(connection, kind, rev, direction, path, release=PLAIN_ALEMBIC)

    return record


PLAIN_ALEMBIC = "alembic"


def write_audit(
    connection: Connection,
    kind: ScriptDialect,
    revision: str,
    direction: AuditedStep,
    path: Path,
    *,
    release: str = ONLINE,
) -> StepDone:
    """The audit row of a step that has just run, timed from the last clock_start(); the
    clock starts again for the next one."""
    for statement in kind.audit_statements(revision, direction, sha256_of(path), release):
        connection.exec_driver_sql(statement)
    duration = connection.exec_driver_sql(kind.last_duration_sql()).scalar()
    for statement in kind.clock_start():
        connection.exec_driver_sql(statement)
    return StepDone(revision, direction, None if duration is None else float(duration))


def _writing_to(kind: ScriptDialect, context: MigrationContext) -> ScriptDialect:
    """The dialect writing to the version table this migration context uses."""
    return replace(
        kind,
        version_table=context.version_table,
        version_table_schema=context.version_table_schema,
    )
