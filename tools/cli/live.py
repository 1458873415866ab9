"""Commands on an environment's database: status, upgrade, downgrade, stamp, verify, audit,
backups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tools.cli.common import (
    DatabaseOption,
    EnvOption,
    JsonOption,
    PlanOption,
    _count,
    _echo_json,
    _env,
    _for_database,
    _progress,
    _project,
    _projects,
    _shown,
    _user_errors,
    _where,
    app,
)
from tools.cli.reports import (
    _now_at,
    format_audit,
    format_backups,
    format_diff,
    format_envs,
    format_plan,
    format_recovery,
    format_verification,
)
from tools.core.directions import Direction
from tools.live.status import format_status


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
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Show every revision in apply order, [X] where the environment's database has it.

    Like Django's showmigrations: branch labels, the branch point, merges and heads are marked.

    Example: schemactl --env staging status
    Example: schemactl status --check    # in a deploy script: exit 1 while revisions are pending
    """
    from tools.live import migrate

    with _user_errors(ctx):
        report = migrate.status(*_where(ctx, database, env))
    if as_json:
        _echo_json({"command": "status", **report.as_json()})
    else:
        typer.echo(format_status(report))
    if check and len(report.heads) > 1:
        typer.echo(
            _for_database(
                ctx,
                f"{len(report.heads)} heads ({', '.join(report.heads)}): branches nobody has "
                "merged; join them with `schemactl merge`",
            ),
            err=True,
        )
        raise typer.Exit(code=1)
    if check and report.pending:
        typer.echo(
            _for_database(
                ctx,
                f"{_count(report.pending)} pending; run `schemactl --env "
                f"{report.environment.name} upgrade` (or apply the release's script)",
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
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Upgrade the environment's database to TARGET (default: all heads). --json: the plan
    (with --plan), or where the database stands after the run, as `status --json` says it.

    Example: schemactl upgrade            # dev, to head
    Example: schemactl --env staging upgrade payments@head
    Example: schemactl upgrade --plan     # what would run, changing nothing
    """
    _move(ctx, database, env, target, "upgrade", show_plan, as_json)


@app.command(context_settings={"ignore_unknown_options": True})
def downgrade(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(help="Revision, relative step such as -1, or 'base' for empty.")
    ],
    env: EnvOption = None,
    show_plan: PlanOption = False,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Downgrade the environment's database to TARGET. --json: as for upgrade.

    Example: schemactl downgrade -1
    Example: schemactl --env staging downgrade base
    Example: schemactl downgrade -1 --plan    # what would run, changing nothing
    """
    _move(ctx, database, env, target, "downgrade", show_plan, as_json)


def _move(
    ctx: typer.Context,
    database: str | None,
    env: str | None,
    target: str,
    direction: Direction,
    show_plan: bool,
    as_json: bool = False,
) -> None:
    """upgrade and downgrade: the plan (--plan), or the run with its progress lines."""
    from tools.live import migrate

    if show_plan:
        with _user_errors(ctx):
            planned = migrate.plan_steps(*_where(ctx, database, env), target, direction)
        if as_json:
            _echo_json({"command": "plan", "direction": direction, **planned.as_json()})
        else:
            typer.echo(format_plan(planned))
        return
    run = migrate.upgrade if direction == "upgrade" else migrate.downgrade
    with _user_errors(ctx), _progress() as progress:
        report = run(*_where(ctx, database, env), target, progress.done)
    if as_json:
        _echo_json({"command": direction, **report.as_json()})
    else:
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

    with _user_errors(ctx):
        report = migrate.stamp(*_where(ctx, database, env), target)
    typer.echo(_now_at(report, "stamped at"))


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

    with _user_errors(ctx):
        projects = _projects(ctx, database)
        if len(projects) == 1:  # one database asked (-n), or the project's only one
            report = run(projects[0], projects[0].environment(_env(ctx, env)))
    if len(projects) == 1:
        if as_json:
            _echo_json(report.as_json())
        else:
            typer.echo(format_verification(report))
        if not report.ok:
            raise typer.Exit(code=1)
        return
    outcomes = verify_each(projects, _env(ctx, env))
    done = [(o.database, o.report) for o in outcomes if o.report is not None]
    skipped = [o for o in outcomes if o.skipped]
    if as_json:
        _echo_json(
            [{"database": name, **report.as_json()} for name, report in done]
            + [{"database": o.database, "skipped": o.error} for o in skipped]
        )
    else:
        typer.echo("\n\n".join(format_verification(report) for _, report in done))
    # After the reports: a database this environment gives no URL is skipped, and said so.
    for o in skipped:
        typer.echo(f"skipped database {o.database}: {o.error}", err=True)
    for failed in (o for o in outcomes if o.report is None and not o.skipped):
        typer.echo(f"Error: database {failed.database}: {failed.error}", err=True)
    failed_any = any(o.report is None and not o.skipped for o in outcomes)
    if failed_any or not done or not all(report.ok for _, report in done):
        raise typer.Exit(code=1)


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

    with _user_errors(ctx):
        report = read(*_where(ctx, database, env))
    if as_json:
        _echo_json(report.as_json())
    else:
        typer.echo(format_audit(report))


PurgeBeforeOption = Annotated[
    int | None,
    typer.Option(
        "--purge-before",
        metavar="N",
        help="Render the script that drops the backups of releases numbered below N "
        "(offline; the DBA applies it like any other script).",
        show_default=False,
    ),
]
PurgeOutOption = Annotated[
    Path | None,
    typer.Option("--out", help="With --purge-before: write the script here (default: print it)."),
]


@app.command()
def backups(
    ctx: typer.Context,
    env: EnvOption = None,
    purge_before: PurgeBeforeOption = None,
    out: PurgeOutOption = None,
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

    with _user_errors(ctx):
        project, environment = _where(ctx, database, env)
        if purge_before is not None:
            script, names = kept.purge_script(project, environment, purge_before)
            if out is None:
                typer.echo(script, nl=False)
                return
            kept.write_purge(out, script)
            typer.echo(f"{_shown(project, out)}   drops {_count(len(names), 'backup table')}")
            return
        listing = kept.list_backups(project, environment)
    if as_json:
        _echo_json(listing.as_json())
        return
    typer.echo(format_backups(listing))


@app.command()
def recover(
    ctx: typer.Context,
    env: EnvOption = None,
    revision: Annotated[
        str | None,
        typer.Option(
            help="The revision whose step the script stopped in, when more than one could be "
            "(the script's header lists them).",
            show_default=False,
        ),
    ] = None,
    ran: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="How many of the step's statements ran, where the schema cannot tell (they "
            "change data only): check the data, then say.",
            show_default=False,
        ),
    ] = None,
    finish: Annotated[
        bool,
        typer.Option(
            "--finish", help="Render a script that runs the rest of the step, then stamps it."
        ),
    ] = False,
    undo: Annotated[
        bool,
        typer.Option(
            "--undo", help="Render a script that undoes what of the step ran (stamps nothing)."
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the script to FILE instead of printing it.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """After a script stopped midway on MariaDB (its DDL commits statement by statement) or
    in a step that runs outside a transaction: say which statements of the stopped step ran,
    and render a script that finishes the step (--finish) or undoes them (--undo).

    Only reads the database. Each point of the step is built on a scratch database on the
    same server (dropped afterwards) and compared with the live schema. The script has the
    release scripts' lock, guard, timeouts and audit; an undo is first run on a scratch
    database, which must end at the step's start.

    Example: schemactl recover --env prod
    Example: schemactl recover --env prod --finish --out finish.sql
    Example: schemactl recover --env prod --ran 3 --undo --out undo.sql
    """
    from tools.core.files import write_files
    from tools.live.recover import recover as find
    from tools.live.recover import recovery_script
    from tools.release.ranges import invocation

    if finish and undo:
        typer.echo("Error: give --finish or --undo, not both", err=True)
        raise typer.Exit(code=2)
    with _user_errors(ctx):
        project, environment = _where(ctx, database, env)
        said, undone = find(project, environment, revision=revision, ran=ran, undo=undo)
        script = None
        if said.stopped and (finish or undo):
            how = "finish" if finish else "undo"
            option, _ = invocation(project, None)
            script = recovery_script(
                project,
                said,
                how,
                undone or (),
                config_option=option,
                out=str(out) if out is not None else None,
            )
            if out is not None:
                write_files(out.parent, {out.name: script.text})
    if as_json:
        _echo_json(said.as_json())
    elif script is None or out is not None:
        typer.echo(format_recovery(said))
    if script is not None and out is None:
        typer.echo(script.text, nl=False)
    elif script is not None:
        typer.echo(f"wrote {out}: apply it with {script.apply_command}", err=True)
    if (finish or undo) and not said.stopped:
        typer.echo("nothing to finish or undo: no step stopped midway", err=True)


@app.command()
def envs(
    ctx: typer.Context,
    as_json: JsonOption = False,
    output: Annotated[
        str,
        typer.Option(
            "--format",
            help="text (a table), json (as --json), or html (one self-contained page: the "
            "table, the revision graph with each environment marked, the last audit rows).",
        ),
    ] = "text",
    timeout: Annotated[
        float,
        typer.Option(
            min=0.5,
            max=60,
            help="Seconds each database may take to answer before it counts as unreachable.",
        ),
    ] = 1.5,
    drift: Annotated[
        bool,
        typer.Option(
            "--drift/--no-drift",
            help="Compare each reachable database with its revision's schema, as verify does "
            "(a scratch database per dialect and revision).",
        ),
    ] = True,
) -> None:
    """Every environment and database at once: dialect, reachable or why not, revisions,
    pending revisions, drift, and the last audit row.

    The databases are read at once, each with a timeout: a dead server costs seconds. Exit 0
    when every reachable database is at a released revision (the end of one of its
    environment's releases; every head where none is recorded) without drift, 1 otherwise,
    naming which.

    Example: schemactl envs
    Example: schemactl envs --format html > envs.html
    """
    from tools.live.envs import envs as read

    if output not in ("text", "json", "html"):
        typer.echo(f"Error: --format {output!r}: give text, json or html", err=True)
        raise typer.Exit(code=2)
    if as_json and output == "html":
        typer.echo("Error: --json and --format html are two outputs; give one", err=True)
        raise typer.Exit(code=2)
    with _user_errors(ctx):
        project = _project(ctx, None)
        matrix = read(project, timeout=timeout, drift=drift)
        if output == "html":
            from tools.live.envs_page import envs_page

            typer.echo(envs_page(project, matrix), nl=False)
    if as_json or output == "json":
        _echo_json(matrix.as_json())
    elif output == "text":
        typer.echo(format_envs(matrix))
    bad = [t for t in matrix.targets if t.reachable and not t.ok]
    for target in bad:
        where = f"{target.environment}/{target.database}"
        typer.echo(f"{where}: {'; '.join(target.problems)}", err=True)
    if bad:
        raise typer.Exit(code=1)


@app.command()
def diff(
    ctx: typer.Context,
    left: Annotated[str, typer.Argument(help="The environment compared against.")],
    right: Annotated[
        str | None,
        typer.Argument(help="The environment whose differences are said.", show_default=False),
    ] = None,
    models: Annotated[
        bool, typer.Option("--models", help="Compare LEFT's database with the models instead.")
    ] = False,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """The schema differences between two environments' live databases (tables, columns,
    types, nullability, defaults, keys, indexes, unique and check constraints, enums), or
    between one and the models (--models). Exit 1 when they differ.

    Between two kinds of database (PostgreSQL staging, MariaDB qa) types are compared by
    family and defaults and checks by being there: only what differs in meaning is said.

    Example: schemactl diff staging prod
    Example: schemactl diff prod --models
    Example: schemactl -n reporting diff staging prod --json
    """
    from tools.live.diff import diff as compare_two
    from tools.live.diff import diff_models

    if (right is None) == (not models):
        typer.echo(
            "Error: give two environments (diff staging prod), or one with --models", err=True
        )
        raise typer.Exit(code=2)
    with _user_errors(ctx):
        project = _project(ctx, database)
        if models:
            found = diff_models(project, project.environment(left))
        else:
            assert right is not None
            found = compare_two(project, project.environment(left), project.environment(right))
    if as_json:
        _echo_json(found.as_json())
    else:
        typer.echo(format_diff(found))
    if found.differences:
        raise typer.Exit(code=1)
