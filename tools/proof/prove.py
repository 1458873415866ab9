"""Proving DBA scripts: apply them with the real command-line client to a scratch database.

A release is proven the way a DBA will run it, with rows in the tables: on a throwaway
database of the environment's kind, brought to the release's from-state by the earlier
releases' upgrade scripts, and its twin, brought there by Alembic online, every table gets
the same generated rows (tools.proof.rows). The upgrade script is applied with the client (psql,
mariadb, sqlite3) and the twin upgraded online: schema and data must be the same (offline
equals online, value for value). The rollback is applied: schema and every row must be
what they were. The upgrade is applied once more: schema and data as after the first. Any
failure names the script, the statement and the server's error, or the table and a row.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.errors import ConfigError, DatabaseError, SchemactlError
from tools.core.text import comment, listing, shown_file
from tools.dialects import is_tool_table
from tools.history.load import load_history, plan_range
from tools.proof import rows, scratch
from tools.proof.contents import compare_contents, contents_of, row_tables, without
from tools.proof.snapshot import compare, read_catalog, schema_of_catalog
from tools.scripts.backup_plan import TABLE, plan_backups
from tools.scripts.capture import capture_session
from tools.scripts.narrowing import loss

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Connection, Engine

    from tools.config import Environment, Project
    from tools.dialects import ScriptDialect
    from tools.history.graph import RevisionId
    from tools.history.load import History
    from tools.proof.contents import Contents, DataDifference
    from tools.proof.rows import Seeded
    from tools.proof.snapshot import Difference, Schema


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


class DataMismatch(ProofFailed):
    """A script left other rows or values than it should: the rows it was proven with differ
    from the ones expected (``culprits``: the revisions that change the first table)."""

    def __init__(
        self,
        script: str,
        state: str,
        differences: Sequence[DataDifference],
        culprits: Sequence[str] = (),
    ) -> None:
        self.script = script
        self.differences = tuple(differences)
        self.table = differences[0].table
        shown = "; ".join(str(d) for d in differences[:3])
        blame = (
            f"fix {', '.join(culprits)}, which change{'s' if len(culprits) == 1 else ''} "
            f"table {self.table}"
            if culprits
            else "fix the revision whose SQL does not do what its migration does"
        )
        super().__init__(
            f"{script} applied to a database with rows, but the data differs from {state} "
            f"({shown}); {blame}"
        )


@dataclass(frozen=True)
class ReleaseScripts:
    """One release's scripts, as text, and the path they are shown under."""

    where: str  # e.g. sql_out/prod/0003_ab12cd34ef56
    start: tuple[RevisionId, ...]
    end: tuple[RevisionId, ...]
    upgrade: str
    rollback: str
    # Whether its scripts keep what they destroy for the rollback (not with backup = off,
    # nor for a release rendered before scripts took backups).
    backups: bool = True


@dataclass(frozen=True)
class ProvenOn:
    """The client and server a release was proven with (recorded in manifest.json)."""

    client: str
    server: str

    def as_json(self) -> dict[str, str]:
        return {"client": self.client, "server": self.server}

    def __str__(self) -> str:
        return f"{self.client}, {self.server}"


@dataclass(frozen=True)
class State:
    """What a proof compares: a database's schema and every row of its tables."""

    schema: Schema
    data: Contents


