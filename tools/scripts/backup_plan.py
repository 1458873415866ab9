"""Backups: what a release's destructive steps drop, kept so its rollback gives it back.

For each revision of a range, the operations its upgrade performs (captured offline) say
what it destroys: a dropped column, a dropped table, a column whose type change loses values
(narrowed, rounded, its time zone dropped: tools.scripts.narrowing). The upgrade script copies that
first into a backup table the application never reads (the primary key with the values, or
the whole table), named after the revision, table and column, and distinct from every other
backup of the revision; the rollback script, once the revision's downgrade has rebuilt the
structure, puts the values back (by primary key, or whole rows), parents before the
children whose foreign keys point at them, and drops the backup. The primary key and the
foreign keys of each table are known offline by replaying the history's operations
(tools.scripts.shapes); the columns of a table the downgrade recreates, and their types, from that
downgrade. What cannot be restored faithfully is named (``problem``), never skipped silently:
its backup is kept for a DBA to use by hand.

The SQL is the dialect's (tools.dialects); this module decides what is kept and where.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError
from tools.scripts.capture import capture_session
from tools.scripts.narrowing import loss
from tools.scripts.shapes import ColumnAdded, Shapes, TableMade

if TYPE_CHECKING:
    from tools.config import Environment
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction, RevisionId
    from tools.history.load import History
    from tools.scripts.capture import Operation, Session

COLUMN, TABLE = "column", "table"
# Backup table names: [a-z0-9_], short enough for every kind of database (PostgreSQL: 63).
_NAME_LIMIT = 40


@dataclass(frozen=True)
class Backup:
    """One copy an upgrade takes before a destructive step, and how its rollback restores it."""

    revision: RevisionId
    kind: str  # COLUMN: key + the column's values; TABLE: whole rows
    table: str
    column: str | None  # the dropped or narrowed column (COLUMN)
    what: str  # 'drops column users.phone', as the header and review say it
    key: tuple[str, ...]  # the table's primary key (COLUMN); () when it has none
    name: str  # the backup table's own name, as the dialect places it
    # TABLE: the columns of the table the downgrade recreates, restored in that order
    columns: tuple[str, ...] = ()
    # Why the rollback cannot put it back faithfully (the backup is then kept); None: it can.
    problem: str | None = None
    # The types the downgrade gives the restored columns (a value kept as text, a
    # PostgreSQL enum's, is cast back to them).
    types: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def restorable(self) -> bool:
        return self.problem is None


def backup_name(
    revision: RevisionId, table: str, column: str | None, *, distinct: bool = False
) -> str:
    """The backup table's name: after the revision and the table (and column), so that any
    script undoing the revision finds it, whichever release or `schemactl sql` range it was
    rendered as; a hash keeps a long one unique within the length every database takes, and
    (``distinct``) one that another backup of the revision would share apart from it."""
    raw = "_".join(p for p in ("r" + revision[:12], table, column) if p)
    name = re.sub(r"[^a-z0-9_]+", "_", raw.lower())
    if len(name) > _NAME_LIMIT or distinct:
        # The table and column apart, so users.phone and a table users_phone differ.
        exact = f"{revision}\0{table}\0{column or ''}\0{COLUMN if column else TABLE}"
        digest = hashlib.sha256(exact.encode()).hexdigest()[:8]
        name = f"{name[: _NAME_LIMIT - 9]}_{digest}"
    return name


def revision_of(name: str) -> str | None:
    """The (first 12 characters of the) revision a backup table's name says took it."""
    found = re.match(r"r([0-9A-Za-z_-]{1,12}?)_", name)
    return found.group(1) if found else None


def plan_backups(
    history: History,
    dialect: str,
    revisions: tuple[RevisionId, ...],
    upgrades: Session | None = None,
    environment: Environment | None = None,
    sources: bool = True,
) -> dict[RevisionId, tuple[Backup, ...]]:
    """The backups of each revision of a range that destroys something (in apply order).
    ``upgrades``: a session that already holds the range's upgrades (else they are captured);
    ``environment``: the one the range is rendered for (its run of the revisions serves);
    ``sources``: as capture_session's (a plan needs none)."""

    if upgrades is None or not all((rev, "upgrade") in upgrades.results for rev in revisions):
        upgrades = capture_session(
            history,
            dialect,
            [(rev, "upgrade") for rev in revisions],
            environment=environment,
            sources=sources,
        )
    destroying = {}
    for rev in revisions:
        try:
            found = [op for op in upgrades.get(rev, "upgrade").operations if _destroys(op)]
        except SchemactlError:
            continue  # a revision that does not render stops the render anyway
        if found:
            destroying[rev] = found
    if not destroying:
        return {}
    # The history up to the last destroying revision (for primary keys), and the downgrades
    # that rebuild what was destroyed (for the columns of a recreated table): one offline run.
    order = history.graph.order
    last = max(order.index(rev) for rev in destroying)
    requests: list[tuple[str, Direction]] = [(rev, "upgrade") for rev in order[: last + 1]]
    requests += [(rev, "downgrade") for rev in destroying]
    session = capture_session(history, dialect, requests, environment=environment, sources=sources)
    shapes = _shapes_before(history, session, set(destroying))
    planned = {}
    for rev, ops in destroying.items():
        keys = {name: t.primary_key for name, t in shapes[rev].tables.items()}
        backups = _distinct_names([_backup(rev, op, keys, session) for op in ops])
        planned[rev] = tuple(_restore_order(backups, shapes[rev]))
    return planned


def _destroys(op: Operation) -> bool:
    return op.name in ("drop_column", "drop_table") or (
        op.name == "alter_column" and loss(op.source) is not None
    )


