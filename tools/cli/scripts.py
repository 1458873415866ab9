"""Commands that write and judge DBA scripts: sql, release, check, lint."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tools.cli.common import (
    DatabaseOption,
    EnvOption,
    JsonOption,
    RowsOption,
    _count,
    _echo_json,
    _env,
    _project,
    _projects,
    _user_errors,
    _where,
    _with_rows,
    app,
)
from tools.cli.reports import (
    _heads,
    format_measured,
    lint_summary,
)

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.load import NothingToRender
    from tools.proof.prove import ProvenOn
    from tools.release.release import CheckReport
    from tools.scripts.manifest import Release
    from tools.scripts.render import Script


FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Where the database is: a revision, comma-separated heads (a database that "
        "took two feature branches sits on two), or 'base'. Default: where the "
        "environment's last release ends, else base.",
        show_default=False,
    ),
]
ToOption = Annotated[
    str, typer.Option("--to", help="Revision, label, 'label@head', 'label@base' or 'heads'.")
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Folder for upgrade.sql and rollback.sql. Default: var/sql/ENV/ "
        "(var/sql/ENV/NAME/ in a project of several databases).",
        show_default=False,
    ),
]
StdoutOption = Annotated[
    bool,
    typer.Option("--stdout", help="Print the script from --from to --to instead of writing files."),
]
RollbackOption = Annotated[
    bool, typer.Option("--rollback", help="With --stdout: print the script that goes back.")
]
CheckOption = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Verify every recorded release and fail on any edited file (sha256s of the "
        "manifest), gap in the chain, or revision file changed since its release; a "
        "release of the current script format is also re-rendered byte for byte. All "
        "environments unless --env is given.",
    ),
]
ProveOption = Annotated[
    bool,
    typer.Option(
        "--prove",
        help="Prove every recorded release again, writing nothing: apply the scripts "
        "in order with the real client to a scratch database with generated rows in "
        "every table (upgrade, compare schema and data with Alembic online, rollback, "
        "compare with the rows before, upgrade again). All environments with releases "
        "unless --env is given.",
    ),
]


@app.command()
def sql(
    ctx: typer.Context,
    start: FromOption = None,
    target: ToOption = "heads",
    out: OutOption = None,
    stdout: StdoutOption = False,
    rollback: RollbackOption = False,
    env: EnvOption = None,
    client: Annotated[
        str | None,
        typer.Option(
            "--client",
            help="Which client the scripts are for, where a kind of database has variants "
            "(PostgreSQL: psql, the default, or plain: no meta-commands, for pgAdmin or "
            "DBeaver); as the environment's client setting says otherwise.",
            show_default=False,
        ),
    ] = None,
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
    Example: schemactl sql --env prod --client plain --stdout    # for a GUI client
    """
    from tools.release import ranges
    from tools.scripts import manifest

    if rollback and not stdout:
        typer.echo(
            "Error: --rollback picks the script --stdout prints; without --stdout both "
            "upgrade.sql and rollback.sql are written",
            err=True,
        )
        raise typer.Exit(code=2)
    from tools.history.load import NothingToRender

    with _user_errors(ctx):
        project, environment = _where(ctx, database, env)
        if client is not None:
            environment = environment.with_client(client)
        try:
            if stdout:
                kind = "rollback" if rollback else "upgrade"
                script = ranges.sql_one(project, environment, kind, start=start, target=target)
            else:
                folder, upgrade, down = ranges.sql(
                    project, environment, start=start, target=target, out=out
                )
        except NothingToRender as nothing:
            # Not an error, as for `release`: the range is empty. Nothing is written (and
            # with --stdout nothing is printed where a script would be).
            typer.echo(_nothing(nothing), err=stdout)
            return
    if stdout:
        typer.echo(script.text, nl=False)
        return
    _print_written(manifest.shown_path(project, folder), upgrade, down)


def _nothing(nothing: NothingToRender) -> str:
    start_at = ",".join(sorted(nothing.start)) or "base"
    return (
        f"Nothing to render: a database at {start_at} already has "
        f"{','.join(sorted(nothing.target)) or 'base'}; nothing was written."
    )


