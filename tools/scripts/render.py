"""Render: lay out DBA scripts, one captured step per revision, through a Mako template.

Each revision of a range is captured offline (tools.scripts.capture), wrapped in the version-table
moves and audit row its dialect writes (tools.dialects), and the whole laid out by the
template. Rendering needs only the environment's dialect: no URL, no driver, no server.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from shlex import quote
from typing import TYPE_CHECKING, Any, TextIO

from tools.config import for_database
from tools.core.errors import SchemactlError, first_line
from tools.core.text import comment
from tools.dialects import ScriptDialect, safe_revision
from tools.history.load import History, Range, load_history, version_moves
from tools.scripts.backup_plan import Backup, backup_sql, plan_backups, restore_sql
from tools.scripts.capture import Operation, RenderError, Session, Statement, capture_session

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.graph import Direction, Revision, RevisionId

UPGRADE = "upgrade"
ROLLBACK = "rollback"
TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES / "script.sql.mako"


class TemplateError(RenderError):
    """The script template failed; names the template and its line."""

    def __init__(self, template: Path, line: str, problem: str) -> None:
        self.template = template
        self.line = line
        super().__init__(
            f"template {template.name} failed at {line}: {problem}",
            "fix the template (or the [schemactl] template setting)",
        )


@dataclass(frozen=True, slots=True)
class Step:
    revision: Revision
    branch: str | None
    sha256: str
    direction: Direction  # 'upgrade' or 'downgrade': what the revision's function was run
    statements: tuple[str, ...]
    operations: tuple[Operation, ...]
    # The version table's move (the revisions it loses, and gains) and the dialect and
    # release the step is stamped and audited with: stamp and audit are written from them
    # as the template reads them, not kept (an audit row is about 650 bytes, a tenth of a
    # long script's memory). None: the step moves no version and writes no audit row.
    moves: tuple[tuple[RevisionId, ...], tuple[RevisionId, ...]] | None
    dialect: ScriptDialect = field(repr=False)
    release: str | None
    # False when a statement cannot run inside a transaction (CREATE INDEX CONCURRENTLY).
    transactional: bool
    # What this step keeps before it destroys (upgrade), or puts back after its
    # downgrade rebuilt the structure (rollback), and the SQL for it.
    backups: tuple[Backup, ...] = ()
    backup_sql: tuple[str, ...] = ()
    # The revision's own BEGIN and COMMIT/END, left out ('BEGIN, END (line 18)'): what
    # runs between them runs in the script's transaction.
    folded: str = ""

    @property
    def message(self) -> str:
        return comment(self.revision.message.splitlines()[0] if self.revision.message else "")

    @property
    def stamp(self) -> tuple[str, ...]:
        """The statements that move the version table."""
        return () if self.moves is None else tuple(self.dialect.stamp(*self.moves))

    @property
    def audit(self) -> str:
        """The statements that record the step in the audit table."""
        if self.moves is None:
            return ""
        return self.dialect.audit(self.revision.id, self.direction, self.sha256, self.release)


@dataclass(frozen=True)
class Script:
    kind: str  # UPGRADE or ROLLBACK
    environment: Environment
    dialect: ScriptDialect
    expected: tuple[RevisionId, ...]  # what the guard requires before the script runs
    result: tuple[RevisionId, ...]  # what alembic_version holds after it
    steps: tuple[Step, ...]
    apply_command: str
    regenerate_command: str
    # `schemactl ... sql --env ENV`: what the header's advice to resume or back out starts with.
    sql_command: str = ""
    # The release the script belongs to (its folder name), recorded with each audit row.
    release: str | None = None
    # False when the environment says backup = off (nothing destroyed comes back).
    backup: bool = True
    # A recovery script's account of itself (`schemactl recover`), a line each: what the
    # stopped step had run, and what this script does about it.
    recovery: tuple[str, ...] = ()
    # `schemactl ... recover --env ENV`: what a DBA runs after the script stopped midway.
    recover_command: str = ""
    # Written by `release --no-prove`: no scratch database has run it; `prove_command` will.
    unproven: bool = False
    prove_command: str = ""
    text: str = field(default="", repr=False)

    @property
    def transactional(self) -> bool:
        return self.dialect.transactional and all(step.transactional for step in self.steps)

    @property
    def backups(self) -> tuple[Backup, ...]:
        """Every backup the range's destructive steps take, in apply order."""
        steps = self.steps if self.kind == UPGRADE else tuple(reversed(self.steps))
        return tuple(b for step in steps for b in step.backups)


