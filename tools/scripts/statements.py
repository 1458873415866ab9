"""What raw SQL does, read with sqlglot (never by hand): split into statements, and named.

Lint judges the SQL a script will run that no Alembic operation describes (``op.execute``,
``op.get_bind().execute(...)``). One string may hold several statements; each is judged on
its own. A statement sqlglot cannot read is kept, unparsed, so nothing is dropped silently.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp

# Functions whose value differs per row: a column added with one as its default makes
# PostgreSQL rewrite the whole table (a constant default does not, since PostgreSQL 11).
VOLATILE = frozenset(
    {
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v4",
        "random",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
    }
)


@dataclass(frozen=True)
class RawStatement:
    sql: str  # the statement's own text (one of several, when a string held more)
    parsed: exp.Expr | None  # None: sqlglot could not read it
    kinds: tuple[str, ...]  # what it does, e.g. ('drop-column', 'set-not-null')
    table: str | None = None  # the table an ALTER TABLE, CREATE INDEX or UPDATE is about


@contextmanager
def _quiet() -> Iterator[None]:
    # sqlglot warns on stderr about syntax it keeps as a plain command; lint reads the result.
    logger = logging.getLogger("sqlglot")
    level, logger.level = logger.level, logging.ERROR
    try:
        yield
    finally:
        logger.setLevel(level)


def parse_one(sql: str, dialect: str) -> exp.Expr | None:
    """One statement parsed, or None when sqlglot cannot read it."""
    import sqlglot
    from sqlglot.errors import ParseError

    with _quiet():
        try:
            return sqlglot.parse_one(sql.rstrip().rstrip(";"), read=dialect)
        except ParseError:
            return None


def split(sql: str, dialect: str) -> list[RawStatement]:
    """Every statement of ``sql`` (``dialect`` as sqlglot names it), each with what it does."""
    import sqlglot
    from sqlglot.errors import ParseError

    with _quiet():
        try:
            parsed = [e for e in sqlglot.parse(sql, read=dialect) if e is not None]
        except ParseError:
            text = sql.strip()
            return [RawStatement(text, None, by_text(text), table_of(None, text))]
    if len(parsed) <= 1:
        one = parsed[0] if parsed else None
        text = sql.strip()
        return [RawStatement(text, one, _named(one, text), table_of(one, text))]
    return [
        RawStatement(text, e, _named(e, text), table_of(e, text))
        for e in parsed
        for text in [e.sql(dialect=dialect)]
    ]


def _named(parsed: exp.Expr | None, text: str) -> tuple[str, ...]:
    """kinds(), with what only the statement's words say."""
    from sqlglot import exp

    found = kinds(parsed) or by_text(text)
    stored = (
        parsed is not None
        and parsed.find(exp.ComputedColumnConstraint) is not None
        and _STORED.search(text) is not None
    )
    if stored and "add-stored-generated" not in found:
        found += ("add-stored-generated",)  # PostgreSQL's: sqlglot keeps STORED in the text
    return found


# What sqlglot keeps as a plain command (or misreads), read from the statement's words:
# (kind, pattern whose group 'table' names the table).
_BY_TEXT = (
    # PostgreSQL writes the whole table again, under ACCESS EXCLUSIVE.
    ("rewrite-table", re.compile(r"^\s*CLUSTER\s+(VERBOSE\s+)?(?P<table>[\w.\"]+)", re.I)),
    (
        "rewrite-table",
        re.compile(r"^\s*VACUUM\s+(\(\s*)?FULL\b[^;]*?(?P<table>[\w.\"]+)\s*;?$", re.I),
    ),
    # MariaDB/MySQL rebuild or copy the table.
    (
        "rebuild-table",
        re.compile(
            r"^\s*ALTER\s+(ONLINE\s+|IGNORE\s+)*TABLE\s+(?P<table>[\w.`]+)\s+"
            r"(CONVERT\s+TO\s+(CHARACTER\s+SET|CHARSET)\b|.*\bENGINE\s*=)",
            re.I,
        ),
    ),
    (
        "validate-constraint",
        re.compile(
            r"^\s*ALTER\s+TABLE\s+(ONLY\s+)?(?P<table>[\w.\"]+)\s+VALIDATE\s+CONSTRAINT\b", re.I
        ),
    ),
)


def by_text(sql: str) -> tuple[str, ...]:
    """The kinds of a statement sqlglot could not name, from its words (_BY_TEXT)."""
    return tuple(kind for kind, pattern in _BY_TEXT if pattern.search(sql))


def _table_by_text(sql: str) -> str | None:
    for _, pattern in _BY_TEXT:
        found = pattern.search(sql)
        if found:
            return found.group("table").strip('`"').rsplit(".", 1)[-1]
    return None


