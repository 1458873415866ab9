"""`schemactl`'s entry point: a command a warm cache answers alone, else the CLI (tools.cli).

With no option and no $SCHEMACTL_ENV or $SCHEMACTL_CONFIG, and nothing the caches were made
from changed, neither Typer, Alembic nor SQLAlchemy is imported for:
- `schemactl graph`: the graph from the header cache (tools.history.headers read_warm);
- `schemactl status`, where the default environment is a SQLite file: its version table (the
  one env.py named, tools.live.env_answers) read with Python's sqlite3.
Anything else, or anything a cache cannot vouch for, goes to the CLI, which prints the same
for the same command (tests/test_headers.py holds the two together).
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if not _answered(sys.argv[1:]):
        from tools.cli import main as cli

        cli()


def _answered(argv: list[str]) -> bool:
    """Whether the command was answered from the cache (nothing printed otherwise)."""
    if os.environ.get("SCHEMACTL_ENV") or os.environ.get("SCHEMACTL_CONFIG"):
        return False
    warm = {"graph": _graph, "status": _status}.get(argv[0]) if len(argv) == 1 else None
    if warm is None:
        return False
    try:
        lines = warm()
    except Exception:  # the CLI runs the command in full and reports what went wrong
        return False
    if lines is None:
        return False
    sys.stdout.write("\n".join(lines) + "\n")
    return True


def _graph() -> list[str] | None:
    from tools.config import load_project
    from tools.dialects import safe_revision
    from tools.history import headers
    from tools.history.graph import build_graph, text_tree

    project = load_project()
    found = headers.read_warm(project.config_path, project.database)
    if found is None:
        return None
    for header in found:
        safe_revision(header.revision)
    return text_tree(build_graph(found))


def _status() -> list[str] | None:
    """`schemactl status` of the default environment, where it is a SQLite file named
    plainly: the version table env.py named (tools.live.env_answers) read with Python's
    sqlite3, the graph from the header cache."""
    from tools.config import load_project
    from tools.dialects import VERSION_TABLE, safe_revision
    from tools.dialects.sqlite import SQLite
    from tools.history import headers
    from tools.history.graph import build_graph
    from tools.live import env_answers
    from tools.live.status import Status, format_status, status_rows

    project = load_project()
    environment = project.environment(None)
    kind = environment.kind
    raw = environment.raw_url()
    if not isinstance(kind, SQLite) or raw is None:
        return None
    path = kind.warm_path(raw)
    if path is None:
        return None
    current: tuple[str, ...] | None = ()  # no file yet: no revision, whatever env.py says
    if os.path.exists(path):
        said = env_answers.recall(project, environment)
        if said is None or said["version_table_schema"] is not None:
            return None
        current = kind.warm_heads(path, said["version_table"] or VERSION_TABLE)
    found = headers.read_warm(project.config_path, project.database)
    if found is None:
        return None
    for header in found:
        safe_revision(header.revision)
    graph = build_graph(found)
    if current is None or any(rev not in graph.revisions for rev in current):
        return None  # the CLI says what the database holds that this checkout has not
    rows = status_rows(graph, graph.ancestors(current))
    report = Status(environment, kind.warm_shown(path), current, rows, graph.heads)
    return format_status(report).splitlines()
