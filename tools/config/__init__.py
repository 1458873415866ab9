"""Where things are and which databases exist: alembic.ini and its [schemactl] sections.

An environment names its dialect and the environment variable its URL comes from; a URL is
never stored in a committed file (dev may fall back to an embedded SQLite file). Offline work
needs only the dialect, so nothing here connects or imports a driver. project.py holds the
model (Project, Environment), ini.py reads it from alembic.ini, urls.py checks and redacts
URLs, models.py imports the models autogenerate compares with.
"""

from __future__ import annotations

from tools.config.ini import (
    PATH_SEPARATORS,
    databases_of,
    each_database,
    for_database,
    load_project,
    project_from_alembic_config,
)
from tools.config.project import (
    MAX_PROOF_ROWS,
    PROOF_ROWS,
    Environment,
    NoScratchServer,
    OnlineRefused,
    Project,
    UnknownDatabase,
    proof_rows,
)
from tools.config.urls import parse_url, redact, scratch_variable

__all__ = [
    "MAX_PROOF_ROWS",
    "PATH_SEPARATORS",
    "PROOF_ROWS",
    "Environment",
    "NoScratchServer",
    "OnlineRefused",
    "Project",
    "UnknownDatabase",
    "databases_of",
    "each_database",
    "for_database",
    "load_project",
    "parse_url",
    "project_from_alembic_config",
    "proof_rows",
    "redact",
    "scratch_variable",
]