def table_of(parsed: exp.Expr | None, sql: str = "") -> str | None:
    from sqlglot import exp

    if isinstance(parsed, exp.Alter) and str(parsed.args.get("kind") or "").upper() == "INDEX":
        return None  # ALTER INDEX names an index, not a table
    if isinstance(parsed, exp.Alter | exp.Update | exp.Delete | exp.TruncateTable):
        table = parsed.find(exp.Table)
        return table.name if table is not None else None
    if isinstance(parsed, exp.Create):
        table = parsed.find(exp.Table)
        return table.name if table is not None else None
    return _table_by_text(sql) if sql else None


def kinds(parsed: exp.Expr | None) -> tuple[str, ...]:
    """What a parsed statement does, in the words lint's rules use."""
    from sqlglot import exp

    if parsed is None:
        return ()
    if isinstance(parsed, exp.Drop):
        kind = str(parsed.args.get("kind") or "").lower()
        return (f"drop-{kind}" if kind else "drop",)
    if isinstance(parsed, exp.TruncateTable):
        return ("truncate",)
    if isinstance(parsed, exp.Create) and str(parsed.args.get("kind") or "").upper() == "INDEX":
        return ("create-index",)
    if isinstance(parsed, exp.Update):
        return ("update",)
    if isinstance(parsed, exp.Insert):
        return ("insert",)
    if isinstance(parsed, exp.Delete):
        return ("delete",)
    if isinstance(parsed, exp.Alter):
        if str(parsed.args.get("kind") or "").upper() == "INDEX":
            return ("alter-index",)  # renaming or retuning an index: no reader names it
        kinds = tuple(k for action in parsed.args.get("actions") or [] for k in _action(action))
        return kinds + _forced(parsed) + _rebuilt(parsed)
    if isinstance(parsed, exp.Set) and _SETS_FK_CHECKS_OFF.search(parsed.sql()):
        return ("foreign-key-checks-off",)
    if isinstance(parsed, exp.Set) and _SETS_FK_CHECKS_ON.search(parsed.sql()):
        return ("foreign-key-checks-on",)
    return ()


def actions(parsed: exp.Expr | None) -> tuple[str, ...]:
    """Each change an ALTER TABLE makes, named (e.g. ('add-column', 'drop-index')), or
    ('create-index',) for a CREATE INDEX; () for any other statement, or an ALTER of which
    one action has no name here."""
    from sqlglot import exp

    if isinstance(parsed, exp.Create) and str(parsed.args.get("kind") or "").upper() == "INDEX":
        return ("create-index",)
    if not isinstance(parsed, exp.Alter) or str(parsed.args.get("kind") or "").upper() != "TABLE":
        return ()
    named = [_named_action(action) for action in parsed.args.get("actions") or []]
    return tuple(n for n in named if n) if named and all(named) else ()


def _named_action(action: exp.Expr) -> str | None:
    from sqlglot import exp

    if isinstance(action, exp.ColumnDef):
        constraints = [c.args.get("kind") for c in action.args.get("constraints") or []]
        if any(isinstance(c, exp.AutoIncrementColumnConstraint) for c in constraints):
            return "add-auto-increment-column"
        if any(
            isinstance(c, exp.ComputedColumnConstraint) and c.args.get("persisted")
            for c in constraints
        ):
            return "add-stored-generated"
        if any(isinstance(c, exp.DefaultColumnConstraint) and _volatile(c) for c in constraints):
            return "add-volatile-default"
        return "add-column"
    if isinstance(action, exp.Drop):
        return "drop-" + str(action.args.get("kind") or "column").lower().replace(" ", "-")
    if isinstance(action, exp.RenameColumn):
        return "rename-column"
    if isinstance(action, exp.AlterColumn):
        changes = {k for k, v in action.args.items() if v not in (None, False) and k != "this"}
        if changes == {"default"}:
            return "set-default"
        if changes == {"drop"}:
            return "drop-default"
        return None
    if isinstance(action, exp.AddConstraint):
        if action.find(exp.IndexColumnConstraint) is not None:
            return "add-index"
        if action.find(exp.PrimaryKey) is not None:
            return "add-primary-key"
        if action.find(exp.UniqueColumnConstraint) is not None:
            return "add-unique"
        return "add-constraint"
    return None


# PostgreSQL's generated columns are all STORED (sqlglot keeps the word only in the text).
_STORED = re.compile(r"\bSTORED\b", re.I)
_SETS_FK_CHECKS_OFF = re.compile(r"\bforeign_key_checks\s*=\s*(0|OFF|FALSE)\b", re.I)
_SETS_FK_CHECKS_ON = re.compile(r"\bforeign_key_checks\s*=\s*(1|ON|TRUE)\b", re.I)


