"""schemactl: the command line over the tools library.

Commands stay a few lines each: find the project, make one library call, print the result.
Library modules are imported inside the commands so `schemactl --help` loads neither
SQLAlchemy nor Alembic.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from typer.models import CommandInfo

from tools.cli import authoring, live, scripts
from tools.cli.authoring import branch_app
from tools.cli.common import _help, app
from tools.cli.reports import lint_summary

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


class _Notes(logging.Handler):
    """What the library has to tell beside its result (a revision file read by importing
    it), as a note on stderr: sys.stderr at each note, so a caller may swap it."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"Note: {record.getMessage()}", err=True)


def show_notes() -> None:
    """Print the library's notes on stderr (once, however often it is called)."""
    library = logging.getLogger("schemactl")
    if not any(isinstance(handler, _Notes) for handler in library.handlers):
        library.addHandler(_Notes())
    library.propagate = False
    # Progress of long work is not a note: shown only where someone watches (show_progress).
    logging.getLogger("schemactl.progress").propagate = False


class _Steps(logging.Handler):
    """Each step of long work (check, release) as a line on stderr, as it begins."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"... {record.getMessage()}", err=True)


def show_progress(stream: Any) -> None:
    """Show the library's progress on stderr when ``stream`` (stderr) is a terminal: a
    command that takes seconds says what it is doing; a pipe or a log gets only results."""
    steps = logging.getLogger("schemactl.progress")
    if stream.isatty() and not any(isinstance(h, _Steps) for h in steps.handlers):
        steps.addHandler(_Steps())
        steps.setLevel(logging.INFO)


def main() -> None:
    import gc

    # A run loads every revision file and holds what it renders until it prints. Measured on
    # long histories: the cyclic collector walked those objects over and over, and once more
    # at exit, for nothing (they live until the process ends). Fewer collections while it
    # runs, and none at exit; every object is still finalised as usual.
    gc.set_threshold(50_000, 20, 100)
    show_notes()
    show_progress(sys.stderr)
    try:
        app(prog_name="schemactl")
    finally:
        gc.freeze()
