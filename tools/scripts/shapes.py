"""Which columns (type, nullability), indexes, foreign keys and NOT NULL checks each table
has, replayed offline from Alembic operations and the raw SQL revisions run.

Lint asks it what a revision runs against without a database: the operations of every
revision before it in apply order are replayed, and each rule that needs to know, say,
whether an index is the one a foreign key stands on, or what type a raw ALTER changes a
column from, asks the replayed shape. What it cannot follow it leaves unknown (None), and
the rules then assume the worst.
"""

from __future__ import annotations

import copy
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from alembic.operations.ops import MigrateOperation
    from sqlalchemy import Column, Table

    from tools.scripts.statements import RawStatement

Columns = tuple[str, ...]

# The operations (besides create_table and add_column, followed from what they made) that
# change what a backup plan reads of a table: its columns, its primary key, the tables its
# foreign keys refer to. The others change only its indexes and checks, which lint reads.
KEYS_CHANGED_BY = frozenset(
    {
        "drop_table",
        "rename_table",
        "create_foreign_key",
        "create_primary_key",
        "alter_column",
        "drop_column",
        "drop_constraint",
    }
)


@dataclass(slots=True)
class ColumnShape:
    type: Any  # a SQLAlchemy type, or None when not known
    nullable: bool | None = None


# A CHECK that proves a column holds no NULL: PostgreSQL 12+ uses a validated one instead of
# scanning the table to SET NOT NULL.
_IS_NOT_NULL = re.compile(r'^\s*\(*\s*"?(\w+)"?\s+IS\s+NOT\s+NULL\s*\)*\s*$', re.I)


@dataclass(slots=True)
class TableShape:
    columns: dict[str, ColumnShape] = field(default_factory=dict)
    # Columns a validated CHECK (col IS NOT NULL) covers; checks added NOT VALID, by name.
    checked_not_null: set[str] = field(default_factory=set)
    unvalidated: dict[str, str] = field(default_factory=dict)
    primary_key: Columns = ()
    foreign_keys: dict[str, Columns] = field(default_factory=dict)
    indexes: dict[str, Columns] = field(default_factory=dict)  # unique constraints too
    # The table each foreign key refers to (by the foreign key's name).
    references: dict[str, str] = field(default_factory=dict)

    @property
    def parents(self) -> set[str]:
        """The tables this one's foreign keys refer to."""
        return set(self.references.values())


@dataclass(frozen=True, slots=True)
class TableMade:
    """What a create_table made, as plain data: the table's shape once followed."""

    columns: tuple[tuple[str, Any, bool | None], ...]  # name, type, nullable; in order
    primary_key: Columns
    foreign_keys: tuple[tuple[str, Columns, str], ...]  # name, columns, table referred to
    indexes: tuple[tuple[str, Columns], ...]  # unique constraints too

    def shape(self) -> TableShape:
        return TableShape(
            columns={name: ColumnShape(type_, nullable) for name, type_, nullable in self.columns},
            primary_key=self.primary_key,
            foreign_keys={name: columns for name, columns, _ in self.foreign_keys},
            indexes=dict(self.indexes),
            references={name: referred for name, _, referred in self.foreign_keys},
        )


@dataclass(frozen=True, slots=True)
class ColumnAdded:
    """What an add_column added: the column, the tables its foreign keys refer to (by the
    foreign key's name), and whether it joins the primary key."""

    name: str
    type: Any
    nullable: bool | None
    references: tuple[tuple[str, str], ...] = ()
    primary_key: bool = False


class Recorded(Protocol):
    """What follow reads of an operation capture recorded (tools.scripts.capture.Operation)."""

    @property
    def name(self) -> str: ...
    @property
    def table(self) -> str | None: ...
    @property
    def source(self) -> Any: ...
    @property
    def made(self) -> Any: ...


