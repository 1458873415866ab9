"""Safe forms of the changes that stop writes, as Alembic operations.

Each takes the arguments of the Alembic operation it stands for and runs, per kind of
database, the form that kind writes (tools.dialects, online role): on PostgreSQL an index
built CONCURRENTLY, a constraint added NOT VALID and validated on its own, NOT NULL through
a validated CHECK, a unique constraint over an index built concurrently; on MariaDB each
ALTER asks for ALGORITHM=INPLACE, LOCK=NONE, so the server refuses rather than copies, and a
foreign key is checked by a query and then added without MariaDB's copy, and a CHECK,
which MariaDB checks only by copying the table, is added to a copy made beside the table
while writes go on, then switched in; on SQLite, the plain form. An environment with
``safe = false`` gets the plain form everywhere.

    op.create_index_online("ix_invoices_customer_id", "invoices", ["customer_id"])
    op.drop_index_online("ix_invoices_customer_id", table_name="invoices")
    op.create_foreign_key_online("fk_invoices_customer_id", "invoices", "customers",
                                 ["customer_id"], ["id"])
    op.create_check_constraint_online("ck_items_qty", "items", "qty >= 0")
    op.create_unique_constraint_online("uq_users_email", "users", ["email"])
    op.set_not_null_online("users", "email", existing_type=sa.String(255))
    op.backfill_online("invoices", {"currency": "'EUR'"}, where="currency IS NULL")

Each works in a batch block too (``batch_op.create_foreign_key_online(...)``): a table
SQLite rebuilds takes the plain form into the rebuild; elsewhere the operations queued
before it run first, then its safe form, where it stands.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from alembic.operations import BatchOperations, Operations, ops, toimpl
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import ExecutableDDLElement

from tools.core.internals import batch_rebuilds, in_batch, run_batch_queue
from tools.dialects import DIALECTS, ScriptDialect, embedded
from tools.dialects.online import Backfill, NotNull, ShadowCopy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Dialect
    from sqlalchemy.sql.compiler import DDLCompiler
    from sqlalchemy.sql.elements import ClauseElement

# The context option env.py sets from the environment's ``safe`` (absent: safe).
SAFE_OPTION = "schemactl_safe"


class Verbatim(ExecutableDDLElement):
    """An SQL statement run exactly as written: no bound parameters read into a ``:name``
    of a table's name, no ``%`` doubled."""

    def __init__(self, statement: str) -> None:
        self.statement = statement


@compiles(Verbatim)
def _verbatim(element: Verbatim, compiler: DDLCompiler, **kw: Any) -> str:
    # As the driver must be given it: a % doubled for one with % markers (online), as it is
    # in a script (the offline dialect's compiler keeps it).
    return compiler.sql_compiler.post_process_text(element.statement)


class _Emitter:
    """Where a kind writes an operation's form: Alembic's implementation for the plain one,
    the migration context's own for statements (outside a transaction in an autocommit
    block)."""

    def __init__(
        self,
        operations: Any,
        operation: Any,
        plain: Callable[[Any, Any], None],
        kind: ScriptDialect | None = None,
    ) -> None:
        self.operations = operations
        self.operation = operation
        self._plain = plain
        self._kind = kind

    def plain(self) -> None:
        self._plain(self.operations, self.operation)

    def run(self, statement: str | ClauseElement, *, outside: bool = False) -> None:
        context = self.operations.get_context()
        impl = context.impl
        batch = in_batch(self.operations)
        if batch is not None:  # what the block queued before this operation runs first
            run_batch_queue(batch, impl)
        construct = Verbatim(statement) if isinstance(statement, str) else statement
        if outside:
            with context.autocommit_block():
                impl.execute(construct)
        else:
            impl.execute(construct)

    def sql(self, construct: ClauseElement) -> str:
        """As the kind writes it for a person (no % doubled for a driver: run() does that)."""
        assert self._kind is not None  # a form asks only of its own kind
        return self._kind.compile(construct).removesuffix(";")


def kind_of(dialect: Dialect) -> ScriptDialect | None:
    """The kind of database a SQLAlchemy dialect is (None: one schemactl does not know)."""
    kinds = (make() for make in DIALECTS.values())
    return next((kind for kind in kinds if kind.matches(dialect)), None)


