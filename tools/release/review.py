"""The review report of a release: what a DBA reads before signing off on the scripts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.pages import template
from tools.history.graph import mermaid
from tools.scripts.narrowing import type_loss

if TYPE_CHECKING:
    from tools.history.graph import Graph
    from tools.lint.findings import Finding
    from tools.proof.measure import Measurements
    from tools.scripts.manifest import Unstaged
    from tools.scripts.render import Range, Script

TEMPLATE = Path(__file__).parent / "templates" / "review.md.j2"


def render_review(
    name: str,
    span: Range,
    upgrade: Script,
    rollback: Script,
    graph: Graph,
    findings: list[Finding],
    rollback_findings: list[Finding],
    measured: Measurements | None = None,
    *,
    unproven: bool = False,
    unstaged: Unstaged | None = None,
) -> str:
    touched = _existing_tables(upgrade)
    # Markdown, not HTML: values go through the cell filter instead of autoescape.
    text = template(TEMPLATE, html=False).render(
        name=name,
        span=span,
        upgrade=upgrade,
        rollback=rollback,
        tables=_per_table(upgrade, findings),
        rollback_tables=_per_table(rollback, rollback_findings),
        findings=findings,
        rollback_findings=rollback_findings,
        mermaid=mermaid(graph, (*span.start, *span.revisions), applied=span.start),
        measured=_measured_rows(measured),
        unproven=unproven,
        unstaged=unstaged,
        preflight=_fenced(upgrade.dialect.size_query(touched), "sql") if touched else None,
        rollback_risks=_rollback_risks(upgrade),
        server=next((m.server for found in (measured or {}).values() for m in found), None),
        copies=_copies(upgrade, measured),
    )
    return text.rstrip("\n") + "\n"


def _copies(upgrade: Script, measured: Measurements | None) -> list[tuple[str, str, list[str]]]:
    """(revision, statement, commands) for each statement that copies its table: said so in
    the script, or measured so on the server; the commands make the change in the
    background while writes go on."""
    dialect = upgrade.dialect
    found: dict[tuple[str, str], list[str]] = {}
    for step in upgrade.steps:
        for statement in step.statements:
            if commands := dialect.copy_commands(statement):
                found[(step.revision.id, statement)] = commands
    for rev, statements in (measured or {}).items():
        for m in statements:
            copied = m.observed.algorithm == "COPY" and (rev, m.sql) not in found
            if copied and (commands := dialect.copy_commands(m.sql, measured=True)):
                found[(rev, m.sql)] = commands
    return [(rev, sql, commands) for (rev, sql), commands in found.items()]


def _fenced(text: str, language: str) -> str:
    """A Markdown code block no backtick in ``text`` (a table's name) can close."""
    import re

    fence = "`" * max(3, max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _existing_tables(script: Script) -> list[str]:
    """The tables the upgrade changes that were there before it (not ones it creates), in
    name order: what the DBA sizes before applying."""
    created = {
        op.table for step in script.steps for op in step.operations if op.name == "create_table"
    }
    return sorted(
        {
            op.table
            for step in script.steps
            for op in step.operations
            if op.table and op.table not in created and op.name != "create_table"
        }
    )


def _rollback_risks(script: Script) -> list[tuple[str, str]]:
    """(revision, what) for each thing the rollback cannot give back or may fail on, once
    the application has written to the upgraded schema: a column or table the upgrade adds
    is dropped with what was written to it; a type widened, a NOT NULL or a constraint
    dropped is put back, and values written since may not fit it."""
    risks: list[tuple[str, str]] = []
    for step in script.steps:
        for op in step.operations:
            said = _risk(op)
            if said:
                risks.append((step.revision.id, said))
    return risks


def _risk(op: Any) -> str | None:
    source = op.source
    if op.name == "create_table":
        return f"drops {op.table} with every row written to it since the upgrade"
    if op.name == "add_column":
        return f"drops {op.table}.{op.target}: values written to it since the upgrade are lost"
    if op.name == "alter_column":
        if getattr(source, "modify_nullable", None) is True:
            return (
                f"makes {op.table}.{op.target} NOT NULL again: it fails if a NULL was written "
                "since the upgrade"
            )
        old, new = getattr(source, "existing_type", None), getattr(source, "modify_type", None)
        if old is not None and new is not None and type_loss(new, old):
            return (
                f"changes {op.table}.{op.target} back to {old}: values written since the "
                f"upgrade that do not fit it make it fail or are cut"
            )
    if op.name == "drop_constraint" and getattr(source, "constraint_type", None) != "foreignkey":
        return (
            f"adds {op.target} back to {op.table}: rows written since the upgrade that break it "
            "make it fail"
        )
    return None


def _measured_rows(measured: Measurements | None) -> list[tuple[str, str, str, str, str]] | None:
    """(revision, line, statement, what the server did, verdict) per statement measured."""
    from tools.core.text import comment

    if measured is None:
        return None
    return [
        (rev, str(m.line or ""), comment(m.sql, limit=100), m.seen(), m.verdict)
        for rev, found in measured.items()
        for m in found
    ]


def _per_table(
    script: Script, findings: list[Finding]
) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each table the script changes: (revision, operation, mark) in apply order, the mark
    saying when lint found the operation destructive or lock-heavy."""
    marks: dict[tuple[str, int | None], str] = {
        (f.revision, f.line): _MARKS.get(f.rule, "") for f in findings if f.line is not None
    }
    changes: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for step in script.steps:
        for operation in step.operations:
            table = operation.table or "(raw SQL: see the script)"
            mark = marks.get((step.revision.id, operation.line), "")
            # What the operation is about, where it names more than its table.
            about = operation.target if operation.target not in (None, operation.table) else None
            shown = f"{operation.name} {about}" if about else operation.name
            changes[table].append((step.revision.id, shown, mark))
    return sorted(changes.items())


_MARKS = {
    "destructive": "destructive",
    "postgresql-locks": "lock-heavy",
    "rename": "breaks running code",
    "not-null-without-default": "data-dependent",
    "unique-on-existing-table": "data-dependent",
    "data-rewrite": "lock-heavy",
}
