"""`schemactl check`: the CI gate, like Django's `makemigrations --check`.

Each check is a function returning its findings (empty when all is well); the CLI prints
them all together and decides the exit code. One broken thing never hides another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tools.config import NoScratchServer
from tools.core.errors import SchemactlError
from tools.core.text import listing, naming_database, progress
from tools.dialects import script_dialect
from tools.history.graph import BOTH_WAYS
from tools.history.load import load_history
from tools.proof import scratch, stairway
from tools.proof.measure import measure_pending, measurements_json
from tools.proof.prove import ClientMissing
from tools.proof.scratch import ScratchUnavailable
from tools.release.release import check as check_releases
from tools.scripts.capture import capture_session

if TYPE_CHECKING:
    from tools.config import Project
    from tools.history.load import History
    from tools.proof.measure import Measurements
    from tools.scripts.capture import Session


@dataclass(frozen=True)
class Finding:
    check: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"check": self.check, "message": self.message}


def single_head(project: Project, history: History) -> list[str]:
    """Exactly one head: two heads mean two lines of work nobody has joined yet, and
    `alembic upgrade head` refuses to choose between them."""
    heads = history.graph.heads
    if len(heads) == 1:
        return []
    return [f"{len(heads)} heads: {', '.join(heads)}; join them with `schemactl merge`"]


class Skipped(SchemactlError):
    """A check that cannot run here; ``reason`` says why and what would let it run."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


NO_MODELS = "no target_metadata: env.py gives autogenerate no models to compare"


def models_match_migrations(project: Project, history: History) -> list[str]:
    """The models and the history describe the same schema: a model change without its
    revision would reach no database. Asked through the project's own env.py (its
    target_metadata and include rules), against a scratch database of the default
    environment's kind, upgraded to every head."""

    kind = project.environment().kind
    server = project.require_scratch_server(kind)
    with scratch.scratch_database(kind, server, prefix="schemactl_check") as url:
        cfg = scratch.scratch_config(project, kind, url)
        # Asked first: without models there is nothing to compare, whether or not the
        # history runs (a revision that fails is migrations-run's to report).
        if not scratch.has_models(cfg):
            raise Skipped(NO_MODELS)
        scratch.upgrade(cfg, "heads")
        diffs = scratch.model_differences(cfg)
    if diffs is None:
        raise Skipped(NO_MODELS)
    if not diffs:
        return []
    shown = listing(_describe_diff(d) for d in diffs)
    return [f"the models differ from the migrations ({shown}); run `schemactl makemigrations`"]


def _describe_diff(diff: object) -> str:
    if isinstance(diff, list):  # Alembic groups one column's modifications in a list
        return ", ".join(_describe_diff(d) for d in diff)
    kind: object
    rest: list[object]
    kind, *rest = diff  # type: ignore[misc]
    named = []
    for item in rest:
        name = getattr(item, "name", None)
        table = getattr(getattr(item, "table", None), "name", None)
        if name:
            named.append(f"{table}.{name}" if table and table != name else str(name))
    # Column modifications name their table and column as plain strings instead.
    names = named or [item for item in rest if isinstance(item, str)]
    return f"{kind} {'.'.join(names[:2]) if not named else ' '.join(named[:3])}".strip()


def renders_offline(project: Project, history: History) -> list[str]:
    """Every revision renders as plain SQL on every dialect the project deploys to, both ways:
    a DBA script cannot contain a revision that needs a live connection."""
    found = []
    for dialect in sorted({env.dialect for env in project.environments.values()}):
        session = _session(history, dialect)
        for direction in ("upgrade", "downgrade"):
            for rev in history.graph.order:
                error = session.results[(rev, direction)]
                if isinstance(error, SchemactlError):
                    found.append(f"{dialect}: {error}")
    return found


def downgrades_exist(project: Project, history: History) -> list[str]:
    """A revision that changes something has a downgrade that undoes something: otherwise a
    rollback script silently leaves its changes behind. A revision that cannot be rendered
    cannot be checked, and fails this check too."""
    session = _session(history, project.environment().dialect)
    found = []
    for rev in history.graph.order:
        path = history.graph[rev].path.name
        try:
            up = session.get(rev, "upgrade").operations
            down = session.get(rev, "downgrade").operations
        except SchemactlError as err:
            found.append(f"{rev} ({path}) cannot be checked: {err}")
            continue
        if up and not down:
            found.append(f"{rev} ({path}) changes the schema but its downgrade does nothing")
    return found


def _session(history: History, dialect: str) -> Session:
    """Every revision captured both ways in one offline run of env.py."""
    requests = [(rev, d) for rev in history.graph.order for d in BOTH_WAYS]
    return capture_session(history, dialect, requests)


def releases_current(project: Project, history: History) -> list[str]:
    """Every recorded release in sql_out/ still renders byte for byte and nothing in it was
    edited: what the DBA reviewed is what the repository produces."""

    return [str(problem) for problem in check_releases(project).problems]


