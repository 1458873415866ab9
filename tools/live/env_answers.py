"""What the project's env.py says it configures (its version table and that table's schema),
kept beside the header cache so that a warm `schemactl status` need not run env.py (which
imports Alembic, SQLAlchemy and the models) to know which table to read.

An answer is kept per environment, database and URL, with env.py's and alembic.ini's sha256,
the `-x` arguments, the working folder and every environment variable whose name env.py's
source holds (an env.py that reads ``os.environ["VERSION_TABLE"]``): any of them changed, env.py
is asked again. An env.py that takes its version table from anywhere else (a file of its
own) is asked by `status` with an option, which always runs it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.history.headers import CACHE_DIR, write_cache

if TYPE_CHECKING:
    from tools.config import Environment, Project

FORMAT = 1
# What an answer may hold: the version table's name and its schema (None: the default).
KEYS = ("version_table", "version_table_schema")


def env_py(project: Project) -> Path | None:
    """The project's env.py, where alembic.ini's script_location names a folder (None for a
    package resource, ``package:path``, which only Alembic resolves)."""
    import configparser

    parser = configparser.ConfigParser({"here": project.root.absolute().as_posix()})
    parser.read([project.config_path], encoding="locale")
    if not parser.has_option(project.database, "script_location"):
        return None
    location = parser.get(project.database, "script_location")
    if ":" in location and not os.path.isabs(location):
        return None
    return Path(location) / "env.py"


def answer_key(project: Project, environment: Environment) -> str | None:
    """What the answer depends on, hashed; None when it cannot be told (no env.py file)."""
    where = env_py(project)
    if where is None:
        return None
    try:
        source = where.read_bytes()
        text = source.decode("utf-8", "replace")
        said = [
            FORMAT,
            hashlib.sha256(source).hexdigest(),
            sorted([k, v] for k, v in os.environ.items() if _named(k, text)),
            hashlib.sha256(project.config_path.read_bytes()).hexdigest(),
            str(project.config_path.resolve()),
            os.getcwd(),
            environment.name,
            project.database,
            environment.raw_url(),
            list(project.x_arguments),
        ]
    except OSError:
        return None
    return hashlib.sha256(json.dumps(said).encode()).hexdigest()


def _named(variable: str, text: str) -> bool:
    """Whether ``text`` names the environment variable (a word of three characters or more:
    not the shell's ``_``, which changes with every command)."""
    if len(variable) < 3 or variable not in text:
        return False
    return re.search(rf"\b{re.escape(variable)}\b", text) is not None


def _file(project: Project, key: str) -> Path:
    return project.root / CACHE_DIR / f"env-{key[:16]}.json"


def recall(project: Project, environment: Environment) -> dict[str, str | None] | None:
    """env.py's answer for this environment, where one was kept for it as it is now."""
    key = answer_key(project, environment)
    if key is None:
        return None
    try:
        data = json.loads(_file(project, key).read_text(encoding="utf-8"))
        answer = data["answer"]
        if data.get("key") != key or set(answer) != set(KEYS):
            return None
        if not all(v is None or isinstance(v, str) for v in answer.values()):
            return None
        return {k: answer[k] for k in KEYS}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def remember(project: Project, environment: Environment, options: dict[str, Any]) -> None:
    """Keep env.py's answer (from the options it configured its context with); a folder
    that cannot be written goes without."""
    key = answer_key(project, environment)
    if key is None:
        return
    answer = {k: options.get(k) for k in KEYS}
    if not all(v is None or isinstance(v, str) for v in answer.values()):
        return
    text = json.dumps({"key": key, "answer": answer}, sort_keys=True)
    write_cache(project.root, _file(project, key).name, text)
