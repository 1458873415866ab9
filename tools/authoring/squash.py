"""`schemactl squash --to REV`: the history up to REV as one revision (Django's squashmigrations).

The new revision keeps REV's id, so a database at REV or later notices nothing: its version
table still names revisions of the history. It starts from base and builds the schema at REV,
its operations generated from that schema (the history's operations up to REV, captured
offline, replayed into SQLAlchemy metadata, then compared with an empty database as
autogenerate does), followed by the data changes of the squashed range in order. What cannot
be carried over (a renamed column, a data change written as an SQL expression, a value bound
to text() that Python cannot write back) is refused, named. The squashed files leave the version
location for an archive folder, where `release --check` still finds them: released history is
never rewritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.authoring.directives import portable, render_item
from tools.core.errors import SchemactlError
from tools.core.files import write_files
from tools.core.internals import bound_parameters, copied_column, remove_column
from tools.dialects import embedded
from tools.history.load import SQUASH_MARKER, load_history, resolve_heads
from tools.operations.online import BackfillOnlineOp
from tools.proof.scratch import scratch_database
from tools.scripts.capture import capture_session
from tools.scripts.manifest import read_manifest

if TYPE_CHECKING:
    from alembic.operations.ops import DowngradeOps, UpgradeOps
    from sqlalchemy import MetaData, Table

    from tools.config import Project
    from tools.history.graph import Direction, Graph, RevisionId
    from tools.history.load import History

MARKER = SQUASH_MARKER  # the line that marks a squashing revision file


class SquashRefused(SchemactlError):
    """A revision that cannot be squashed up to (yet)."""


@dataclass
class SquashPlan:
    target: RevisionId
    squashed: tuple[RevisionId, ...]  # base .. target, in apply order
    files: tuple[Path, ...]  # the revision files that leave the version location
    archive: Path
    path: Path  # the new revision file
    source: str  # its text
    checked: dict[str, str] = field(default_factory=dict)  # environment -> its last release


def plan_squash(project: Project, target: str, message: str | None = None) -> SquashPlan:
    """What squashing up to ``target`` would write and move; refuses what it cannot do."""

    history = load_history(project)
    graph = history.graph
    found = resolve_heads(history, [target])
    if len(found) != 1:
        raise SquashRefused(
            f"--to {target} names {len(found)} revisions; name the one revision to squash up "
            "to (see `schemactl graph`)"
        )
    (rev,) = found
    squashed = tuple(r for r in graph.order if r in graph.ancestors([rev]))
    _check_linear(graph, rev, set(squashed))
    _check_on_trunk(graph, rev)
    checked = _check_released(project, graph, rev)
    later = [r for r in graph.order if r not in squashed]
    leaning = [r for r in later if set(graph[r].dependencies) & set(squashed)]
    if leaning:
        raise SquashRefused(
            f"revision {leaning[0]} depends_on a revision the squash replaces; point it at "
            f"{rev} (or drop the dependency) first"
        )
    session = _captured(project, history, squashed)
    metadata, data, not_carried = _replay(history, session, squashed)
    source = _source(history, rev, squashed, metadata, data, not_carried, message)
    folder = graph[rev].path.parent
    slug = re.sub(r"[^a-z0-9]+", "_", (message or "squashed").lower()).strip("_")[:40] or "squashed"
    return SquashPlan(
        target=rev,
        squashed=squashed,
        files=tuple(graph[r].path for r in squashed),
        archive=project.squash_archive / rev,
        path=folder / f"0001_{rev}_{slug}.py",
        source=source,
        checked=checked,
    )


def _captured(project: Project, history: History, squashed: tuple[RevisionId, ...]) -> Any:
    """The squashed revisions' upgrades captured offline, once per dialect of the project.
    One revision must do the same on each (a revision that branches on the dialect cannot
    become one generated revision for all); a dialect that cannot render some (SQLite:
    constraint changes) is skipped, the embedded one tried last."""

    names = sorted({e.dialect for e in project.environments.values()} | {embedded().name})
    names.sort(key=lambda name: name == embedded().name)
    requests: list[tuple[RevisionId, Direction]] = [(r, "upgrade") for r in squashed]
    rendered, session = {}, None
    for name in names:
        session = capture_session(history, name, requests)
        if not any(isinstance(session.results.get(req), Exception) for req in requests):
            rendered[name] = session
    if not rendered:
        return session  # the embedded one's: _replay names the revision that fails
    for rev in squashed:
        shapes = {name: _shape(found, rev) for name, found in rendered.items()}
        if len(set(shapes.values())) > 1:
            raise SquashRefused(
                f"revision {rev} does different things on {', '.join(sorted(shapes))} (it "
                "branches on the dialect), so one generated revision cannot replace it; squash "
                "up to a revision before it"
            )
    return next(iter(rendered.values()))


def _shape(session: Any, rev: RevisionId) -> tuple[tuple[str, str | None, str | None, str], ...]:
    """What a captured revision does, comparable across dialects."""
    from alembic.operations import ops

    shape = []
    for operation in session.get(rev, "upgrade").operations:
        op = operation.source
        detail = ""
        if isinstance(op, ops.ExecuteSQLOp):
            detail = str(getattr(op.sqltext, "text", op.sqltext))
        shape.append((operation.name, operation.table, operation.target, detail))
    return tuple(shape)


def _check_linear(graph: Graph, rev: RevisionId, squashed: set[RevisionId]) -> None:
    """Every revision is squashed, or stands on ``rev``: no branch crosses it."""
    crossing = [r for r in graph.order if r not in squashed and rev not in graph.ancestors([r])]
    if crossing:
        raise SquashRefused(
            f"revision {crossing[0]} neither comes before {rev} nor builds on it (a branch "
            f"open across it); squash up to a revision every line passes through, or merge "
            "first"
        )


def _check_on_trunk(graph: Graph, rev: RevisionId) -> None:
    """The new revision is the root of the history, so it stands on the trunk: ``rev`` may
    not lie on a branch still open there (its label would claim the whole history)."""
    label = graph.branch_of(rev)
    if label is not None and not graph.is_merged(label):
        raise SquashRefused(
            f"{rev} is on branch {label!r}, still open: merge it first (`schemactl merge`), or "
            "squash up to a trunk revision before the branch starts"
        )


def _check_released(project: Project, graph: Graph, rev: RevisionId) -> dict[str, str]:
    """Each environment with recorded releases must have ``rev`` in its last one."""

    checked, lacking = {}, []
    for name, environment in sorted(project.environments.items()):
        releases = read_manifest(project, environment).releases
        if not releases:
            continue
        last = releases[-1]
        if rev in graph.ancestors(list(last.end)):
            checked[name] = last.name
        else:
            lacking.append(f"{name} (last release {last.name})")
    if lacking:
        raise SquashRefused(
            f"{rev} is not in the last recorded release of {', '.join(lacking)}: squash only what "
            "every environment has; release it there first, or squash up to an earlier revision"
        )
    return checked


def _replay(
    history: History, session: Any, squashed: tuple[RevisionId, ...]
) -> tuple[MetaData, list[tuple[RevisionId, Any]], list[str]]:
    """The schema at the end of ``squashed`` as metadata, the data changes in order, and what
    could not be followed."""
    from alembic.operations import ops
    from sqlalchemy import MetaData

    metadata = MetaData()
    data: list[tuple[RevisionId, Any]] = []
    not_carried: list[str] = []
    for rev in squashed:
        try:
            captured = session.get(rev, "upgrade").operations
        except SchemactlError as err:
            raise SquashRefused(f"{rev} cannot be read offline ({err}); fix it first") from err
        for operation in captured:
            op = operation.source
            if isinstance(op, ops.BulkInsertOp | ops.ExecuteSQLOp | BackfillOnlineOp):
                data.append((rev, op))
            elif not _apply(metadata, op, operation.built):
                not_carried.append(f"{rev}: {operation.name} {operation.table or ''}".rstrip())
    return metadata, data, not_carried


def _apply(metadata: MetaData, op: Any, built: Table | None = None) -> bool:
    """Follow one schema operation in ``metadata``; False for one it cannot follow.
    ``built``: the table a create_table made when it ran (building another from ``op``
    would attach its indexes twice)."""
    from alembic.operations import ops
    from sqlalchemy import (
        CheckConstraint,
        ForeignKeyConstraint,
        Index,
        UniqueConstraint,
    )

    tables = metadata.tables
    if isinstance(op, ops.CreateTableOp):
        (built if built is not None else op.to_table()).to_metadata(metadata)
        return True
    table = tables.get(getattr(op, "table_name", None) or getattr(op, "source_table", None) or "")
    if table is None:
        return False
    if isinstance(op, ops.DropTableOp):
        metadata.remove(table)
    elif isinstance(op, ops.AddColumnOp):
        table.append_column(copied_column(op.column))
    elif isinstance(op, ops.DropColumnOp):
        _drop_column(table, op.column_name)
    elif isinstance(op, ops.AlterColumnOp):
        return _alter_column(table, op)
    elif isinstance(op, ops.CreateIndexOp):
        parts = [table.c[c] if isinstance(c, str) else c for c in op.columns]
        Index(op.index_name, *parts, unique=bool(op.unique), **op.kw)
    elif isinstance(op, ops.DropIndexOp):
        table.indexes.difference_update({i for i in table.indexes if i.name == op.index_name})
    elif isinstance(op, ops.CreateForeignKeyOp):
        # The schemas are Alembic's arguments, not the constraint's: the referent's goes
        # into the columns it names (the source's is the table's own).
        kw = {k: v for k, v in op.kw.items() if k not in ("source_schema", "referent_schema")}
        schema = op.kw.get("referent_schema")
        referent = f"{schema}.{op.referent_table}" if schema else op.referent_table
        remote = [f"{referent}.{c}" for c in op.remote_cols]
        table.append_constraint(
            ForeignKeyConstraint(op.local_cols, remote, name=op.constraint_name, **kw)
        )
    elif isinstance(op, ops.CreateUniqueConstraintOp):
        table.append_constraint(UniqueConstraint(*op.columns, name=op.constraint_name, **op.kw))
    elif isinstance(op, ops.CreateCheckConstraintOp):
        table.append_constraint(CheckConstraint(op.condition, name=op.constraint_name, **op.kw))
    elif isinstance(op, ops.DropConstraintOp):
        table.constraints.difference_update(
            {c for c in table.constraints if c.name == op.constraint_name}
        )
    else:
        return False
    return True


def _drop_column(table: Table, name: str) -> None:
    """The column gone, with the indexes and constraints (but the primary key) that use it."""
    from sqlalchemy import PrimaryKeyConstraint

    column = table.c[name]

    def uses(thing: Any) -> bool:
        return any(c is column for c in getattr(thing, "columns", ()))

    for constraint in [c for c in table.constraints if uses(c)]:
        if not isinstance(constraint, PrimaryKeyConstraint):
            table.constraints.discard(constraint)
    table.indexes.difference_update({i for i in table.indexes if uses(i)})
    remove_column(table, column)


def _alter_column(table: Table, op: Any) -> bool:
    """A column's type, nullability and server default changed; False for a rename or a
    comment, which the squash cannot follow."""
    from sqlalchemy import DefaultClause

    if op.modify_name or op.modify_comment is not False:
        return False
    column = table.c[op.column_name]
    if op.modify_type is not None:
        column.type = op.modify_type
    if op.modify_nullable is not None:
        column.nullable = op.modify_nullable
    if op.modify_server_default is not False:  # False: unchanged; None: dropped
        default = op.modify_server_default
        if default is not None and not isinstance(default, DefaultClause):
            default = DefaultClause(default)
        column.server_default = default
    return True


def _source(
    history: History,
    rev: RevisionId,
    squashed: tuple[RevisionId, ...],
    metadata: MetaData,
    data: list[tuple[RevisionId, Any]],
    not_carried: list[str],
    message: str | None,
) -> str:
    """The squashing revision's file: the schema at ``rev`` created, then the data changes."""
    upgrade, downgrade = _schema_code(metadata)
    extra_imports: set[str] = set()
    upgrade += _carried_data(data, metadata, extra_imports, not_carried)
    if not_carried:
        raise SquashRefused(
            f"cannot carry over {'; '.join(not_carried)}: a squash must do all the squashed "
            "revisions did; squash up to a revision before it, or write it as a plain "
            "operation first"
        )
    title = message or f"Squash of {len(squashed)} revisions, base to {rev}"
    project = history.project
    archive = project.squash_archive.relative_to(project.root).as_posix() if project else "squashed"
    lines = [
        f'"""{_doc(title)}',
        "",
        f"Replaces {len(squashed)} revisions, in apply order (their files are kept in",
        f"{archive}/{rev}/):",
        *_wrapped(squashed),
        f"It keeps the id of {rev}, the last of them, so a database at it or later carries on",
        "unchanged; one before it is refused.",
        "",
        f"Revision ID: {rev}",
        "Revises:",
        "",
        '"""',
        "",
        *sorted(extra_imports),
        "import sqlalchemy as sa",
        "from alembic import op",
        "",
        MARKER.format(rev=rev),
        f"revision = {rev!r}",
        "down_revision = None",
        # The squashed range's branches are all merged (_check_on_trunk): their labels end
        # with it (Alembic's branch_labels of a merge holds the labels of what it merged).
        "branch_labels = None",
        "depends_on = None",
        "",
        "",
        "def upgrade() -> None:",
        *upgrade,
        "",
        "",
        "def downgrade() -> None:",
        *downgrade,
        "",
    ]
    return "\n".join(lines)


