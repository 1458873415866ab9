"""The rules only MariaDB and MySQL need: a table copied to change it (ALGORITHM=COPY), and
DDL in raw SQL, which commits the script's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.lint.findings import WARNING, Facts, Hit, _short
from tools.scripts.statements import split

if TYPE_CHECKING:
    from tools.scripts.capture import Statement
    from tools.scripts.statements import RawStatement


def table_copy(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL run most ALTERs instantly or in place; a column type change, a
    column redefined with MODIFY/CHANGE, or a new or dropped primary key copies the table
    (ALGORITHM=COPY): every row rewritten while writes to it wait."""
    why = "the copy rewrites every row, and writes to the table wait until it is done"
    fix = "add a new column, backfill it in batches, switch readers, drop the old one"
    for op in facts.operations:
        if not facts.existing(op.table):
            continue
        source = op.source
        if (
            op.name == "alter_column"
            and getattr(source, "modify_type", None) is not None
            and not _in_place(source.existing_type, source.modify_type)
        ):
            yield Hit(
                WARNING,
                f"changes the type of {op.table}.{op.target}: {_copies(facts)}",
                op.line,
                why,
                fix,
            )
        elif op.name in ("create_foreign_key", "create_check_constraint"):
            what = "foreign key" if op.name == "create_foreign_key" else "check constraint"
            yield Hit(
                WARNING,
                f"adds {what} {op.target} to {op.table}: {_copies(facts)}",
                op.line,
                why,
                _WEIGH_COPY,
            )
        elif op.name == "create_index" and _fulltext(source):
            yield Hit(
                WARNING,
                f"builds FULLTEXT index {op.target} on {op.table}: writes to it wait",
                op.line,
                _WHY_SHARED,
                _WEIGH_SHARED,
            )
        elif op.name == "create_primary_key" or (
            op.name == "drop_constraint" and getattr(source, "constraint_type", None) == "primary"
        ):
            yield Hit(
                WARNING,
                f"changes the primary key of {op.table}: {_copies(facts)}",
                op.line,
                why,
                "schedule it for a quiet moment (or build the new table beside it)",
            )
    for statement, raw in facts.raw_sql:
        if not facts.existing(raw.table):
            continue
        kinds = set(raw.kinds)
        if {"alter-type", "modify-column"} & kinds:
            yield Hit(
                WARNING,
                f"raw SQL redefines a column: {_copies(facts)}: {_short(statement)}",
                statement.line,
                why,
                fix,
            )
        elif _FULLTEXT.search(statement.sql) and ("add-constraint" in kinds or not kinds):
            yield Hit(
                WARNING,
                f"raw SQL builds a FULLTEXT index: writes to the table wait: {_short(statement)}",
                statement.line,
                _WHY_SHARED,
                _WEIGH_SHARED,
            )
        elif "add-primary-key" in kinds:
            yield Hit(
                WARNING,
                f"raw SQL changes the primary key: the table is rebuilt: {_short(statement)}",
                statement.line,
                "every row is written again (in place, writes going on where every key column "
                "is NOT NULL; under LOCK=SHARED where one must be made so)",
                "schedule it for a quiet moment (or build the new table beside it)",
            )
        elif {"add-constraint", "add-volatile-default"} & kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a constraint or an expression default: {_copies(facts)}: "
                f"{_short(statement)}",
                statement.line,
                why,
                _WEIGH_COPY,
            )
        elif "add-stored-generated" in kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a stored generated column: {_copies(facts)}: {_short(statement)}",
                statement.line,
                why,
                "add it VIRTUAL (computed when read, added instantly), or add a plain column "
                "and fill it in batches",
            )
        elif {"forced-copy", "forced-lock"} & kinds:
            yield Hit(
                WARNING,
                f"raw SQL asks for a table copy or a lock that stops writes: {_short(statement)}",
                statement.line,
                "ALGORITHM=COPY rewrites every row, and LOCK=SHARED or EXCLUSIVE stops writes "
                "to the table until it is done",
                "leave ALGORITHM and LOCK out so MariaDB picks the cheapest it can do, or ask "
                "for ALGORITHM=INSTANT or LOCK=NONE so it refuses rather than copies",
            )


_WHY_SHARED = "it is built under LOCK=SHARED: reads go on, writes wait until it is done"
_WEIGH_SHARED = (
    "weigh the table's size and write traffic; build it at a quiet moment, with "
    "lock_wait_timeout set for the environment"
)
_WEIGH_COPY = (
    "weigh the table's size: MariaDB copies it to check every row (measured: ALGORITHM=COPY, "
    "LOCK=SHARED); add it when the table is created, or at a quiet moment"
)
_FULLTEXT = re.compile(r"\bFULLTEXT\s+(INDEX|KEY)\b", re.I)


def _fulltext(source: object) -> bool:
    kw = getattr(source, "kw", {}) or {}
    return any(
        str(kw.get(k) or "").upper() == "FULLTEXT" for k in ("mysql_prefix", "mariadb_prefix")
    )


def _in_place(old: object, new: object) -> bool:
    """Whether MariaDB changes a column from ``old`` to ``new`` without copying the table
    (ALGORITHM=INSTANT), whatever the column's character set:
    - a VARCHAR made longer whose length keeps its length bytes: one byte up to 255 bytes,
      so up to 63 characters of any character set, and two from 256 characters on;
    - an ENUM with values added at the end only (its storage stays one byte)."""
    from sqlalchemy import Enum, String, Text

    if isinstance(old, Enum) and isinstance(new, Enum):
        before, after = list(old.enums), list(new.enums)
        return after[: len(before)] == before and len(after) <= 255
    if not (isinstance(old, String) and isinstance(new, String)):
        return False
    if isinstance(old, Enum | Text) or isinstance(new, Enum | Text):
        return False
    if not (old.length and new.length):
        return False
    return old.length <= new.length and (new.length <= 63 or old.length >= 256)


def _copies(facts: Facts) -> str:
    return f"{facts.dialect.title} copies the table"


def implicit_commit(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL commit before and after every DDL statement: in a revision that
    changes data and then schema, the data changes are committed by the DDL, and a failure
    later in the revision leaves them applied with the revision not recorded."""

    first_data: Statement | None = None
    for statement in facts.statements:
        pieces = split(statement.sql, facts.dialect.sqlglot)
        data = statement.operation == "bulk_insert" or any(
            {"insert", "update", "delete"} & set(raw.kinds) for raw in pieces
        )
        if data and first_data is None:
            first_data = statement
        elif not data and first_data is not None and _changes_schema(statement, pieces):
            yield Hit(
                WARNING,
                "changes data, then schema, in one revision: the DDL statement commits the "
                "data changes before it",
                first_data.line,
                "if the revision fails after that DDL statement, its data changes stay",
                "put the data changes in a revision of their own",
            )
            return


def _changes_schema(statement: Statement, pieces: list[RawStatement]) -> bool:
    if statement.operation not in ("execute_sql", None):
        return True  # an Alembic schema operation
    return any(raw.parsed is not None and _is_ddl(raw) for raw in pieces)


def _is_ddl(raw: RawStatement) -> bool:
    from sqlglot import exp

    return isinstance(raw.parsed, exp.Alter | exp.Create | exp.Drop | exp.TruncateTable)