@dataclass(frozen=True)
class StepFacts:
    """What a proof must know of the revisions a script runs to judge the rows it leaves."""

    # (table, column) pairs the step creates with a value the server makes each time it
    # runs (DEFAULT now()): compared by their NULLs only.
    loose: frozenset[tuple[str, str]] = frozenset()
    # (table, column or None for the whole table) the step destroys and says its rollback
    # does not put back (backup = off, no primary key, a table the downgrade does not
    # recreate): left out of the comparison after the rollback.
    lost: frozenset[tuple[str, str | None]] = frozenset()
    # Which revisions change each table, to name them when its rows differ.
    changed_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Columns the step narrows, with their new type: rows are generated to fit it (a team
    # narrows a column its data fits; values only the old type holds would fail the step).
    narrowed: dict[tuple[str, str], Any] = field(default_factory=dict)

    def culprits(self, table: str) -> tuple[str, ...]:
        return self.changed_by.get(table) or self.changed_by.get("", ())


def step_facts(
    history: History, kind: ScriptDialect, revisions: Sequence[RevisionId], *, backups: bool
) -> StepFacts:
    """The facts of ``revisions`` (apply order) for a proof on ``kind``."""

    session = capture_session(history, kind.name, [(rev, "upgrade") for rev in revisions])
    loose: set[tuple[str, str]] = set()
    changed: dict[str, list[str]] = {}
    narrowed: dict[tuple[str, str], Any] = {}
    for rev in revisions:
        try:
            operations = session.get(rev, "upgrade").operations
        except SchemactlError:
            continue
        where = f"{rev} ({shown_file(history.graph[rev].path)})"
        for op in operations:
            changed.setdefault(op.table or "", [])
            if where not in changed[op.table or ""]:
                changed[op.table or ""].append(where)
            loose.update((str(op.table), c) for c in _server_made(op))
            if op.name == "alter_column" and loss(op.source) == "narrows":
                narrowed[(str(op.table), str(op.target))] = op.source.modify_type
    lost: set[tuple[str, str | None]] = set()
    for planned in plan_backups(history, kind.name, tuple(revisions), upgrades=session).values():
        for b in planned:
            if not backups or not b.restorable:
                lost.add((b.table, None if b.kind == TABLE else b.column))
    changed_by = {t: tuple(r) for t, r in changed.items()}
    return StepFacts(frozenset(loose), frozenset(lost), changed_by, narrowed)


def _server_made(op: Any) -> list[str]:
    """The columns an operation creates whose value the server makes when it runs (a
    default that is an SQL expression rather than a constant)."""
    from sqlalchemy import Column

    source = op.source
    if op.name == "add_column":
        columns = [source.column]
    elif op.name == "create_table":
        columns = [c for c in source.columns if isinstance(c, Column)]
    else:
        return []
    return [
        c.name
        for c in columns
        if c.server_default is not None
        and not isinstance(getattr(c.server_default, "arg", ""), str)
    ]


@dataclass
class Twins:
    """A scratch database scripts are applied to with the real client, and its twin that
    Alembic migrates online: both get the same generated rows, and must agree."""

    kind: ScriptDialect
    raw: URL  # the scripted database, as the client reaches it
    scripted: URL  # ... with the session settings migrations and reads use
    online: URL
    config: Config  # Alembic's, pointed at the twin
    ignore: frozenset[str]
    rows: int
    # One engine per database for the proof's own reads and writes. No connection is kept
    # between them: the client and Alembic change the tables in between (a server's cached
    # plan of a query would not survive a column's new type).
    engines: dict[str, Engine] = field(default_factory=dict, repr=False)

    @contextmanager
    def connected(self, url: URL) -> Iterator[Connection]:
        key = url.render_as_string(hide_password=False)
        if key not in self.engines:
            self.engines[key] = self.kind.engine(url)
        with self.engines[key].begin() as connection:
            yield connection

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        self.engines.clear()

    def seed(self, fit: Mapping[tuple[str, str], Any] | None = None) -> Seeded:
        """Generated rows into every table of the scripted database, the same into the
        twin; both databases' id counters then set as a fresh database would have them.
        ``fit``: (table, column) -> a type the values must also fit (a narrowing)."""

        with self.connected(self.scripted) as connection:
            tables = rows.data_tables(connection, self.ignore)
            for (table, column), type_ in (fit or {}).items():
                if table in tables and column in tables[table].c:
                    tables[table].c[column].type = type_
            seeded = rows.seed(
                connection,
                list(tables.values()),
                rows=self.rows,
                text_holds_nul=self.kind.text_holds_nul,
            )
        with self.connected(self.online) as connection:
            rows.insert(connection, tables, seeded)
        self.fresh_counters(self.scripted)
        self.fresh_counters(self.online)
        return seeded

    def fresh_counters(self, url: URL) -> None:
        from sqlalchemy import inspect, text

        with self.connected(url) as connection:
            for name in inspect(connection).get_table_names():
                if name not in self.ignore and not is_tool_table(name):
                    for statement in self.kind.counters_as_fresh(name):
                        connection.execute(text(statement))

    def state(self, url: URL) -> State:
        from sqlalchemy import inspect

        with self.connected(url) as connection:
            catalog = read_catalog(connection, self.ignore, inspect(connection))
            return State(schema_of_catalog(catalog), contents_of(connection, row_tables(catalog)))

    def apply(self, text: str, shown: str) -> None:
        apply_script(self.kind, self.raw, text, shown)


@contextmanager
def twins(
    project: Project, kind: ScriptDialect, server: URL | None, prefix: str, *, rows: int
) -> Iterator[Twins]:
    """Two fresh scratch databases of ``kind`` like one of its environments' (the schema
    scripts work in), dropped afterwards; each proof step fills their tables with ``rows``
    generated rows."""

    with (
        scratch.scratch_database(kind, server, prefix=f"{prefix}") as raw,
        scratch.scratch_database(kind, server, prefix=f"{prefix}_online") as raw_online,
    ):
        scratch.run_statements(raw, kind.scratch_setup())
        scratch.run_statements(raw_online, kind.scratch_setup())
        # The client applies scripts to the database as it is; migrations run and data
        # is read with the environment's session settings (the schema scripts work in).
        online = kind.session_url(raw_online)
        config = scratch.scratch_config(project, kind, online)
        pair = Twins(
            kind, raw, kind.session_url(raw), online, config, scratch.ignored_tables(config), rows
        )
        try:
            yield pair
        finally:
            pair.close()  # before the databases are dropped


def prove(
    project: Project,
    environment: Environment,
    earlier: Sequence[ReleaseScripts],
    proving: Sequence[ReleaseScripts],
) -> ProvenOn:
    """Apply ``earlier`` releases' upgrades, then prove each of ``proving`` in turn with the
    project's proof_rows generated rows in every table (upgrade, compare with Alembic online,
    rollback, compare with the rows before, upgrade again, compare) on scratch databases of
    the environment's kind. Raises ProofFailed (or a ConfigError when there is nothing to
    prove on)."""

    kind = environment.kind
    server = project.require_scratch_server(kind)
    client = client_version(kind)
    history = load_history(project)
    with twins(project, kind, server, "schemactl_prove", rows=project.proof_rows) as pair:
        for release in earlier:
            pair.apply(release.upgrade, f"{release.where}/upgrade.sql")
        for release in proving:
            upgrade, rollback = f"{release.where}/upgrade.sql", f"{release.where}/rollback.sql"
            again = f"{upgrade} (applied again)"
            revisions = plan_range(history.graph, release.start, release.end).revisions
            facts = step_facts(history, kind, revisions, backups=release.backups)
            start = f"the from-state ({', '.join(release.start) or 'base'})"
            for head in release.start:
                scratch.upgrade(pair.config, head)
            agree(
                pair.state(pair.online),
                pair.state(pair.scripted),
                "the earlier releases' upgrade scripts",
                f"what Alembic online gives at {', '.join(release.start) or 'base'}",
                facts,
            )
            pair.seed(facts.narrowed)
            before = pair.state(pair.scripted)
            for head in release.end:
                scratch.upgrade(pair.config, head)
            online = pair.state(pair.online)
            pair.apply(release.upgrade, upgrade)
            after = pair.state(pair.scripted)
            end = f"what Alembic online gives at {', '.join(release.end)} from the same rows"
            agree(online, after, upgrade, end, facts)
            pair.apply(release.rollback, rollback)
            agree(before, pair.state(pair.scripted), rollback, start, facts, rollback=True)
            pair.fresh_counters(pair.scripted)
            pair.apply(release.upgrade, again)
            agree(after, pair.state(pair.scripted), again, "what it gave the first time", facts)
        return ProvenOn(client, server_version(kind, pair.scripted))


def agree(
    expected: State,
    actual: State,
    script: str,
    state: str,
    facts: StepFacts,
    *,
    rollback: bool = False,
) -> None:
    """Raise SchemaMismatch or DataMismatch where ``actual`` is not ``expected``."""
    schema, data = differences(expected, actual, facts, rollback=rollback)
    if schema:
        raise SchemaMismatch(script, state, schema)
    if data:
        raise DataMismatch(script, state, data, facts.culprits(data[0].table))


def differences(
    expected: State, actual: State, facts: StepFacts, *, rollback: bool = False
) -> tuple[list[Difference], list[DataDifference]]:
    """How ``actual`` differs from ``expected``: its schema, and (when the schemas agree)
    its rows — after a rollback every row exactly (but what the step says it loses);
    otherwise values the server makes each run only by their NULLs, and moments up to a
    clock's slack apart."""

    schema = compare(expected.schema, actual.schema)
    if schema:
        return schema, []
    if rollback:
        lost = facts.lost
        return [], compare_contents(without(expected.data, lost), without(actual.data, lost))
    return [], compare_contents(expected.data, actual.data, loose=facts.loose, clock_slack=True)


# -- the client -----------------------------------------------------------------------------------


class ClientMissing(ConfigError):
    """The command-line client scripts are proven with is not installed here."""

    def __init__(self, client: str) -> None:
        self.client = client
        super().__init__(
            f"the {client} client is not installed; install it: scripts are proven with the "
            "client a DBA applies them with"
        )


def _client_path(kind: ScriptDialect) -> str:
    found = shutil.which(kind.client)
    if found is None:
        raise ClientMissing(kind.client)
    return found


def client_version(kind: ScriptDialect) -> str:
    """The client's own first line of --version, spaces collapsed."""
    _client_path(kind)
    result = subprocess.run([kind.client, "--version"], capture_output=True, text=True)
    lines = (result.stdout or result.stderr).strip().splitlines()
    return " ".join(lines[0].split()) if lines else kind.client


def server_version(kind: ScriptDialect, url: URL) -> str:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    engine = kind.engine(url)
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