def _schema_code(metadata: MetaData) -> tuple[list[str], list[str]]:
    """The upgrade and downgrade code that create and drop the schema in ``metadata``:
    autogenerate against an empty database, made portable."""
    from alembic.autogenerate import produce_migrations
    from alembic.migration import MigrationContext

    kind = embedded()
    with scratch_database(kind, prefix="schemactl_squash") as url:
        engine = kind.engine(url)
        with engine.connect() as connection:  # an empty database: everything is new
            context = MigrationContext.configure(connection, opts={"render_item": render_item})
            script = produce_migrations(context, metadata)
        engine.dispose()
    # Tables take their indexes with them (MariaDB refuses to drop an index a foreign key
    # needs), foreign keys go before indexes: the order every dialect accepts.
    assert script.upgrade_ops is not None and script.downgrade_ops is not None
    portable(script.downgrade_ops)
    upgrade = [line for line in _rendered(script.upgrade_ops) if "### " not in line]
    downgrade = [line for line in _rendered(script.downgrade_ops) if "### " not in line]
    return upgrade, downgrade + _type_drops(metadata)


def _carried_data(
    data: list[tuple[RevisionId, Any]],
    metadata: MetaData,
    extra_imports: set[str],
    not_carried: list[str],
) -> list[str]:
    """The squashed revisions' data changes as code, in order; what cannot be written as
    code is added to ``not_carried``."""
    lines: list[str] = []
    for source_rev, op in data:
        code = _data_code(op, metadata, extra_imports)
        if code is None:
            what = getattr(op, "sqltext", None)
            shown = f"op.execute of {type(what).__name__}" if what is not None else "bulk_insert"
            not_carried.append(f"{source_rev}: {shown} (SQL built as an expression)")
            continue
        lines += [f"    # data from {source_rev}", *code]
    return lines


