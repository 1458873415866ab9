"""What lint works on and gives: the facts of one revision, a rule's hit, a finding, and the
helpers rules share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError
from tools.core.text import comment, shown_file

if TYPE_CHECKING:
    from tools.dialects import ScriptDialect
    from tools.history.graph import Direction, Revision
    from tools.lint.squawk import Hit as SquawkHit
    from tools.scripts.capture import Operation, Statement
    from tools.scripts.shapes import Shapes
    from tools.scripts.statements import RawStatement


ERROR = "error"
WARNING = "warning"

# Why two kinds of statement block the application, in every rule that finds one.
WHY_INDEX = "CREATE INDEX blocks every write to the table until the index is built"
WHY_VALIDATE = "validating every row holds a lock on the table for the whole scan"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    revision: str
    path: Path
    line: int | None
    message: str
    why: str
    fix: str
    silenced: str | None = None  # the reason given, when a comment silences the rule

    @property
    def where(self) -> str:
        return f"{shown_file(self.path)}:{self.line or 1}"

    def __str__(self) -> str:
        state = f" (silenced: {self.silenced})" if self.silenced else ""
        return f"{self.where}: {self.severity} {self.rule}: {self.message}{state}"

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "revision": self.revision,
            "file": self.where,
            "message": self.message,
            "why": self.why,
            "fix": self.fix,
            "silenced": self.silenced,
        }


@dataclass(frozen=True)
class Facts:
    """What a rule gets to look at for one revision in one direction."""

    revision: Revision
    dialect: ScriptDialect
    direction: Direction
    operations: tuple[Operation, ...]
    statements: tuple[Statement, ...]  # every statement this step renders
    # SQL no Alembic operation describes (op.execute, the bind's execute), one statement each.
    raw_sql: tuple[tuple[Statement, RawStatement], ...]
    new_tables: frozenset[str]  # created by this revision: no existing rows, no readers
    render_error: SchemactlError | None = None
    reverse_operations: tuple[Operation, ...] | None = None  # the other direction
    reverse_statements: tuple[Statement, ...] = ()
    reverse_error: SchemactlError | None = None
    # The tables' indexes and foreign keys before this step, replayed from the revisions
    # before it in apply order (None when not replayed: only rules that need it ask).
    shapes: Shapes | None = None
    # squawk's findings on this step's statements, judged with the whole range's.
    squawk: tuple[tuple[Statement, SquawkHit], ...] = ()

    def existing(self, table: str | None) -> bool:
        return table is not None and table not in self.new_tables


@dataclass(frozen=True)
class Hit:
    """A rule's raw finding; lint fills in revision, file and silencing."""

    severity: str
    message: str
    line: int | None
    why: str
    fix: str


Rule = Callable[[Facts], Iterator[Hit]]


def _short(statement: Statement) -> str:

    return comment(statement.sql, limit=80)


def filled_for_every_row(column: Any) -> str | None:
    """What makes the server compute a value for every existing row of a column added: a
    stored generated column (sa.Computed), an identity column (sa.Identity); None if
    neither."""
    computed = getattr(column, "computed", None)
    if computed is not None and computed.persisted is not False:
        return "a stored generated column"
    if getattr(column, "identity", None) is not None:
        return "an identity column"
    return None


def old_type(facts: Facts, op: Operation) -> Any:
    """The type an alter_column changes a column from: as the operation says it
    (existing_type), else as the replayed shapes know it (None: not known)."""
    given = getattr(op.source, "existing_type", None)
    if given is not None or facts.shapes is None:
        return given
    column = facts.shapes.column(op.table, op.target)
    return column.type if column is not None else None


def alter_rewrites(facts: Facts, op: Operation) -> bool:
    """Whether PostgreSQL rewrites the table for this alter_column's type change."""
    new = getattr(op.source, "modify_type", None)
    return new is not None and type_change_rewrites(old_type(facts, op), new)


def _rewrites(source: Any) -> bool:
    """Whether PostgreSQL rewrites the table for this alter_column's type change (see
    type_change_rewrites)."""
    old, new = getattr(source, "existing_type", None), getattr(source, "modify_type", None)
    if new is None:
        return False
    return type_change_rewrites(old, new)


def type_change_rewrites(old: Any, new: Any) -> bool:
    """Whether PostgreSQL rewrites the table to change a column from ``old`` to ``new``.
    Widening a VARCHAR (or making it TEXT or unbounded) and raising a NUMERIC's precision at
    the same scale change only the catalog (measured: tests/test_measure.py,
    tests/test_safety_corpus.py); anything else, or a type not known, may rewrite."""
    from sqlalchemy import Numeric, String

    if new is None:
        return True
    if isinstance(old, String) and isinstance(new, String):
        return bool(old.length and new.length and new.length < old.length)
    if type(old) is Numeric and type(new) is Numeric and old.scale == new.scale:
        before, after = old.precision, new.precision
        return before is None or (after is not None and after < before)
    return True
