"""Developer-written text (messages, labels, file names) made safe for where it is shown."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

# Characters that could end a comment line or disguise text: control characters, line and
# paragraph separators, zero-width and bidirectional-override characters.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def inline(value: object) -> str:
    """``value`` as text that stays on its line: every character that could end the line or
    disguise text becomes a space. The DBA script template's filter for every expression
    that is not SQL (which makes it safe on a comment line)."""
    return _UNPRINTABLE.sub(" ", str(value))


def comment(value: object, limit: int = 120) -> str:
    """Text that is safe on one SQL comment line: it cannot end the line or become SQL;
    whitespace runs collapsed, cut at ``limit`` characters."""
    text = " ".join(inline(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def terminal(value: object) -> str:
    """Text from outside (a database's rows and errors) as a terminal may show it: control
    characters, escape sequences and invisible characters written as \\xNN or \\uNNNN, so
    nothing forges a line or moves the cursor."""
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(value))


def naming_database(text: str, database: str | None) -> str:
    """Advice that names a database: every `schemactl ...` command in ``text`` gets
    ``-n DATABASE``, so it works on the same database (None: the first, named by nothing)."""
    return text.replace("`schemactl ", f"`schemactl -n {database} ") if database else text


def shown_file(path: Path) -> str:
    """A revision file as a message names it: relative to the current folder when it lies
    below it (so FILE:LINE opens in an editor), else its folder and name (versions/x.py)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"


def listing(items: Iterable[object], limit: int = 5) -> str:
    """The first few of ``items`` on one line, '; ...' when there are more."""
    shown = [str(item) for item in items]
    return "; ".join(shown[:limit]) + ("; ..." if len(shown) > limit else "")


def labels_text(labels: Sequence[str], limit: int = 3) -> str:
    """Branch labels as a column shows them: the first ``limit``, then how many more (a
    revision after many merges carries every merged branch's label)."""
    shown = ", ".join(labels[:limit])
    return f"{shown} +{len(labels) - limit}" if len(labels) > limit else shown


def markdown_cell(value: object) -> str:
    """One line of text that cannot break a Markdown table or smuggle in HTML."""
    text = comment(value, limit=200)
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|")):
        text = text.replace(char, escaped)
    return text.replace("`", "'")


def markdown_code(value: object) -> str:
    """One line of text as a Markdown code span (outside tables): shown as it is, ``>`` and
    all, and no backtick in it can end the span."""
    text = comment(value, limit=300)
    runs = [len(run) for run in re.findall("`+", text)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def mermaid_label(value: object) -> str:
    """Text for a quoted Mermaid node label."""
    return re.sub(r"[\"<>{}\[\]|`#;]", " ", comment(value, limit=60)).strip()


@contextlib.contextmanager
def printed_to_stderr() -> Iterator[None]:
    """What the project's own code (env.py, revision files, models) prints goes to stderr:
    stdout is schemactl's (a script with --stdout, a report with --json)."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


def progress(message: str) -> None:
    """A step of long work begins ('proving on PostgreSQL'): the CLI shows it on stderr when
    stderr is a terminal (tools.core.notes.show_progress); otherwise it goes nowhere."""
    import logging

    logging.getLogger("schemactl.progress").info(message)