def _wrapped(revisions: tuple[str, ...]) -> list[str]:
    """Revision ids, a few to a line."""
    return ["  " + ", ".join(revisions[i : i + 6]) for i in range(0, len(revisions), 6)]


def _doc(text: str) -> str:
    return " ".join(text.replace('"""', "'''").replace("\\", "/").split())


def _data_code(op: Any, metadata: MetaData, imports: set[str]) -> list[str] | None:
    """A data change as code for the squashing revision (None: it cannot be written so)."""
    from alembic.operations import ops
    from sqlalchemy.sql.elements import TextClause
    from sqlalchemy.sql.expression import TableClause

    if isinstance(op, BackfillOnlineOp):
        return [f"    op.backfill_online({_backfill_arguments(op)})"]
    if isinstance(op, ops.ExecuteSQLOp):
        sql = op.sqltext
        if isinstance(sql, str):
            return [f"    op.execute({sql!r})"]
        if isinstance(sql, TextClause):
            bound = _bound_values(sql, imports)
            if bound is None:
                return None
            return [f"    op.execute(sa.text({sql.text!r}){bound})"]
        return None
    table = op.table
    name = getattr(table, "name", None)
    if not isinstance(table, TableClause) or name is None:
        return None
    known = metadata.tables.get(name)
    columns = []
    for column in table.c:
        type_ = (
            known.c[column.name].type
            if known is not None and column.name in known.c
            else column.type
        )
        columns.append(f"sa.column({column.name!r}, sa.{type_!r})")
    rows = repr(list(op.rows))
    if "Decimal(" in rows:
        imports.add("from decimal import Decimal")
    if "datetime." in rows:
        imports.add("import datetime")
    return [
        f"    op.bulk_insert(sa.table({name!r}, {', '.join(columns)}), {rows})",
    ]


