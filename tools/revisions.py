"""Writing revision files: start a branch, autogenerate onto it, merge heads, rebase.

Files are named NNNN_<rev>_<slug>.py, NNNN being the revision's depth, so a folder listing
is an apply order (two branches may both have a 0008, as in Django). Messages are data: the
revision template escapes them, and file names use only a slug of [a-z0-9_].
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.errors import SchemactlError
from tools.graph import Graph, RevisionId
from tools.history import load_graph

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.operations.ops import MigrateOperation, MigrationScript
    from alembic.runtime.migration import MigrationContext

    from tools.config import Project

_LABEL = re.compile(r"[a-z][a-z0-9_]{0,39}")


class BranchError(SchemactlError):
    """A branch name, or what is asked of a branch, does not fit the history."""


@dataclass(frozen=True)
class Written:
    revision: RevisionId
    path: Path
    message: str


def slugify(text: str, limit: int = 50) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug[:limit].rstrip("_") or "revision"


def _file_name(depth: int, revision: RevisionId, slug: str) -> str:
    return f"{depth:04d}_{revision}_{slug}.py"


def _rename(path: Path, graph: Graph, revision: RevisionId, slug: str) -> Path:
    target = path.with_name(_file_name(graph[revision].depth, revision, slug))
    path.rename(target)
    return target


def _written(project: Project, script: Any, slug: str) -> Written:
    graph = load_graph(project.alembic_config())
    path = _rename(Path(script.path), graph, script.revision, slug)
    return Written(script.revision, path, graph[script.revision].message)


def _revision_command(cfg: Config, **kw: Any) -> Any:
    from alembic import command
    from alembic.util import CommandError

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # post-write hook chatter
            return command.revision(cfg, **kw)
    except CommandError as err:
        if isinstance(err.__cause__, SchemactlError):
            raise err.__cause__ from err
        raise BranchError(f"{err}".splitlines()[0]) from err


# -- branches -----------------------------------------------------------------------------------


def check_label(graph: Graph, name: str) -> None:
    if not _LABEL.fullmatch(name):
        raise BranchError(
            f"{name!r} is not a branch name; use a lowercase identifier: a letter, then letters, "
            "digits or '_' (at most 40)"
        )
    if name in graph.labels:
        raise BranchError(f"branch {name!r} exists already (see `schemactl branch list`)")
    if any(rev.startswith(name) for rev in graph.revisions):
        raise BranchError(f"{name!r} reads like a revision id; choose another branch name")


def start_branch(project: Project, name: str) -> Written:
    """A revision labelled ``name`` on the trunk head: where the feature's work will go."""
    cfg = project.alembic_config(quiet=True)
    graph = load_graph(cfg)
    check_label(graph, name)
    trunk = graph.trunk_tip()
    script = _revision_command(
        cfg,
        message=f"Start the {name} branch",
        head=trunk,
        branch_label=name,
        # Alembic wants to be told when a new line starts from a revision that has children.
        splice=not graph[trunk].is_head,
    )
    return _written(project, script, f"start_{name}")


@dataclass(frozen=True)
class BranchInfo:
    label: str
    first: RevisionId
    head: RevisionId
    count: int
    merged: bool
    tables: tuple[str, ...] | None  # None: a revision of it cannot render offline


def list_branches(project: Project) -> list[BranchInfo]:
    from tools.capture import capture_operations
    from tools.history import load_history

    history = load_history(project)
    graph = history.graph
    dialect = project.environment().dialect
    branches = []
    for label in sorted(graph.labels):
        members = graph.line_revisions(label)
        try:
            operations = capture_operations(history, dialect, members)
            tables: tuple[str, ...] | None = tuple(
                sorted({o.table for ops in operations.values() for o in ops if o.table})
            )
        except SchemactlError:
            tables = None
        branches.append(
            BranchInfo(
                label=label,
                first=members[0],
                head=members[-1],
                count=len(members),
                merged=graph.is_merged(label),
                tables=tables,
            )
        )
    return branches


# -- makemigrations -----------------------------------------------------------------------------


def makemigrations(
    project: Project,
    *,
    message: str | None = None,
    branch: str | None = None,
    empty: bool = False,
) -> Written | None:
    """Autogenerate a revision from the models onto ``branch@head`` (default: the trunk head).

    The models are compared with a scratch embedded (SQLite) database upgraded to every
    head, so work on other branches is not offered again. Returns None when nothing changed.
    """
    from tools import scratch
    from tools.dialects import embedded
    from tools.directives import make_portable

    cfg = project.alembic_config()
    graph = load_graph(cfg)
    head = _head_for(graph, branch)
    found: list[MigrateOperation] = []

    def collect(context: MigrationContext, revision: object, directives: list[Any]) -> None:
        script: MigrationScript = directives[0]
        make_portable(script)  # downgrades (and upgrades) that run on every dialect
        found.extend(script.upgrade_ops.ops)
        if not empty and script.upgrade_ops.is_empty():
            directives.clear()  # Alembic writes no file
        elif not message:
            script.message = _message_from(found)

    kind = embedded()
    with scratch.scratch_database(kind) as url:
        scratch_cfg = scratch.scratch_config(project, kind, url, plain=True)
        scratch.upgrade(scratch_cfg, "heads")
        script = _revision_command(
            scratch_cfg,
            message=message,
            autogenerate=True,
            head=head,
            splice=branch is None and not graph[head].is_head,
            process_revision_directives=collect,
        )
    if not script:  # Alembic returns no script (or an empty list) when none was written
        return None
    return _written(project, script, slugify(message) if message else _slug_from(found))


