"""`schemactl`'s entry point: what needs no Typer is answered here, else the CLI (tools.cli).

With no global option and no $SCHEMACTL_ENV or $SCHEMACTL_CONFIG:
- `schemactl graph`: kept from the run before while the files are the same
  (tools.history.kept), else drawn from the header cache (tools.history.headers);
- `schemactl status`, where the default environment is a SQLite file: its version table (the
  one env.py named, tools.live.env_answers) read with Python's sqlite3, the rows kept or
  worked out the same way; neither imports Alembic or SQLAlchemy;
- `schemactl sql ... --stdout` with plain options (sql_options): rendered by the library as
  the CLI renders it, without Typer and its pydantic layer (a tenth of a second and about
  13 MiB of a render).
Anything else, anything a cache cannot vouch for, and anything that goes wrong goes to the
CLI, which runs the command in full and prints the same for the same command
(tests/test_headers.py and tests/test_entry.py hold the two together).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO


def main() -> None:
    import gc

    # A run loads every revision file and holds what it renders until it prints. Measured on
    # long histories: the cyclic collector walked those objects over and over, and once more
    # at exit, for nothing (they live until the process ends). Fewer collections while it
    # runs, and none at exit; every object is still finalised as usual.
    gc.set_threshold(50_000, 20, 100)
    try:
        if not _answered(sys.argv[1:]):
            from tools.cli import main as cli

            cli()
    except OSError as err:
        if err.errno not in _FULL:
            raise
        # Output that cannot be written (a full disk, /dev/full): one line, not a traceback.
        _silence_stdout()
        reason = f"cannot write the output ({err.strerror})"
        sys.stderr.write(f"Error: {reason}; free some space, or write elsewhere\n")
        raise SystemExit(1) from None
    finally:
        gc.freeze()


_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _silence_stdout() -> None:
    """Point stdout at nothing: Python flushes it again at exit, which would fail again."""
    if sys.stdout is not None:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _answered(argv: list[str]) -> bool:
    """Whether the command was answered here (nothing printed otherwise)."""
    if os.environ.get("SCHEMACTL_ENV") or os.environ.get("SCHEMACTL_CONFIG"):
        return False
    if argv[:1] == ["sql"]:
        answer: Callable[[], str | TextIO | None] | None = functools.partial(_sql, argv[1:])
    elif argv == ["branch", "list"]:
        answer = _branch_list
    else:
        answer = {"graph": _graph, "status": _status}.get(argv[0]) if len(argv) == 1 else None
    if answer is None:
        return False
    from tools.core.notes import show_notes

    show_notes()
    try:
        text = answer()
    except Exception:  # the CLI runs the command in full and reports what went wrong
        return False
    if text is None:
        return False
    try:
        _write(text)
    finally:
        if not isinstance(text, str):
            text.close()
    return True


_CHUNK = 1 << 14  # 16 KiB: a piece and its encoded copy are all printing holds


def _write(text: str | TextIO) -> None:
    """Print ``text`` (or what a file holds) in pieces: a long script is not encoded whole
    at once. A reader that stopped reading (`| head`) ends the output quietly, as the CLI's:
    not an error."""
    if sys.stdout is None:  # closed (>&-): nowhere to print, as the CLI has it
        return
    pieces = (
        (text[at : at + _CHUNK] for at in range(0, len(text), _CHUNK))
        if isinstance(text, str)
        else iter(functools.partial(text.read, _CHUNK), "")
    )
    try:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()  # as Python's docs advise


# `schemactl sql ... --stdout`: its options, by every name Typer gives them (tools.cli.scripts),
# and the parameter each sets; any other option, or one given twice, goes to the CLI.
_SQL_VALUES = {
    "--from": "start",
    "--to": "target",
    "--env": "env",
    "-e": "env",
    "--name": "database",
    "-n": "database",
    "--client": "client",
}
_SQL_FLAGS = {"--stdout": "stdout", "--rollback": "rollback"}


def sql_options(args: list[str]) -> dict[str, str | bool] | None:
    """The options of a plain `schemactl sql` as Typer reads them (``--opt VALUE``,
    ``--opt=VALUE``, flags), by parameter; None for anything else (the CLI reads it)."""
    found: dict[str, str | bool] = {}
    given = iter(args)
    for arg in given:
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        parameter: str | None
        said: str | bool
        if name in _SQL_FLAGS and not equals:
            parameter, said = _SQL_FLAGS[name], True
        elif (parameter := _SQL_VALUES.get(name)) is not None:
            said = value if equals else next(given, "-")
            if said.startswith("-"):
                return None  # missing, or a value Click may read otherwise
        else:
            return None
        if parameter in found:
            return None
        found[parameter] = said
    return found


def _sql(args: list[str]) -> TextIO | None:
    """`schemactl sql --stdout` with plain options: the script, as the CLI renders it
    (tools.cli.scripts.sql), with no Typer; None for what the CLI must read or report
    (other options, an empty range, any error). The script is written to a temporary file
    as it renders (never held whole: about 1.5 MiB less at 1,000 revisions) and
    printed once whole, so nothing is printed of one that fails midway."""
    options = sql_options(args)
    if options is None or options.get("stdout") is not True:
        return None
    import tempfile

    from tools.config import load_project
    from tools.release import ranges

    def given(name: str, default: str | None = None) -> str | None:
        value = options.get(name, default)
        return value if isinstance(value, str) else None

    project = load_project(None, given("database"))
    environment = project.environment(given("env"))
    client = given("client")
    if client is not None:
        environment = environment.with_client(client)
    kind = "rollback" if options.get("rollback") else "upgrade"
    # Returned open: _answered closes it once printed (it has no name: gone when closed).
    text = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")  # noqa: SIM115
    try:
        ranges.sql_one(
            project,
            environment,
            kind,
            start=given("start"),
            target=given("target", "heads"),
            into=text,
        )
    except BaseException:
        text.close()
        raise
    text.seek(0)
    return text


def _graph() -> str | None:
    """`schemactl graph`: kept from the run before while the files are the same
    (tools.history.kept), else drawn from the header cache and kept."""
    from tools.config import load_project
    from tools.history import kept
    from tools.history.graph import text_tree

    project = load_project()
    drawn = kept.made_from_headers(project.config_path, project.database, "graph", text_tree)
    return None if drawn is None else "\n".join(drawn) + "\n"


def _branch_list() -> str | None:
    """`schemactl branch list`: kept from the run before while the files, env.py (and what
    it reads: tools.live.env_answers) and the project's own modules the revisions imported
    are the same; else listed by the library, which runs the branches' revisions offline
    (tools.authoring.revisions), and kept."""
    from tools.config import load_project
    from tools.history import headers, kept
    from tools.live import env_answers

    project = load_project()
    root = project.config_path.parent
    key = env_answers.answer_key(project, project.environment(None))
    if key is None:
        return None
    found = kept.recall(root, project.database, "branches")
    if isinstance(found, dict) and found["key"] == key and kept.unchanged(found["modules"]):
        lines = found["lines"]
    else:
        read = headers.read_warm_vouched(project.config_path, project.database)
        if read is None:
            return None
        from tools.authoring import revisions

        before = set(sys.modules)
        lines = revisions.format_branches(revisions.list_branches(project))
        modules = kept.imported_files(root, [sys.modules[n] for n in set(sys.modules) - before])
        if modules is not None:
            value = {"key": key, "modules": modules, "lines": lines}
            kept.keep(root, project.database, "branches", read, value)
    return "\n".join(lines) + "\n"


def _status() -> str | None:
    """`schemactl status` of the default environment, where it is a SQLite file named
    plainly: the version table env.py named (tools.live.env_answers) read with Python's
    sqlite3; the rows kept from the run before while the files are the same
    (tools.history.kept), else worked out from the header cache."""
    from tools.config import load_project
    from tools.dialects import VERSION_TABLE
    from tools.dialects.sqlite import SQLite
    from tools.history import kept
    from tools.live import env_answers
    from tools.live.status import derived, shown

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
    if current is None:
        return None
    found = kept.made_from_headers(project.config_path, project.database, "status", derived)
    if found is None:
        return None  # the CLI says what the database holds that this checkout has not
    lines = shown(found, environment, kind.warm_shown(path), current)
    return None if lines is None else "\n".join(lines) + "\n"