def _backfill_arguments(op: BackfillOnlineOp) -> str:
    """A backfill's arguments as the revision gave them (those left at their default left
    out)."""
    given = [repr(op.table_name), repr(op.values)]
    for name, value, default in (
        ("where", op.where, None),
        ("key", op.key, "id"),
        ("batch_size", op.batch_size, 10_000),
        ("schema", op.schema, None),
    ):
        if value != default:
            given.append(f"{name}={value!r}")
    return ", ".join(given)


def _bound_values(sql: Any, imports: set[str]) -> str | None:
    """``.bindparams(name=value, ...)`` for the values a text() carries ('' for none); None
    when one is not a plain value that Python writes back as itself."""
    import datetime
    from decimal import Decimal

    plain = (str, int, float, bool, Decimal, datetime.date, datetime.time, type(None))
    parts = []
    for name, parameter in sorted(bound_parameters(sql).items()):
        value = parameter.value
        if parameter.callable is not None or not isinstance(value, plain):
            return None
        if isinstance(value, Decimal):
            imports.add("from decimal import Decimal")
        if isinstance(value, datetime.date | datetime.time):
            imports.add("import datetime")
        if not name.isidentifier():
            return None
        parts.append(f"{name}={value!r}")
    return f".bindparams({', '.join(parts)})" if parts else ""


