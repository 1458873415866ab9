"""What every command shares: the app, its global options, finding the project, printing
errors and progress."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tools.core.errors import SchemactlError
from tools.core.text import terminal

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.live.online import StepDone


app = typer.Typer(
    name="schemactl",
    help="Migrate the BillGenerator schema's databases and show where each one stands.",
    no_args_is_help=True,
    # --install-completion and --show-completion: bash, zsh, fish, PowerShell.
    add_completion=True,
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
    # The database the running command works on when it is not the first: advice in an
    # error names it (`schemactl -n reporting ...`), so the command it suggests works on it.
    named: str | None = None


def _print_version(value: bool) -> None:
    """`schemactl --version`: the installed versions, read from the packages' metadata
    (neither Alembic nor SQLAlchemy is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    if not value:
        return
    found = []
    for name, package in (
        ("schemactl", "billgenerator-schema"),
        ("alembic", "alembic"),
        ("sqlalchemy", "sqlalchemy"),
    ):
        try:
            found.append(f"{name} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    typer.echo(", ".join(found))
    raise typer.Exit()


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
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print schemactl's version (and Alembic's and SQLAlchemy's) and exit.",
            is_eager=True,
            callback=_print_version,
        ),
    ] = False,
) -> None:
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
def _user_errors(ctx: typer.Context) -> Iterator[None]:
    """Print a SchemactlError as one line on stderr and exit 1; let bugs keep their traceback."""
    try:
        yield
    except SchemactlError as err:
        typer.echo(f"Error: {terminal(_for_database(ctx, str(err)))}", err=True)
        raise typer.Exit(code=1) from None


def _for_database(ctx: typer.Context, text: str) -> str:
    """Advice names the database worked on: `schemactl -n reporting ...` for any but the
    first, so the command it suggests works on the same database."""
    from tools.core.text import naming_database

    return naming_database(text, ctx.obj.named if ctx.obj is not None else None)


def _project(ctx: typer.Context, database: str | None = None) -> Project:
    from tools.config import load_project

    project = load_project(ctx.obj.config, _database(ctx, database))
    if not project.default_database:
        ctx.obj.named = project.display_name
    return replace(project, x_arguments=ctx.obj.x_arguments)


def _where(
    ctx: typer.Context, database: str | None, env: str | None
) -> tuple[Project, Environment]:
    """The project and the environment a command works on, resolved once."""
    project = _project(ctx, database)
    return project, project.environment(_env(ctx, env))


def _projects(ctx: typer.Context, database: str | None) -> list[Project]:
    """The project for the database named with -n, else for every database (the first
    first): what the gates (check, release --check and --prove, verify) cover."""
    project = _project(ctx, database)
    if _database(ctx, database) is not None:
        return [project]
    from tools.config import each_database

    return each_database(project)  # each keeps the -x arguments


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


def _count(number: int, noun: str = "revision") -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown(project: Project, path: Path) -> str:
    from tools.scripts.manifest import shown_path

    return shown_path(project, path)


def _help(doc: str | None) -> str | None:
    """A command's docstring as its --help shows it: prose paragraphs rewrapped to the
    terminal; a paragraph of 'Example:' lines kept line for line (Click's \\b marker)."""
    import inspect

    if doc is None:
        return None
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join("\b\n" + p if p.lstrip().startswith("Example:") else p for p in paragraphs)
