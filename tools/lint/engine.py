"""Lint: what each revision does that a DBA would want to know before running it.

Rules look at the Alembic operations captured while rendering offline, and at raw SQL from
op.execute parsed with sqlglot (never by hand). Each rule is one function; its docstring says
why it exists. A revision silences a rule with a comment naming it and giving a reason,
anywhere in the file:

    # schemactl: allow destructive: the column was never read by any release

The reason is kept and shown in the review. Errors stop `schemactl release` unless silenced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError
from tools.dialects import rule_applies
from tools.history.graph import BOTH_WAYS
from tools.history.load import NothingToRender, load_history, plan_range, resolve_heads
from tools.lint import squawk
from tools.lint.findings import ERROR, Facts, Finding, Rule, _short
from tools.lint.mariadb import implicit_commit, table_copy
from tools.lint.postgresql import overrules, plain_json, postgresql_locks
from tools.lint.rules import (
    constraint_change,
    data_rewrites,
    destructive,
    enum_lifecycle,
    index_needed_by_foreign_key,
    irreversible,
    not_null_without_default,
    offline_unsafe,
    renames,
    renders,
    unique_on_existing_table,
)
from tools.lint.sqlite import alter_column_unsupported, table_rebuild
from tools.scripts.capture import capture_session
from tools.scripts.shapes import Shapes
from tools.scripts.statements import split

if TYPE_CHECKING:
    from tools.config import Environment
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction
    from tools.history.load import History, Range
    from tools.lint.squawk import Hit as SquawkHit
    from tools.scripts.capture import Operation, Session, Statement
    from tools.scripts.shapes import Shapes

_SILENCE = re.compile(r"#\s*schemactl:\s*allow\s+([a-z0-9-]+)\s*:?\s*(.*)$")


SQUAWK = "squawk"
FAMILIES = frozenset({SQUAWK})

RULES: dict[str, Rule] = {
    "destructive": destructive,
    "not-null-without-default": not_null_without_default,
    "unique-on-existing-table": unique_on_existing_table,
    "postgresql-locks": postgresql_locks,
    "postgresql-json": plain_json,
    "rename": renames,
    "constraint-change": constraint_change,
    "data-rewrite": data_rewrites,
    "offline-unsafe": offline_unsafe,
    "renders": renders,
    "irreversible": irreversible,
    "enum-lifecycle": enum_lifecycle,
    "index-needed-by-foreign-key": index_needed_by_foreign_key,
    "table-copy": table_copy,
    "implicit-commit": implicit_commit,
    "table-rebuild": table_rebuild,
    "alter-column-unsupported": alter_column_unsupported,
}


# -- helpers the rules share --------------------------------------------------------------------


def silences(path: Path) -> dict[str, str]:
    """The rules a revision file silences, each with its reason (Python's tokenizer finds the
    comments; a string that merely looks like one does not count)."""
    found: dict[str, str] = {}
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            match = _SILENCE.match(token.string)
            if match:
                found[match.group(1)] = match.group(2).strip()
    return found


# -- running ------------------------------------------------------------------------------------


def facts_for(
    history: History,
    dialect: ScriptDialect,
    rev: str,
    direction: Direction = "upgrade",
    session: Session | None = None,
    shapes: Shapes | None = None,
) -> Facts:
    """What the rules see of one revision; ``session`` holds it captured both ways."""

    revision = history.graph[rev]
    reverse: Direction = "downgrade" if direction == "upgrade" else "upgrade"
    if session is None:
        session = capture_session(history, dialect.name, [(rev, direction), (rev, reverse)])
    try:
        captured = session.get(rev, direction)
    except SchemactlError as err:
        return Facts(revision, dialect, direction, (), (), (), frozenset(), render_error=err)
    try:
        back = session.get(rev, reverse)
        reverse_operations, reverse_statements = back.operations, back.statements
        reverse_error = None
    except SchemactlError as err:
        reverse_operations, reverse_statements, reverse_error = None, (), err
    # A table this step creates has no rows and no readers yet, in either direction.
    new_tables = _created(captured.operations)
    raw = tuple(
        (dataclasses.replace(s, sql=piece.sql), piece)
        for s in captured.statements
        if s.operation in ("execute_sql", None)  # op.execute, or the bind's own execute
        for piece in split(s.sql, dialect.sqlglot)
    )
    return Facts(
        revision,
        dialect,
        direction,
        captured.operations,
        captured.statements,
        raw,
        new_tables,
        reverse_operations=reverse_operations,
        reverse_statements=reverse_statements,
        reverse_error=reverse_error,
        shapes=shapes,
    )


def lint_revision(
    history: History,
    dialect: ScriptDialect,
    rev: str,
    direction: Direction = "upgrade",
    session: Session | None = None,
    shapes: Shapes | None = None,
    squawked: tuple[tuple[Statement, SquawkHit], ...] = (),
    created: frozenset[str] = frozenset(),
) -> list[Finding]:
    """One revision's findings; ``created``: tables revisions before it in the same range
    created (new to the database the script runs on: no rows, no readers)."""

    facts = facts_for(history, dialect, rev, direction, session, shapes)
    facts = dataclasses.replace(facts, squawk=squawked, new_tables=facts.new_tables | created)
    allowed = silences(facts.revision.path)
    findings = []
    for name, rule in RULES.items():
        if not rule_applies(dialect, name):
            continue
        for hit in rule(facts):
            findings.append(
                Finding(
                    rule=name,
                    severity=hit.severity,
                    revision=rev,
                    path=facts.revision.path,
                    line=hit.line,
                    message=hit.message,
                    why=hit.why,
                    fix=hit.fix,
                    silenced=allowed.get(name),
                )
            )
    findings += _from_squawk(facts, findings, allowed)
    known = set(RULES) | squawk.RULES
    for name, reason in allowed.items():
        if name not in known or not reason:
            findings.append(
                Finding(
                    rule="silence",
                    severity=ERROR,
                    revision=rev,
                    path=facts.revision.path,
                    line=None,
                    message=f"'# schemactl: allow {name}' "
                    + ("names no rule" if name not in known else "gives no reason"),
                    why="a silenced rule must say which rule and why, for the reviewer",
                    fix="write '# schemactl: allow RULE: reason' with one of: "
                    f"{', '.join(RULES)}, or a squawk rule (see `schemactl lint`)",
                )
            )
    return findings


# squawk's rules that say what one of schemactl's says: one finding, not two, on a line.
_SAME_AS = {
    "ban-drop-column": "destructive",
    "ban-drop-table": "destructive",
    "ban-drop-database": "destructive",
    "ban-truncate-cascade": "destructive",
    "adding-required-field": "not-null-without-default",
    "adding-not-nullable-field": "not-null-without-default",
    "renaming-column": "rename",
    "renaming-table": "rename",
    "require-concurrent-index-creation": "postgresql-locks",
    "require-concurrent-index-deletion": "postgresql-locks",
    "constraint-missing-not-valid": "postgresql-locks",
    "adding-foreign-key-constraint": "postgresql-locks",
    "changing-column-type": "postgresql-locks",
    "adding-field-with-default": "postgresql-locks",
    "disallowed-unique-constraint": "postgresql-locks",
    "adding-primary-key-constraint": "postgresql-locks",
    "adding-serial-primary-key-field": "postgresql-locks",
}


# squawk's rules whose statements the servers measure as safe (tests/test_safety_corpus.py):
# a NOT NULL or a constraint dropped change the catalog only; an index renamed breaks no
# query.
_MEASURED_SAFE = frozenset({"ban-drop-not-null", "ban-drop-constraint"})


def _from_squawk(facts: Facts, ours: list[Finding], allowed: dict[str, str]) -> list[Finding]:
    """squawk's findings on this step, less those one of ours already makes on the line."""
    said = {(f.rule, f.line) for f in ours}
    rules = {f.rule for f in ours}
    found: dict[tuple[str, int | None], Finding] = {}
    for statement, hit in facts.squawk:
        same = _SAME_AS.get(hit.rule)
        # A batch runs its operations at the end of its block: its statements carry the
        # block's line, its operations their own.
        batch = statement.operation == "batch_alter_table"
        if (same, statement.line) in said or (batch and same in rules):
            continue
        if hit.rule in _MEASURED_SAFE or (
            hit.rule == "renaming-object" and _alters_index(statement, facts.dialect)
        ):
            continue
        if overrules(facts, statement, hit.rule):
            continue  # e.g. a wider VARCHAR: a catalog change, no rewrite, no reader breaks
        if _table_of(statement, facts.dialect) in facts.new_tables:
            continue  # created earlier in this script: no rows to lock, no readers yet
        found.setdefault(
            (hit.rule, statement.line),
            Finding(
                rule=hit.rule,
                severity=hit.level,
                revision=facts.revision.id,
                path=facts.revision.path,
                line=statement.line,
                message=f"{hit.message.rstrip('.')}: {_short(statement)}",
                why="squawk, the PostgreSQL migration linter, flags it",
                fix=hit.fix,
                silenced=allowed.get(hit.rule),
            ),
        )
    return list(found.values())