def _print_written(shown: str, upgrade: Script, down: Script) -> None:
    """Where sql wrote its two scripts, the one that goes the way asked first."""
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
    target: ToOption = "heads",
    check: CheckOption = False,
    prove: ProveOption = False,
    env: EnvOption = None,
    rows: RowsOption = None,
    as_json: JsonOption = False,
    no_prove: Annotated[
        bool,
        typer.Option(
            "--no-prove",
            help="Write the release without a scratch server: neither measured nor proven, "
            "and marked so in manifest.json and review.md; `release --prove` proves it later.",
        ),
    ] = False,
    force_unstaged: Annotated[
        str | None,
        typer.Option(
            "--force-unstaged",
            metavar="REASON",
            help="For an environment that requires another (requires = staging): write the "
            "release although that one's audit does not show every revision run; the reason "
            "and the missing revisions go into manifest.json and review.md.",
            show_default=False,
        ),
    ] = None,
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

    An environment that requires another (requires = staging in [schemactl.env.prod]) takes
    only revisions whose last step in that one's audit is an upgrade of the file as it is now:
    the first missing one is named, and nothing is written.

    Example: schemactl release --env prod
    Example: schemactl release --check
    Example: schemactl release --prove --env prod
    """
    from tools.release import release

    if check and prove:
        typer.echo(
            "Error: --check and --prove are two gates; run them one after the other", err=True
        )
        raise typer.Exit(code=2)
    if force_unstaged is not None and (check or prove):
        typer.echo(
            "Error: --force-unstaged writes a release; --check and --prove write none", err=True
        )
        raise typer.Exit(code=2)
    if no_prove and (check or prove):
        typer.echo("Error: --no-prove writes a release; --check and --prove write none", err=True)
        raise typer.Exit(code=2)
    if as_json and (check or prove):
        typer.echo(
            "Error: --json reports the release written; --check and --prove report as text "
            "(exit 1 on any problem)",
            err=True,
        )
        raise typer.Exit(code=2)
    with _user_errors(ctx):
        (project,) = _with_rows([_project(ctx, database)], rows)
        if prove:
            proven = release.prove_all(_with_rows(_projects(ctx, database), rows), _env(ctx, env))
        elif check:
            report = release.check_all(_projects(ctx, database), _env(ctx, env))
        else:
            environment = project.environment(_env(ctx, env))
            made = release.release(
                project,
                environment,
                target=target,
                prove=not no_prove,
                force_unstaged=force_unstaged,
            )
    if as_json and not (prove or check):
        _echo_json(_made_json(project, environment, made))
    elif prove:
        _print_proven(proven)
    elif check:
        _print_checked(report)
    else:
        _print_made(project, environment, made)


def _print_proven(proven: list[tuple[str, ProvenOn]]) -> None:
    for where, on in proven:
        typer.echo(f"proven {where}  ({on})")
    typer.echo(
        f"{len(proven)} release(s) proven with rows: upgrade, rollback and upgrade again "
        "apply and keep the data"
    )


def _print_checked(report: CheckReport) -> None:
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


def _made_json(project: Project, environment: Environment, made: Release | None) -> dict[str, Any]:
    """release --json: the release written (as manifest.json records it) and its folder;
    null when there was nothing to release."""
    from tools.scripts import manifest

    folder = (
        manifest.shown_path(project, manifest.env_dir(project, environment) / made.name)
        if made is not None
        else None
    )
    shown = made.as_json() if made is not None else None
    return {"command": "release", **environment.as_json(), "folder": folder, "release": shown}


def _print_made(project: Project, environment: Environment, made: Release | None) -> None:
    from tools.scripts import manifest

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
    if made.unstaged is not None:
        typer.echo(
            f"NOT staged: {made.unstaged.required} had not run "
            f"{', '.join(made.unstaged.missing)}; written anyway (--force-unstaged: "
            f"{made.unstaged.reason})"
        )
    if made.unproven:
        typer.echo(
            f"NOT proven (--no-prove): run `schemactl release --prove --env {environment.name}` "
            "where a scratch server is at hand before it is applied"
        )


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

    with _user_errors(ctx):
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
        for name, measured in report.measured.items():
            if measured:
                typer.echo(f"measured {name}")
                typer.echo(textwrap.indent(format_measured(measured), "     "))
        for name, why in report.static.items():
            typer.echo(f"static {name}: lint's verdicts only ({why})")
    if not report.ok:
        raise typer.Exit(code=1)


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
    measure: Annotated[
        bool,
        typer.Option(
            "--measure",
            help="Also run the statements on a scratch database of the environment's "
            "dialect, at the range's start with rows in every table, and say what the server "
            "did: PostgreSQL the tables it rewrote and the locks it held, MariaDB the "
            "cheapest ALGORITHM and LOCK it accepted. Needs the dialect's scratch server.",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Flag dangerous operations: drops, locks, renames, NOT NULL without default, and more.

    Judged for the environment's dialect (PostgreSQL lock rules only apply there). Exit 1
    when an error is not silenced; silence a rule in a revision with a comment:
    # schemactl: allow RULE: reason. The rules judge offline (static verdicts); --measure
    asks the server.

    Example: schemactl lint --env prod
    Example: schemactl lint 9ecdc98b5e8a:heads --env prod --json
    Example: schemactl lint --env prod --measure
    """
    from tools.lint import engine as lint
    from tools.proof.measure import measure_environment, measurements_json, observed_at
    from tools.release import ranges

    with _user_errors(ctx):
        project, environment = _where(ctx, database, env)
        released = ranges.last_released(project, environment)
        linted, findings = lint.lint(project, environment, span, released=released)
        measured = measure_environment(project, environment, linted) if measure and linted else None
    if linted is None and not as_json:
        typer.echo(
            f"Nothing to lint: the last release ({_heads(released)}) already reaches every head."
        )
        return
    blocking = lint.blocking(findings)
    seen = observed_at(measured) if measured is not None else {}
    if as_json:
        report: dict[str, object] = {
            "ok": not blocking,
            "findings": [
                {**f.as_json(), "measured": seen.get((f.revision, f.line))} for f in findings
            ],
            "verdicts": "measured" if measured is not None else "static",
        }
        if measured is not None:
            report["measured"] = measurements_json(measured)
        _echo_json(report)
    else:
        for finding in findings:
            typer.echo(str(finding))
            typer.echo(f"    why: {finding.why}")
            typer.echo(f"    fix: {finding.fix}")
            if (finding.revision, finding.line) in seen:
                typer.echo(f"    measured: {seen[finding.revision, finding.line]}")
        if measured is not None:
            typer.echo(format_measured(measured))
        typer.echo(lint_summary(findings, blocking))
    if blocking:
        raise typer.Exit(code=1)