def capture_steps(
    history: History,
    dialect: ScriptDialect,
    span: Range,
    kind: str,
    session: Session,
    release: str | None = None,
    backups: Mapping[RevisionId, tuple[Backup, ...]] | None = None,
    backup: bool = True,
) -> tuple[Step, ...]:
    """Each revision of ``span`` as captured offline, with the version-table moves around it."""
    graph = history.graph
    moves = version_moves(graph, span)
    direction = _direction(kind)
    heads = set(span.start if kind == UPGRADE else span.end)
    steps = []
    for rev in _order(span, kind):
        revision = graph[safe_revision(rev)]
        captured = session.get(rev, direction)
        # As the client reads them (MariaDB: a compound statement between DELIMITERs).
        statements = tuple(dialect.script_statement(s.sql) for s in captured.statements)
        moved = moves[rev] if kind == UPGRADE else moves[rev][::-1]
        removed, added = moved
        heads = (heads - set(removed)) | set(added)
        for moving in (*removed, *added):
            safe_revision(moving)  # raised here, not where the template writes the stamp
        steps.append(
            Step(
                revision=revision,
                branch=graph.branch_of(rev),
                sha256=history.sha256(rev),
                direction=direction,
                statements=statements,
                operations=captured.operations,
                moves=moved,
                dialect=dialect,
                release=release,
                transactional=not any(
                    (s.autocommit and dialect.runs_autocommit_blocks)
                    or dialect.non_transactional(s.sql)
                    for s in captured.statements
                ),
                backups=(backups or {}).get(rev, ()),
                folded=_folded(captured.folded),
                backup_sql=_backup_sql(dialect, (backups or {}).get(rev, ()), kind)
                if backup
                else (),
            )
        )
    expected_end = set(span.end if kind == UPGRADE else span.start)
    assert heads == expected_end, (heads, expected_end)
    return tuple(steps)


def _folded(statements: tuple[Statement, ...]) -> str:
    """A revision's own transaction statements as its step's header names them."""
    if not statements:
        return ""
    names = ", ".join(dict.fromkeys(s.sql.strip().rstrip(";").strip() for s in statements))
    lines = sorted({s.line for s in statements if s.line is not None})
    where = f" (line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))})" if lines else ""
    return names + where


def _backup_sql(dialect: ScriptDialect, backups: tuple[Backup, ...], kind: str) -> tuple[str, ...]:
    """A step's backups (upgrade) or restores (rollback), in SQL."""
    return backup_sql(dialect, backups) if kind == UPGRADE else restore_sql(dialect, backups)


def _direction(kind: str) -> Direction:
    return "upgrade" if kind == UPGRADE else "downgrade"


def _order(span: Range, kind: str) -> tuple[RevisionId, ...]:
    return span.revisions if kind == UPGRADE else tuple(reversed(span.revisions))


# -- scripts ------------------------------------------------------------------------------------


def render_scripts(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    *,
    out_dir: str | None,
    config_option: str = "",
    release: str | None = None,
    unproven: bool = False,
    sources: bool = True,
) -> tuple[Script, Script]:
    """The upgrade script for ``span`` and the rollback script that undoes it
    (``unproven``: written by `release --no-prove`, and marked so; ``sources``: as
    render_script's)."""
    return (
        render_script(
            project,
            environment,
            history,
            span,
            UPGRADE,
            out_dir=out_dir,
            config_option=config_option,
            release=release,
            unproven=unproven,
            sources=sources,
        ),
        render_script(
            project,
            environment,
            history,
            span,
            ROLLBACK,
            out_dir=out_dir,
            config_option=config_option,
            release=release,
            unproven=unproven,
            sources=sources,
        ),
    )


