"""`schemactl diff`: how two live databases' schemas differ, or one database and the models.

Both sides are read into the typed snapshot (tables, columns with their types, nullability
and server defaults, primary and foreign keys, indexes, unique and check constraints; an enum
is its column's type, values and all) and compared by the one comparer verify and merge use.
Between two kinds of database, column types are compared by family (VARCHAR(40) on one is
STRING(40) as on the other; MariaDB's TINYINT(1) is BOOLEAN), a default by whether there is
one, and a check constraint by its name: only what differs in meaning is said.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.config import redact
from tools.core.errors import DatabaseError, SchemactlError
from tools.live.database_errors import translate_errors
from tools.proof import scratch
from tools.proof.snapshot import Schema, compare

if TYPE_CHECKING:
    from tools.config import Environment, Project


@dataclass(frozen=True)
class SchemaDiff:
    left: str  # what was compared, as people name it: 'staging', 'prod', 'the models'
    right: str
    across: bool  # two kinds of database: types compared by family
    differences: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "command": "diff",
            "left": self.left,
            "right": self.right,
            "by_family": self.across,
            "differences": list(self.differences),
            "same": not self.differences,
        }


def diff(project: Project, left: Environment, right: Environment) -> SchemaDiff:
    """What the database of ``right`` has that the one of ``left`` does not, and so on: each
    difference said from ``right``'s side (``left`` is the reference)."""
    if left.name == right.name:
        raise SchemactlError(f"diff {left.name} {right.name}: name two environments")
    want, have = _read(left), _read(right)
    across = left.kind.name != right.kind.name
    found = compare(want, have, across=across, detailed=True)
    return SchemaDiff(left.name, right.name, across, tuple(str(d) for d in found))


def diff_models(project: Project, environment: Environment) -> SchemaDiff:
    """How the environment's database differs from the models: the models are created on a
    scratch database of its kind (on its server) and read as the live one is."""
    from sqlalchemy import MetaData

    kind = environment.kind
    url = environment.url()
    with scratch.scratch_database(kind, url, prefix="schemactl_diff") as scratch_url:
        cfg = scratch.scratch_config(project, kind, scratch_url)
        options = scratch.env_options(cfg)
        # The version table env.py names (reporting_alembic_version) is no model's.
        ignore = scratch.IGNORED | {options.get("version_table") or "alembic_version"}
        live = _read(environment, ignore)
        metadata = options.get("target_metadata")
        if not isinstance(metadata, MetaData):
            raise SchemactlError(
                "diff --models: env.py gives autogenerate no models (target_metadata); set "
                "it, as `alembic revision --autogenerate` needs"
            )
        engine = kind.engine(scratch_url)
        try:
            with engine.begin() as connection:
                metadata.create_all(connection)
        finally:
            engine.dispose()
        models = scratch.schema_of(scratch_url, ignore, detailed=True)
    found = compare(models, live, detailed=True)
    return SchemaDiff("the models", environment.name, False, tuple(str(d) for d in found))


def _read(environment: Environment, ignore: Collection[str] = scratch.IGNORED) -> Schema:
    url = environment.url()
    kind = environment.kind
    if not kind.exists(url):
        raise DatabaseError(f"{environment.name}: no database at {redact(url)}; check its URL")
    with translate_errors(url):
        return scratch.schema_of(url, ignore, detailed=True)
