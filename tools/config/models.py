"""The project's models, as env.py's target_metadata names them: imported and checked.

A model file is the application team's: a git conflict marker left in it, an import that
fails inside it, or a foreign key to a table no model defines must stop every command with
one line naming the file and line and the problem, not a traceback through Alembic.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import TYPE_CHECKING

from tools.core.errors import ConfigError, first_line, source_of

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

_CONFLICT = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


class ModelsBroken(ConfigError):
    """The models fail to import, or do not hold together: where, and what."""

    def __init__(self, spec: str, problem: str, where: tuple[str, int] | None) -> None:
        self.file = where[0] if where else None
        self.line = where[1] if where else None
        self.problem = problem
        at = f"{_shown(where[0])}:{where[1]}: " if where else ""
        super().__init__(f"the models ({spec}) do not load: {at}{problem}; fix the model file")


def load(spec: str, where: str) -> MetaData:
    """The MetaData ``spec`` (MODULE:ATTRIBUTE) names, its foreign keys resolved; ``where``
    says which setting named it, for the error of a wrong one."""
    from sqlalchemy import MetaData

    module, _, attribute = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module), attribute or "metadata")
    except Exception as err:
        # The module named is not there (a wrong setting), or the models' own code fails.
        named = isinstance(err, ModuleNotFoundError) and module.startswith(err.name or "\0")
        if named or isinstance(err, AttributeError):
            raise ConfigError(
                f"{where} cannot be imported ({err}); write MODULE:ATTRIBUTE"
            ) from err
        raise ModelsBroken(spec, _problem(err), source_of(err)) from err
    if not isinstance(found, MetaData):
        raise ConfigError(f"{where} is not a SQLAlchemy MetaData; name the models' metadata")
    check(found, spec)
    return found


def check(metadata: MetaData, spec: str) -> None:
    """ModelsBroken for a foreign key whose table or column no model defines."""
    from sqlalchemy.exc import NoReferencedColumnError, NoReferencedTableError

    for table in metadata.tables.values():
        for key in sorted(table.foreign_keys, key=lambda k: k.parent.name):
            try:
                key.column  # noqa: B018 - resolving it is the check
            except (NoReferencedTableError, NoReferencedColumnError):
                problem = (
                    f"{table.name}.{key.parent.name} refers to {key.target_fullname}, which no "
                    "model defines"
                )
                raise ModelsBroken(spec, problem, _defined_at(table, key.parent.name)) from None


def _problem(err: BaseException) -> str:
    said = err.msg if isinstance(err, SyntaxError) else first_line(err)
    text = getattr(err, "text", None) or ""
    hint = (
        " (a git conflict marker: finish the merge)" if text.lstrip().startswith(_CONFLICT) else ""
    )
    return f"{type(err).__name__}: {said}{hint}"


def _defined_at(table: Table, column: str) -> tuple[str, int] | None:
    """The file and line of the model class mapped to ``table`` (of its ``column`` where
    the class's source shows it)."""
    for module in list(sys.modules.values()):
        for value in list(vars(module).values()) if module is not None else ():
            if isinstance(value, type) and getattr(value, "__table__", None) is table:
                return _line_of(value, column)
    return None


def _line_of(cls: type, column: str) -> tuple[str, int] | None:
    try:
        lines, first = inspect.getsourcelines(cls)
        path = inspect.getsourcefile(cls)
    except (OSError, TypeError):
        return None
    if path is None:
        return None
    for number, text in enumerate(lines, first):
        if text.strip().startswith((f"{column}:", f"{column} =")):
            return path, number
    return path, first


def _shown(path: str) -> str:
    """A path relative to the current folder when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith("..") else relative