def _shapes_before(history: History, session: Session, wanted: set[RevisionId]) -> dict[str, Any]:
    """For each wanted revision, the tables' shapes (primary and foreign keys) just before
    its upgrade."""

    shapes, found = Shapes(), {}
    for rev in history.graph.order:
        if rev in wanted:
            found[rev] = shapes.copy()
        if len(found) == len(wanted):
            break
        try:
            for op in session.get(rev, "upgrade").operations:
                shapes.follow(op)
        except SchemactlError:
            pass  # a revision that does not render: the render reports it
    return found


def _distinct_names(backups: list[Backup]) -> list[Backup]:
    """Backups of one revision whose names would be the same (column users.phone and table
    users_phone) each get a name of their own."""
    names = [b.name for b in backups]
    return [
        replace(b, name=backup_name(b.revision, b.table, b.column, distinct=True))
        if names.count(b.name) > 1
        else b
        for b in backups
    ]


def _restore_order(backups: list[Backup], shapes: Any) -> list[Backup]:
    """The order a rollback restores in: a table's rows before the rows and columns of every
    table whose foreign keys refer to it (as the keys were before the upgrade), whole rows
    before a column of the same table; otherwise as the upgrade destroyed them."""
    remaining = list(backups)
    ordered: list[Backup] = []

    def waits_for(b: Backup, other: Backup) -> bool:
        if other.table == b.table:
            return other.kind == TABLE and b.kind == COLUMN
        shape = shapes.tables.get(b.table)
        return shape is not None and other.table in shape.parents

    while remaining:
        ready = next(
            (b for b in remaining if not any(waits_for(b, o) for o in remaining if o is not b)),
            remaining[0],  # a cycle of foreign keys: as destroyed
        )
        ordered.append(ready)
        remaining.remove(ready)
    return ordered


def _backup(
    rev: RevisionId,
    op: Operation,
    keys: dict[str, tuple[str, ...]],
    session: Session,
) -> Backup:
    table = str(op.table)
    recreated, types = _rebuilt(session, rev, table)
    if op.name == "drop_table":
        return Backup(
            rev,
            TABLE,
            table,
            None,
            f"drops table {table}",
            keys.get(table, ()),
            backup_name(rev, table, None),
            recreated or (),
            None
            if recreated
            else f"the downgrade of {rev} does not recreate table {table}, so its rows cannot "
            "be put back",
            types=types,
        )
    column = str(op.target)
    verb = "drops" if op.name == "drop_column" else loss(op.source) or "changes"
    key = keys.get(table, ())
    if column in key:  # its own key cannot find its rows again
        return Backup(
            rev, COLUMN, table, column, f"{verb} column {table}.{column}", (),
            backup_name(rev, table, column),
            problem=f"column {column} is part of the primary key of {table}, so its values "
            "cannot be matched to their rows: the backup holds the whole table",
        )  # fmt: skip
    return Backup(
        rev,
        COLUMN,
        table,
        column,
        f"{verb} column {table}.{column}",
        key,
        backup_name(rev, table, column),
        problem=None
        if key
        else f"table {table} has no primary key, so the values of {column} cannot be matched "
        "to their rows: the backup holds the whole table",
        types=types,
    )


def _rebuilt(
    session: Session, rev: RevisionId, table: str
) -> tuple[tuple[str, ...] | None, tuple[tuple[str, Any], ...]]:
    """What the downgrade of ``rev`` rebuilds of ``table``: the columns of the table when it
    recreates it (None: it does not), and the types it gives the columns it (re)creates or
    changes back, which restored values are cast to."""
    try:
        operations = session.get(rev, "downgrade").operations
    except SchemactlError:
        return None, ()
    recreated: tuple[str, ...] | None = None
    types: dict[str, Any] = {}
    for op in operations:
        if op.table != table:
            continue
        if isinstance(op.made, TableMade):  # create_table
            recreated = recreated or tuple(name for name, _, _ in op.made.columns)
            types.update((name, type_) for name, type_, _ in op.made.columns)
        elif isinstance(op.made, ColumnAdded):  # add_column
            types[op.made.name] = op.made.type
        elif op.name == "alter_column" and op.source.modify_type is not None:
            types[op.source.column_name] = op.source.modify_type
    return recreated, tuple(sorted(types.items(), key=lambda item: item[0]))


def backup_sql(dialect: ScriptDialect, backups: tuple[Backup, ...]) -> tuple[str, ...]:
    """What an upgrade step runs first: a copy of everything it is about to destroy."""
    if not backups:
        return ()
    # One the rollback cannot restore is kept by it: applied again, the upgrade leaves that
    # first copy for the DBA rather than replace it.
    copies = [
        line
        for b in backups
        for line in dialect.backup_statements(
            b.name,
            b.table,
            (*b.key, b.column) if b.kind == COLUMN and b.key and b.column else None,
            keep_existing=not b.restorable,
        )
    ]
    return (*dialect.backup_setup(), *copies)


def restore_sql(dialect: ScriptDialect, backups: tuple[Backup, ...]) -> tuple[str, ...]:
    """What a rollback step runs after its downgrade: each backup put back, then dropped (one
    that cannot be restored faithfully is kept for a DBA)."""
    found: list[str] = []
    for b in backups:
        if not b.restorable:
            continue
        # A backup purged since (or never taken: backup = off then) restores nothing.
        types = dict(b.types)
        if b.kind == COLUMN and b.column:
            found += dialect.ensure_backup(b.name, b.table, (*b.key, b.column))
            found += dialect.restore_by_key(b.name, b.table, b.key, b.column, types)
        else:
            found += dialect.ensure_backup(b.name, b.table, b.columns)
            found += dialect.restore_rows(b.name, b.table, b.columns, types)
        found += dialect.drop_backup(b.name)
    return (*dialect.backup_setup(), *found) if found else ()