def render_script(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    kind: str,
    *,
    out_dir: str | None,
    config_option: str = "",
    release: str | None = None,
    unproven: bool = False,
    sources: bool = True,
    text: bool = True,
    alone: bool = False,
) -> Script:
    """The upgrade (or rollback) script for ``span``. ``out_dir`` is the folder as the
    commands in the header name it; ``config_option`` (e.g. ``-c ../app/alembic.ini``) goes
    into the command that regenerates it, for a project that is not the current folder's.
    ``release`` names the release the script belongs to in its audit rows. Without
    ``sources``, its steps' operations keep no Alembic objects (capture_session): for a
    script that is only written, not linted or reviewed. Without ``text``, the script
    comes without its text (Script.text empty), for write_text to write. ``alone``: the
    only script rendered from ``history``; its revision modules are let go once captured
    (History.let_go), and the steps are made in the memory they took."""
    direction = _direction(kind)
    with _let_go_after(history) if alone else contextlib.nullcontext():
        session = capture_session(
            history,
            environment.dialect,
            [(rev, direction) for rev in _order(span, kind)],
            environment=environment,
            sources=sources,
        )
        # Guard and stamps go to the version table the project's env.py configures.
        dialect = replace(
            environment.kind,
            version_table=session.version_table,
            version_table_schema=session.version_table_schema,
            other_version_tables=other_version_tables(project, environment, session.version_table),
            database_name=project.display_name,
        )
        # What the range's destructive steps keep (listed even with backup = off).
        backups = plan_backups(
            history,
            environment.dialect,
            span.revisions,
            upgrades=session if kind == UPGRADE else None,
            environment=environment,
            sources=sources,
        )
    # Any database but the first is named, so the command renders the same database's script.
    named = "" if project.default_database else f"-n {quote(project.database)} "
    # A script for another client than the default says so again (`sql --client plain`).
    client = (
        f" --client {environment.settings['client']}" if "client" in environment.settings else ""
    )
    sql_command = f"schemactl {config_option}{named}sql --env {environment.name}{client}"
    regenerate = f"{sql_command} --from {span.start_label} --to {span.end_label}" + (
        f" --out {quote(out_dir)}" if out_dir else " --stdout"
    )
    path = quote(f"{out_dir}/{kind}.sql" if out_dir else f"{kind}.sql")
    script = Script(
        kind=kind,
        environment=environment,
        dialect=dialect,
        expected=span.start if kind == UPGRADE else span.end,
        result=span.end if kind == UPGRADE else span.start,
        steps=capture_steps(
            history, dialect, span, kind, session, release, backups, environment.backup
        ),
        apply_command=dialect.apply_command(path),
        regenerate_command=regenerate,
        sql_command=sql_command,
        release=release,
        backup=environment.backup,
        recover_command=f"schemactl {config_option}{named}recover --env {environment.name}",
        unproven=unproven,
        prove_command=f"schemactl {config_option}{named}release --prove --env {environment.name}",
    )
    return _with_text(project, script) if text else script


@contextlib.contextmanager
def _let_go_after(history: History) -> Iterator[None]:
    """Capture a script rendered alone, then let its revision modules go (History.let_go).
    A module and its functions refer to each other: one collection frees them. What was
    there before (the imports, the graph) is frozen meanwhile, so the collector walks only
    what the captures made; unless the process froze objects itself (a server that forks),
    whose freeze is left as it is."""
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    try:
        yield
        history.let_go()
        gc.collect()
    finally:
        if freezing:
            gc.unfreeze()


