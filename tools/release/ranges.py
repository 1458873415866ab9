"""The scripts of one range, outside a release (`schemactl sql`): the range that --from and
--to name, where the two scripts are written (var/sql/ENV/, or --out), or the one printed
(--stdout), and how the commands in their header reach the project. Releases (the chain in
sql_out/) are tools.release.release's.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tools.core.files import replace_folder
from tools.history.load import History, Range, load_history, plan_range, resolve_heads
from tools.scripts.render import (
    ROLLBACK,
    UPGRADE,
    Script,
    render_script,
    render_scripts,
    write_text,
)

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.graph import RevisionId


def range_for(
    project: Project,
    environment: Environment,
    start: str | None,
    target: str | None,
    *,
    backwards: bool = False,
) -> tuple[History, Range, bool]:
    """The loaded history, the range a --from/--to pair names, and whether
    it runs backwards (``backwards`` allows --to behind --from: a database stopped midway
    going back to where its script started); --from defaults to where the environment's last
    release ends, --to to every head. A backwards range is returned the way round its
    upgrade runs: its rollback script is the one from --from to --to."""
    history = load_history(project)
    begin = (
        resolve_heads(history, start) if start is not None else last_released(project, environment)
    )
    end = resolve_heads(history, "heads" if target is None else target)
    graph = history.graph
    if backwards and graph.ancestors(set(end)) < graph.ancestors(set(begin)):
        return history, plan_range(graph, end, begin), True
    return history, plan_range(graph, begin, end), False


def last_released(project: Project, environment: Environment) -> tuple[RevisionId, ...]:
    """Where the environment's last recorded release ends (() for base: none yet)."""
    from tools.scripts.manifest import read_manifest  # (not needed for a range given whole)

    return read_manifest(project, environment).end


def default_out(project: Project, environment: Environment) -> Path:
    """Where `schemactl sql` writes when not told (var/ is not committed)."""
    return project.work_dir(environment)


def sql(
    project: Project,
    environment: Environment,
    *,
    start: str | None = None,
    target: str | None = None,
    out: Path | None = None,
) -> tuple[Path, Script, Script]:
    """Render the scripts for one range and write them to ``out`` (default: var/sql/ENV/[NAME/])
    as upgrade.sql and rollback.sql. Returns the folder, the script that takes a database
    from ``start`` to ``target``, and the one that goes back.

    The range starts at ``start`` (a revision, several comma-separated heads, or 'base'),
    by default where the environment's last release ends, and goes to ``target`` (default:
    every head). A ``target`` behind ``start`` is a way back: the first script returned is
    then rollback.sql.
    """
    history, span, backwards = range_for(project, environment, start, target, backwards=True)
    out = out or default_out(project, environment)
    option, shown = invocation(project, out)
    upgrade, rollback = render_scripts(
        project,
        environment,
        history,
        span,
        out_dir=shown,
        config_option=option,
        sources=False,  # only written: nothing reads the operations' Alembic objects
    )
    replace_folder(
        out, {"upgrade.sql": upgrade.text, "rollback.sql": rollback.text}, shown=str(shown)
    )
    return (out, rollback, upgrade) if backwards else (out, upgrade, rollback)


def sql_one(
    project: Project,
    environment: Environment,
    kind: str,
    *,
    start: str | None = None,
    target: str | None = None,
    into: TextIO | None = None,
) -> Script:
    """Render one script of a range (for --stdout): ``kind`` 'upgrade' is the one that
    takes a database from ``start`` to ``target`` (a rollback script when ``target`` is
    behind ``start``), 'rollback' the one that goes back. With ``into``, its text is
    written there as it renders, not kept (Script.text is then empty)."""
    history, span, backwards = range_for(project, environment, start, target, backwards=True)
    if backwards:
        kind = ROLLBACK if kind == UPGRADE else UPGRADE
    option, _ = invocation(project, None)
    script = render_script(
        project,
        environment,
        history,
        span,
        kind,
        out_dir=None,
        config_option=option,
        sources=False,  # only printed: nothing reads the operations' Alembic objects
        text=into is None,
        alone=True,  # nothing else is rendered from this history
    )
    if into is not None:
        write_text(project, script, into)
    return script


def invocation(project: Project, out: Path | None) -> tuple[str, str | None]:
    """How the commands in a script's header reach the project from where schemactl runs:
    the ``-c`` option it needs (none from the project's own folder) and the output folder.
    Releases are always written as seen from the project's folder, so they stay the same
    wherever they are rendered or checked from."""
    here = Path.cwd().resolve()
    extra = "".join(f"-x {shlex.quote(x)} " for x in project.x_arguments)
    folder = _as_seen_from(here, out) if out is not None else None
    if here == project.root and project.config_path.name == "alembic.ini":
        return extra, folder
    config = _as_seen_from(here, project.config_path)
    return f"-c {shlex.quote(config)} {extra}", folder


def _as_seen_from(here: Path, path: Path) -> str:
    """A path relative to ``here`` when it lies below it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(here).as_posix()
    except ValueError:
        return absolute.as_posix()
