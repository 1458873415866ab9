"""How what the library tells beside its results reaches a person: on stderr.

A note (a revision file read by importing it) is always shown, as 'Note: ...'; progress of
long work ('... proving on PostgreSQL') only where stderr is a terminal, so a pipe or a log
gets results alone. Both the CLI (tools.cli) and the entry point's own answers
(tools.entry) show them the same way, without Typer.
"""

from __future__ import annotations

import logging
import sys
from typing import Any


class _Notes(logging.Handler):
    """Each note as a line on stderr: sys.stderr at each note, so a caller may swap it."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(f"Note: {record.getMessage()}\n")
        sys.stderr.flush()


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
        sys.stderr.write(f"... {record.getMessage()}\n")
        sys.stderr.flush()


def show_progress(stream: Any) -> None:
    """Show the library's progress on stderr when ``stream`` (stderr) is a terminal: a
    command that takes seconds says what it is doing; a pipe or a log gets only results."""
    steps = logging.getLogger("schemactl.progress")
    if stream.isatty() and not any(isinstance(h, _Steps) for h in steps.handlers):
        steps.addHandler(_Steps())
        steps.setLevel(logging.INFO)
