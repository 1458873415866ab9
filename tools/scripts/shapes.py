"""Which indexes and foreign keys each table has, replayed from Alembic operations offline.

Lint asks it what a revision runs against without a database: the operations of every
revision before it in apply order are replayed, and each rule that needs to know, say,
whether an index is the one a foreign key stands on, asks the replayed shape.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.operations.ops import MigrateOperation
    from sqlalchemy import Table

    from tools.scripts.capture import Operation

Columns = tuple[str, ...]


@dataclass
class TableShape:
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
        elif isinstance(op, ops.DropIndexOp):
            self._table(op.table_name).indexes.pop(str(op.index_name), None)
        elif isinstance(op, ops.DropConstraintOp):
            table = self._table(op.table_name)
            table.foreign_keys.pop(str(op.constraint_name), None)
            table.references.pop(str(op.constraint_name), None)
            if op.constraint_type != "foreignkey":
                table.indexes.pop(str(op.constraint_name), None)

    def _create_table(self, op: Any, built: Table | None) -> None:
        from sqlalchemy import ForeignKeyConstraint, UniqueConstraint

        table: Any = built if built is not None else op.to_table()
        shape = TableShape(primary_key=tuple(c.name for c in table.primary_key.columns))
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
