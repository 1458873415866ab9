"""Proving DBA scripts: apply them with the real command-line client to a scratch database.

A release is proven the way a DBA will run it: on a throwaway database of the environment's
kind, brought to the release's from-state by the earlier releases' upgrade scripts, the
upgrade script is applied with the client (psql, mariadb, sqlite3), the schema compared with
what the migrations give at the release's end, the rollback applied and the schema compared
with the from-state, and the upgrade applied once more. Any failure names the script, the
statement and the server's error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tools.errors import ConfigError, DatabaseError, SchemactlError
from tools.text import comment, listing

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

    from tools.config import Environment, Project
    from tools.dialects import ScriptDialect
    from tools.graph import RevisionId
    from tools.snapshot import Schema


class ProofFailed(SchemactlError):
    """A script did not apply, or did not leave the schema it promises."""


class ScriptFailed(ProofFailed):
    """The client stopped on an error: which script, which statement, what the server said."""

    def __init__(
        self, script: str, line: int | None, statement: str, error: str, step: str | None
    ) -> None:
        self.script = script
        self.line = line
        self.statement = statement
        self.error = error
        self.step = step  # e.g. 'downgrade ab12cd34ef56 (0011_ab12cd34ef56_x.py)'
        where = f"{script}, line {line}" if line else script
        shown = f" at `{statement}`" if statement else ""
        fix = (
            f"fix the {step}"
            if step
            else "the statement is the script's own, not a revision's: check what the "
            "scratch server's settings (search_path, sql_mode) make of it"
        )
        super().__init__(f"{where} failed{shown}: {comment(error, limit=300)}; {fix}")


class SchemaMismatch(ProofFailed):
    def __init__(self, script: str, state: str, differences: Sequence[object]) -> None:
        self.script = script
        self.differences = tuple(str(d) for d in differences)
        shown = listing(self.differences)
        super().__init__(
            f"{script} applied, but the schema differs from {state} ({shown}); fix the "
            "revision whose SQL does not do what its migration does"
        )


@dataclass(frozen=True)
class ReleaseScripts:
    """One release's scripts, as text, and the path they are shown under."""

    where: str  # e.g. sql_out/prod/0003_ab12cd34ef56
    start: tuple[RevisionId, ...]
    end: tuple[RevisionId, ...]
    upgrade: str
    rollback: str


@dataclass(frozen=True)
class ProvenOn:
    """The client and server a release was proven with (recorded in manifest.json)."""

    client: str
    server: str

    def as_json(self) -> dict[str, str]:
        return {"client": self.client, "server": self.server}

    def __str__(self) -> str:
        return f"{self.client}, {self.server}"


def prove(
    project: Project,
    environment: Environment,
    earlier: Sequence[ReleaseScripts],
    proving: Sequence[ReleaseScripts],
) -> ProvenOn:
    """Apply ``earlier`` releases' upgrades, then prove each of ``proving`` in turn (upgrade,
    compare, rollback, compare, upgrade again) on scratch databases of the environment's
    kind. Raises ProofFailed (or a ConfigError when there is nothing to prove on)."""
    from tools import scratch

    kind = environment.kind
    server = project.require_scratch_server(kind)
    client = client_version(kind)
    with (
        scratch.scratch_database(kind, server, prefix="schemactl_prove") as raw_url,
        scratch.scratch_database(kind, server, prefix="schemactl_expect") as raw_expected,
    ):
        scratch.run_statements(raw_url, kind.scratch_setup())
        scratch.run_statements(raw_expected, kind.scratch_setup())
        # The client applies scripts to the database as it is; migrations run and schemas
        # are read with the environment's session settings (the schema scripts work in).
        url, expected_url = kind.session_url(raw_url), kind.session_url(raw_expected)
        expected = scratch.scratch_config(project, kind, expected_url)
        ignore = scratch.ignored_tables(expected)
        for release in earlier:
            apply_script(kind, raw_url, release.upgrade, f"{release.where}/upgrade.sql")
        for release in proving:
            upgrade, rollback = f"{release.where}/upgrade.sql", f"{release.where}/rollback.sql"
            before = scratch.schema_of(url, ignore)
            for head in release.end:
                scratch.upgrade(expected, head)
            after = scratch.schema_of(expected_url, ignore)
            end = f"what the migrations give at {', '.join(release.end)}"
            start = f"the from-state ({', '.join(release.start) or 'base'})"
            apply_script(kind, raw_url, release.upgrade, upgrade)
            _same(after, scratch.schema_of(url, ignore), upgrade, end)
            apply_script(kind, raw_url, release.rollback, rollback)
            _same(before, scratch.schema_of(url, ignore), rollback, start)
            apply_script(kind, raw_url, release.upgrade, f"{upgrade} (applied again)")
            _same(after, scratch.schema_of(url, ignore), f"{upgrade} (applied again)", end)
        return ProvenOn(client, server_version(kind, url))