def other_version_tables(
    project: Project, environment: Environment, own: str
) -> tuple[tuple[str, str], ...]:
    """The version tables of the project's other databases as their env.py configures them
    for ``environment``'s dialect, each with its database; one named as ``own`` is left out
    (two databases that both use alembic_version cannot be told apart by it)."""

    found = []
    for name in project.databases:
        if name == project.database:
            continue
        other = for_database(project, name)
        # A scratch environment (a proof's) is not one of the project's: the dialect will do.
        known = environment.name in other.environments
        session = capture_session(
            load_history(other),
            environment.dialect,
            [],
            environment=other.environment(environment.name) if known else None,
        )
        if session.version_table != own:
            found.append((session.version_table, project.shown(name)))
    return tuple(found)


@functools.lru_cache(maxsize=16)
def _template(path: str, modified_ns: int, size: int, root: Path) -> Any:
    """The Mako template at ``path``, compiled once for as long as the file is unchanged
    (a compile costs what rendering a release does), its code kept in the cache of the
    project in folder ``root`` (tools.scripts.template_code)."""
    from tools.scripts.template_code import template

    return template(path, root)


def rendered(project: Project, script: Script) -> Script:
    """``script`` with its text rendered again through the project's template (after its
    steps or header were changed)."""
    return _with_text(project, script)


def write_text(project: Project, script: Script, into: TextIO) -> None:
    """Write ``script``'s text to ``into`` as the project's template renders it, piece by
    piece: the same text as Script.text, never held whole (a script is about six times as
    long as Alembic's output for the same range)."""
    from mako.runtime import Context

    template_path = project.template or DEFAULT_TEMPLATE
    ending = _EndingOnce(into)
    data = {"script": script, "dialect": script.dialect, "comment": comment}
    try:
        found = template_path.stat()
        template = _template(
            str(template_path), found.st_mtime_ns, found.st_size, project.config_path.parent
        )
        # As Template.render does, writing to ``ending`` instead of a buffer of its own.
        template.render_context(Context(ending, **data), **data)
    except Exception as err:
        if err is ending.failed or isinstance(err, SchemactlError):
            # The output could not be written (a full disk), or what the template asked for
            # cannot be written (a step's audit row): not the template's doing.
            raise
        from mako import exceptions

        trace = exceptions.RichTraceback()
        where = next(
            (
                f"line {line}"
                for name, line, *_ in reversed(trace.traceback)
                if name == str(template_path)
            ),
            "an unknown line",
        )
        raise TemplateError(
            template_path, where, f"{type(err).__name__}: {first_line(err)}"
        ) from err
    ending.close()


def _with_text(project: Project, script: Script) -> Script:
    text = io.StringIO()
    write_text(project, script, text)
    return replace(script, text=text.getvalue())


class _EndingOnce:
    """Passes what a template writes on to ``into``, ending it with exactly one newline.
    Lines are left as rendered: a statement's text (string literals included) reaches the
    database byte for byte as the revision wrote it. A template writes in many small
    pieces (tens of thousands at 1,000 revisions): they are passed on in batches of about
    16 KiB, each one write."""

    BATCH = 1 << 14

    def __init__(self, into: TextIO) -> None:
        self.into = into
        self.pending: list[str] = []
        self.size = 0
        self.newlines = 0  # written last, and held back: the end may come next
        self.failed: OSError | None = None

    def write(self, text: str) -> None:
        self.pending.append(text)
        self.size += len(text)
        if self.size >= self.BATCH:
            self._pass_on()

    def _pass_on(self, last: bool = False) -> None:
        pieces = "".join(self.pending)
        self.pending.clear()
        self.size = 0
        body = pieces.rstrip("\n")
        held, self.newlines = self.newlines, len(pieces) - len(body)
        if body:
            text = "\n" * held + body
        else:
            self.newlines += held
            text = ""
        try:
            self.into.write(text + "\n" if last else text)
        except OSError as err:
            self.failed = err
            raise

    def close(self) -> None:
        self._pass_on(last=True)