def migrations_run(dialect: str) -> Callable[[Project, History], list[str]]:
    """Every revision no release contains yet goes up, down and up again on a scratch
    database of ``dialect`` (tools.proof.stairway): a downgrade one server refuses is caught before
    a release is cut."""

    def check(project: Project, history: History) -> list[str]:

        if not stairway.pending(project, history):
            return []  # nothing unreleased: nothing to run, no server needed

        kind = script_dialect(dialect)
        server = project.require_scratch_server(kind)
        try:
            return stairway.stairway(project, history, kind, server)
        except ClientMissing as err:  # the scripts cannot be applied here: a skip, not a fail
            raise Skipped(str(err)) from err

    return check


CHECKS: dict[str, Callable[[Project, History], list[str]]] = {
    "single-head": single_head,
    "models-match-migrations": models_match_migrations,
    "renders-offline": renders_offline,
    "downgrades": downgrades_exist,
    "sql-out-current": releases_current,
}


def checks_for(project: Project) -> dict[str, Callable[[Project, History], list[str]]]:
    """The checks to run for a project, in order: migrations-run:DIALECT for each dialect its
    environments name comes before sql-out-current."""
    chosen = {name: check for name, check in CHECKS.items() if name != "sql-out-current"}
    for dialect in sorted({env.dialect for env in project.environments.values()}):
        chosen[f"migrations-run:{dialect}"] = migrations_run(dialect)
    chosen["sql-out-current"] = CHECKS["sql-out-current"]
    return chosen


@dataclass
class Report:
    findings: list[Finding]
    skipped: dict[str, str]  # check -> why it could not run
    checks: list[str] = field(default_factory=list)  # every check, in the order run
    # Per kind of database whose revisions ran: what the unreleased revisions' statements
    # did on its scratch server (measured verdicts), or why only lint's static ones exist.
    measured: dict[str, Measurements] = field(default_factory=dict)
    static: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "problems": [f.as_json() for f in self.findings],
            "skipped": [{"check": c, "reason": r} for c, r in self.skipped.items()],
            "verdicts": {
                **{name: "measured" for name in self.measured},
                **{name: f"static: {why}" for name, why in self.static.items()},
            },
            "measured": {name: measurements_json(m) for name, m in self.measured.items()},
        }


def run_checks(project: Project, *, strict: bool = False) -> Report:
    """Every check, each reported on its own: a failure or a check that cannot run never
    stops the others. ``strict``: a skipped check fails instead."""

    chosen = checks_for(project)
    report = Report([], {}, list(chosen))
    try:
        # Every file imported, so a broken one is reported as such, whichever range.
        history = load_history(project, every_file=True)
    except SchemactlError as err:
        report.findings.append(Finding("history", str(err)))
        report.checks.insert(0, "history")
        report.skipped = {name: "the history does not load" for name in chosen}
        return report

    for name, check in chosen.items():
        progress(f"check {project.display_name}/{name}")
        try:
            messages = check(project, history)
        except (Skipped, NoScratchServer, ScratchUnavailable) as skip:  # no server, or not up
            reason = str(skip)
            if strict:
                messages = [f"cannot run ({reason}); --strict requires every check"]
            else:
                report.skipped[name] = reason
                continue
        except SchemactlError as err:
            messages = [str(err)]
        report.findings += [Finding(name, message) for message in messages]
    _measure(project, history, report)
    return report


def _measure(project: Project, history: History, report: Report) -> None:
    """The unreleased revisions measured on each kind of database whose migrations-run check
    went through (one that failed or was skipped leaves lint's static verdicts). Nothing
    unreleased: nothing to say."""
    if not stairway.pending(project, history):
        return
    for name in report.checks:
        dialect = name.removeprefix("migrations-run:")
        if dialect == name:
            continue
        kind = script_dialect(dialect)
        if name in report.skipped or any(f.check == name for f in report.findings):
            report.static[dialect] = f"{name} did not go through"
        elif not kind.observes:
            report.static[dialect] = f"{kind.title} has nothing to measure"
        else:
            try:
                progress(f"measuring {project.display_name}/{dialect} on its scratch server")
                report.measured[dialect] = measure_pending(project, history, kind)
            except SchemactlError as err:  # no server, or one that is not up
                report.static[dialect] = str(err)


def run_all(projects: list[Project], *, strict: bool = False) -> Report:
    """``run_checks`` for each database of a project (``projects``: one per database, or the
    one asked for). With several, each check is named DATABASE/CHECK; advice names the
    database (but the first)."""

    merged = Report([], {})
    for project in projects:
        report = run_checks(project, strict=strict)
        named = None if project.default_database else project.display_name
        prefix = f"{project.display_name}/" if len(projects) > 1 else ""
        merged.checks += [prefix + name for name in report.checks]
        merged.skipped |= {prefix + name: why for name, why in report.skipped.items()}
        merged.findings += [
            Finding(prefix + f.check, naming_database(f.message, named)) for f in report.findings
        ]
        merged.measured |= {prefix + name: m for name, m in report.measured.items()}
        merged.static |= {prefix + name: why for name, why in report.static.items()}
    return merged