def _head_for(graph: Graph, branch: str | None) -> str:
    if branch is None:
        return graph.trunk_tip()
    if branch not in graph.labels:
        known = ", ".join(sorted(graph.labels)) or "none yet"
        raise BranchError(
            f"no branch {branch!r} (branches: {known}); start it with `schemactl branch start "
            f"{branch}`"
        )
    if graph.is_merged(branch):
        raise BranchError(
            f"branch {branch!r} is merged; put new work on the trunk or start a new branch"
        )
    return f"{branch}@head"


def _flatten(operations: list[MigrateOperation]) -> list[MigrateOperation]:
    flat: list[MigrateOperation] = []
    for operation in operations:
        inner = getattr(operation, "ops", None)
        flat.extend(inner if inner is not None else [operation])
    return flat


def _slug_from(operations: list[MigrateOperation]) -> str:
    """A Django-style name from what the revision does: add_invoices_discount, …"""
    fragments = [slugify(_phrase(op)) for op in _flatten(operations)]
    if not fragments:
        return "empty"
    if len(fragments) > 2:
        return slugify("_and_".join(fragments[:2]) + "_and_more")
    return slugify("_and_".join(fragments))


def _message_from(operations: list[MigrateOperation]) -> str:
    """A message a person would write: 'Add invoices.discount and create loyalty_points'."""
    phrases = [_phrase(op) for op in _flatten(operations)]
    if not phrases:
        return "Empty revision"
    text = " and ".join(phrases[:2]) + (" and more" if len(phrases) > 2 else "")
    return text[0].upper() + text[1:]


def _phrase(operation: MigrateOperation) -> str:
    kind = type(operation).__name__
    table = getattr(operation, "table_name", "") or ""
    column = getattr(operation, "column_name", None) or getattr(
        getattr(operation, "column", None), "name", ""
    )
    named = getattr(operation, "index_name", None) or getattr(operation, "constraint_name", None)
    return {
        "CreateTableOp": f"create {table}",
        "DropTableOp": f"delete {table}",
        "AddColumnOp": f"add {table}.{column}",
        "DropColumnOp": f"remove {table}.{column}",
        "AlterColumnOp": f"alter {table}.{column}",
        "CreateIndexOp": f"add {named}",
        "DropIndexOp": f"remove {named}",
        "CreateUniqueConstraintOp": f"add {named}",
        "CreateForeignKeyOp": f"add {named}",
        "CreateCheckConstraintOp": f"add {named}",
        "DropConstraintOp": f"remove {named}",
    }.get(kind, kind.removesuffix("Op").lower())


# -- merge ----------------------------------------------------------------------------------------


def write_merge(project: Project, heads: tuple[RevisionId, ...], message: str | None) -> Written:
    """The merge revision joining ``heads``; its message names the branches it joins."""
    from alembic import command

    cfg = project.alembic_config(quiet=True)
    graph = load_graph(cfg)
    names = [graph.line_of(h) or h for h in heads]
    title = f"Merge {' and '.join(names)}" + (f": {message}" if message else "")
    with contextlib.redirect_stdout(io.StringIO()):  # post-write hook chatter
        script = command.merge(cfg, revisions=list(heads), message=title)
    return _written(project, script, slugify(f"merge_{'_and_'.join(names)}"))


# -- rebase ---------------------------------------------------------------------------------------


def rebase(project: Project, name: str) -> list[Written]:
    """Move unmerged, unreleased branch ``name`` onto the current trunk head."""
    cfg = project.alembic_config()
    graph = load_graph(cfg)
    if name not in graph.labels:
        raise BranchError(f"no branch {name!r}; see `schemactl branch list`")
    members = graph.line_revisions(name)
    if graph.is_merged(name):
        raise BranchError(f"branch {name!r} is merged: merged history is never rewritten")
    from tools.release import released_revisions

    released = released_revisions(project)
    shipped = [rev for rev in members if rev in released]
    if shipped:
        raise BranchError(
            f"branch {name!r} has revision {shipped[0]} in release {released[shipped[0]]}: "
            "released history is never rewritten"
        )
    first = graph[members[0]]
    trunk = graph.trunk_tip()
    if first.parents == (trunk,):
        raise BranchError(f"branch {name!r} already starts on the trunk head {trunk}")
    if trunk in set(members) or set(members) & graph.ancestors([trunk]):
        raise BranchError(f"branch {name!r} is part of the trunk's history; nothing to rebase")
    _set_down_revision(first.path, trunk)
    graph = load_graph(cfg)
    return [
        Written(rev, _rename(graph[rev].path, graph, rev, _slug_of(graph[rev].path)), "")
        for rev in members
    ]


def _slug_of(path: Path) -> str:
    return path.stem.split("_", 2)[2] if path.stem.count("_") >= 2 else slugify(path.stem)


def _set_down_revision(path: Path, new: RevisionId) -> None:
    """Point a revision file at a new parent: its down_revision and its 'Revises:' line."""
    text = path.read_text()
    tree = ast.parse(text)
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "down_revision" and node.value:
            value = node.value
            lines = text.splitlines(keepends=True)
            start = sum(len(line) for line in lines[: value.lineno - 1]) + value.col_offset
            end = sum(len(line) for line in lines[: value.end_lineno - 1]) + value.end_col_offset
            text = text[:start] + repr(new).replace("'", '"') + text[end:]
            break
    else:
        raise BranchError(f"{path.name} has no down_revision assignment to rewrite")
    text = re.sub(r"^Revises: .*$", f"Revises: {new}", text, count=1, flags=re.MULTILINE)
    path.write_text(text)
