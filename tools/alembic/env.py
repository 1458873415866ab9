"""Alembic environment for the BillGenerator schema.

Which database: schemactl passes the environment in ``config.attributes``; plain ``alembic``
takes ``-x env=NAME``, else $SCHEMACTL_ENV, else the default environment of alembic.ini.
Offline (``--sql``) needs only the environment's dialect: no URL, no driver, no server.

Which models and version table: the database's own ini section (``alembic -n NAME`` picks
it) names them as ``target_metadata = MODULE:ATTRIBUTE`` and ``version_table = NAME``;
without them, ``schema:metadata`` and Alembic's ``alembic_version``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from logging.config import fileConfig
from typing import TYPE_CHECKING, Any

from alembic import context
from alembic.util import CommandError
from sqlalchemy.engine import Connection, Engine

from tools.authoring.directives import render_item
from tools.config import models, project_from_alembic_config
from tools.core.errors import SchemactlError
from tools.dialects import AUDITED, VERSION_TABLE, dialect_of_url, is_tool_table
from tools.live.online import plain_alembic_audit
from tools.operations.online import SAFE_OPTION
from tools.scripts.stated import state_online

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import URL

    from tools.config import Environment

config = context.config
if config.attributes.get("configure_logger", True) and config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _environment() -> Environment:
    given = config.attributes.get("schemactl.environment")
    if given is not None:
        return given
    name = context.get_x_argument(as_dictionary=True).get("env") or os.environ.get("SCHEMACTL_ENV")
    return project_from_alembic_config(config).environment(name)


def _target_metadata() -> MetaData:
    """The models of this database: ``target_metadata = MODULE:ATTRIBUTE`` in its section."""
    spec = config.get_main_option("target_metadata") or "schema:metadata"
    return models.load(spec, f"target_metadata = {spec} in [{config.config_ini_section}]")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Tables the tool owns are not part of the model: autogenerate must not offer to drop them.
    return not (type_ == "table" and name is not None and is_tool_table(name))


def _version_table() -> str | None:
    """This database's own version table (its section's version_table), None: Alembic's."""
    return config.get_main_option("version_table")


def _configure_options(environment: Environment) -> dict[str, Any]:
    batch = environment.kind.batch_by_default
    table = _version_table()
    return {
        "target_metadata": _target_metadata(),
        # A database of its own keeps its own version table (alembic_version by default).
        **({"version_table": table} if table else {}),
        "include_name": include_name,
        # Where the database cannot ALTER most things in place (SQLite), autogenerate writes
        # batch operations, unless schemactl asks for plain ones (they render offline on
        # every dialect).
        "render_as_batch": config.attributes.get("schemactl.render_as_batch", batch),
        "compare_type": True,
        # Server defaults such as func.now() written portably, not in SQLite's words.
        "render_item": render_item,
        # op.create_index_online and the rest: their safe forms, unless safe = false.
        SAFE_OPTION: environment.safe,
    }


def run_migrations_offline(environment: Environment) -> None:
    context.configure(
        dialect_name=environment.dialect,
        literal_binds=True,
        # As Alembic's own template: a driver's format/pyformat paramstyle would double every
        # % of a script's text, for a DBAPI that never sees it.
        dialect_opts={"paramstyle": "named"},
        **_configure_options(environment),
    )
    state_online(context.get_context())
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection: Connection, environment: Environment, *, owned: bool = False) -> None:
    audit = None
    if not config.attributes.get(AUDITED):
        # Plain `alembic` (or Flask-Migrate, pytest-alembic): the same audit rows as
        # schemactl's own commands write. On a connection of its own the tables made are
        # committed first (Alembic then runs in a transaction it begins); a caller's
        # connection keeps them in the caller's transaction.
        # The kind of the database connected to (a caller's Engine may be another kind's
        # than the environment's), with the environment's settings where it is the same.
        reached = dialect_of_url(connection.engine.url)
        kind = replace(
            environment.kind if environment.kind.name == reached.name else reached,
            version_table=_version_table() or VERSION_TABLE,
        )
        audit = plain_alembic_audit(connection, kind)
        if owned:
            connection.commit()
    context.configure(
        connection=connection,
        transaction_per_migration=environment.kind.commits_each_revision,
        on_version_apply=audit,
        **_configure_options(environment),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online(environment: Environment) -> None:
    # A caller may hand over its own Connection (Alembic's cookbook) or an Engine
    # (pytest-alembic does): a Connection is used as it is, an Engine is connected.
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _migrate(given, environment)
        return
    if isinstance(given, Engine):
        with given.connect() as connection:
            _migrate(connection, environment, owned=True)
            connection.commit()
        return
    url: URL = config.attributes.get("schemactl.url") or environment.url()
    environment.kind.prepare(url)  # the dev SQLite file's folder, on a fresh checkout
    engine = environment.kind.migration_engine(url)
    try:
        with engine.connect() as connection:
            _migrate(connection, environment, owned=True)
    finally:
        engine.dispose()


try:
    _env = _environment()
    if context.is_offline_mode():
        run_migrations_offline(_env)
    else:
        run_migrations_online(_env)
except SchemactlError as err:
    # Plain `alembic` prints a CommandError as one "FAILED:" line instead of a traceback.
    raise CommandError(str(err)) from err
