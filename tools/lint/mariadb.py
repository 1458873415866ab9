"""The rules only MariaDB and MySQL need: a table copied to change it (ALGORITHM=COPY), and
DDL in raw SQL, which commits the script's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tools.lint.findings import WARNING, Facts, Hit, _short, filled_for_every_row, old_type
from tools.scripts.statements import split

if TYPE_CHECKING:
    from tools.scripts.capture import Operation, Statement
    from tools.scripts.statements import RawStatement


def table_copy(facts: Facts) -> Iterator[Hit]:
    """MariaDB and MySQL run most ALTERs instantly or in place; a column type change, a
    column redefined with MODIFY/CHANGE, or a new or dropped primary key copies the table
    (ALGORITHM=COPY): every row rewritten while writes to it wait."""
    why = "the copy rewrites every row, and writes to the table wait until it is done"
    fix = (
        "add a new column, backfill it in batches (op.backfill_online), switch readers, drop "
        "the old one"
    )
    unchecked_from = _foreign_key_checks_off(facts)
    for op in facts.operations:
        if not facts.existing(op.table):
            continue
        source = op.source
        if (
            op.name == "alter_column"
            and getattr(source, "modify_type", None) is not None
            and not _in_place(old_type(facts, op), source.modify_type)
        ):
            yield Hit(
                WARNING,
                f"changes the type of {op.table}.{op.target}: {_copies(facts)}",
                op.line,
                why,
                fix,
            )
        elif op.name in ("alter_column", "set_not_null_online") and _nullability_changes(facts, op):
            # (set_not_null_online too: MariaDB has no cheaper way; it rebuilds in place,
            # LOCK=NONE, writes going on.)
            yield Hit(
                WARNING,
                f"makes {op.table}.{op.target} "
                f"{'NOT NULL' if source.modify_nullable is False else 'nullable'}: "
                f"{facts.dialect.title} rebuilds the table",
                op.line,
                _WHY_REBUILD,
                _WEIGH_REBUILD,
            )
        elif op.name == "add_column" and filled_for_every_row(source.column) == (
            "a stored generated column"
        ):
            yield Hit(
                WARNING,
                f"adds {op.table}.{op.target} as a stored generated column: {_copies(facts)}",
                op.line,
                why,
                _FIX_STORED,
            )
        elif (
            op.name == "add_column"
            and getattr(source.column, "foreign_keys", None)
            and not _after(op.line, unchecked_from)
        ):
            yield Hit(
                WARNING,
                f"adds {op.table}.{op.target} with a foreign key: {_copies(facts)}",
                op.line,
                why,
                _FIX_FOREIGN_KEY,
            )
        elif op.name == "create_foreign_key" and _after(op.line, unchecked_from):
            continue  # foreign_key_checks off: added in place, writes going on
        elif op.name in ("create_foreign_key", "create_check_constraint"):
            key = op.name == "create_foreign_key"
            yield Hit(
                WARNING,
                f"adds {'foreign key' if key else 'check constraint'} {op.target} to {op.table}: "
                f"{_copies(facts)}",
                op.line,
                why,
                _FIX_FOREIGN_KEY if key else _FIX_CHECK,
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
        if "rebuild-table" in kinds:
            yield Hit(
                WARNING,
                f"raw SQL rebuilds the table (ENGINE=, FORCE, CONVERT TO CHARACTER SET): "
                f"{_short(statement)}",
                statement.line,
                _WHY_REBUILD,
                _WEIGH_REBUILD,
            )
        elif {"alter-type", "modify-column"} & kinds and not _redefined_in_place(facts, raw):
            yield Hit(
                WARNING,
                f"raw SQL redefines a column: {_copies(facts)}: {_short(statement)}",
                statement.line,
                why,
                fix,
            )
        elif _FULLTEXT.search(statement.sql) and (
            {"add-constraint", "add-index"} & kinds or not kinds
        ):
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
        elif (
            "add-constraint" in kinds
            and _FOREIGN_KEY.search(statement.sql)
            and _after(statement.line, unchecked_from)
        ):
            continue  # foreign_key_checks off: added in place, writes going on
        elif {"add-constraint", "add-volatile-default"} & kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a constraint or an expression default: {_copies(facts)}: "
                f"{_short(statement)}",
                statement.line,
                why,
                _FIX_FOREIGN_KEY if _FOREIGN_KEY.search(statement.sql) else _WEIGH_COPY,
            )
        elif "add-stored-generated" in kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a stored generated column: {_copies(facts)}: {_short(statement)}",
                statement.line,
                why,
                _FIX_STORED,
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


_FIX_STORED = (
    "add it VIRTUAL (computed when read, added instantly), or add a plain column and fill it "
    "in batches"
)
_WHY_REBUILD = "every row is written again (in place: writes go on, but it takes as long as a copy)"
_WEIGH_REBUILD = (
    "weigh the table's size: schedule it for a quiet moment, with lock_wait_timeout set for "
    "the environment"
)
_FOREIGN_KEY = re.compile(r"\bFOREIGN\s+KEY\b", re.I)


# The lines of a revision between SET foreign_key_checks = 0 and = 1 (or its end).
Window = tuple[int, float]


def _foreign_key_checks_off(facts: Facts) -> list[Window]:
    """The stretches of the revision (by line) run with foreign_key_checks off (SET
    foreign_key_checks = 0 in raw SQL, until it is set back to 1): MariaDB then adds a
    foreign key in place, without checking the rows, instead of copying the table."""
    windows: list[Window] = []
    off: int | None = None
    for statement, raw in facts.raw_sql:
        if "foreign-key-checks-off" in raw.kinds and off is None:
            off = statement.line or 0
        elif "foreign-key-checks-on" in raw.kinds and off is not None:
            windows.append((off, statement.line or 0))
            off = None
    if off is not None:
        windows.append((off, float("inf")))
    return windows


def _after(line: int | None, windows: list[Window]) -> bool:
    """Whether ``line`` runs with foreign_key_checks off."""
    return any(start <= (line or 0) < end for start, end in windows)


def _nullability_changes(facts: Facts, op: Operation) -> bool:
    """Whether an alter_column changes NULL to NOT NULL or back (the old nullability from
    the operation, or else the replayed shapes; not known: assumed to change)."""
    source = op.source
    wanted = getattr(source, "modify_nullable", None)
    if wanted is None:
        return False
    before = getattr(source, "existing_nullable", None)
    if before is None and facts.shapes is not None:
        column = facts.shapes.column(op.table, op.target)
        before = column.nullable if column is not None else None
    return before is None or before != wanted


def _redefined_in_place(facts: Facts, raw: RawStatement) -> bool:
    """Whether every column a raw MODIFY redefines keeps its nullability and changes its
    type in place (or not at all), the old definition read from the replayed shapes."""
    from sqlglot import exp

    from tools.scripts.statements import column_definition

    if not isinstance(raw.parsed, exp.Alter) or facts.shapes is None:
        return False
    actions = raw.parsed.args.get("actions") or []
    if not actions or not all(isinstance(a, exp.ModifyColumn) for a in actions):
        return False
    for action in actions:
        defined = column_definition(action)
        before = facts.shapes.column(raw.table, defined[0]) if defined else None
        if defined is None or before is None or before.type is None or defined[1] is None:
            return False
        if before.nullable is None or before.nullable != defined[2]:
            return False
        same = repr(before.type) == repr(defined[1])
        if not same and not _in_place(before.type, defined[1]):
            return False
    return True


_WHY_SHARED = "it is built under LOCK=SHARED: reads go on, writes wait until it is done"
_WEIGH_SHARED = (
    "weigh the table's size and write traffic; build it at a quiet moment, with "
    "lock_wait_timeout set for the environment"
)
_WEIGH_COPY = (
    "weigh the table's size: MariaDB copies it to check every row (measured: ALGORITHM=COPY, "
    "LOCK=SHARED); add it when the table is created, or at a quiet moment, or with "
    "pt-online-schema-change or gh-ost (a release's review.md gives the command); a CHECK: "
    "op.create_check_constraint_online"
)
_FIX_CHECK = (
    "use op.create_check_constraint_online (the rows checked by a query, then the table "
    "copied beside itself with the CHECK while triggers keep it in step, and switched in: "
    "writes go on); or weigh the table's size: MariaDB copies it to check every row "
    "(measured: ALGORITHM=COPY, LOCK=SHARED)"
)
# A foreign key MariaDB adds in place when told not to check the rows (measured: NOCOPY,
# LOCK=NONE).
_FIX_FOREIGN_KEY = (
    "use op.create_foreign_key_online (the rows checked by a query, then the key added in "
    "place); or weigh the table's size: MariaDB copies it to check every row (measured: "
    "ALGORITHM=COPY, LOCK=SHARED); where the rows are known to hold, add it after SET SESSION "
    "foreign_key_checks = 0 (op.execute) in the same revision, which adds it in place, "
    "writes going on, without checking them; set it back to 1 after"
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
