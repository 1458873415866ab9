"""The stairway: every revision not yet released goes up, down and up again, with rows.

`schemactl check` runs it on scratch databases of every kind the environments name, so a
downgrade that only one server refuses (MariaDB will not drop an index a foreign key needs),
a script that writes other values than Alembic online (a `%` doubled), or a rollback that
cannot give the rows back is caught before any release. Released revisions are applied once
to reach the first unreleased one; from there, for each revision in apply order, every
table gets generated rows (tools.proof.rows), and:

- its upgrade script (rendered for that one revision) is applied with the real client, and
  the twin database upgraded by Alembic online: schema and data must be the same;
- its rollback script is applied: the schema and every row must be what they were;
- its upgrade script again: schema and data as after the first;
- the twin goes down and up online: the schema as before and after (what `schemactl
  downgrade` does in development must work too).

Each step runs exactly that one revision, whatever other branches the database holds. A
revision that cannot be rendered offline (`renders-offline` reports it) is stepped online
only, its schema compared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.config import Environment
from tools.core.text import listing, shown_file
from tools.history.load import Range, heads_of
from tools.proof import scratch
from tools.proof.prove import (
    ProofFailed,
    ScriptFailed,
    State,
    StepFacts,
    Twins,
    differences,
    step_facts,
    twins,
)
from tools.proof.snapshot import compare
from tools.scripts.capture import RenderError
from tools.scripts.manifest import released_revisions
from tools.scripts.render import render_scripts

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL

    from tools.config import Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction, Graph, RevisionId
    from tools.history.load import History
    from tools.proof.contents import DataDifference
    from tools.scripts.render import Script


def pending(project: Project, history: History) -> list[RevisionId]:
    """The revisions no recorded release contains yet, in apply order."""

    released = released_revisions(project)
    return [rev for rev in history.graph.order if rev not in released]


def applied_before(graph: Graph, todo: list[RevisionId]) -> set[RevisionId]:
    """What a walk over ``todo`` starts from: every revision but those and what builds on
    them."""
    later, stack = set(todo), list(todo)
    while stack:
        for child in graph[stack.pop()].children:
            if child not in later:
                later.add(child)
                stack.append(child)
    return set(graph.order) - later


def stairway(
    project: Project,
    history: History,
    kind: ScriptDialect,
    server: URL | None,
    *,
    revisions: list[RevisionId] | None = None,
    rows: int | None = None,
) -> list[str]:
    """Up, down and up again, with ``rows`` generated rows in every table (the project's
    proof_rows by default), for every pending revision (or each of ``revisions``, in apply
    order) on scratch databases of ``kind``; one message per problem (the walk stops at the
    first revision that fails)."""
    graph = history.graph
    todo = revisions if revisions is not None else pending(project, history)
    if not todo:
        return []
    applied = applied_before(graph, todo)
    proof_rows = project.proof_rows if rows is None else rows
    with twins(project, kind, server, "schemactl_stairway", rows=proof_rows) as pair:
        scripted = scratch.scratch_config(project, kind, pair.scripted)
        for head in heads_of(graph, applied):
            scratch.upgrade(scripted, head)
            scratch.upgrade(pair.config, head)
        for rev in todo:
            where = f"{rev} ({shown_file(graph[rev].path)})"
            start = heads_of(graph, applied)
            applied.add(rev)
            span = Range(start, heads_of(graph, applied), (rev,))
            try:
                problem = _step(project, history, pair, scripted, span, where)
            except scratch.ScratchStepFailed as err:
                problem = f"{err}; fix it in {shown_file(graph[rev].path)}"
            except ProofFailed as err:
                problem = f"{where} on {kind.title}: {err}"
            if problem:
                return [problem]
        return []


def _step(
    project: Project, history: History, pair: Twins, scripted: Config, span: Range, where: str
) -> str | None:
    """One revision up, down and up on both databases; the first problem, said plainly."""

    kind = pair.kind
    (rev,) = span.revisions
    environment = Environment(name="scratch", dialect=kind.name, settings=kind.settings)
    upgrade: Script | None
    rollback: Script | None
    try:
        upgrade, rollback = render_scripts(project, environment, history, span, out_dir=None)
    except RenderError:
        upgrade = rollback = None  # `renders-offline` says why: online only, below
    facts = step_facts(history, kind, span.revisions, backups=True)
    pair.seed(facts.narrowed)
    before = pair.state(pair.scripted)
    if upgrade is not None and rollback is not None:
        after, problem = _scripted(pair, upgrade, rollback, rev, before, facts, where)
        if problem:
            return problem
    else:
        scratch.step(scripted, rev, "upgrade")
        scratch.step(pair.config, rev, "upgrade")
        after = pair.state(pair.online)
    return _online(pair, rev, before, after, facts, where)


def _scripted(
    pair: Twins,
    upgrade: Script,
    rollback: Script,
    rev: RevisionId,
    before: State,
    facts: StepFacts,
    where: str,
) -> tuple[State, str | None]:
    """The revision's scripts up, down and up with the client; the state after its upgrade
    (online equals it) and the first problem."""
    on = f"on {pair.kind.title}"
    problem = _applied(pair, upgrade.text, "upgrade", where)
    if problem:
        return before, problem
    after = pair.state(pair.scripted)
    scratch.step(pair.config, rev, "upgrade")
    problem = _differs(
        pair.state(pair.online),
        after,
        facts,
        f"the upgrade script of {where} gives another schema than Alembic online {on}",
        f"the upgrade script of {where} leaves other data than Alembic online from the "
        f"same rows {on} (offline must equal online)",
        fix="make its offline SQL do what it does online",
    )
    if problem:
        return after, problem
    problem = _applied(pair, rollback.text, "downgrade", where) or _differs(
        before,
        pair.state(pair.scripted),
        facts,
        f"the downgrade of {where} does not undo its upgrade {on}",
        f"the rollback script of {where} does not give every row back {on}",
        rollback=True,
    )
    if problem:
        return after, problem
    pair.fresh_counters(pair.scripted)
    problem = _applied(pair, upgrade.text, "upgrade", where) or _differs(
        after,
        pair.state(pair.scripted),
        facts,
        f"upgrading {where} again after its downgrade gives another schema {on}",
        f"upgrading {where} again after its rollback leaves other data {on}",
    )
    return after, problem


def _online(
    pair: Twins, rev: RevisionId, before: State, after: State, facts: StepFacts, where: str
) -> str | None:
    """Down and up again online, as `schemactl downgrade` and `upgrade` run it in
    development; the first problem."""
    on = f"on {pair.kind.title}"
    steps: tuple[tuple[Direction, State, str], ...] = (
        ("downgrade", before, f"the downgrade of {where} does not undo its upgrade {on}"),
        (
            "upgrade",
            after,
            f"upgrading {where} again after its downgrade gives another schema {on}",
        ),
    )
    for direction, expected, what in steps:
        scratch.step(pair.config, rev, direction)
        problem = _differs(expected, pair.state(pair.online), facts, what, None)
        if problem:
            return problem
        if direction == "downgrade":
            pair.fresh_counters(pair.online)
    return None


def _applied(pair: Twins, text: str, direction: Direction, where: str) -> str | None:
    """Apply a script of one revision with the client; the problem, when it stops."""
    script = "upgrade" if direction == "upgrade" else "rollback"
    try:
        pair.apply(text, f"the {script} script of {where}")
    except ScriptFailed as err:
        return (
            f"the {direction} of {where} fails on {pair.kind.title} as a script ({err.error}, "
            f"at `{err.statement}`); fix its {direction}"
        )
    return None


def _differs(
    expected: State,
    actual: State,
    facts: StepFacts,
    schema_problem: str,
    data_problem: str | None,
    *,
    rollback: bool = False,
    fix: str = "fix its downgrade",
) -> str | None:
    """The problem, when ``actual`` is not ``expected`` (``data_problem`` None: the schema
    alone is compared: an online downgrade keeps no backups)."""

    data: list[DataDifference]
    if data_problem is None:
        schema, data = compare(expected.schema, actual.schema), []
    else:
        schema, data = differences(expected, actual, facts, rollback=rollback)
    if schema:
        return f"{schema_problem} ({listing([str(d) for d in schema])}); {fix}"
    if data:
        return f"{data_problem} ({'; '.join(str(d) for d in data[:3])}); {fix}"
    return None