def _rendered(ops: UpgradeOps | DowngradeOps) -> list[str]:
    """The Python lines of ``ops``, plain operations (no batch blocks: they run on every
    dialect), server defaults written portably."""
    from alembic.autogenerate import render_python_code

    return (
        render_python_code(ops, render_as_batch=False, render_item=render_item)
        .strip("\n")
        .splitlines()
    )


def _type_drops(metadata: MetaData) -> list[str]:
    """Drop the named enum types the squashed range created, after their tables: PostgreSQL
    keeps a type when its table goes; elsewhere these do nothing."""
    from sqlalchemy import Enum

    found: dict[str, tuple[str, ...]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            kind = column.type
            if isinstance(kind, Enum) and kind.name and kind.native_enum:
                found[kind.name] = tuple(kind.enums)
    return [
        f"    sa.Enum({', '.join(map(repr, values))}, name={name!r})"
        ".drop(op.get_bind(), checkfirst=False)"
        for name, values in sorted(found.items())
    ]


def write(project: Project, squash: SquashPlan) -> None:
    """Move the squashed files to the archive and write the squashing revision."""

    if squash.archive.exists():
        raise SquashRefused(
            f"{squash.archive.relative_to(project.root)} exists already: {squash.target} was "
            "squashed before"
        )
    squash.archive.mkdir(parents=True)
    for path in squash.files:
        path.rename(squash.archive / path.name)
    write_files(squash.path.parent, {squash.path.name: squash.source})
    _format(project, squash.path)


def _format(project: Project, path: Path) -> None:
    """Run the project's post-write hooks (ruff here) on the new file, as Alembic would."""
    import contextlib
    import io

    from alembic.script import write_hooks

    hooks = project.alembic_config().get_hooks_list()
    if hooks:
        with contextlib.redirect_stdout(io.StringIO()):  # the hooks' chatter
            write_hooks._run_hooks(str(path), hooks)
