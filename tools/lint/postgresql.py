"""The rule only PostgreSQL needs: which statements take a lock that blocks reads or writes
for as long as they run (squawk's rules, in squawk.py, add to it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tools.lint.findings import (
    ERROR,
    WARNING,
    WHY_INDEX,
    WHY_VALIDATE,
    Facts,
    Hit,
    _short,
    alter_rewrites,
    filled_for_every_row,
    type_change_rewrites,
)
from tools.scripts.statements import is_volatile_default, split

if TYPE_CHECKING:
    from tools.dialects import ScriptDialect
    from tools.scripts.capture import Statement
    from tools.scripts.statements import RawStatement


def postgresql_locks(facts: Facts) -> Iterator[Hit]:
    """On PostgreSQL these statements hold locks that stop writes (or everything) to a busy
    table for as long as they run: a plain CREATE INDEX, a constraint that is validated at
    once, a type change or a volatile default that rewrites the table."""
    yield from _locking_operations(facts)
    yield from _locking_raw_sql(facts)
    yield from _concurrently_in_a_transaction(facts)
    yield from _backfill_under_lock(facts)


def _backfill_under_lock(facts: Facts) -> Iterator[Hit]:
    """An UPDATE or DELETE of a table the revision altered before it, in the same
    transaction: the ALTER's ACCESS EXCLUSIVE lock stays held while every row is changed."""
    from sqlglot import exp

    altered: set[str] = set()
    told: set[str] = set()
    for statement in facts.statements:
        if statement.autocommit:
            continue
        for raw in split(statement.sql, facts.dialect.sqlglot):
            table = raw.table
            if table is None or not facts.existing(table):
                continue
            if isinstance(raw.parsed, exp.Alter):
                altered.add(table)
            elif {"update", "delete"} & set(raw.kinds) and table in altered and table not in told:
                told.add(table)
                yield Hit(
                    WARNING,
                    f"changes rows of {table} after altering it in the same transaction: "
                    f"{_short(statement)}",
                    statement.line,
                    "the ALTER's ACCESS EXCLUSIVE lock is held until the revision commits: no "
                    f"reads or writes of {table} while every row is changed",
                    "put the data change in a revision of its own, after this one",
                )


def plain_json(facts: Facts) -> Iterator[Hit]:
    """A json column on PostgreSQL (sa.JSON renders json, not jsonb): the text is kept as
    written, with no equality operator (DISTINCT, GROUP BY and UNIQUE on it fail) and no
    index that looks inside it."""
    from sqlalchemy import JSON
    from sqlalchemy.dialects.postgresql import JSONB

    for op in facts.operations:
        source = op.source
        columns: list[Any] = [getattr(source, "column", None)] if op.name == "add_column" else []
        if op.name == "create_table":
            columns = list(getattr(source, "columns", ()))
        for column in columns:
            if getattr(column, "type", None) is None:
                continue
            rendered = column.type.dialect_impl(facts.dialect.sa_dialect)  # a variant resolved
            if isinstance(rendered, JSON) and not isinstance(rendered, JSONB):
                yield Hit(
                    WARNING,
                    f"{op.table}.{column.name} is json, not jsonb",
                    op.line,
                    "json keeps the text as written: no equality operator (DISTINCT, GROUP BY "
                    "and UNIQUE on it fail) and no GIN index into it",
                    "use postgresql.JSONB (or sa.JSON().with_variant(postgresql.JSONB(), "
                    "'postgresql'))",
                )


def _concurrently_in_a_transaction(facts: Facts) -> Iterator[Hit]:
    """CREATE/DROP INDEX CONCURRENTLY outside `autocommit_block()`: the rendered script runs
    it outside a transaction, but `schemactl upgrade` and `alembic upgrade` run it inside
    the revision's, and PostgreSQL refuses it there."""
    for statement in facts.statements:
        if statement.autocommit or not facts.dialect.non_transactional(statement.sql):
            continue
        yield Hit(
            ERROR,
            f"runs {_short(statement).rstrip(';')} inside the revision's transaction",
            statement.line,
            "PostgreSQL refuses CONCURRENTLY in a transaction block: `schemactl upgrade` and "
            "`alembic upgrade` fail on it (only the rendered script runs it outside one)",
            "put it inside `with op.get_context().autocommit_block():`",
        )