def _run(
    operations: Any,
    operation: Any,
    plain: Callable[[Any, Any], None],
    form: Callable[[ScriptDialect, _Emitter], None],
) -> None:
    """``operation`` in its kind's safe form, or plain where the environment says safe =
    false, the kind is unknown, or a batch block rebuilds the table anyway."""
    context = operations.get_context()
    kind = kind_of(context.dialect)
    emit = _Emitter(operations, operation, plain, kind)
    batch = in_batch(operations)
    rebuilt = batch is not None and batch_rebuilds(batch, context.impl)
    if kind is None or rebuilt or not context.opts.get(SAFE_OPTION, True):
        emit.plain()
    else:
        form(kind, emit)


# -- the operations ----------------------------------------------------------------------------


@Operations.register_operation("create_index_online")
@BatchOperations.register_operation("create_index_online", "batch_create_index_online")
class CreateIndexOnlineOp(ops.CreateIndexOp):
    """create_index, built while writes go on."""

    @classmethod
    def create_index_online(
        cls,
        operations: Operations,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        """Create an index without stopping writes (CONCURRENTLY on PostgreSQL; ALGORITHM=
        INPLACE, LOCK=NONE on MariaDB); arguments as op.create_index."""
        operations.invoke(cls(index_name, table_name, columns, schema=schema, unique=unique, **kw))

    @classmethod
    def batch_create_index_online(
        cls, operations: BatchOperations, index_name: str, columns: Sequence[Any], **kw: Any
    ) -> None:
        """create_index_online on the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(cls(index_name, table, columns, schema=schema, **kw))

    def reverse(self) -> DropIndexOnlineOp:
        # from_index builds the class it is called on.
        return cast(DropIndexOnlineOp, DropIndexOnlineOp.from_index(self.to_index()))


@Operations.register_operation("drop_index_online")
@BatchOperations.register_operation("drop_index_online", "batch_drop_index_online")
class DropIndexOnlineOp(ops.DropIndexOp):
    """drop_index, without stopping writes."""

    @classmethod
    def drop_index_online(
        cls,
        operations: Operations,
        index_name: str,
        table_name: str | None = None,
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Drop an index without stopping writes (CONCURRENTLY on PostgreSQL; ALGORITHM=
        INPLACE, LOCK=NONE on MariaDB); arguments as op.drop_index."""
        operations.invoke(cls(index_name, table_name=table_name, schema=schema, **kw))

    @classmethod
    def batch_drop_index_online(
        cls, operations: BatchOperations, index_name: str, **kw: Any
    ) -> None:
        """drop_index_online on the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(cls(index_name, table_name=table, schema=schema, **kw))

    def reverse(self) -> CreateIndexOnlineOp:
        return cast(CreateIndexOnlineOp, CreateIndexOnlineOp.from_index(self.to_index()))


@Operations.register_operation("create_foreign_key_online")
@BatchOperations.register_operation("create_foreign_key_online", "batch_create_foreign_key_online")
class CreateForeignKeyOnlineOp(ops.CreateForeignKeyOp):
    """create_foreign_key, the rows checked without stopping writes."""

    @classmethod
    def create_foreign_key_online(
        cls,
        operations: Operations,
        constraint_name: str | None,
        source_table: str,
        referent_table: str,
        local_cols: list[str],
        remote_cols: list[str],
        **kw: Any,
    ) -> None:
        """Add a foreign key without stopping writes (NOT VALID, then VALIDATE on its own, on
        PostgreSQL; checked by a query, then added in place, on MariaDB); arguments as
        op.create_foreign_key."""
        operations.invoke(
            cls(constraint_name, source_table, referent_table, local_cols, remote_cols, **kw)
        )

    @classmethod
    def batch_create_foreign_key_online(
        cls,
        operations: BatchOperations,
        constraint_name: str | None,
        referent_table: str,
        local_cols: list[str],
        remote_cols: list[str],
        **kw: Any,
    ) -> None:
        """create_foreign_key_online from the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(
            cls(
                constraint_name,
                table,
                referent_table,
                local_cols,
                remote_cols,
                source_schema=schema,
                **kw,
            )
        )


@Operations.register_operation("create_check_constraint_online")
@BatchOperations.register_operation(
    "create_check_constraint_online", "batch_create_check_constraint_online"
)
class CreateCheckConstraintOnlineOp(ops.CreateCheckConstraintOp):
    """create_check_constraint, the rows checked without stopping writes (PostgreSQL: added
    NOT VALID, validated on its own; MariaDB, which checks a CHECK only by copying the
    table: the table copied beside itself, writes going on, then switched)."""

    def __init__(
        self,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        *,
        schema: str | None = None,
        key: str = "id",
        batch_size: int = 10_000,
        **kw: Any,
    ) -> None:
        super().__init__(constraint_name, table_name, condition, schema=schema, **kw)
        self.copy = ShadowCopy(key, batch_size)

    @classmethod
    def create_check_constraint_online(
        cls,
        operations: Operations,
        constraint_name: str | None,
        table_name: str,
        condition: Any,
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a CHECK constraint without stopping writes; arguments as
        op.create_check_constraint, and ``key="id"``, ``batch_size=10000``: on MariaDB the
        table is copied along its integer primary key ``key``, ``batch_size`` rows at a
        time (the script refuses, nothing made, where ``key`` is not that key)."""
        operations.invoke(cls(constraint_name, table_name, condition, schema=schema, **kw))

    @classmethod
    def batch_create_check_constraint_online(
        cls, operations: BatchOperations, constraint_name: str, condition: Any, **kw: Any
    ) -> None:
        """create_check_constraint_online on the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(cls(constraint_name, table, condition, schema=schema, **kw))


@Operations.register_operation("create_unique_constraint_online")
@BatchOperations.register_operation(
    "create_unique_constraint_online", "batch_create_unique_constraint_online"
)
class CreateUniqueConstraintOnlineOp(ops.CreateUniqueConstraintOp):
    """create_unique_constraint, its index built without stopping writes."""

    @classmethod
    def create_unique_constraint_online(
        cls,
        operations: Operations,
        constraint_name: str | None,
        table_name: str,
        columns: Sequence[str],
        *,
        schema: str | None = None,
        **kw: Any,
    ) -> None:
        """Add a unique constraint without stopping writes (a unique index built
        CONCURRENTLY, then USING INDEX, on PostgreSQL; ALGORITHM=INPLACE, LOCK=NONE on
        MariaDB); arguments as op.create_unique_constraint."""
        operations.invoke(cls(constraint_name, table_name, columns, schema=schema, **kw))

    @classmethod
    def batch_create_unique_constraint_online(
        cls, operations: BatchOperations, constraint_name: str, columns: Sequence[str], **kw: Any
    ) -> None:
        """create_unique_constraint_online on the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(cls(constraint_name, table, columns, schema=schema, **kw))


@Operations.register_operation("set_not_null_online")
@BatchOperations.register_operation("set_not_null_online", "batch_set_not_null_online")
class SetNotNullOnlineOp(ops.AlterColumnOp):
    """alter_column(nullable=False), the rows checked without stopping writes."""

    @classmethod
    def set_not_null_online(
        cls,
        operations: Operations,
        table_name: str,
        column_name: str,
        *,
        existing_type: Any,
        existing_server_default: Any = None,
        existing_comment: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Make a column NOT NULL without stopping writes (a CHECK validated on its own,
        then SET NOT NULL without a scan, on PostgreSQL; MODIFY with ALGORITHM=INPLACE,
        LOCK=NONE on MariaDB). ``existing_type`` (and the column's server default and
        comment) are what MariaDB restates."""
        operations.invoke(
            cls(
                table_name,
                column_name,
                schema=schema,
                existing_type=existing_type,
                existing_server_default=existing_server_default,
                existing_comment=existing_comment,
                existing_nullable=True,
                modify_nullable=False,
            )
        )

    @classmethod
    def batch_set_not_null_online(
        cls, operations: BatchOperations, column_name: str, *, existing_type: Any, **kw: Any
    ) -> None:
        """set_not_null_online on the batch block's table."""
        table, schema = operations.impl.table_name, operations.impl.schema
        operations.invoke(
            cls(
                table,
                column_name,
                schema=schema,
                existing_type=existing_type,
                existing_nullable=True,
                modify_nullable=False,
                **kw,
            )
        )

    def change(self) -> NotNull:
        """The column as the kinds of database read it."""
        from sqlalchemy import Column, MetaData, Table

        default = self.existing_server_default
        table = Table(
            self.table_name,
            MetaData(),
            Column(self.column_name, self.existing_type),
            schema=self.schema,
        )
        return NotNull(table, self.column_name, default or None, self.existing_comment)


@Operations.register_operation("backfill_online")
class BackfillOnlineOp(ops.MigrateOperation):
    """An UPDATE of every row, in batches that commit one by one."""

    def __init__(
        self,
        table_name: str,
        values: dict[str, str],
        *,
        where: str | None = None,
        key: str = "id",
        batch_size: int = 10_000,
        schema: str | None = None,
    ) -> None:
        if not values:
            raise ValueError("backfill_online: values names no column")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"backfill_online: batch_size={batch_size!r} is not a count of rows")
        self.table_name = table_name
        self.values = dict(values)
        self.where = where
        self.key = key
        self.batch_size = batch_size
        self.schema = schema

    @classmethod
    def backfill_online(
        cls,
        operations: Operations,
        table_name: str,
        values: dict[str, str],
        *,
        where: str | None = None,
        key: str = "id",
        batch_size: int = 10_000,
        schema: str | None = None,
    ) -> None:
        """Set ``values`` ({column: SQL expression}) in the rows ``where`` (SQL; None: all),
        ``batch_size`` rows of the integer column ``key`` at a time, each batch committed on
        its own (a loop on the server: PostgreSQL's DO, MariaDB's compound statement), so a
        writer waits for one batch at most. One UPDATE where the environment says safe =
        false, and on SQLite. Run again after a stop, it does the batches again: a
        ``where`` that leaves out the rows already done makes that cheap."""
        operations.invoke(
            cls(table_name, values, where=where, key=key, batch_size=batch_size, schema=schema)
        )

    def change(self) -> Backfill:
        from sqlalchemy import Column, Integer, MetaData, Table

        columns = [Column(self.key, Integer), *(Column(c) for c in self.values if c != self.key)]
        table = Table(self.table_name, MetaData(), *columns, schema=self.schema)
        values = tuple(self.values.items())
        return Backfill(table, values, self.where, self.key, self.batch_size)


def _plain_backfill(operations: Operations, operation: BackfillOnlineOp) -> None:
    # A kind schemactl does not know: written as the embedded database writes it.
    kind = kind_of(operations.get_context().dialect) or embedded()
    operations.get_context().impl.execute(Verbatim(kind.backfill_update(operation.change())))


# -- what each runs ----------------------------------------------------------------------------

# Each operation: Alembic's implementation of its plain form, and the kind's safe form.
_Form = Callable[[ScriptDialect, _Emitter, Any, Any], None]
_FORMS: dict[type[Any], tuple[Callable[[Any, Any], None], _Form]] = {
    CreateIndexOnlineOp: (
        toimpl.create_index,
        lambda kind, emit, op, context: kind.create_index(emit, op.to_index(context)),
    ),
    DropIndexOnlineOp: (
        toimpl.drop_index,
        lambda kind, emit, op, context: kind.drop_index(emit, op.to_index(context)),
    ),
    CreateForeignKeyOnlineOp: (
        toimpl.create_constraint,
        lambda kind, emit, op, context: kind.create_foreign_key(emit, op.to_constraint(context)),
    ),
    CreateCheckConstraintOnlineOp: (
        toimpl.create_constraint,
        lambda kind, emit, op, context: kind.create_check(emit, op.to_constraint(context), op.copy),
    ),
    CreateUniqueConstraintOnlineOp: (
        toimpl.create_constraint,
        lambda kind, emit, op, context: kind.create_unique(emit, op.to_constraint(context)),
    ),
    SetNotNullOnlineOp: (
        toimpl.alter_column,
        lambda kind, emit, op, context: kind.set_not_null(emit, op.change()),
    ),
    BackfillOnlineOp: (
        _plain_backfill,
        lambda kind, emit, op, context: kind.backfill(emit, op.change()),
    ),
}


def _implementation(op_class: type[Any]) -> Callable[[Operations, Any], None]:
    plain, form = _FORMS[op_class]

    def run(operations: Operations, operation: Any) -> None:
        context = operations.migration_context
        _run(operations, operation, plain, lambda kind, emit: form(kind, emit, operation, context))

    return run


for _op_class in _FORMS:
    Operations.implementation_for(_op_class)(_implementation(_op_class))
