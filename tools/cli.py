"""schemactl: the command line over the tools library.

Commands stay a few lines each: find the project, make one library call, print the result.
Library modules are imported inside the commands so `schemactl --help` loads neither
SQLAlchemy nor Alembic.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tools.errors import SchemactlError

if TYPE_CHECKING:
    from tools.config import Project
    from tools.migrate import Status

app = typer.Typer(
    name="schemactl",
    help="Migrate the BillGenerator schema's databases and show where each one stands.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EnvOption = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        # Rich reads [..] as markup: the bracket is escaped to be shown.
        help="Environment to work on (a \\[schemactl.env.NAME] section of alembic.ini). "
        "Default: $SCHEMACTL_ENV, else the config's default_env (dev).",
        envvar="SCHEMACTL_ENV",
        show_default=False,
    ),
]


@dataclass
class Options:
    config: Path | None
    env: str | None


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
) -> None:
    ctx.obj = Options(config=config, env=env)


class _Progress(logging.Handler):
    """Alembic's 'Running upgrade a -> b, message' lines on stderr, without its chatter."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Running "):
            # sys.stderr at emit time, not at creation: callers (and tests) may swap it.
            typer.echo(message, err=True)


def _show_progress() -> None:
    logger = logging.getLogger("alembic.runtime.migration")
    if not any(isinstance(handler, _Progress) for handler in logger.handlers):
        logger.addHandler(_Progress())
    logger.setLevel(logging.INFO)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print a SchemactlError as one line on stderr and exit 1; let bugs keep their traceback."""
    try:
        yield
    except SchemactlError as err:
        typer.echo(f"Error: {err}", err=True)
        raise typer.Exit(code=1) from None


def _project(ctx: typer.Context) -> Project:
    from tools.config import load_project

    return load_project(ctx.obj.config)


def _env(ctx: typer.Context, env: str | None) -> str | None:
    return env or ctx.obj.env


@app.command()
def status(ctx: typer.Context, env: EnvOption = None) -> None:
    """Show every revision in apply order, [X] where the environment's database has it.

    Like Django's showmigrations: branch labels, the branch point, merges and heads are marked.

    Example: schemactl --env staging status
    """
    from tools import migrate

    with _user_errors():
        report = migrate.status(_project(ctx), _env(ctx, env))
    typer.echo(format_status(report))


@app.command()
def upgrade(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(help="Revision, branch label, 'label@head', or 'heads' for everything."),
    ] = "heads",
    env: EnvOption = None,
) -> None:
    """Upgrade the environment's database to TARGET (default: all heads).

    Example: schemactl upgrade            # dev, to head
    Example: schemactl --env staging upgrade payments@head
    """
    from tools import migrate

    _show_progress()
    with _user_errors():
        report = migrate.upgrade(_project(ctx), _env(ctx, env), target)
    typer.echo(_now_at(report))


@app.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="Revision, relative step such as -1, or 'base' for empty.")
    ],
    env: EnvOption = None,
) -> None:
    """Downgrade the environment's database to TARGET.

    Example: schemactl downgrade -1
    Example: schemactl --env staging downgrade base
    """
    from tools import migrate

    _show_progress()
    with _user_errors():
        report = migrate.downgrade(_project(ctx), _env(ctx, env), target)
    typer.echo(_now_at(report))


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
            help="Folder for upgrade.sql and rollback.sql. Default: var/sql/ENV/.",
            show_default=False,
        ),
    ] = None,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the upgrade script instead of writing files.")
    ] = False,
    rollback: Annotated[
        bool, typer.Option("--rollback", help="With --stdout: print the rollback script.")
    ] = False,
    env: EnvOption = None,
) -> None:
    """Render the upgrade and rollback SQL scripts for a range, offline.

    Needs only the environment's dialect: no database URL, no server. The scripts guard
    against the wrong database, record an audit row per revision, and are byte-identical
    each time they are rendered.

    Example: schemactl sql --env prod --from 9ecdc98b5e8a --to heads --stdout
    Example: schemactl sql --env staging --from fa4621c62bf9,fcac57c435d7
    """
    from tools import release

    with _user_errors():
        project = _project(ctx)
        environment = project.environment(_env(ctx, env))
        if stdout:
            out = None
        elif out is None:
            out = project.root / "var" / "sql" / environment.name
        upgrade, down = release.sql(project, environment.name, start=start, target=target, out=out)
    if stdout:
        typer.echo((down if rollback else upgrade).text, nl=False)
        return
    assert out is not None
    shown = release.shown_path(project, out)
    typer.echo(
        f"{shown}/upgrade.sql    {len(upgrade.steps)} revisions, to {_heads(upgrade.result)}"
    )
    typer.echo(f"{shown}/rollback.sql   back to {_heads(down.result)}")


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
            help="Re-render every recorded release and fail on any difference, edited file, "
            "gap in the chain, or revision file changed since its release. All environments "
            "unless --env is given.",
        ),
    ] = False,
    env: EnvOption = None,
) -> None:
    """Render the next release into sql_out/ENV/: upgrade, rollback, review and manifest.

    A release goes from the environment's last release (or base) to --to. Commit the folder:
    the scripts are what the DBA reviews and applies.

    Example: schemactl release --env prod
    Example: schemactl release --check
    """
    from tools import release

    with _user_errors():
        project = _project(ctx)
        if check:
            report = release.check(project, _env(ctx, env))
        else:
            made = release.release(project, _env(ctx, env), target=target)
            environment = project.environment(_env(ctx, env))
    if check:
        for problem in report.problems:
            typer.echo(f"FAIL {problem}", err=True)
        if report.problems:
            typer.echo(
                f"{len(report.problems)} problem(s) in {len(report.checked)} release(s)", err=True
            )
            raise typer.Exit(code=1)
        typer.echo(f"{len(report.checked)} release(s) re-rendered byte for byte: all current")
        return
    if made is None:
        typer.echo(
            f"Nothing to release: {environment.name}'s last release already reaches the target."
        )
        return
    folder = release.shown_path(project, release.env_dir(project, environment) / made.name)
    typer.echo(
        f"{folder}/  {len(made.revisions)} revisions, {_heads(made.start)} -> {_heads(made.end)}"
    )
    for name in release.RELEASE_FILES:
        typer.echo(f"  {name}")


def _heads(revisions: tuple[str, ...]) -> str:
    return ",".join(revisions) or "base"


def _now_at(report: Status) -> str:
    at = ", ".join(report.current) or "base (empty)"
    env = report.environment
    return f"{env.name} ({env.dialect}) is now at {at}"


def format_status(report: Status) -> str:
    env = report.environment
    lines = [
        f"Environment {env.name} ({env.dialect}): {report.url}",
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


def main() -> None:
    app(prog_name="schemactl")
