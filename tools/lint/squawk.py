"""PostgreSQL statement rules from squawk (PyPI `squawk-cli`), mapped onto schemactl's lint.

squawk reads the statements a script will run, in order, as one file: a table created
earlier in the same release is new to it, as it is to the database. Its findings come back
per statement and are given the revision file and line the statement came from, a fix that
is valid for PostgreSQL and Alembic, and schemactl's silencing (`# schemactl: allow RULE:
reason`, RULE being squawk's name). Rules about style (prefer-text-field, prefer-bigint...)
are off unless `squawk_include` in `[schemactl]` names them; rules about what the script
itself already does (timeouts it sets, the transaction it lays out) are left out.
"""

from __future__ import annotations

import bisect
import json
import shutil
import subprocess
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.core.errors import ConfigError

# squawk 2.70's rules that matter to a migration, with the fix schemactl gives (valid for
# PostgreSQL, and for Alembic online and as a script).
_CONCURRENTLY = (
    "use postgresql_concurrently=True inside `with op.get_context().autocommit_block():` "
    "(CONCURRENTLY cannot run in a transaction; the script runs it outside one)"
)
_NOT_VALID = (
    "add it NOT VALID (op.execute), and VALIDATE CONSTRAINT in a later revision inside "
    "`with op.get_context().autocommit_block():` (validated in the transaction that added it, "
    "it blocks as before)"
)
_UNIQUE = (
    "create a unique index with postgresql_concurrently=True inside "
    "`with op.get_context().autocommit_block():`, then add the constraint USING INDEX "
    "(op.execute) in a later revision"
)
_COMPAT = "release the code that stops relying on it first, then silence this rule with the reason"
FIXES: dict[str, str] = {
    "adding-field-with-default": "add the column without a default (or a constant one), "
    "backfill it in batches, then set the default",
    "adding-foreign-key-constraint": _NOT_VALID,
    "adding-not-nullable-field": "add a CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a "
    "later revision inside `with op.get_context().autocommit_block():`, then SET NOT NULL "
    "(PostgreSQL 12+ uses the check instead of scanning)",
    "adding-required-field": "give it a server_default, or add it nullable, backfill, then "
    "set NOT NULL",
    "adding-serial-primary-key-field": _UNIQUE,
    "adding-primary-key-constraint": _UNIQUE,
    "ban-alter-domain-with-add-constraint": "add the check to the columns instead",
    "ban-concurrent-index-creation-in-transaction": "run it inside "
    "`with op.get_context().autocommit_block():`",
    "ban-create-domain-with-constraint": "use a plain domain and a table CHECK constraint",
    "ban-drop-column": _COMPAT,
    "ban-drop-constraint": _COMPAT,
    "ban-drop-database": "never from a migration; do it by hand",
    "ban-drop-not-null": _COMPAT,
    "ban-drop-table": _COMPAT,
    "ban-truncate-cascade": "truncate the tables by name, without CASCADE",
    "changing-column-type": "add a new column, backfill it, switch readers, drop the old one",
    "constraint-missing-not-valid": _NOT_VALID,
    "disallowed-unique-constraint": _UNIQUE,
    "renaming-column": "add the new column, write to both, switch readers, drop the old one",
    "renaming-table": "create a view under the new name, switch readers, then rename",
    "require-concurrent-index-creation": _CONCURRENTLY,
    "require-concurrent-index-deletion": "use postgresql_concurrently=True on drop_index "
    "inside `with op.get_context().autocommit_block():`",
    "require-concurrent-reindex": "REINDEX ... CONCURRENTLY inside "
    "`with op.get_context().autocommit_block():`",
    "require-enum-value-ordering": "say where the value goes: ADD VALUE ... BEFORE/AFTER",
    "require-lock-timeout": "set lock_timeout for the environment in alembic.ini",
    "require-statement-timeout": "set statement_timeout for the environment in alembic.ini",
    "ban-uncommitted-transaction": "remove the BEGIN; the script lays out its transactions",
    "transaction-nesting": "remove the BEGIN/COMMIT; the script lays out its transactions",
}
# A stored generated column has no default to leave out: its value is computed for every row.
_GENERATED = (
    "add it at a quiet moment with lock_timeout set (every row is written again), or add a "
    "plain column, fill it in batches, and keep it current from the application or a trigger"
)
# For a rule schemactl has no proven fix for: what to weigh instead of an invented one.
_WEIGH = (
    "weigh it against the table's size and traffic; once you have, silence it with the "
    "reason (# schemactl: allow {rule}: REASON)"
)
# Style: off unless `squawk_include` names them.
STYLE = frozenset(
    {
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-identity",
        "prefer-robust-stmts",
        "prefer-text-field",
        "prefer-timestamp-tz",
        "ban-char-field",
        "require-table-schema",
        # Where a new enum value sorts: a question of taste (the servers add it in the
        # catalog only, tests/test_safety_corpus.py).
        "require-enum-value-ordering",
    }
)
# What squawk reports for a statement its parser cannot read.
UNREADABLE = "syntax-error"
RULES = frozenset(FIXES) | STYLE | {UNREADABLE}
# What schemactl's scripts do themselves: these statements run outside the transaction.
OUTSIDE_TRANSACTION = frozenset(
    {"ban-concurrent-index-creation-in-transaction", "constraint-missing-not-valid"}
)


