"""Reports as text: what status, plan, verify, audit and lint print (pure functions of
the library's results)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tools.cli.common import (
    _count,
)
from tools.core.text import comment, terminal
from tools.live.status import titled as _titled

if TYPE_CHECKING:
    from tools.lint.findings import Finding
    from tools.live.audit import AuditReport
    from tools.live.backups import Listing
    from tools.live.diff import SchemaDiff
    from tools.live.envs import Matrix
    from tools.live.migrate import Plan, Status
    from tools.live.recover import Recovery
    from tools.live.verify import Verification
    from tools.proof.measure import Measurements


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


def format_diff(found: SchemaDiff) -> str:
    how = " (two kinds of database: types compared by family)" if found.across else ""
    lines = [f"{found.right} compared with {found.left}{how}:"]
    lines += [terminal(f"  {d}") for d in found.differences]
    lines.append(
        f"{_count(len(found.differences), 'difference')}" if found.differences else "  the same"
    )
    return "\n".join(lines)


def format_envs(matrix: Matrix) -> str:
    """One row per environment and database; what is wrong with each, after it."""
    rows = [("ENV", "DATABASE", "DIALECT", "REVISION", "PENDING", "DRIFT", "LAST AUDIT", "STATE")]
    for t in matrix.targets:
        if not t.reachable:
            rows.append((t.environment, t.database, t.dialect, "-", "-", "-", "-", "unreachable"))
            continue
        drift = t.drift_shown
        last = t.last
        audit = (
            f"{last.direction} {last.revision} {last.source} by {last.applied_by or '?'} "
            f"{last.when} ({_ms(last.duration_ms).strip()})"
            if last is not None
            else "-"
        )
        state = "ok" if t.ok else ("behind" if t.pending and not t.released else "check")
        at = ",".join(t.current) or "base"
        rows.append(
            (t.environment, t.database, t.dialect, at, str(len(t.pending)), drift, audit, state)
        )
    lines = [terminal(line.rstrip()) for line in _columns(rows)]
    for t in matrix.targets:
        if not t.ok:
            lines.append(terminal(f"{t.environment}/{t.database}: {'; '.join(t.problems)}"))
        if t.drift_note is not None:
            lines.append(
                terminal(f"{t.environment}/{t.database}: drift not compared ({t.drift_note})")
            )
    reachable = [t for t in matrix.targets if t.reachable]
    lines.append(
        f"{len(reachable)} of {len(matrix.targets)} reachable, "
        f"{sum(t.ok for t in reachable)} at a released revision without drift "
        f"({matrix.seconds:.1f} s)"
    )
    return "\n".join(lines)


def format_recovery(report: Recovery) -> str:
    at = ", ".join(report.current) or "base (empty)"
    lines = [
        f"Environment {_titled(report.environment)}: {report.url}",
        f"Database at {at} (its version table); its schema compared with each point of the "
        "steps that start there, built on a scratch database.",
    ]
    if not report.stopped:
        lines.append(
            "Nothing to recover: the schema is exactly that of its version table (no statement "
            "that changes the schema ran past it)."
        )
        return "\n".join(lines)
    total = len(report.statements)
    lines.append(f"Stopped in the {report.direction} of {report.revision}, statement by statement:")
    marks = {True: "ran    ", False: "not run", None: "unknown"}
    for number, sql in enumerate(report.statements, 1):
        shown = marks[report.did_run(number)]
        lines.append(f"  {number:>3}/{total}  {shown}  {comment(sql, limit=100)}")
    for index in report.invalid_indexes:
        lines.append(
            f"INVALID index {index}: a CREATE INDEX CONCURRENTLY that failed left it (it is "
            "maintained on writes and answers no query); --finish and --undo drop it first."
        )
    if not report.certain:
        which = (
            f"Statement {report.ran_up_to} changes"
            if report.ran + 1 == report.ran_up_to
            else f"Statements {report.ran + 1} to {report.ran_up_to} change"
        )
        lines.append(
            f"{which} no schema: whether it ran cannot be read from it. Check the data, then "
            f"give --ran N ({report.ran} to {report.ran_up_to}: how many statements ran)."
        )
    lines.append(
        "Next: `schemactl recover --env "
        f"{report.environment.name} --finish` renders a script that runs the rest and stamps "
        f"{report.revision}; `--undo` one that takes the database back to {at}."
    )
    return "\n".join(lines)


def format_audit(report: AuditReport) -> str:
    env_ = report.environment
    lines = [f"Audit of {_titled(env_)}: {report.url}"]
    if report.rows is None:
        lines.append("No audit table: nothing was applied here by schemactl.")
        return "\n".join(lines)
    if not report.rows:
        lines.append("The audit table is empty.")
        return "\n".join(lines)
    lines += _audit_rows(report)
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
    lines += _per_release(report)
    if report.edited:
        revisions = sorted({row.revision for row in report.edited})
        lines.append("")
        lines.append(
            f"EDITED since applied: {', '.join(revisions)} (the revision file's sha256 differs "
            "from the one recorded; `schemactl verify` says whether the schema differs too)"
        )
    lines += _backfills(report)
    return "\n".join(lines)


def _backfills(report: AuditReport) -> list[str]:
    """Each run of a backfill loop (op.backfill_online): how far it went."""
    if not report.backfills:
        return []
    rows = [
        (
            str(run.id),
            run.table,
            "-" if run.done_to is None else str(run.done_to),
            "-" if run.high is None else str(run.high),
            str(run.rows_done),
            run.started_at,
            run.finished_at or f"STOPPED (last batch {run.updated_at})",
        )
        for run in report.backfills
    ]
    head = ("#", "table", "done to key", "last key", "rows", "started", "finished")
    return [
        "",
        "Backfills (op.backfill_online; a stopped one, run again, goes on from its last batch):",
        *("  " + line for line in _database_columns(head, rows, right=frozenset({0, 2, 3, 4}))),
    ]


def _database_columns(
    head: tuple[str, ...], rows: Sequence[tuple[str, ...]], right: frozenset[int]
) -> list[str]:
    """Rows a database holds (its text: each cell shown escaped, terminal()) in columns."""
    return _columns([head, *(tuple(terminal(cell) for cell in row) for row in rows)], right)


def _audit_rows(report: AuditReport) -> list[str]:
    """Every audit row, a line each under a header."""
    table = [
        (
            str(row.id),
            row.revision,
            row.direction,
            row.when,
            _ms(row.duration_ms),
            row.source,
            row.applied_by or "-",
            row.file,
        )
        for row in report.rows or ()
    ]
    head = ("#", "revision", "direction", "started (server clock)", "took", "release", "by", "file")
    return _database_columns(head, table, right=frozenset({0, 4}))


def _per_release(report: AuditReport) -> list[str]:
    rows = [
        (
            terminal(r.release or "(not a release)"),
            terminal(r.direction),
            _count(r.steps, "step"),
            _ms(r.total_ms),
        )
        for r in report.per_release
    ]
    return [
        "",
        "Time per release:",
        *("  " + line for line in _columns(rows, right=frozenset({2, 3}))),
    ]


def format_measured(measured: Measurements) -> str:
    """What the server did: the statements a DBA must weigh (a table rewritten or copied,
    writes stopped, a refusal), each with what was observed."""
    every = [m for found in measured.values() for m in found]
    if not every:
        return "Measured: no statement to run on the server."
    notable = [(rev, m) for rev, found in measured.items() for m in found if m.notable]
    lines = [
        f"Measured on {terminal(every[0].server)}, on a scratch database at the range's start "
        f"with rows in every table: {_count(len(every), 'statement')}, "
        f"{len(notable)} rewriting or copying a table, stopping writes or refused"
    ]
    for rev, m in notable:
        lines.append(f"  {rev} line {m.line or '?'}: {terminal(m.words())}")
        lines.append(f"      {terminal(comment(m.sql, limit=100))}")
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


def _columns(rows: Sequence[tuple[str, ...]], right: frozenset[int] = frozenset()) -> list[str]:
    """Rows laid out in aligned columns (those in ``right`` aligned right)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


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


def format_backups(listing: Listing) -> str:
    lines = [f"Backups in {_titled(listing.environment)}: {listing.url}"]
    if not listing.backups:
        lines.append("None: every destructive step kept here was rolled back, or none ran.")
        return "\n".join(lines)
    rows = [
        (
            b.table,
            b.release or "-",
            _count(b.rows, "row"),
            "-" if b.size is None else f"{b.size:,} bytes",
        )
        for b in listing.backups
    ]
    return "\n".join([*lines, *_columns([("backup table", "release", "rows", "size"), *rows])])
