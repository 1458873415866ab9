"""Where a revision's SQL begins or ends a transaction itself: a script lays out its own
transactions, so capture (tools.scripts.capture) folds a revision's own BEGIN ... COMMIT
into the script's, and refuses any other. Plain regular expressions see the usual case;
sqlglot (tools.scripts.statements) reads a string of several statements."""

from __future__ import annotations

import re

# A keyword that may end or begin a transaction, for a cheap look before sqlglot parses.
_TRANSACTION_WORD = re.compile(r"\b(COMMIT|ROLLBACK|BEGIN|START|END|ABORT)\b", re.I)
# One statement that begins or ends a transaction, and nothing else.
_TRANSACTION_CONTROL = re.compile(
    r"\s*(BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?|COMMIT|ROLLBACK|END|START\s+TRANSACTION|ABORT)"
    r"\s*(WORK|TRANSACTION)?\s*;?\s*$",
    re.I,
)
_BEGINS = re.compile(r"\s*(BEGIN|START)\b", re.I)
_COMMITS = re.compile(r"\s*(COMMIT|END)\b", re.I)


def begins_transaction(control: str) -> bool:
    """Whether a transaction-control statement (transaction_control) opens a transaction."""
    return bool(_BEGINS.match(control))


def commits_transaction(control: str) -> bool:
    """Whether a transaction-control statement commits the one open (COMMIT, END)."""
    return bool(_COMMITS.match(control))


def transaction_control(sql: str, dialect: str) -> str | None:
    """The statement in ``sql`` that begins or ends a transaction itself (a script lays out
    its own): ``sql`` when it is one (``COMMIT``), else the first such of several
    (``"UPDATE …; COMMIT; UPDATE …"`` in one op.execute); None when there is none. A
    compound statement (BEGIN NOT ATOMIC … END, a DO block) is not one."""
    if _TRANSACTION_CONTROL.match(sql):
        return sql
    if not _TRANSACTION_WORD.search(sql):
        return None  # (sqlglot, ~70 ms to import, is not needed for most statements)
    from sqlglot import exp

    from tools.scripts.statements import split

    parts = split(sql, dialect)
    if len(parts) < 2:
        return None
    for part in parts:
        if isinstance(part.parsed, exp.Commit | exp.Rollback):
            return part.sql
        if isinstance(part.parsed, exp.Transaction) and _TRANSACTION_CONTROL.match(part.sql):
            return part.sql
    return None