def _locking_operations(facts: Facts) -> Iterator[Hit]:
    for op in facts.operations:
        source = op.source
        if not facts.existing(op.table):
            continue
        if op.name == "create_index" and not source.kw.get("postgresql_concurrently"):
            yield Hit(
                WARNING,
                f"creates index {op.target} on existing table {op.table} without CONCURRENTLY",
                op.line,
                WHY_INDEX,
                _FIX_CONCURRENTLY,
            )
        elif op.name == "drop_index" and not source.kw.get("postgresql_concurrently"):
            yield Hit(
                WARNING,
                f"drops index {op.target} of existing table {op.table} without CONCURRENTLY",
                op.line,
                _WHY_DROP_INDEX,
                _FIX_DROP_CONCURRENTLY,
            )
        elif op.name in ("create_foreign_key", "create_check_constraint") and not (
            source.kw.get("postgresql_not_valid")  # added NOT VALID: no scan, validated later
        ):
            yield Hit(
                WARNING,
                f"adds {op.name.removeprefix('create_').replace('_', ' ')} {op.target} on "
                f"existing table {op.table} and validates it at once",
                op.line,
                WHY_VALIDATE,
                _FIX_NOT_VALID,
            )
        elif op.name in ("create_unique_constraint", "create_primary_key"):
            yield Hit(
                WARNING,
                f"adds {'unique constraint' if 'unique' in op.name else 'primary key'} "
                f"{op.target} on existing table {op.table}: its index is built under lock",
                op.line,
                _WHY_UNIQUE,
                _FIX_UNIQUE,
            )
        elif op.name == "alter_column" and alter_rewrites(facts, op):
            yield Hit(
                WARNING,
                f"changes the type of {op.table}.{op.target}: PostgreSQL rewrites the table",
                op.line,
                _WHY_REWRITE,
                "schedule it for a quiet moment, or add a new column, backfill, and switch over",
            )
        elif op.name == "add_column" and _volatile_default(source.column, facts.dialect):
            yield Hit(
                WARNING,
                f"adds {op.table}.{op.target} with a volatile default: PostgreSQL rewrites the "
                "table",
                op.line,
                _WHY_REWRITE,
                _FIX_VOLATILE,
            )
        elif op.name == "add_column" and (what := filled_for_every_row(source.column)):
            yield Hit(
                WARNING,
                f"adds {op.table}.{op.target} as {what}: PostgreSQL rewrites the table",
                op.line,
                _WHY_REWRITE,
                _FIX_SERIAL if what == "an identity column" else _FIX_GENERATED,
            )


