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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation
    from sqlalchemy import Table

    from tools.scripts.capture import Operation
    from tools.scripts.statements import RawStatement

Columns = tuple[str, ...]


@dataclass
class ColumnShape:
    type: Any  # a SQLAlchemy type, or None when not known
    nullable: bool | None = None


# A CHECK that proves a column holds no NULL: PostgreSQL 12+ uses a validated one instead of
# scanning the table to SET NOT NULL.
_IS_NOT_NULL = re.compile(r'^\s*\(*\s*"?(\w+)"?\s+IS\s+NOT\s+NULL\s*\)*\s*$', re.I)


@dataclass
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


@dataclass
class Shapes:
    tables: dict[str, TableShape] = field(default_factory=dict)

    def copy(self) -> Shapes:
        return copy.deepcopy(self)

    def _table(self, name: str | None) -> TableShape:
        return self.tables.setdefault(str(name), TableShape())

    def follow(self, operation: Operation) -> None:
        """Follow one captured operation (a created table as Alembic built it)."""
        self.apply(operation.source, built=operation.built)

    def apply(self, op: MigrateOperation | None, built: Table | None = None) -> None:
        """Follow one operation (anything it does not know leaves the shapes as they are);
        ``built``: the table a create_table made, when it ran."""
        from alembic.operations import ops

        if isinstance(op, ops.CreateTableOp):
            self._create_table(op, built)
        elif isinstance(op, ops.DropTableOp):
            self.tables.pop(op.table_name, None)
        elif isinstance(op, ops.RenameTableOp):
            if op.table_name in self.tables:
                self.tables[op.new_table_name] = self.tables.pop(op.table_name)
            for shape in self.tables.values():
                for name, referred in shape.references.items():
                    if referred == op.table_name:
                        shape.references[name] = op.new_table_name
        elif isinstance(op, ops.AddColumnOp):
            self._table(op.table_name).columns[op.column.name] = ColumnShape(
                op.column.type, op.column.nullable
            )
            for key in op.column.foreign_keys:
                name = _name(key.constraint.name if key.constraint else None, op.column.name)
                self._table(op.table_name).foreign_keys[name] = (op.column.name,)
                self._table(op.table_name).references[name] = _referred(key.target_fullname)
            if op.column.primary_key:
                self._table(op.table_name).primary_key += (op.column.name,)
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

    def _create_table(self, op: Any, built: Table | None) -> None:
        from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

        table: Any = built if built is not None else op.to_table()
        shape = TableShape(primary_key=tuple(c.name for c in table.primary_key.columns))
        shape.columns = {c.name: ColumnShape(c.type, c.nullable) for c in table.columns}
        for constraint in table.constraints:
            columns = tuple(c.name for c in constraint.columns)
            if isinstance(constraint, ForeignKeyConstraint):
                name = _name(constraint.name, *columns)
                shape.foreign_keys[name] = columns
                shape.references[name] = _referred(constraint.elements[0].target_fullname)
            elif isinstance(constraint, UniqueConstraint):
                shape.indexes[_name(constraint.name, *columns)] = columns
        for index in table.indexes:
            shape.indexes[str(index.name)] = tuple(c.name for c in index.columns)
        self.tables[op.table_name] = shape

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


def _referred(target: str) -> str:
    """The table of a foreign key's target, 'schema.table.column' or 'table.column'."""
    return target.rsplit(".", 2)[-2] if "." in target else target


def _leads(columns: Columns, index: Columns) -> bool:
    return bool(columns) and index[: len(columns)] == columns


def _name(name: object, *columns: str) -> str:
    return str(name) if name else f"({', '.join(columns)})"


def _columns(columns: Any) -> Columns:
    return tuple(c if isinstance(c, str) else str(getattr(c, "name", c)) for c in columns)