def _same(expected: Schema, actual: Schema, script: str, state: str) -> None:
    from tools.snapshot import compare

    differences = compare(expected, actual)
    if differences:
        raise SchemaMismatch(script, state, differences)


# -- the client -----------------------------------------------------------------------------------


def _client_path(kind: ScriptDialect) -> str:
    found = shutil.which(kind.client)
    if found is None:
        raise ConfigError(
            f"the {kind.client} client is not installed; install it: scripts are proven with "
            "the client a DBA applies them with"
        )
    return found


def client_version(kind: ScriptDialect) -> str:
    """The client's own first line of --version, spaces collapsed."""
    _client_path(kind)
    result = subprocess.run([kind.client, "--version"], capture_output=True, text=True)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return " ".join(lines[0].split()) if lines else kind.client


def server_version(kind: ScriptDialect, url: URL) -> str:
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            version = connection.execute(text(kind.server_version_sql)).scalar()
    except SQLAlchemyError as err:
        raise DatabaseError(f"cannot ask the scratch {kind.title} server its version") from err
    finally:
        engine.dispose()
    return f"{kind.title} {' '.join(str(version).split())}"


def apply_script(kind: ScriptDialect, url: URL, text: str, shown: str) -> None:
    """Apply a script's ``text`` to ``url`` with the real client; ScriptFailed names the
    statement and the server's error when the client stops."""
    kind.prepare(url)
    with tempfile.TemporaryDirectory(prefix="schemactl-prove-") as folder:
        path = Path(folder) / "script.sql"  # errors are reported as ``shown``, not this path
        path.write_text(text, encoding="utf-8")
        command = kind.client_command(url, path)
        result = subprocess.run(
            [_client_path(kind), *command.args[1:]],
            input=text if command.stdin else None,
            stdin=None if command.stdin else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env={**os.environ, **command.env},
            cwd=folder,
        )
    if result.returncode != 0:
        line, error = kind.client_error(result.stderr + result.stdout)
        raise ScriptFailed(shown, line, statement_at(text, line), error, step_at(text, line))


def statement_at(text: str, line: int | None) -> str:
    """The first line of the statement a client reports at ``line`` (psql names the line a
    statement ends on, the others the line it starts on), for the error message."""
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return ""
    index = line - 1
    while index > 0 and not _ends_statement(lines[index - 1]):
        index -= 1
    return comment(lines[index].strip(), limit=100)


# The template's step header: "-- 3/5  downgrade ab12cd34ef56", then the message and file.
_STEP = re.compile(r"^-- \d+/\d+  (upgrade|downgrade) ([A-Za-z0-9_\-]+)")
_FILE = re.compile(r"^--   (\S+\.py)  sha256 ")


def step_at(text: str, line: int | None) -> str | None:
    """Which revision's step of a script ``line`` lies in, e.g. 'downgrade ab12 (0011_ab12_x.py)'
    (None before the first step, or for a template without schemactl's step headers)."""
    lines = text.splitlines()
    if line is None or not 1 <= line <= len(lines):
        return None
    for index in range(line - 1, -1, -1):
        match = _STEP.match(lines[index])
        if match:
            found = next(
                (m.group(1) for m in map(_FILE.match, lines[index + 1 : index + 4]) if m), None
            )
            step = f"{match.group(1)} of {match.group(2)}"
            return f"{step} (versions/{found})" if found else step
    return None


def _ends_statement(line: str) -> bool:
    stripped = line.strip()
    return (
        not stripped
        or stripped.endswith((";", "//"))
        or stripped.startswith(("--", ".", "DELIMITER"))
    )