def _alters_index(statement: Statement, dialect: ScriptDialect) -> bool:
    return any("alter-index" in raw.kinds for raw in split(statement.sql, dialect.sqlglot))


def _table_of(statement: Statement, dialect: ScriptDialect) -> str | None:

    tables = {raw.table for raw in split(statement.sql, dialect.sqlglot)}
    return tables.pop() if len(tables) == 1 else None


def _squawked(
    history: History,
    dialect: ScriptDialect,
    session: Session,
    order: tuple[str, ...],
    direction: Direction,
) -> dict[str, tuple[tuple[Statement, SquawkHit], ...]]:
    """squawk run once over every statement the range's script runs, in order, after the
    timeouts the script sets; its findings given back to each revision."""

    statements: list[str] = []
    owners: list[tuple[str, Statement]] = []
    outside: set[int] = set()
    for rev in order:
        try:
            captured = session.get(rev, direction)
        except SchemactlError:
            continue  # a revision that does not render: its own rule says so
        for statement in captured.statements:
            if statement.autocommit or dialect.non_transactional(statement.sql):
                outside.add(len(statements))
            statements.append(statement.sql)
            owners.append((rev, statement))
    project = history.project
    include = project.lint_include if project is not None else ()
    grouped: dict[str, list[tuple[Statement, SquawkHit]]] = {}
    for hit in squawk.run(
        statements, preamble=dialect.timeouts(), outside_transaction=outside, include=include
    ):
        rev, statement = owners[hit.statement]
        grouped.setdefault(rev, []).append((statement, hit))
    return {rev: tuple(hits) for rev, hits in grouped.items()}


