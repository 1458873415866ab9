"""`schemactl`'s entry point: a command a warm cache answers alone, else the CLI (tools.cli).

`schemactl graph`, with no option and no $SCHEMACTL_ENV or $SCHEMACTL_CONFIG, prints the
graph from the header cache when nothing it was read from changed (tools.history.headers
read_warm): neither Typer, Alembic nor SQLAlchemy is imported for it. Anything else, or
anything the cache cannot vouch for, goes to the CLI, which prints the same for the same
command (tests/test_headers.py holds the two together).
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
    if argv != ["graph"] or os.environ.get("SCHEMACTL_ENV") or os.environ.get("SCHEMACTL_CONFIG"):
        return False
    try:
        lines = _graph()
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