@dataclass
class Shapes:
    tables: dict[str, TableShape] = field(default_factory=dict)

    def copy(self) -> Shapes:
        return copy.deepcopy(self)

    def _table(self, name: str | None) -> TableShape:
        return self.tables.setdefault(str(name), TableShape())

    def follow(self, operation: Recorded) -> None:
        """Follow one captured operation: a created table or an added column as capture
        read them once Alembic had made them (Operation.made), anything else from its
        Alembic operation."""
        if isinstance(operation.made, TableMade):
            self.tables[str(operation.table)] = operation.made.shape()
        elif isinstance(operation.made, ColumnAdded):
            self._add_column(str(operation.table), operation.made)
        elif operation.name not in ("create_table", "add_column"):
            self.apply(operation.source)
        # else what it made could not be read (capture kept it whole): its Index objects
        # belong to the table built once, so it is not built again; the table stays unknown

    def _add_column(self, name: str, added: ColumnAdded) -> None:
        table = self._table(name)
        table.columns[added.name] = ColumnShape(added.type, added.nullable)
        for key, referred in added.references:
            table.foreign_keys[key] = (added.name,)
            table.references[key] = referred
        if added.primary_key:
            table.primary_key += (added.name,)

    def apply(self, op: MigrateOperation | None) -> None:
        """Follow one Alembic operation; anything it does not know leaves the shapes as
        they are."""
        from alembic.operations import ops

        if isinstance(op, ops.CreateTableOp):
            self.tables[op.table_name] = table_made(op.to_table()).shape()
        elif isinstance(op, ops.AddColumnOp):
            self._add_column(op.table_name, column_added(op.column))
        elif isinstance(op, ops.DropTableOp):
            self.tables.pop(op.table_name, None)
        elif isinstance(op, ops.RenameTableOp):
            if op.table_name in self.tables:
                self.tables[op.new_table_name] = self.tables.pop(op.table_name)
            for shape in self.tables.values():
                for name, referred in shape.references.items():
                    if referred == op.table_name:
                        shape.references[name] = op.new_table_name
        elif isinstance(op, ops.CreateForeignKeyOp):
            table = self._table(op.source_table)
            name = _name(op.constraint_name, *op.local_cols)
            table.foreign_keys[name] = tuple(op.local_cols)
            table.references[name] = str(op.referent_table)
        elif isinstance(op, ops.CreateIndexOp | ops.CreateUniqueConstraintOp):
            index = op.index_name if isinstance(op, ops.CreateIndexOp) else op.constraint_name
            self._table(op.table_name).indexes[str(index)] = _columns(op.columns)
        elif isinstance(op, ops.CreatePrimaryKeyOp):
            self._table(op.table_name).primary_key = _columns(op.columns)
        elif isinstance(op, ops.AlterColumnOp):
            self._alter_column(op)
        elif isinstance(op, ops.DropColumnOp):
            self._table(op.table_name).columns.pop(op.column_name, None)
        elif isinstance(op, ops.CreateCheckConstraintOp):
            covered = _IS_NOT_NULL.match(str(op.condition))
            if covered:
                table = self._table(op.table_name)
                if (op.kw or {}).get("postgresql_not_valid"):
                    table.unvalidated[str(op.constraint_name)] = covered.group(1)
                else:
                    table.checked_not_null.add(covered.group(1))
        elif isinstance(op, ops.DropIndexOp):
            self._table(op.table_name).indexes.pop(str(op.index_name), None)
        elif isinstance(op, ops.DropConstraintOp):
            table = self._table(op.table_name)
            table.foreign_keys.pop(str(op.constraint_name), None)
            table.references.pop(str(op.constraint_name), None)
            if op.constraint_type != "foreignkey":
                table.indexes.pop(str(op.constraint_name), None)

    def _alter_column(self, op: Any) -> None:
        table = self._table(op.table_name)
        column = table.columns.get(op.column_name) or ColumnShape(op.existing_type)
        if op.modify_type is not None:
            column.type = op.modify_type
        if op.modify_nullable is not None:
            column.nullable = op.modify_nullable
        table.columns.pop(op.column_name, None)
        table.columns[op.modify_name or op.column_name] = column

    def follow_raw(self, raw: RawStatement) -> None:
        """Follow one raw SQL statement: the columns an ALTER TABLE adds, redefines,
        renames or drops, and NOT NULL checks added or validated."""
        from sqlglot import exp

        from tools.scripts.statements import column_definition, sql_type

        if raw.table is None:
            return
        table = self._table(raw.table)
        if "validate-constraint" in raw.kinds:
            name = raw.sql.rstrip().rstrip(";").split()[-1].strip('"')
            if name in table.unvalidated:
                table.checked_not_null.add(table.unvalidated.pop(name))
            return
        if not isinstance(raw.parsed, exp.Alter):
            return
        for action in raw.parsed.args.get("actions") or []:
            defined = column_definition(action)
            if defined is not None:
                name, kind, nullable = defined
                table.columns[name] = ColumnShape(kind, nullable)
            elif isinstance(action, exp.AlterColumn):
                column = table.columns.setdefault(action.name, ColumnShape(None))
                if action.args.get("dtype") is not None:
                    column.type = sql_type(action.args["dtype"])
                if action.args.get("allow_null") is not None:
                    column.nullable = bool(action.args["allow_null"])
            elif isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
                table.columns[new] = table.columns.pop(old, ColumnShape(None))
            elif (
                isinstance(action, exp.Drop)
                and str(action.args.get("kind") or "COLUMN") == "COLUMN"
            ):
                for dropped in action.find_all(exp.Column):
                    table.columns.pop(dropped.name, None)
                    table.checked_not_null.discard(dropped.name)
            elif isinstance(action, exp.AddConstraint):
                self._raw_check(table, action, bool(raw.parsed.args.get("not_valid")))

    @staticmethod
    def _raw_check(table: TableShape, action: Any, not_valid: bool) -> None:
        from sqlglot import exp

        check = action.find(exp.CheckColumnConstraint)
        test = check.this if check is not None else None
        if not (isinstance(test, exp.Is) and test.args.get("negate")):
            return
        if not (isinstance(test.this, exp.Column) and isinstance(test.expression, exp.Null)):
            return
        named = action.find(exp.Constraint)
        if not_valid and named is not None:
            table.unvalidated[named.name] = test.this.name
        elif not not_valid:
            table.checked_not_null.add(test.this.name)

    def column(self, table: str | None, name: str | None) -> ColumnShape | None:
        shape = self.tables.get(str(table))
        return shape.columns.get(str(name)) if shape is not None else None

    def not_null_proven(self, table: str | None, column: str | None) -> bool:
        """Whether a validated CHECK (column IS NOT NULL) covers the column."""
        shape = self.tables.get(str(table))
        return shape is not None and str(column) in shape.checked_not_null

    def foreign_key_needing(self, table: str | None, index: str) -> str | None:
        """The foreign key of ``table`` that stands on ``index`` alone: one whose columns
        lead the index and lead no other index, unique constraint or primary key of the
        table. MariaDB and MySQL refuse to drop such an index (error 1553)."""
        shape = self.tables.get(str(table))
        if shape is None or index not in shape.indexes:
            return None
        others = [c for name, c in shape.indexes.items() if name != index]
        others.append(shape.primary_key)
        for name, columns in sorted(shape.foreign_keys.items()):
            if _leads(columns, shape.indexes[index]) and not any(
                _leads(columns, other) for other in others
            ):
                return name
        return None