def lint_range(
    history: History,
    dialect: ScriptDialect,
    revisions: tuple[str, ...],
    direction: Direction = "upgrade",
    environment: Environment | None = None,
) -> list[Finding]:
    """The findings of ``revisions`` run ``direction``, captured as env.py runs them for
    ``environment`` (the one a release renders for: the same run of the revisions serves
    both; None: the dialect alone)."""

    order = revisions if direction == "upgrade" else tuple(reversed(revisions))
    requests: list[tuple[str, Direction]] = [(rev, d) for rev in order for d in BOTH_WAYS]
    replay = bool(revisions) and any(rule_applies(dialect, rule) for rule in _READ_SHAPES)
    if replay:  # the revisions before the range too, to know the tables they run against
        last = max(history.graph.order.index(rev) for rev in revisions)
        requests += [(rev, "upgrade") for rev in history.graph.order[: last + 1]]
    # One offline run of env.py captures every revision both ways.
    session = capture_session(
        history, dialect.name, list(dict.fromkeys(requests)), environment=environment
    )
    shapes = _replayed(history, dialect, session, set(revisions), direction) if replay else {}
    squawked = (
        _squawked(history, dialect, session, order, direction)
        if rule_applies(dialect, SQUAWK)
        else {}
    )
    found: list[Finding] = []
    created: set[str] = set()  # by the range's revisions so far (an upgrade's only)
    for rev in order:
        found += lint_revision(
            history,
            dialect,
            rev,
            direction,
            session,
            shapes.get(rev),
            squawked.get(rev, ()),
            frozenset(created),
        )
        if direction == "upgrade":
            with contextlib.suppress(SchemactlError):  # one that does not render says so
                created |= _created(session.get(rev, direction).operations)
    return found


# The rules that read the shapes the tables have before a step (Facts.shapes).
_READ_SHAPES = ("index-needed-by-foreign-key", "postgresql-locks", "table-copy")


def _created(operations: tuple[Operation, ...]) -> frozenset[str]:
    """The tables these operations create."""
    return frozenset(op.table for op in operations if op.name == "create_table" and op.table)


def _replayed(
    history: History,
    dialect: ScriptDialect,
    session: Session,
    wanted: set[str],
    direction: Direction,
) -> dict[str, Shapes]:
    """For each wanted revision, the shapes its step runs against: before its upgrade, or
    after it for its downgrade (a rollback script undoes revisions in reverse order)."""

    shapes, found = Shapes(), {}
    for rev in history.graph.order:
        if rev in wanted and direction == "upgrade":
            found[rev] = shapes.copy()
        if (rev, "upgrade") not in session.results:
            break
        try:
            captured = session.get(rev, "upgrade")
            for op in captured.operations:
                shapes.follow(op)
            for statement in captured.statements:
                if statement.operation in ("execute_sql", None):
                    for raw in split(statement.sql, dialect.sqlglot):
                        shapes.follow_raw(raw)
        except SchemactlError:
            pass  # a revision that does not render: lint reports it; replay goes on without
        if rev in wanted and direction != "upgrade":
            found[rev] = shapes.copy()
        if len(found) == len(wanted):
            break
    return found


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that stop a release: errors nobody silenced."""
    return [f for f in findings if f.severity == ERROR and not f.silenced]


def lint(
    project: Any,
    environment: Environment,
    span: str | None = None,
    *,
    released: tuple[str, ...] = (),
) -> tuple[Range | None, list[Finding]]:
    """Lint the revisions of ``span`` ('FROM:TO') for the environment; without one, what its
    next release would run: from ``released`` (where its last recorded release ends; base
    without one) to every head. (None, []) when that is nothing."""

    history = load_history(project)
    if span is None:
        start = released
        end = resolve_heads(history, "heads")
    else:
        first, _, last = span.partition(":")
        start = resolve_heads(history, first or "base")
        end = resolve_heads(history, last or "heads")
    try:
        chosen = plan_range(history.graph, start, end)
    except NothingToRender:
        if span is not None:
            raise
        return None, []
    return chosen, lint_range(history, environment.kind, chosen.revisions, environment=environment)
