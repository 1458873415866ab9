"""schemactl: the command line over the tools library.

Commands stay a few lines each: find the project, make one library call, print the result.
Library modules are imported inside the commands so `schemactl --help` loads neither
SQLAlchemy nor Alembic.
"""

from __future__ import annotations

import sys

from typer.models import CommandInfo

from tools.cli import authoring, live, scripts
from tools.cli.authoring import branch_app
from tools.cli.common import _help, app
from tools.cli.reports import lint_summary
from tools.core.notes import show_notes, show_progress

__all__ = ["app", "lint_summary", "main", "show_notes", "show_progress"]

# Each command module registers its commands on the app as it is imported; --help lists them
# in the order of a working day, whichever module holds them.
_COMMANDS = (live, scripts, authoring)
_ORDER = [
    "status",
    "envs",
    "upgrade",
    "downgrade",
    "stamp",
    "sql",
    "release",
    "makemigrations",
    "merge",
    "squash",
    "rebase",
    "check",
    "lint",
    "verify",
    "diff",
    "recover",
    "audit",
    "backups",
    "graph",
]


def _place(command: CommandInfo) -> int:
    name = command.name or str(getattr(command.callback, "__name__", ""))
    return _ORDER.index(name)


app.registered_commands.sort(key=_place)

for _typer in (app, branch_app):
    for _command in _typer.registered_commands:
        if _command.help is None and _command.callback is not None:
            _command.help = _help(_command.callback.__doc__)


def main() -> None:
    show_notes()
    show_progress(sys.stderr)
    app(prog_name="schemactl")