def _as_it_is(type_: Any) -> Any:
    return type_


def table_made(table: Table, keep_type: Callable[[Any], Any] = _as_it_is) -> TableMade:
    """What create_table made, read from the table Alembic built; of each column's type,
    what ``keep_type`` keeps (a script keeps only what its restores need)."""
    from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

    foreign_keys, indexes = [], []
    constraints: set[Any] = table.constraints  # each a ColumnCollectionConstraint here
    for constraint in constraints:
        columns = tuple(_text(c.name) for c in constraint.columns)
        if isinstance(constraint, ForeignKeyConstraint):
            referred = _referred(constraint.elements[0].target_fullname)
            foreign_keys.append((_name(constraint.name, *columns), columns, referred))
        elif isinstance(constraint, UniqueConstraint):
            indexes.append((_name(constraint.name, *columns), columns))
    for index in table.indexes:
        indexes.append((str(index.name), tuple(_text(c.name) for c in index.columns)))
    return TableMade(
        tuple((_text(c.name), keep_type(c.type), c.nullable) for c in table.columns),
        tuple(_text(c.name) for c in table.primary_key.columns),
        tuple(foreign_keys),
        tuple(indexes),
    )


def column_added(column: Column[Any], keep_type: Callable[[Any], Any] = _as_it_is) -> ColumnAdded:
    """What add_column adds, read from the column once Alembic has added it (its type as
    table_made keeps it)."""
    references = tuple(
        (_name(key.constraint.name if key.constraint else None, column.name),
         _referred(key.target_fullname))
        for key in column.foreign_keys
    )  # fmt: skip
    return ColumnAdded(
        _text(column.name),
        keep_type(column.type),
        column.nullable,
        references,
        column.primary_key,
    )


def _text(name: str) -> str:
    """A name as a plain string: the one the revision's code already holds, where it is
    the same (SQLAlchemy's quoted_name is a copy of its own)."""
    return sys.intern(str(name))


def _referred(target: str) -> str:
    """The table of a foreign key's target, 'schema.table.column' or 'table.column'."""
    return target.rsplit(".", 2)[-2] if "." in target else target


def _leads(columns: Columns, index: Columns) -> bool:
    return bool(columns) and index[: len(columns)] == columns


def _name(name: object, *columns: str) -> str:
    return str(name) if name else f"({', '.join(columns)})"


def _columns(columns: Any) -> Columns:
    return tuple(c if isinstance(c, str) else str(getattr(c, "name", c)) for c in columns)