def _locking_raw_sql(facts: Facts) -> Iterator[Hit]:
    for statement, raw in facts.raw_sql:
        if "drop-index" in raw.kinds and not (
            raw.parsed is not None and raw.parsed.args.get("concurrently")
        ):
            yield Hit(
                WARNING,
                f"raw SQL drops an index without CONCURRENTLY: {_short(statement)}",
                statement.line,
                _WHY_DROP_INDEX,
                "write DROP INDEX CONCURRENTLY, inside `with op.get_context().autocommit_block():`",
            )
        if not facts.existing(raw.table):
            continue
        if "add-stored-generated" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a stored generated column: PostgreSQL rewrites the table: "
                f"{_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                _FIX_GENERATED,
            )
        if {"add-serial-column", "set-logged"} & set(raw.kinds):
            what = "adds a serial column" if "add-serial-column" in raw.kinds else "sets (UN)LOGGED"
            yield Hit(
                WARNING,
                f"raw SQL {what}: PostgreSQL rewrites the table: {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                _FIX_SERIAL
                if "add-serial-column" in raw.kinds
                else "schedule it for a quiet moment: every row is written again",
            )
        if "create-index" in raw.kinds and not raw.parsed.args.get("concurrently"):  # type: ignore[union-attr]
            yield Hit(
                WARNING,
                f"raw SQL creates an index without CONCURRENTLY: {_short(statement)}",
                statement.line,
                WHY_INDEX,
                "write CREATE INDEX CONCURRENTLY, inside "
                "`with op.get_context().autocommit_block():`",
            )
        if "add-unique" in raw.kinds or "add-primary-key" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a unique constraint or primary key: {_short(statement)}",
                statement.line,
                _WHY_UNIQUE,
                _FIX_UNIQUE,
            )
        elif "add-constraint" in raw.kinds and _EXCLUDE.search(statement.sql):
            yield Hit(
                WARNING,
                f"raw SQL adds an exclusion constraint: {_short(statement)}",
                statement.line,
                "it builds its index and checks every row under ACCESS EXCLUSIVE: no reads or "
                "writes until it is done",
                "PostgreSQL cannot add an EXCLUDE constraint NOT VALID: add it at a quiet "
                "moment, with lock_timeout set for the environment",
            )
        elif "add-constraint" in raw.kinds and "NOT VALID" not in statement.sql.upper():
            yield Hit(
                WARNING,
                f"raw SQL adds a constraint without NOT VALID: {_short(statement)}",
                statement.line,
                WHY_VALIDATE,
                _FIX_NOT_VALID,
            )
        if "rewrite-table" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL writes the whole table again (CLUSTER, VACUUM FULL): {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                "schedule it for a quiet moment, with statement_timeout set for the environment",
            )
        if "alter-type" in raw.kinds and _raw_type_change_rewrites(facts, raw):
            yield Hit(
                WARNING,
                f"raw SQL changes a column's type: {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                "add a new column, backfill, and switch over",
            )
        if "add-volatile-default" in raw.kinds:
            yield Hit(
                WARNING,
                f"raw SQL adds a column with a volatile default: {_short(statement)}",
                statement.line,
                _WHY_REWRITE,
                _FIX_VOLATILE,
            )


_FIX_NOT_VALID = (
    "use op.create_foreign_key_online or op.create_check_constraint_online (added NOT VALID, "
    "validated on its own); or add it NOT VALID (op.execute), and VALIDATE CONSTRAINT in a "
    "later revision inside "
    "`with op.get_context().autocommit_block():` (validated in the transaction that added it, "
    "it blocks as before)"
)
_WHY_REWRITE = "the rewrite holds an ACCESS EXCLUSIVE lock: no reads or writes until it is done"
_WHY_UNIQUE = "building the unique index blocks every write to the table until it is done"
# NOT VALID does not exist for UNIQUE or PRIMARY KEY: PostgreSQL builds the index first.
_FIX_UNIQUE = (
    "use op.create_unique_constraint_online; or create a unique index with "
    "postgresql_concurrently=True inside "
    "`with op.get_context().autocommit_block():`, then add the constraint USING INDEX "
    "(op.execute) in a later revision"
)
# An exclusion constraint: it cannot be added NOT VALID.
_EXCLUDE = re.compile(r"\bEXCLUDE\s+(USING\b|\()", re.I)
_FIX_CONCURRENTLY = (
    "use op.create_index_online; or postgresql_concurrently=True inside "
    "`with op.get_context().autocommit_block():` "
    "(CONCURRENTLY cannot run in a transaction; the script runs it outside one)"
)
_WHY_DROP_INDEX = (
    "it takes ACCESS EXCLUSIVE on the table (measured): reads and writes queue behind it while "
    "it waits for the queries already running; CONCURRENTLY takes a lock that lets them go on"
)
_FIX_DROP_CONCURRENTLY = (
    "use op.drop_index_online; or postgresql_concurrently=True on drop_index inside "
    "`with op.get_context().autocommit_block():`"
)
_FIX_SERIAL = (
    "add a plain integer column, then a sequence as its default in another statement (SET "
    "DEFAULT nextval(...): new rows only, no rewrite), and fill the existing rows in batches"
)
_FIX_GENERATED = (
    "weigh the table's size (every row is written again): add it at a quiet moment, or add "
    "a plain column, fill it in batches and keep it current from the application"
)
_FIX_VOLATILE = (
    "add the column without a default (or with a constant one), backfill it in batches, "
    "then set the default"
)


