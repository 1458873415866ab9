"""Commands that write revision files: branch, makemigrations, merge, squash, rebase; and graph."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tools.cli.common import (
    DatabaseOption,
    _count,
    _echo_json,
    _env,
    _for_database,
    _project,
    _shown,
    _user_errors,
    app,
)
from tools.cli.reports import (
    _heads,
)

if TYPE_CHECKING:
    from tools.authoring.conflicts import Analysis


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

    with _user_errors(ctx):
        project = _project(ctx, database)
        written = revisions.start_branch(project, name)
    typer.echo(f"Started branch {name}: {_shown(project, written.path)}")
    typer.echo(
        _for_database(
            ctx, f"Add revisions to it with: `schemactl makemigrations --branch {name} -m MESSAGE`"
        )
    )


@branch_app.command("list")
def branch_list(
    ctx: typer.Context,
    database: DatabaseOption = None,
) -> None:
    """List the branches: first and head revision, size, merged or open, tables touched.

    A branch's revisions are those Alembic gives its label (what LABEL@head and LABEL@-1
    count among): its line, every revision after it, merges and later trunk revisions
    included, and the unlabelled start of its line. Its tables are those its own line's
    revisions touch.

    Example: schemactl branch list
    """
    from tools.authoring import revisions

    with _user_errors(ctx):
        branches = revisions.list_branches(_project(ctx, database))
    lines = revisions.format_branches(branches)
    typer.echo(_for_database(ctx, lines[0]) if not branches else "\n".join(lines))


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
    rename: Annotated[
        list[str] | None,
        typer.Option(
            "--rename",
            metavar="TABLE.OLD:NEW",
            help="Write this column's drop and add as a rename (its values kept); "
            "repeatable. Without it, makemigrations asks on a terminal, as Django's does.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing: exit 1, listing them, when the models have changes no "
            "revision holds yet (as Django's makemigrations --check).",
        ),
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Autogenerate a revision from the models, like Django's makemigrations.

    The file is named NNNN_<rev>_<slug>.py (the slug at most truncate_slug_length long, as
    Alembic's) and formatted by ruff; without -m, the slug and message come from what
    changed (add_invoices_discount).

    Example: schemactl makemigrations --branch invoicing -m "Add invoices.discount"
    Example: schemactl makemigrations --check
    Example: schemactl makemigrations --rename customers.billing_address:postal_address
    """
    from tools.authoring import revisions

    if check:
        if message or branch or empty or rename:
            typer.echo(
                "Error: --check writes nothing; -m, --branch, --empty and --rename are for "
                "writing a revision: run it without --check",
                err=True,
            )
            raise typer.Exit(code=2)
        _check_models(ctx, database)
        return
    from tools.authoring import renames

    with _user_errors(ctx):
        project = _project(ctx, database)
        written = revisions.makemigrations(
            project,
            message=message,
            branch=branch,
            empty=empty,
            rename=renames.parse(rename or ()),
            confirm=_ask_rename if sys.stdin.isatty() and not rename else None,
        )
    if written is None:
        typer.echo("No changes detected")
        return
    lines = [_shown(project, written.path), f"  {written.message.splitlines()[0]}"]
    lines += [f"    {line}" for line in written.operations] or [
        "    (no operations: write its upgrade() and downgrade())"
    ]
    typer.echo("\n".join(lines))


def _ask_rename(rename: Any) -> bool:
    """Django's question, on the terminal."""
    return typer.confirm(f"Did you rename {rename}?", default=False, err=True)


def _check_models(ctx: typer.Context, database: str | None) -> None:
    """makemigrations --check: the models against every head, on the default environment's
    kind of database; exit 1 with the changes when a revision is missing."""
    from tools.history.load import load_history
    from tools.release.checks import models_match_migrations

    with _user_errors(ctx):
        project = _project(ctx, database)
        problems = models_match_migrations(project, load_history(project))
    if problems:
        for problem in problems:
            typer.echo(problem)
        raise typer.Exit(code=1)
    typer.echo("No changes detected")


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

    with _user_errors(ctx):
        project = _project(ctx, database)
        result = merge_heads(project, heads, message=message, force=force)
    analysis, written = result.analysis, result.written
    _print_analysis(ctx, analysis)
    if written is None:
        typer.echo(
            "Nothing written: resolve the conflicts (or merge anyway with --force).", err=True
        )
        raise typer.Exit(code=1)
    typer.echo(f"{_shown(project, written.path)}\n  {written.message.splitlines()[0]}")


def _print_analysis(ctx: typer.Context, analysis: Analysis) -> None:
    """What merge found: each branch, the conflicts, and whether the order matters."""
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
                ctx,
                "  to resolve: change the revision whose result depends on the other branch so "
                f"that it no longer does{suspects if analysis.raw_sql else ''}; then run "
                "`schemactl merge` again",
            ),
            err=True,
        )


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

    with _user_errors(ctx):
        project = _project(ctx, database)
        planned = squashing.plan_squash(project, target, message)
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

    with _user_errors(ctx):
        project = _project(ctx, database)
        moved = revisions.rebase(project, name)
    typer.echo(f"Rebased {name} onto the trunk head:")
    for written in moved:
        typer.echo(f"  {_shown(project, written.path)}")


class GraphFormat(StrEnum):
    text = "text"
    mermaid = "mermaid"
    json = "json"


@app.command()
def graph(
    ctx: typer.Context,
    form: Annotated[
        GraphFormat,
        typer.Option("--format", help="text: a tree; mermaid: for docs; json: for programs."),
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
    Example: schemactl graph --format json
    """
    from tools.history import graph as drawing
    from tools.history.load import project_graph

    chosen = _env(ctx, env)
    with _user_errors(ctx):
        project = _project(ctx, database)
        revisions = project_graph(project)
        have = None
        if chosen:
            from tools.live import migrate

            have = migrate.applied(project, project.environment(chosen))
    if form is GraphFormat.json:
        _echo_json(
            {
                "command": "graph",
                **(project.environment(chosen).as_json() if chosen else {}),
                **drawing.as_json(revisions, have),
            }
        )
        return
    if form is GraphFormat.mermaid:
        lines = drawing.mermaid(revisions, revisions.order, applied=have or ())
    else:
        lines = drawing.text_tree(revisions, have)
    typer.echo("\n".join(lines))
