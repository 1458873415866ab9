"""Alembic's and SQLAlchemy's private API: every use schemactl makes of it, here and only here.

schemactl needs what these libraries do but do not offer publicly: the very steps Alembic's
own commands run (to plan, to run them under a lock, to check a stamp target before anything
is touched); a batch block's queue (an online operation runs what was queued before it); its
file loader without the revision map (which grows with labels x revisions), and its module
loader (to take a file's code from schemactl's cache); its op proxy, to
record a revision's operations offline; its renderer for one table; its version table and
head bookkeeping, to stamp in one transaction; SQLAlchemy's inspection registry (so a
revision that inspects the database offline is refused), and copying and removing a column
of a Table, a dialect's literal-processor memory, a text()'s bound parameters; and PyMySQL's
TLS context, built once rather than per connection. Also the one SQLAlchemy reflection bug
schemactl works around (reflect_tables). Each is a thin function with the library's own name
in it.

SUPPORTED names the versions this is known to work with: the ones CI installs
(constraints.txt), which pyproject.toml's ranges allow and no more
(tests/unit/test_internals.py holds the three together, and checks every name used here
still exists). Upgrading Alembic or SQLAlchemy past them means running the suite, then
moving these ranges.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.autogenerate.api import AutogenContext
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.script import Script, ScriptDirectory
    from sqlalchemy import Column, MetaData, Table

# Package -> (lowest, below): the versions this module is known to work with.
SUPPORTED = {
    "alembic": ("1.20", "1.21"),
    "sqlalchemy": ("2.1", "2.2"),
    "pymysql": ("1.2", "1.3"),
}


# -- Alembic: the steps its commands run ------------------------------------------------------
# Their signatures say one revision where Alembic passes, and accepts, a sequence of heads.


def upgrade_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """What `alembic upgrade TARGET` runs from ``heads`` (MigrationStep objects, in order)."""
    directory: Any = scripts
    return list(directory._upgrade_revs(target, tuple(heads)))


def downgrade_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """What `alembic downgrade TARGET` runs from ``heads``."""
    directory: Any = scripts
    return list(directory._downgrade_revs(target, tuple(heads)))


def stamp_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str] = ()) -> list[Any]:
    """What `alembic stamp TARGET` writes from ``heads`` (from base: `stamp --purge`). Raises
    what Alembic raises for a target it cannot resolve."""
    directory: Any = scripts
    return list(directory._stamp_revs((target,), tuple(heads)))


# -- Alembic: revision files ------------------------------------------------------------------


def revision_files(scripts: ScriptDirectory) -> Iterator[Script]:
    """Every revision file imported, as Alembic's loader finds them, without building its
    revision map."""
    directory: Any = scripts
    return iter(directory._load_revisions())


@contextmanager
def modules_loaded_by(load: Callable[[str, str], ModuleType | None]) -> Iterator[None]:
    """Alembic's revision file loader (alembic.util.pyfiles.load_module_py, which its
    listing calls with a module name and a path) taking each module from ``load``, or
    loading it itself where ``load`` returns None."""
    from alembic.util import pyfiles

    original = pyfiles.load_module_py

    def loading(module_id: str, path: str | os.PathLike[str]) -> ModuleType:
        return load(module_id, os.fspath(path)) or original(module_id, path)

    pyfiles.load_module_py = loading
    try:
        yield
    finally:
        pyfiles.load_module_py = original


def version_locations(scripts: ScriptDirectory) -> Sequence[Path]:
    """The folders revision files are in (version_locations, or versions/), as Alembic
    resolves them."""
    directory: Any = scripts
    return list(directory._version_locations)


def listed_python_files(scripts: ScriptDirectory, location: Path) -> list[Path]:
    """The Python files of a version location and its subfolders, as Alembic lists them
    with recursive_version_locations."""
    from alembic.script.base import Script

    return list(Script._list_py_dir(scripts, location))


def is_revision_file_name(name: str) -> bool:
    """Whether Alembic would load a file of this name as a revision (a .py file not
    starting with an underscore or a dot)."""
    from alembic.script.base import _only_source_rev_file

    return bool(_only_source_rev_file.match(name))


def revision_file(scripts: ScriptDirectory, path: str | os.PathLike[str]) -> Script | None:
    """One revision file imported as Alembic imports it (None: not a revision file)."""
    from alembic.script.base import Script

    return Script._from_path(scripts, str(path))


# -- Alembic: the op proxy, the renderer ------------------------------------------------------


def in_batch(operations: Any) -> Any:
    """The batch block's queue of operations when ``operations`` is a batch block's
    (BatchOperationsImpl), else None."""
    from alembic.operations.batch import BatchOperationsImpl

    impl = operations.impl
    return impl if isinstance(impl, BatchOperationsImpl) else None


def batch_rebuilds(batch: Any, impl: Any) -> bool:
    """Whether the batch block rebuilds its table (recreate="always", or "auto" on a
    database that cannot ALTER what it queued)."""
    return bool(batch.recreate == "always" or impl.requires_recreate_in_batch(batch))


def run_batch_queue(batch: Any, impl: Any) -> None:
    """Run what a batch block that rebuilds nothing queued so far, in order, as its end
    would (BatchOperationsImpl.flush), and empty the queue."""
    for name, args, kw in batch.batch:
        getattr(impl, name)(*args, **kw)
    batch.batch.clear()


def current_operations() -> Operations | None:
    """The Operations object `alembic.op` stands for now (None: none yet)."""
    from alembic import op

    return getattr(op, "_proxy", None)


def make_current(operations: Operations) -> None:
    """Make ``operations`` what `alembic.op` stands for."""
    operations._install_proxy()


def stop_being_current(operations: Operations) -> None:
    operations._remove_proxy()


def create_table_code(autogen_context: AutogenContext, table: Table) -> tuple[str, str]:
    """Alembic's rendering of ``op.create_table`` for ``table``, and the prefix it starts
    with (``op.``)."""
    from alembic.autogenerate import render
    from alembic.operations import ops

    created = render._add_table(autogen_context, ops.CreateTableOp.from_table(table))
    return created, render._alembic_autogenerate_prefix(autogen_context)


def index_code(autogen_context: AutogenContext, index: Any) -> tuple[list[str], Any]:
    """Alembic's rendering of an index's expressions, and of its name (``op.f('…')`` for a
    name a naming convention made)."""
    from alembic.autogenerate import render

    expressions = render._get_index_rendered_expressions(index, autogen_context)
    return expressions, render._render_gen_name(autogen_context, index.name)


# -- Alembic: the version table, in a transaction of schemactl's ------------------------------


def one_transaction(context: MigrationContext) -> Any:
    """A transaction of the migration context's connection, whatever its
    transaction_per_migration (the context manager Alembic's runner uses per migration)."""
    return context.begin_transaction(_per_migration=True)


def empty_version_table(context: MigrationContext) -> None:
    """Delete every row of the version table, on the context's connection."""
    connection = context.connection
    assert connection is not None
    connection.execute(context._version.delete())


def version_writer(context: MigrationContext) -> Any:
    """What writes a step's heads into the version table (update_to_step), from none."""
    from alembic.runtime.migration import HeadMaintainer

    return HeadMaintainer(context, ())


# -- SQLAlchemy -------------------------------------------------------------------------------


def refuse_inspection(kind: type, refuse: Callable[[Any], Any]) -> None:
    """Make sqlalchemy.inspect(an object of ``kind``) call ``refuse`` (once per kind)."""
    from sqlalchemy import inspection

    if kind not in inspection._registrars:
        inspection._inspects(kind)(refuse)


def forget_type_memos(dialect: Any) -> None:
    """Give a copied dialect its own memory of literal processors (a dialect remembers
    them per type, and the copy's are not the original's)."""
    import weakref

    dialect._type_memos = weakref.WeakKeyDictionary()


def bound_parameters(clause: Any) -> dict[str, Any]:
    """A text() clause's bound parameters by name (BindParameter objects)."""
    return dict(clause._bindparams)


def copied_column(column: Column[Any]) -> Column[Any]:
    """A copy of a Column that belongs to no table yet."""
    return column._copy()


def remove_column(table: Table, column: Column[Any]) -> None:
    """Take a column out of a Table (SQLAlchemy offers no public way)."""
    table._columns.remove(column)


# -- PyMySQL ----------------------------------------------------------------------------------


def share_pymysql_tls_context() -> None:
    """One TLS context for every PyMySQL connection that names no TLS option.

    Such a connection is in PyMySQL's PREFERRED mode (TLS when the server offers it,
    unverified), and PyMySQL builds it a new default context each time, loading the system's
    CA store: 20-35 ms of CPU per connection, and a proof opens hundreds. A context is made
    to be shared; this one has the settings PyMySQL would give each, so the connections
    behave exactly as before. A connection with TLS options gets its own, as before.
    Idempotent; a PyMySQL without the method is left alone."""
    from pymysql.connections import Connection

    build = getattr(Connection, "_create_ssl_ctx", None)
    if build is None or getattr(build, "shared_by_schemactl", False):
        return
    shared: dict[str, Any] = {}

    def create(connection: Any, options: Any) -> Any:
        if isinstance(options, dict) and not options:
            if "context" not in shared:
                shared["context"] = build(connection, options)
            return shared["context"]
        return build(connection, options)

    create.shared_by_schemactl = True  # type: ignore[attr-defined]
    Connection._create_ssl_ctx = create  # type: ignore[method-assign]


def reflect_tables(metadata: MetaData, bind: Any, only: Callable[..., bool] | None = None) -> None:
    """``metadata.reflect(bind, only=only)``, without SQLAlchemy's warning on a PostgreSQL
    check constraint that is NOT VALID: it reflects the flag under a name its own
    CheckConstraint does not accept ("Can't validate argument 'dialect_options'",
    sqlalchemy#13588); the constraint is reflected all the same."""
    import warnings

    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", r"Can't validate argument 'dialect_options'", category=SAWarning
        )
        metadata.reflect(bind, only=only)