def _raw_type_change_rewrites(facts: Facts, raw: RawStatement) -> bool:
    """Whether a raw ALTER COLUMN ... TYPE may rewrite the table: its old type from the
    replayed shapes, its new type as sqlglot reads it; a USING clause, or a type either
    does not know, may."""
    from sqlglot import exp

    from tools.scripts.statements import sql_type

    for action in raw.parsed.args.get("actions") or [] if raw.parsed is not None else []:
        if not isinstance(action, exp.AlterColumn) or action.args.get("dtype") is None:
            continue
        before = facts.shapes.column(raw.table, action.name) if facts.shapes else None
        if action.args.get("using") or before is None or before.type is None:
            return True
        if type_change_rewrites(before.type, sql_type(action.args["dtype"])):
            return True
    return False


def _new_empty_reference(raw: RawStatement) -> bool:
    """An ALTER TABLE that only adds columns, none with a default: a REFERENCES among them
    has no value to check."""
    from sqlglot import exp

    if not isinstance(raw.parsed, exp.Alter):
        return False
    actions = raw.parsed.args.get("actions") or []
    return bool(actions) and all(
        isinstance(a, exp.ColumnDef) and a.find(exp.DefaultColumnConstraint) is None
        for a in actions
    )


def _volatile_default(column: Any, dialect: ScriptDialect) -> bool:

    default = getattr(column, "server_default", None)
    text = getattr(getattr(default, "arg", None), "text", None)
    return isinstance(text, str) and is_volatile_default(text, dialect.sqlglot)


def overrules(facts: Facts, statement: Statement, rule: str) -> bool:
    """Whether what lint knows of the tables (the replayed shapes) shows a squawk finding
    wrong for this statement, as the server measures it (tests/test_safety_corpus.py): a
    type change that only widens, a SET NOT NULL a validated CHECK already proves."""
    from tools.lint.rules import proven_not_null, set_not_null

    if rule == "changing-column-type":
        ops = [op for op in facts.operations if op.line == statement.line]
        changes = [op for op in ops if op.name == "alter_column"]
        if changes:
            return not any(alter_rewrites(facts, op) for op in changes)
        raws = [r for r in split(statement.sql, facts.dialect.sqlglot) if "alter-type" in r.kinds]
        return bool(raws) and not any(_raw_type_change_rewrites(facts, r) for r in raws)
    if rule == "adding-foreign-key-constraint":
        # A column added with its REFERENCES and no default holds only NULLs: PostgreSQL
        # has no row to check (measured: no scan).
        raws = split(statement.sql, facts.dialect.sqlglot)
        return bool(raws) and all(_new_empty_reference(r) for r in raws)
    if rule == "adding-not-nullable-field":
        ops = [op for op in facts.operations if op.line == statement.line]
        changes = [op for op in ops if op.name == "alter_column"]
        if changes:
            return all(proven_not_null(facts, op.table, op.target) for op in changes)
        raws = [r for r in split(statement.sql, facts.dialect.sqlglot) if "set-not-null" in r.kinds]
        return bool(raws) and all(
            proven_not_null(facts, r.table, column) for r in raws for column in set_not_null(r)
        )
    return False