def _rebuilt(parsed: exp.Alter) -> tuple[str, ...]:
    """An ALTER that rebuilds a MariaDB/MySQL table whatever else it does: FORCE, ENGINE=."""
    from sqlglot import exp

    options = parsed.args.get("options") or []
    actions = parsed.args.get("actions") or []
    if any(isinstance(o, exp.EngineProperty) for o in options) or any(
        isinstance(a, exp.ForceProperty) for a in actions
    ):
        return ("rebuild-table",)
    return ()


def _forced(parsed: exp.Alter) -> tuple[str, ...]:
    """An ALTER that asks MariaDB/MySQL for a table copy or an exclusive lock itself."""
    from sqlglot import exp

    found = []
    for option in parsed.args.get("options") or []:
        value = str(option.this).upper() if option.this is not None else ""
        if isinstance(option, exp.AlgorithmProperty) and value == "COPY":
            found.append("forced-copy")
        elif isinstance(option, exp.LockProperty) and value in ("EXCLUSIVE", "SHARED"):
            found.append("forced-lock")
    return tuple(found)


def _action(action: exp.Expr) -> Iterator[str]:
    from sqlglot import exp

    if isinstance(action, exp.Drop):
        kind = str(action.args.get("kind") or "column").lower()
        yield f"drop-{kind}"
    elif isinstance(action, exp.RenameColumn | exp.AlterRename):
        yield "rename"
    elif isinstance(action, exp.AlterColumn):
        if action.args.get("dtype") is not None:
            yield "alter-type"
        if action.args.get("allow_null") is False:
            yield "set-not-null"
        if action.args.get("allow_null") is True and action.args.get("drop"):
            yield "drop-not-null"
    elif isinstance(action, exp.ModifyColumn):  # MariaDB/MySQL MODIFY or CHANGE: a new definition
        yield "modify-column"
        if action.args.get("rename_from") is not None:
            yield "rename"  # CHANGE old new ...: the column's name changes too
    elif isinstance(action, exp.ColumnDef):
        constraints = [c.args.get("kind") for c in action.args.get("constraints") or []]
        defaults = [c for c in constraints if isinstance(c, exp.DefaultColumnConstraint)]
        # NOT NULL; an explicit NULL parses as the same constraint, allowing NULL.
        not_null = [
            c
            for c in constraints
            if isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null")
        ]
        # A value the server makes for every row: an AUTO_INCREMENT, a generated column, a
        # PostgreSQL serial (whose nextval() default writes every row: a rewrite).
        data_type = action.args.get("kind")
        serial = (isinstance(data_type, exp.DataType) and data_type.this in _serials()) or any(
            isinstance(c, exp.GeneratedAsIdentityColumnConstraint) for c in constraints
        )
        filled = serial or any(
            isinstance(c, exp.AutoIncrementColumnConstraint | exp.ComputedColumnConstraint)
            for c in constraints
        )
        if serial:
            yield "add-serial-column"
        if not_null and not defaults and not filled:
            yield "add-not-null-column"
        if any(_volatile(d) for d in defaults):
            yield "add-volatile-default"
        if any(
            isinstance(c, exp.ComputedColumnConstraint) and c.args.get("persisted")
            for c in constraints
        ):
            yield "add-stored-generated"
    elif isinstance(action, exp.AlterSet) and str(action.args.get("option") or "").upper() in (
        "LOGGED",
        "UNLOGGED",
    ):
        yield "set-logged"  # PostgreSQL writes the whole table again
    elif isinstance(action, exp.AddConstraint):
        if action.find(exp.IndexColumnConstraint) is not None:
            yield "add-index"  # MariaDB/MySQL ADD INDEX/KEY (FULLTEXT too): no constraint
        elif action.find(exp.PrimaryKey) is not None:
            yield "add-primary-key"
        elif action.find(exp.UniqueColumnConstraint) is not None:
            yield "add-unique"
        else:
            yield "add-constraint"


@functools.cache
def _serials() -> frozenset[object]:
    """PostgreSQL's serial types, as sqlglot names them (sqlglot is imported when needed)."""
    from sqlglot import exp

    kinds = exp.DataType.Type
    return frozenset({kinds.SERIAL, kinds.BIGSERIAL, kinds.SMALLSERIAL})


def _volatile(default: exp.Expr) -> bool:
    from sqlglot import exp

    for function in default.find_all(exp.Func):
        name = (
            function.name if isinstance(function, exp.Anonymous) else function.sql_name()
        ).lower()
        if name in VOLATILE or isinstance(function, exp.Rand | exp.Uuid):
            return True
    return False