class SquawkUnavailable(ConfigError):
    pass


@dataclass(frozen=True)
class Hit:
    statement: int  # index into the statements given
    rule: str
    level: str  # 'error' or 'warning'
    message: str
    fix: str


def _executable() -> str | None:
    """squawk as installed with schemactl (next to its Python), else on PATH."""
    import sysconfig

    beside = Path(sysconfig.get_path("scripts")) / "squawk"
    return str(beside) if beside.is_file() else shutil.which("squawk")


def run(
    statements: Sequence[str],
    *,
    preamble: Sequence[str] = (),
    outside_transaction: Collection[int] = (),
    include: Collection[str] = (),
    pg_version: str = "15",
) -> list[Hit]:
    """squawk's findings on ``statements``, run in order after ``preamble`` (the settings
    the script sets); ``outside_transaction``: indexes of statements the script runs
    outside its transaction."""
    executable = _executable()
    if executable is None:
        raise SquawkUnavailable(
            "squawk is not installed; install schemactl's dependencies (pip install squawk-cli)"
        )
    if not statements:
        return []
    starts: list[int] = []
    lines = [*(f"{line}" for line in preamble)]
    for statement in statements:
        starts.append(len(lines))
        text = statement.strip()
        lines += [*text.splitlines(), ""] if text.endswith(";") else [*f"{text};".splitlines(), ""]
    found = _squawk(executable, lines, include, pg_version)
    hits = []
    for finding in found:
        line, rule = int(finding["line"]), str(finding["rule_name"])
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            continue  # in the preamble
        if rule in OUTSIDE_TRANSACTION and index in outside_transaction:
            continue
        hits.append(_hit(index, rule, finding))
    return hits


def _squawk(
    executable: str, lines: list[str], include: Collection[str], pg_version: str
) -> list[dict[str, Any]]:
    """squawk's JSON report on the script ``lines`` make."""
    included = sorted(set(include) & STYLE)
    exclude = sorted(STYLE - set(included))
    with tempfile.TemporaryDirectory(prefix="schemactl-squawk-") as folder:
        path = Path(folder) / "migration.sql"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        args = [executable, "--reporter", "json", "--assume-in-transaction"]
        args += [f"--pg-version={pg_version}", "--no-error-on-unmatched-pattern"]
        if exclude:
            args.append(f"--exclude={','.join(exclude)}")
        if included:
            args.append(f"--include={','.join(included)}")
        result = subprocess.run([*args, str(path)], capture_output=True, text=True)
    try:
        found: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    except json.JSONDecodeError as err:
        raise SquawkUnavailable(
            f"squawk did not answer in JSON ({(result.stderr or result.stdout).strip()[:200]})"
        ) from err
    return found


def _hit(index: int, rule: str, finding: dict[str, Any]) -> Hit:
    message = " ".join(str(finding.get("message") or rule).split())
    if rule == UNREADABLE:
        # squawk's parser, not the server, refused it: say so, never block a release on it.
        return Hit(
            index,
            rule,
            "warning",
            f"squawk could not read this statement ({message}), so its rules did not judge it",
            "read the statement yourself; if PostgreSQL accepts it, silence this with the reason",
        )
    fix = FIXES.get(rule) or " ".join(str(finding.get("help") or "").split())
    if rule == "adding-field-with-default" and "generated column" in message.lower():
        fix = _GENERATED  # no default to leave out: the value is computed for every row
    return Hit(
        index,
        rule,
        "error" if str(finding.get("level", "")).lower() == "error" else "warning",
        message,
        fix or _WEIGH.format(rule=rule),
    )
