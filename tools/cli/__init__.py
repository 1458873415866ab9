"""schemactl: the command line over the tools library.

Commands stay a few lines each: find the project, make one library call, print the result.
Library modules are imported inside the commands so `schemactl --help` loads neither
SQLAlchemy nor Alembic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tools.core.errors import SchemactlError
from tools.core.text import terminal

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.lint.engine import Finding
    from tools.live.audit import AuditReport
    from tools.live.migrate import Plan, Status
    from tools.live.online import StepDone
    from tools.live.verify import Verification

app = typer.Typer(
    name="schemactl",
    help="Migrate the BillGenerator schema's databases and show where each one stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help: paragraphs rewrapped, flags without a type; 80 columns whatever the
    # terminal, so help reads (and diffs) the same everywhere.
    rich_markup_mode=None,
    context_settings={"terminal_width": 80, "max_content_width": 80},
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
PlanOption = Annotated[
    bool,
    typer.Option(
        "--plan",
        help="Show what would run, in order, with each revision's operations; change nothing.",
    ),
]
EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        help="Environment to work on (a [schemactl.env.NAME] section of alembic.ini). "
        "Default: $SCHEMACTL_ENV, else the config's default_env (dev).",
        envvar="SCHEMACTL_ENV",
        show_default=False,
    ),
]
RowsOption = Annotated[
    str | None,
    typer.Option(
        "--rows",
        help="Generated rows per table before each step of a proof (0 to 10000). Default: "
        "proof_rows in [schemactl] (3 unless set).",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        "-n",
        help="Database to work on: an alembic.ini section, as with `alembic -n NAME`. "
        "Default: the first ([alembic]).",
        show_default=False,
    ),
]


@dataclass
class Options:
    config: Path | None
    env: str | None
    x_arguments: tuple[str, ...] = ()
    database: str | None = None


@dataclass
class _Current:
    # The database the running command works on when it is not the first (advice names it).
    named: str | None = None


_current = _Current()


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="The project's alembic.ini (default: ./alembic.ini). Any Alembic project "
            "works, not only this one.",
            envvar="SCHEMACTL_CONFIG",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    database: DatabaseOption = None,
    x_arguments: Annotated[
        list[str] | None,
        typer.Option(
            "-x",
            metavar="KEY=VALUE",
            help="An argument for the project's env.py (context.get_x_argument()), as with "
            "`alembic -x`; repeatable.",
            show_default=False,
        ),
    ] = None,
) -> None:
    _current.named = None
    ctx.obj = Options(
        config=config, env=env, x_arguments=tuple(x_arguments or ()), database=database
    )


class _Progress(logging.Handler):
    """Alembic's 'Running upgrade a -> b, message' lines on stderr, without its chatter, each
    finished with the step's duration as the audit recorded it (as Django's migrate -v2)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = False  # a 'Running' line waits for its duration

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Running "):
            self.close()
            # sys.stderr at emit time, not at creation: callers (and tests) may swap it.
            typer.echo(message, err=True, nl=False)
            self.open = True

    def done(self, step: StepDone) -> None:
        took = "" if step.duration_ms is None else f" ({step.duration_ms:,.1f} ms)"
        # Without its 'Running' line (an env.py that silenced Alembic's log): a line of its own.
        start = "" if self.open else f"Ran {step.direction} {step.revision}"
        typer.echo(f"{start} ... done{took}", err=True)
        self.open = False

    def close(self) -> None:
        if self.open:
            typer.echo("", err=True)
            self.open = False


