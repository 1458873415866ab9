"""Everything a kind of database knows: one module per kind, behind this registry.

A kind (ScriptDialect, scripts.py) is built in roles, each a class of its own module: base.py
(its names, URL policy, command-line client and throwaway databases), backups.py (backups
said in SQL), observe.py (what the server did), online.py (the safe forms of a change) and
scripts.py (what the DBA script template calls: guards, transactions,
timeouts, locks, stamps, the audit). postgresql.py, mariadb.py and sqlite.py hold each
kind's answers, as Alembic's ddl/ does; names.py the limits they share, tables.py
schemactl's own tables. The rest of schemactl asks a kind and never compares a dialect name
or writes dialect SQL itself. Adding a kind of database means a module here, an entry in
DIALECTS, a driver pin and tests.

Version and audit statements are SQLAlchemy Core compiled with literal values; only the
guards, which need each server's procedural dialect, are written out by hand.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from tools.core.errors import ConfigError
from tools.dialects.base import ClientCommand
from tools.dialects.names import (
    AUDIT_TABLE,
    AUDITED,
    BACKUP_PREFIX,
    FORMAT,
    FORMATS,
    ONLINE,
    TIMING_COLUMNS,
    TOOL_TABLES,
    VERSION_TABLE,
    UnsafeRevisionId,
    UnwritableValue,
    is_plain_name,
    is_tool_table,
    safe_revision,
)
from tools.dialects.scripts import ScriptDialect

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "AUDITED",
    "AUDIT_TABLE",
    "BACKUP_PREFIX",
    "DIALECTS",
    "FORMAT",
    "FORMATS",
    "ONLINE",
    "TIMING_COLUMNS",
    "TOOL_TABLES",
    "VERSION_TABLE",
    "ClientCommand",
    "ScriptDialect",
    "UnknownDialect",
    "UnsafeRevisionId",
    "UnwritableValue",
    "dialect_of_url",
    "driver_hint",
    "embedded",
    "is_plain_name",
    "is_tool_table",
    "rule_applies",
    "safe_revision",
    "script_dialect",
]


class _Kinds(Mapping[str, type[ScriptDialect]]):
    """The kinds of database by name, each module imported when its kind is first asked for:
    a command for one kind does not import the others' (the MariaDB and PostgreSQL modules
    are the largest of schemactl's)."""

    def __init__(self, where: dict[str, str]) -> None:
        self._where = where  # name -> 'module:Class'

    def __getitem__(self, name: str) -> type[ScriptDialect]:
        module, _, cls = self._where[name].partition(":")
        kind: type[ScriptDialect] = getattr(importlib.import_module(module), cls)
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._where  # known by name: nothing imported

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)


DIALECTS: Mapping[str, type[ScriptDialect]] = _Kinds(
    {
        "postgresql": "tools.dialects.postgresql:PostgreSQL",
        "mariadb": "tools.dialects.mariadb:MariaDB",
        "mysql": "tools.dialects.mariadb:MySQL",
        "sqlite": "tools.dialects.sqlite:SQLite",
    }
)


def script_dialect(name: str, settings: Mapping[str, str] | None = None) -> ScriptDialect:
    try:
        kind = DIALECTS[name]
    except KeyError:
        raise UnknownDialect(name) from None
    return kind(settings=dict(settings or {}))


def embedded() -> ScriptDialect:
    """The kind of database whose throwaway databases need no server: a file will do."""
    return next(kind() for kind in DIALECTS.values() if not kind.needs_server)


def rule_applies(kind: ScriptDialect, rule: str) -> bool:
    """Whether a lint rule judges this kind of database: rules no kind claims apply to all."""
    return rule in kind.lint_rules or not any(rule in k.lint_rules for k in DIALECTS.values())


def dialect_of_url(url: URL) -> ScriptDialect:
    """The kind of database a URL reaches (a MySQL URL is rendered for as MySQL)."""
    backend = url.get_backend_name()
    for kind in DIALECTS.values():
        if backend in kind.aliases:
            return kind()
    return script_dialect(backend)


class UnknownDialect(ConfigError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"dialect {name or '(missing)'} is not one schemactl renders for; use one of: "
            + ", ".join(sorted(DIALECTS))
        )


def driver_hint() -> str:
    """Which driver each kind of database is reached with, for an error message."""
    return ", ".join(f"+{kind.driver} ({kind.name})" for kind in DIALECTS.values())