def is_volatile_default(sql: str, dialect: str) -> bool:
    """Whether a server default written as SQL (``sa.text('gen_random_uuid()')``) is one."""
    parsed = parse_one(f"SELECT {sql}", dialect)
    return parsed is not None and _volatile(parsed)


def dropped_types(sql: str, dialect: str) -> list[str]:
    """The types a DROP TYPE statement drops."""
    from sqlglot import exp

    parsed = parse_one(sql, dialect)
    if isinstance(parsed, exp.Drop) and str(parsed.args.get("kind") or "").upper() == "TYPE":
        # sqlglot files the dropped names under 'tables', whatever kind of object they are
        return [table.name for table in parsed.args.get("tables") or []]
    return []


def does_nothing(sql: str, dialect: str) -> bool:
    """Whether a statement changes no schema and no data: a plain SELECT (a downgrade of
    'SELECT 1'), ANALYZE, REINDEX, or validating a constraint added NOT VALID (there is
    nothing to undo)."""
    from sqlglot import exp

    parsed = parse_one(sql, dialect)
    if isinstance(parsed, exp.Command) and str(parsed.this).upper() == "ALTER":
        # sqlglot keeps ALTER TABLE ... VALIDATE CONSTRAINT as a plain command
        return " VALIDATE CONSTRAINT " in f" {' '.join(str(parsed.expression).upper().split())} "
    if isinstance(parsed, exp.Command) and str(parsed.this).upper() == "REINDEX":
        return True  # rebuilds an index as it was
    return isinstance(parsed, exp.Select | exp.Analyze)


def adds_enum_value(sql: str, dialect: str) -> bool:
    """Whether a statement adds a value to a PostgreSQL enum type (ALTER TYPE ... ADD VALUE),
    which no statement takes away again: a downgrade has nothing to undo."""
    from sqlglot import exp

    parsed = parse_one(sql, dialect)
    if not (isinstance(parsed, exp.Command) and str(parsed.this).upper() == "ALTER"):
        return False
    words = str(parsed.expression).upper().split()
    return words[:1] == ["TYPE"] and words[2:4] == ["ADD", "VALUE"]


def string_spans(sql: str, dialect: str) -> list[tuple[int, int]] | None:
    """Where the string literals of ``sql`` stand, as (start, end) offsets, end excluded and
    quotes included (None when sqlglot cannot tokenize it)."""
    from sqlglot.dialects import Dialect
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    strings = {TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.RAW_STRING}
    with _quiet():
        try:
            tokens = Dialect.get_or_raise(dialect).tokenize(sql)
        except SqlglotError:
            return None
    return [(t.start, t.end + 1) for t in tokens if t.token_type in strings]


def sql_type(data_type: exp.Expr | None) -> Any:
    """A column type sqlglot read, as the SQLAlchemy type lint compares types with (strings,
    enums, decimals, integers); None for any other (a rule then assumes the worst)."""
    import sqlalchemy as sa
    from sqlglot import exp

    if not isinstance(data_type, exp.DataType):
        return None
    kind = exp.DataType.Type
    params = [
        int(p.this.this) if isinstance(p, exp.DataTypeParam) and p.this.is_int else None
        for p in data_type.expressions
    ]
    name = data_type.this
    if name in (kind.VARCHAR, kind.NVARCHAR):
        return sa.String(params[0] if params else None)
    if name in (kind.TEXT, kind.MEDIUMTEXT, kind.LONGTEXT):
        return sa.Text()
    if name == kind.ENUM:
        values = [e.this for e in data_type.expressions if isinstance(e, exp.Literal)]
        return sa.Enum(*values)
    if name == kind.DECIMAL:
        precision, scale = [*params, None, None][:2]
        return sa.Numeric(precision, scale)
    if name == kind.INT:
        return sa.Integer()
    if name == kind.BIGINT:
        return sa.BigInteger()
    return None


def column_definition(action: exp.Expr) -> tuple[str, Any, bool] | None:
    """(name, type as sql_type reads it, nullable) of a column an ALTER TABLE action defines
    (ADD COLUMN, MariaDB's MODIFY); None for any other action."""
    from sqlglot import exp

    definition = action.this if isinstance(action, exp.ModifyColumn) else action
    if not isinstance(definition, exp.ColumnDef):
        return None
    constraints = [c.args.get("kind") for c in definition.args.get("constraints") or []]
    not_null = any(
        isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null")
        for c in constraints
    ) or any(isinstance(c, exp.PrimaryKeyColumnConstraint) for c in constraints)
    return definition.name, sql_type(definition.args.get("kind")), not not_null