@contextmanager
def _progress() -> Iterator[_Progress]:
    """Show Alembic's progress lines while one command runs, and only then."""
    logger = logging.getLogger("alembic.runtime.migration")
    handler, level = _Progress(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        handler.close()
        logger.removeHandler(handler)
        logger.setLevel(level)


def _echo_json(data: object) -> None:
    """A report as JSON, keys sorted: the same bytes for the same report."""
    import json

    typer.echo(json.dumps(data, indent=2, sort_keys=True))


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a SchemactlError as one line on stderr and exit 1; let bugs keep their traceback."""
    try:
        yield
    except SchemactlError as err:
        typer.echo(f"Error: {terminal(_for_database(str(err)))}", err=True)
        raise typer.Exit(code=1) from None


def _for_database(text: str) -> str:
    """Advice names the database worked on: `schemactl -n reporting ...` for any but the
    first, so the command it suggests works on the same database."""
    from tools.core.text import naming_database

    return naming_database(text, _current.named)


def _project(ctx: typer.Context, database: str | None = None) -> Project:
    from tools.config import load_project

    project = load_project(ctx.obj.config, _database(ctx, database))
    if not project.default_database:
        _current.named = project.database
    return replace(project, x_arguments=ctx.obj.x_arguments)


def _projects(ctx: typer.Context, database: str | None) -> list[Project]:
    """The project for the database named with -n, else for every database (the first
    first): what the gates (check, release --check and --prove, verify) cover."""
    project = _project(ctx, database)
    if _database(ctx, database) is not None:
        return [project]
    return project.each_database()  # each keeps the -x arguments


def _with_rows(projects: list[Project], rows: str | None) -> list[Project]:
    """The projects with --rows as their proofs' rows per table, when it is given."""
    from tools.config import proof_rows

    if rows is None:
        return projects
    count = proof_rows(rows, "--rows")
    return [replace(p, proof_rows=count) for p in projects]


def _database(ctx: typer.Context, database: str | None) -> str | None:
    """The database named after the command (-n), else before it, else None (the first)."""
    return database or ctx.obj.database


def _env(ctx: typer.Context, env: str | None) -> str | None:
    return env or ctx.obj.env


@app.command()
def status(
    ctx: typer.Context,
    env: EnvOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Exit 1 while revisions are pending (Django's migrate --check) or the history "
            "has several heads (branches nobody merged), 0 when the database has every "
            "revision of one line.",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Show every revision in apply order, [X] where the environment's database has it.

    Like Django's showmigrations: branch labels, the branch point, merges and heads are marked.

    Example: schemactl --env staging status
    Example: schemactl status --check    # in a deploy script: exit 1 while revisions are pending
    """
    from tools.live import migrate

    with _user_errors():
        report = migrate.status(_project(ctx, database), _env(ctx, env))
    typer.echo(format_status(report))
    if check and len(report.heads) > 1:
        typer.echo(
            _for_database(
                f"{len(report.heads)} heads ({', '.join(report.heads)}): branches nobody has "
                "merged; join them with `schemactl merge`"
            ),
            err=True,
        )
        raise typer.Exit(code=1)
    if check and report.pending:
        typer.echo(
            _for_database(
                f"{_count(report.pending)} pending; run `schemactl --env "
                f"{report.environment.name} upgrade` (or apply the release's script)"
            ),
            err=True,
        )
        raise typer.Exit(code=1)


@app.command()
def upgrade(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(help="Revision, branch label, 'label@head', or 'heads' for everything."),
    ] = "heads",
    env: EnvOption = None,
    show_plan: PlanOption = False,
    database: DatabaseOption = None,
) -> None:
    """Upgrade the environment's database to TARGET (default: all heads).

    Example: schemactl upgrade            # dev, to head
    Example: schemactl --env staging upgrade payments@head
    Example: schemactl upgrade --plan     # what would run, changing nothing
    """
    from tools.live import migrate

    if show_plan:
        with _user_errors():
            planned = migrate.plan(_project(ctx, database), _env(ctx, env), target, "upgrade")
        typer.echo(format_plan(planned))
        return
    with _user_errors(), _progress() as progress:
        report = migrate.upgrade(_project(ctx, database), _env(ctx, env), target, progress.done)
    typer.echo(_now_at(report))


@app.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="Revision, relative step such as -1, or 'base' for empty.")
    ],
    env: EnvOption = None,
    show_plan: PlanOption = False,
    database: DatabaseOption = None,
) -> None:
    """Downgrade the environment's database to TARGET.

    Example: schemactl downgrade -1
    Example: schemactl --env staging downgrade base
    Example: schemactl downgrade -1 --plan    # what would run, changing nothing
    """
    from tools.live import migrate

    if show_plan:
        with _user_errors():
            planned = migrate.plan(_project(ctx, database), _env(ctx, env), target, "downgrade")
        typer.echo(format_plan(planned))
        return
    with _user_errors(), _progress() as progress:
        report = migrate.downgrade(_project(ctx, database), _env(ctx, env), target, progress.done)
    typer.echo(_now_at(report))


@app.command()
def stamp(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="Revision, branch label, 'label@head', 'heads' or 'base'.")
    ],
    env: EnvOption = None,
    database: DatabaseOption = None,
) -> None:
    """Set the database's version to TARGET without running any revision.

    For a database that already has the schema (adopting it), or a dev database left on a
    revision of another git branch: whatever alembic_version held is replaced (like
    `alembic stamp --purge`), and schemactl_audit gets a 'stamp' row.

    Example: schemactl stamp heads
    Example: schemactl --env staging stamp 9ecdc98b5e8a
    """
    from tools.live import migrate

    with _user_errors():
        report = migrate.stamp(_project(ctx, database), _env(ctx, env), target)
    typer.echo(_now_at(report, "stamped at"))


@app.command()
def sql(
    ctx: typer.Context,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Where the database is: a revision, comma-separated heads (a database that "
            "took two feature branches sits on two), or 'base'. Default: where the "
            "environment's last release ends, else base.",
            show_default=False,
        ),
    ] = None,
    target: Annotated[
        str, typer.Option("--to", help="Revision, label, 'label@head' or 'heads'.")
    ] = "heads",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for upgrade.sql and rollback.sql. Default: var/sql/ENV/ "
            "(var/sql/ENV/NAME/ in a project of several databases).",
            show_default=False,
        ),
    ] = None,
    stdout: Annotated[
        bool,
        typer.Option(
            "--stdout",
            help="Print the script from --from to --to instead of writing files.",
        ),
    ] = False,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="With --stdout: print the script that goes back."),
    ] = False,
    env: EnvOption = None,
    database: DatabaseOption = None,
) -> None:
    """Render the upgrade and rollback SQL scripts for a range, offline.

    Needs only the environment's dialect: no database URL, no server. The scripts guard
    against the wrong database, record an audit row per revision, and are byte-identical
    each time they are rendered. A --to behind --from goes back: for a database whose
    script stopped midway (at the revision alembic_version records), rollback.sql takes it
    back to where that script started.

    Example: schemactl sql --env prod --from 9ecdc98b5e8a --to heads --stdout
    Example: schemactl sql --env staging --from fa4621c62bf9,fcac57c435d7
    Example: schemactl sql --env mariadb --from fcac57c435d7 --to 9ecdc98b5e8a
    """
    from tools.release import release
    from tools.scripts import manifest

    if rollback and not stdout:
        typer.echo(
            "Error: --rollback picks the script --stdout prints; without --stdout both "
            "upgrade.sql and rollback.sql are written",
            err=True,
        )
        raise typer.Exit(code=2)
    from tools.history.load import NothingToRender

    with _user_errors():
        project = _project(ctx, database)
        environment = project.environment(_env(ctx, env))
        try:
            if stdout:
                kind = "rollback" if rollback else "upgrade"
                script = release.sql_one(
                    project, environment.name, kind, start=start, target=target
                )
            else:
                folder, upgrade, down = release.sql(
                    project, environment.name, start=start, target=target, out=out
                )
        except NothingToRender as nothing:
            # Not an error, as for `release`: the range is empty. Nothing is written (and
            # with --stdout nothing is printed where a script would be).
            start_at = ",".join(sorted(nothing.start)) or "base"
            typer.echo(
                f"Nothing to render: a database at {start_at} already has "
                f"{','.join(sorted(nothing.target)) or 'base'}; nothing was written.",
                err=stdout,
            )
            return
    if stdout:
        typer.echo(script.text, nl=False)
        return
    shown = manifest.shown_path(project, folder)
    if upgrade.kind == "upgrade":
        typer.echo(
            f"{shown}/upgrade.sql    {_count(len(upgrade.steps))}, to {_heads(upgrade.result)}"
        )
        typer.echo(f"{shown}/rollback.sql   back to {_heads(down.result)}")
    else:  # --to is behind --from: the way there is the rollback script
        typer.echo(
            f"{shown}/rollback.sql   {_count(len(upgrade.steps))} undone, from "
            f"{_heads(upgrade.expected)} back to {_heads(upgrade.result)}"
        )
        typer.echo(f"{shown}/upgrade.sql    the way forward again, to {_heads(down.result)}")


@app.command("release")
def release_command(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Option("--to", help="Revision, label, 'label@head' or 'heads'.")
    ] = "heads",
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Verify every recorded release and fail on any edited file (sha256s of the "
            "manifest), gap in the chain, or revision file changed since its release; a "
            "release of the current script format is also re-rendered byte for byte. All "
            "environments unless --env is given.",
        ),
    ] = False,
    prove: Annotated[
        bool,
        typer.Option(
            "--prove",
            help="Prove every recorded release again, writing nothing: apply the scripts "
            "in order with the real client to a scratch database with generated rows in "
            "every table (upgrade, compare schema and data with Alembic online, rollback, "
            "compare with the rows before, upgrade again). All environments with releases "
            "unless --env is given.",
        ),
    ] = False,
    env: EnvOption = None,
    rows: RowsOption = None,
    database: DatabaseOption = None,
) -> None:
    """Render the next release into sql_out/ENV/: upgrade, rollback, review and manifest.

    A release goes from the environment's last release (or base) to --to. Before anything is
    written the release is proven: on a scratch database of the environment's kind (from
    $SCHEMACTL_SCRATCH_<DIALECT>_URL or scratch_<dialect>_url in [schemactl]; SQLite needs
    none), brought to the release's start by the earlier releases' upgrade scripts and filled
    with generated rows, the new upgrade.sql, rollback.sql and upgrade.sql again are applied
    with the real client (psql, mariadb, sqlite3): schema and data must equal Alembic's online
    upgrade from the same rows, and the rollback must give every row back. Commit the folder:
    the scripts are what the DBA reviews and applies.

    Example: schemactl release --env prod
    Example: schemactl release --check
    Example: schemactl release --prove --env prod
    """
    from tools.release import release
    from tools.scripts import manifest

    if check and prove:
        typer.echo(
            "Error: --check and --prove are two gates; run them one after the other", err=True
        )
        raise typer.Exit(code=2)
    with _user_errors():
        (project,) = _with_rows([_project(ctx, database)], rows)
        if prove:
            proven = release.prove_all(_with_rows(_projects(ctx, database), rows), _env(ctx, env))
        elif check:
            report = release.check_all(_projects(ctx, database), _env(ctx, env))
        else:
            made = release.release(project, _env(ctx, env), target=target)
            environment = project.environment(_env(ctx, env))
    if prove:
        for where, on in proven:
            typer.echo(f"proven {where}  ({on})")
        typer.echo(
            f"{len(proven)} release(s) proven with rows: upgrade, rollback and upgrade again "
            "apply and keep the data"
        )
        return
    if check:
        for problem in report.problems:
            typer.echo(f"FAIL {problem}", err=True)
        if report.problems:
            typer.echo(
                f"{len(report.problems)} problem(s) in {len(report.checked)} release(s)", err=True
            )
            raise typer.Exit(code=1)
        typer.echo(
            f"{len(report.checked)} release(s) verified (sha256s; the current format re-rendered "
            "byte for byte): all current"
        )
        return
    if made is None:
        typer.echo(
            f"Nothing to release: {environment.name}'s last release already reaches the target."
        )
        return
    folder = manifest.shown_path(project, manifest.env_dir(project, environment) / made.name)
    typer.echo(
        f"{folder}/  {_count(len(made.revisions))}, {_heads(made.start)} -> {_heads(made.end)}"
    )
    for name in manifest.RELEASE_FILES:
        typer.echo(f"  {name}")
    if made.proven:
        typer.echo(f"proven on {made.proven['client']}, {made.proven['server']}")


branch_app = typer.Typer(
    help="Feature branches: Alembic branch labels off the trunk head.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(branch_app, name="branch")

MessageOption = Annotated[
    str | None,
    typer.Option("--message", "-m", help="The revision's message.", show_default=False),
]


@branch_app.command("start")
def branch_start(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The branch label: a lowercase identifier.")],
    database: DatabaseOption = None,
) -> None:
    """Start a feature branch: a revision labelled NAME on the trunk head.

    Example: schemactl branch start invoicing
    """
    from tools.authoring import revisions

    with _user_errors():
        project = _project(ctx, database)
        written = revisions.start_branch(project, name)
    typer.echo(f"Started branch {name}: {_shown(project, written.path)}")
    typer.echo(
        _for_database(
            f"Add revisions to it with: `schemactl makemigrations --branch {name} -m MESSAGE`"
        )
    )


@branch_app.command("list")
def branch_list(
    ctx: typer.Context,
    database: DatabaseOption = None,
) -> None:
    """List the branches: first and head revision, size, merged or open, tables touched.

    Example: schemactl branch list
    """
    from tools.authoring import revisions

    with _user_errors():
        branches = revisions.list_branches(_project(ctx, database))
    if not branches:
        typer.echo(_for_database("No branches yet; start one with `schemactl branch start NAME`."))
        return
    width = max(len("branch"), *(len(b.label) for b in branches))
    typer.echo(f"{'branch'.ljust(width)}  first         head          revs  state   tables")
    for b in branches:
        tables = ", ".join(b.tables) if b.tables is not None else "(cannot render offline)"
        state = "merged" if b.merged else "open"
        typer.echo(
            f"{b.label.ljust(width)}  {b.first}  {b.head}  {b.count:>4}  {state:<6}  {tables}"
        )


@app.command()
def makemigrations(
    ctx: typer.Context,
    message: MessageOption = None,
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            "-b",
            help="Branch to add the revision to, or 'trunk' (the default while no branch is open).",
            show_default=False,
        ),
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="Write a revision even with no model changes.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Autogenerate a revision from the models, like Django's makemigrations.

    The file is named NNNN_<rev>_<slug>.py and formatted by ruff; without -m, the slug and
    message come from what changed (add_invoices_discount).

    Example: schemactl makemigrations --branch invoicing -m "Add invoices.discount"
    """
    from tools.authoring import revisions

    with _user_errors():
        project = _project(ctx, database)
        written = revisions.makemigrations(project, message=message, branch=branch, empty=empty)
    if written is None:
        typer.echo("No changes detected")
        return
    lines = [_shown(project, written.path), f"  {written.message.splitlines()[0]}"]
    lines += [f"    {line}" for line in written.operations] or [
        "    (no operations: write its upgrade() and downgrade())"
    ]
    typer.echo("\n".join(lines))


@app.command()
def merge(
    ctx: typer.Context,
    heads: Annotated[
        list[str] | None,
        typer.Argument(help="Heads to merge (revisions or labels); default: all heads."),
    ] = None,
    message: MessageOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write the merge even when conflicts are found.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Merge heads into one, after checking that the branches do not conflict.

    Lists the objects more than one branch changed since their common ancestor, and whether
    applying the branches in another order gives another schema. With conflicts nothing is
    written (exit 1) unless --force.

    Example: schemactl merge
    Example: schemactl merge payments@head discounts@head -m "Release 2.3"
    """
    from tools.authoring.merge import merge_heads

    with _user_errors():
        project = _project(ctx, database)
        result = merge_heads(project, heads, message=message, force=force)
    analysis, written = result.analysis, result.written
    typer.echo(f"Merging {', '.join(analysis.heads)} (common ancestor: {_heads(analysis.base)})")
    for line, revs in analysis.lines.items():
        typer.echo(f"  {line}: {_count(len(revs))}")
    if analysis.raw_sql:
        typer.echo(
            f"Raw SQL not analysed (the order check covers it): {', '.join(analysis.raw_sql)}"
        )
    if not analysis.conflicts:
        aside = " (raw SQL aside)" if analysis.raw_sql else ""
        typer.echo(
            "Checked: no table, column, index, constraint, enum or table data is changed by "
            f"more than one branch{aside}."
        )
    if analysis.order_skipped:
        typer.echo(f"Order check skipped: {analysis.order_skipped}.")
    elif analysis.orders and not analysis.order_problems:
        typer.echo(
            f"Checked: {', and '.join(analysis.orders)} give the same schema (scratch SQLite)."
        )
    for conflict in analysis.conflicts:
        typer.echo(f"CONFLICT {conflict}", err=True)
        typer.echo(f"  {conflict.advice}", err=True)
    for problem in analysis.order_problems:
        typer.echo(f"ORDER {problem}", err=True)
    if analysis.order_problems:
        suspects = f" (raw SQL, as in {', '.join(analysis.raw_sql)}, is the usual cause)"
        typer.echo(
            _for_database(
                "  to resolve: change the revision whose result depends on the other branch so "
                f"that it no longer does{suspects if analysis.raw_sql else ''}; then run "
                "`schemactl merge` again"
            ),
            err=True,
        )
    if written is None:
        typer.echo(
            "Nothing written: resolve the conflicts (or merge anyway with --force).", err=True
        )
        raise typer.Exit(code=1)
    typer.echo(f"{_shown(project, written.path)}\n  {written.message.splitlines()[0]}")


@app.command()
def squash(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Option(
            "--to",
            help="The last revision to squash: every environment's last release has it.",
            show_default=False,
        ),
    ],
    message: MessageOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan: the files that go, the new revision.")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Replace the history from base to a revision by one revision (Django's squashmigrations).

    The new revision keeps the id of --to, so a database at it or later notices nothing; it
    creates the schema at that revision (generated from it) and repeats the data changes of
    the range, and its docstring lists what could not be carried over. The squashed files
    move to squashed/REV/, where `release --check` still verifies every recorded release.
    A database before --to is refused by upgrade, with the way to bring it there.

    Example: schemactl squash --to 9ecdc98b5e8a --dry-run
    Example: schemactl squash --to 9ecdc98b5e8a -m "Squash the 2025 history"
    """
    from tools.authoring import squash as squashing

    with _user_errors():
        project = _project(ctx, database)
        planned = squashing.plan(project, target, message)
        if not dry_run:
            squashing.write(project, planned)
    verb = "would move" if dry_run else "moved"
    lines = [
        f"Squash base .. {planned.target}: {_count(len(planned.squashed))} into one",
        f"  {verb} to {_shown(project, planned.archive)}/:",
        *(f"    {path.name}" for path in planned.files),
        f"  {'would write' if dry_run else 'wrote'} {_shown(project, planned.path)}",
    ]
    if planned.checked:
        releases = ", ".join(f"{env} {rel}" for env, rel in sorted(planned.checked.items()))
        lines.append(f"  every environment's last release has it: {releases}")
    else:
        lines.append("  no environment has recorded releases: nothing to check it against")
    typer.echo("\n".join(lines))
    if dry_run:
        typer.echo("\n" + planned.source, nl=False)


@app.command()
def rebase(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The branch to move onto the trunk head.")],
    database: DatabaseOption = None,
) -> None:
    """Move an unmerged, unreleased branch onto the current trunk head.

    Rewrites the branch's first revision's down_revision and renames its files to their new
    depth. Refuses merged branches and branches with a revision in a recorded release.

    Example: schemactl rebase invoicing
    """
    from tools.authoring import revisions

    with _user_errors():
        project = _project(ctx, database)
        moved = revisions.rebase(project, name)
    typer.echo(f"Rebased {name} onto the trunk head:")
    for written in moved:
        typer.echo(f"  {_shown(project, written.path)}")


@app.command()
def check(
    ctx: typer.Context,
    as_json: JsonOption = False,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Fail a check that cannot run here instead of skipping it."),
    ] = False,
    rows: RowsOption = None,
    database: DatabaseOption = None,
) -> None:
    """The CI gate: one head, models match migrations, everything renders, the migrations
    run, sql_out/ current.

    migrations-run:DIALECT takes every revision no release contains yet up, down and up
    again, with generated rows in every table, on scratch databases of each kind the
    environments name (servers from $SCHEMACTL_SCRATCH_<DIALECT>_URL or
    scratch_<dialect>_url in [schemactl]; SQLite needs none): its scripts must leave the
    data Alembic online leaves, and its rollback every row it found. Every problem is
    reported at once; the exit code is 1 if there is any. A check that cannot run here (no
    scratch server, no target_metadata) is reported as skipped; with --strict it fails.

    Example: schemactl check
    Example: schemactl check --json --rows 50
    """
    from tools.release import checks

    with _user_errors():
        report = checks.run_all(_with_rows(_projects(ctx, database), rows), strict=strict)
    if as_json:
        _echo_json(report.as_json())
    else:
        for name in report.checks:
            mine = [f for f in report.findings if f.check == name]
            if name in report.skipped:
                typer.echo(f"skip {name}: {report.skipped[name]}")
                continue
            typer.echo(f"{'FAIL' if mine else 'ok  '} {name}")
            for finding in mine:
                typer.echo(f"     {finding.message}")
    if not report.ok:
        raise typer.Exit(code=1)


def _count(number: int, noun: str = "revision") -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown(project: Project, path: Path) -> str:
    from tools.scripts.manifest import shown_path

    return shown_path(project, path)


@app.command("lint")
def lint_command(
    ctx: typer.Context,
    span: Annotated[
        str | None,
        typer.Argument(
            help="FROM:TO, e.g. 9ecdc98b5e8a:heads (default: what the environment's next "
            "release would run, from its last recorded release, or base, to every head).",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Flag dangerous operations: drops, locks, renames, NOT NULL without default, and more.

    Judged for the environment's dialect (PostgreSQL lock rules only apply there). Exit 1
    when an error is not silenced; silence a rule in a revision with a comment:
    # schemactl: allow RULE: reason

    Example: schemactl lint --env prod
    Example: schemactl lint 9ecdc98b5e8a:heads --env prod --json
    """
    from tools.lint import engine as lint
    from tools.release import release

    with _user_errors():
        project = _project(ctx, database)
        released = release.last_released(project, _env(ctx, env))
        linted, findings = lint.lint(project, _env(ctx, env), span, released=released)
    if linted is None and not as_json:
        typer.echo(
            f"Nothing to lint: the last release ({_heads(released)}) already reaches every head."
        )
        return
    blocking = lint.blocking(findings)
    if as_json:
        report = {"ok": not blocking, "findings": [f.as_json() for f in findings]}
        _echo_json(report)
    else:
        for finding in findings:
            typer.echo(str(finding))
            typer.echo(f"    why: {finding.why}")
            typer.echo(f"    fix: {finding.fix}")
        typer.echo(lint_summary(findings, blocking))
    if blocking:
        raise typer.Exit(code=1)


@app.command()
def verify(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Compare a live database with the schema its revision should have: report drift.

    Builds the expected schema in a scratch database on the same server (dropped afterwards)
    and reports missing or extra tables, columns, types, nullability, indexes and
    constraints, revision files edited after the audit table says they were applied, and
    revisions whose last audit row disagrees with alembic_version. Exit 1 on any of them.
    Every database of the project is verified unless -n names one (--json: a list, one
    report per database, then).

    Example: schemactl verify --env staging
    Example: schemactl verify --env prod --json
    """
    from tools.live.verify import verify as run
    from tools.live.verify import verify_each

    with _user_errors():
        projects = _projects(ctx, database)
        if len(projects) == 1:  # one database asked (-n), or the project's only one
            report = run(projects[0], _env(ctx, env))
    if len(projects) == 1:
        if as_json:
            _echo_json(report.as_json())
        else:
            typer.echo(format_verification(report))
        if not report.ok:
            raise typer.Exit(code=1)
        return
    outcomes = verify_each(projects, _env(ctx, env))
    for failed in (o for o in outcomes if o.report is None):
        typer.echo(f"Error: database {failed.database}: {failed.error}", err=True)
    done = [(o.database, o.report) for o in outcomes if o.report is not None]
    if as_json:
        _echo_json([{"database": name, **report.as_json()} for name, report in done])
    else:
        typer.echo("\n\n".join(format_verification(report) for _, report in done))
    if len(done) < len(outcomes) or not all(report.ok for _, report in done):
        raise typer.Exit(code=1)


def format_verification(report: Verification) -> str:
    at = ", ".join(report.current) or "base (empty)"
    lines = [
        f"Environment {_titled(report.environment)}: {report.url}",
        f"Database at {at}; compared with a scratch database upgraded to the same.",
    ]
    lines += [f"DRIFT {drift}" for drift in report.drift]
    lines += [f"EDITED {edited}" for edited in report.edited]
    lines += [f"AUDIT {disagree}" for disagree in report.disagree]
    if report.audit_rows is None:
        lines.append("No audit table: revision file checksums not compared.")
    if report.ok:
        lines.append("No drift: the database matches its revision exactly.")
    else:
        lines.append(f"{report.problems} problem(s)")
    return "\n".join(lines)


@app.command()
def audit(
    ctx: typer.Context,
    env: EnvOption = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Show who applied what to the environment's database, when, and how long it took.

    Every row of schemactl_audit, oldest first (as Flyway's info): revision, direction, the
    step's start by the server's clock, its duration, the release it came from (or
    'online'), who ran it, and whether the revision file still has the sha256 it had then.
    Then the slowest steps and the time per release. Rows written before script format 4
    have no start or duration. Reads only; exit 0.

    Example: schemactl audit --env staging
    Example: schemactl audit --env prod --json
    """
    from tools.live.audit import audit as read

    with _user_errors():
        report = read(_project(ctx, database), _env(ctx, env))
    if as_json:
        _echo_json(report.as_json())
    else:
        typer.echo(format_audit(report))


@app.command()
def backups(
    ctx: typer.Context,
    env: EnvOption = None,
    purge_before: Annotated[
        int | None,
        typer.Option(
            "--purge-before",
            metavar="N",
            help="Render the script that drops the backups of releases numbered below N "
            "(offline; the DBA applies it like any other script).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="With --purge-before: write the script here (default: print it)."
        ),
    ] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """List the backup tables of the environment's database, or render the script that
    drops old ones.

    A release's destructive steps (dropping a column or table, narrowing a type) keep what
    they drop in backup tables, which its rollback script puts back and drops. This lists
    those still there, with the release that took each, its rows and its size.

    Example: schemactl backups --env staging
    Example: schemactl backups --env prod --purge-before 5 --out purge.sql
    """
    from tools.live import backups as kept

    with _user_errors():
        project = _project(ctx, database)
        if purge_before is not None:
            script, names = kept.purge_script(project, _env(ctx, env), purge_before)
            if out is None:
                typer.echo(script, nl=False)
                return
            kept.write_purge(out, script)
            typer.echo(f"{_shown(project, out)}   drops {_count(len(names), 'backup table')}")
            return
        listing = kept.list_backups(project, _env(ctx, env))
    if as_json:
        _echo_json(listing.as_json())
        return
    env_ = listing.environment
    typer.echo(f"Backups in {_titled(env_)}: {listing.url}")
    if not listing.backups:
        typer.echo("None: every destructive step kept here was rolled back, or none ran.")
        return
    rows = [
        (
            b.table,
            b.release or "-",
            _count(b.rows, "row"),
            "-" if b.size is None else f"{b.size:,} bytes",
        )
        for b in listing.backups
    ]
    typer.echo("\n".join(_columns([("backup table", "release", "rows", "size"), *rows])))


def format_audit(report: AuditReport) -> str:
    env_ = report.environment
    lines = [f"Audit of {_titled(env_)}: {report.url}"]
    if report.rows is None:
        lines.append("No audit table: nothing was applied here by schemactl.")
        return "\n".join(lines)
    if not report.rows:
        lines.append("The audit table is empty.")
        return "\n".join(lines)
    # What the audit table holds is the database's text: shown escaped (terminal()).
    table = [
        tuple(
            terminal(cell)
            for cell in (
                str(row.id),
                row.revision,
                row.direction,
                row.when,
                _ms(row.duration_ms),
                row.source,
                row.applied_by or "-",
                row.file,
            )
        )
        for row in report.rows
    ]
    head = ("#", "revision", "direction", "started (server clock)", "took", "release", "by", "file")
    lines += _columns([head, *table], right=frozenset({0, 4}))
    if report.slowest:
        lines.append("")
        lines.append("Slowest steps:")
        for row in report.slowest:
            lines.append(
                terminal(
                    f"  {_ms(row.duration_ms):>12}  {row.direction} {row.revision}  "
                    f"(#{row.id}, {row.source})"
                )
            )
    lines.append("")
    lines.append("Time per release:")
    lines += [
        "  " + line
        for line in _columns(
            [
                (
                    terminal(r.release or "(not a release)"),
                    terminal(r.direction),
                    _count(r.steps, "step"),
                    _ms(r.total_ms),
                )
                for r in report.per_release
            ],
            right=frozenset({2, 3}),
        )
    ]
    if report.edited:
        revisions = sorted({row.revision for row in report.edited})
        lines.append("")
        lines.append(
            f"EDITED since applied: {', '.join(revisions)} (the revision file's sha256 differs "
            "from the one recorded; `schemactl verify` says whether the schema differs too)"
        )
    return "\n".join(lines)


def lint_summary(findings: list[Finding], blocking: list[Finding]) -> str:
    """'3 findings: 2 errors (1 silenced), 1 warning; 1 error stops a release' and the like."""
    if not findings:
        return "No findings."
    errors = [f for f in findings if f.severity == "error"]
    silenced = len(errors) - len(blocking)
    parts = [_count(len(errors), "error") + (f" ({silenced} silenced)" if silenced else "")]
    others = len(findings) - len(errors)
    if others:
        parts.append(_count(others, "warning"))
    verdict = (
        f"{_count(len(blocking), 'error')} not silenced: lint fails and release refuses"
        if blocking
        else "nothing stops a release"
    )
    return f"{_count(len(findings), 'finding')}: {', '.join(parts)}; {verdict}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms"


def _columns(rows: list[tuple[str, ...]], right: frozenset[int] = frozenset()) -> list[str]:
    """Rows laid out in aligned columns (those in ``right`` aligned right)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


class GraphFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"


@app.command()
def graph(
    ctx: typer.Context,
    form: Annotated[
        GraphFormat, typer.Option("--format", help="text: a tree; mermaid: for docs.")
    ] = GraphFormat.text,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            "-e",
            help="Mark each revision [X] or [ ] by what this environment's database has "
            "(also taken from the global --env or $SCHEMACTL_ENV).",
            show_default=False,
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Show the revision graph: branch points, branches and their labels, merges, heads.

    Example: schemactl graph
    Example: schemactl --env staging graph
    Example: schemactl graph --format mermaid > docs/revisions.mmd
    """
    from tools.history import graph as drawing
    from tools.history.load import load_graph
    from tools.live import migrate

    chosen = _env(ctx, env)
    with _user_errors():
        project = _project(ctx, database)
        revisions = load_graph(project.alembic_config())
        have = migrate.applied(project, chosen) if chosen else None
    if form is GraphFormat.mermaid:
        lines = drawing.mermaid(revisions, revisions.order, applied=have or ())
    else:
        lines = drawing.text_tree(revisions, have)
    typer.echo("\n".join(lines))


def _heads(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions) or "base"


def _now_at(report: Status, where: str = "at") -> str:
    at = ", ".join(report.current) or "base (empty)"
    return f"{_titled(report.environment)} is now {where} {at}"


def format_plan(planned: Plan) -> str:
    env = planned.environment
    at = ", ".join(planned.current) or "base (empty)"
    if not planned.steps:
        return f"Nothing to run: {_titled(env)} at {at} is already there."
    direction = planned.steps[0].direction
    lines = [
        f"Plan for {_titled(env)}: {planned.url}",
        f"Database at {at}; {direction} would run {_count(len(planned.steps))}, in this order:",
    ]
    for number, step in enumerate(planned.steps, 1):
        branch = f"[{step.branch}] " if step.branch else ""
        lines.append(f"  {number:2d}. {step.direction} {step.revision}  {branch}{step.message}")
        if step.operations is None:
            lines.append("        (cannot be shown offline: it reads from the database)")
        for operation in step.operations or ():
            lines.append(f"        {operation}")
    lines.append("Nothing was changed (--plan).")
    return "\n".join(lines)


def _titled(env: Environment) -> str:
    """An environment as output names it: 'dev (sqlite)', and the database when it is not the
    project's first: 'dev (sqlite), database reporting'."""
    return f"{env.name} ({env.dialect})" + (f", database {env.database}" if env.database else "")


def format_status(report: Status) -> str:
    env = report.environment
    lines = [
        f"Environment {_titled(env)}: {report.url}",
        f"Database at {', '.join(report.current) or 'base (empty)'}; "
        f"{report.applied_count} of {len(report.rows)} revisions applied",
    ]
    width = max((len(row.branch or "") for row in report.rows), default=0)
    for row in report.rows:
        mark = "[X]" if row.applied else "[ ]"
        branch = f"{(row.branch or '').ljust(width)}  " if width else ""
        markers = f"  ({', '.join(row.markers)})" if row.markers else ""
        lines.append(f"{mark} {row.depth:04d} {row.revision}  {branch}{row.message}{markers}")
    return "\n".join(lines)


def _help(doc: str | None) -> str | None:
    """A command's docstring as its --help shows it: prose paragraphs rewrapped to the
    terminal; a paragraph of 'Example:' lines kept line for line (Click's \\b marker)."""
    import inspect

    if doc is None:
        return None
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join("\b\n" + p if p.lstrip().startswith("Example:") else p for p in paragraphs)


for _typer in (app, branch_app):
    for _command in _typer.registered_commands:
        if _command.help is None and _command.callback is not None:
            _command.help = _help(_command.callback.__doc__)


def main() -> None:
    import gc

    # A run loads every revision file and holds what it renders until it prints. Measured on
    # long histories: the cyclic collector walked those objects over and over, and once more
    # at exit, for nothing (they live until the process ends). Fewer collections while it
    # runs, and none at exit; every object is still finalised as usual.
    gc.set_threshold(50_000, 20, 100)
    # What the library has to tell beside its result (a revision file read by importing
    # it), on stderr, as a note.
    notes = logging.StreamHandler()
    notes.setFormatter(logging.Formatter("Note: %(message)s"))
    library = logging.getLogger("schemactl")
    library.addHandler(notes)
    library.propagate = False
    try:
        app(prog_name="schemactl")
    finally:
        gc.freeze()
