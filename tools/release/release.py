"""DBA scripts on disk: `schemactl release` (the chain; one range alone: tools.release.ranges).

sql_out/<env>/ holds an environment's releases in order, each a folder with upgrade.sql,
rollback.sql and review.md, and manifest.json recording every file's sha256 and the sha256
of every revision file a release contains. Everything is rendered in memory first; files
are written only once all of it rendered, each one atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.config import NoScratchServer
from tools.core.errors import SchemactlError
from tools.core.files import replace_folder, write_files
from tools.core.text import comment, progress
from tools.dialects import FORMAT
from tools.history.load import (
    History,
    NothingToRender,
    Range,
    load_history,
    plan_range,
    released_project,
    sha256_of,
)
from tools.release.ranges import range_for
from tools.scripts.manifest import (
    BACKUPS_FROM_FORMAT,
    MANIFEST,
    RELEASE_FILES,
    Manifest,
    Release,
    ReleaseError,
    Unstaged,
    env_dir,
    read_manifest,
    release_name,
    shown_path,
)
from tools.scripts.render import (
    render_scripts,
)

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.graph import RevisionId
    from tools.lint.findings import Finding
    from tools.proof.measure import Measurements
    from tools.proof.prove import ProvenOn, ReleaseScripts

# What `release --check` renders again and compares byte for byte: the scripts a DBA runs.
RENDERED_AGAIN = ("upgrade.sql", "rollback.sql")


class UnmergedHeads(ReleaseError):
    """A release would end at several heads: lines of work nobody has joined."""

    def __init__(self, heads: tuple[RevisionId, ...]) -> None:
        self.heads = heads
        super().__init__(
            f"release not written: it would end at {len(heads)} heads ({', '.join(heads)}), "
            "branches nobody has merged; join them with `schemactl merge`, or release up to "
            "where they fork with --to"
        )


class EditedRevision(ReleaseError):
    """A revision file changed since a recorded release contained it."""

    def __init__(self, revision: RevisionId, file: str, release: str) -> None:
        self.revision = revision
        self.file = file
        self.release = release
        super().__init__(
            f"release not written: {file} (revision {revision}) changed since release "
            f"{release} recorded it; released history never changes: restore the file from "
            "git (`git checkout -- FILE`) and put the change in a new revision"
        )


@dataclass(frozen=True)
class Problem:
    """One thing `release --check` found wrong, and where."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class CheckReport:
    checked: list[str] = field(default_factory=list)  # releases verified
    problems: list[Problem] = field(default_factory=list)


# -- paths --------------------------------------------------------------------------------------


# -- rendering ----------------------------------------------------------------------------------


def _render_release(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    name: str,
    findings: list[Finding] | None = None,
    measured: Measurements | None = None,
    *,
    unproven: bool = False,
    unstaged: Unstaged | None = None,
) -> dict[str, str]:
    from tools.lint.engine import lint_range
    from tools.release.review import render_review

    folder = env_dir(project, environment) / name
    upgrade, rollback = render_scripts(
        project,
        environment,
        history,
        span,
        out_dir=shown_path(project, folder),
        release=name,
        unproven=unproven,
    )
    if findings is None:
        findings = lint_range(history, environment.kind, span.revisions, "upgrade", environment)
    rollback_findings = lint_range(
        history, environment.kind, span.revisions, "downgrade", environment
    )
    review = render_review(
        name,
        span,
        upgrade,
        rollback,
        history.graph,
        findings,
        rollback_findings,
        measured,
        unproven=unproven,
        unstaged=unstaged,
    )
    return {"upgrade.sql": upgrade.text, "rollback.sql": rollback.text, "review.md": review}


def release(
    project: Project,
    environment: Environment,
    *,
    target: str | None = None,
    prove: bool = True,
    force_unstaged: str | None = None,
) -> Release | None:
    """Render the next release of ``env``: from its last release (or base) to ``target``.
    ``prove=False`` (no scratch server at hand): written neither measured nor proven, and
    marked so in the manifest and review.md; `release --prove` proves it later.

    Returns None when the last release already reaches the target.
    """
    from tools.lint.engine import blocking, lint_range

    # Released history is validated first, as Flyway's validate does: an edited file is
    # named even when there is nothing new to release.
    _refuse_edited(project)
    try:
        history, span, _ = range_for(project, environment, None, target)
    except NothingToRender:
        return None
    if len(span.end) > 1:
        raise UnmergedHeads(span.end)
    progress(f"linting {len(span.revisions)} revision(s)")
    findings = lint_range(history, environment.kind, span.revisions, environment=environment)
    errors = blocking(findings)
    if errors:
        raise ReleaseError(
            f"release stopped by {len(errors)} lint error(s), first: {errors[0]}; fix them or "
            f"silence them with a reason (see `schemactl lint --env {environment.name}`)"
        )
    unstaged = _staged(project, environment, history, span, force_unstaged)
    manifest = read_manifest(project, environment)
    name = release_name(len(manifest.releases) + 1, span.end)
    folder = env_dir(project, environment) / name
    if folder.exists():
        raise ReleaseError(
            f"{shown_path(project, folder)} exists but {MANIFEST} does not list it; remove it "
            "or restore the manifest from git"
        )
    measured = _measured(project, environment, history, span) if prove else None
    files = _render_release(
        project,
        environment,
        history,
        span,
        name,
        findings,
        measured,
        unproven=not prove,
        unstaged=unstaged,
    )
    if prove:
        progress(f"proving the scripts with rows on a scratch {environment.kind.title} database")
    proven = (
        _prove_before_writing(project, environment, manifest, folder, span.start, span.end, files)
        if prove
        else None
    )
    new = Release(
        name=name,
        start=span.start,
        end=span.end,
        files={f: _sha256_text(files[f]) for f in RELEASE_FILES},
        revisions={r: sha256_of(history.graph[r].path) for r in span.revisions},
        format=FORMAT,
        proven=proven.as_json() if proven is not None else None,
        unproven=not prove,
        unstaged=unstaged,
    )
    replace_folder(folder, files, shown=shown_path(project, folder))
    updated = Manifest(environment.name, environment.dialect, (*manifest.releases, new))
    write_files(env_dir(project, environment), {MANIFEST: updated.as_json()})
    return new


def _staged(
    project: Project,
    environment: Environment,
    history: History,
    span: Range,
    force: str | None,
) -> Unstaged | None:
    """Promotion: a release for an environment that requires another holds only revisions
    that one ran (NotStaged otherwise), unless ``force`` gives the reason to go without."""
    from tools.release import promotion

    if environment.requires is None:
        if force is not None:
            raise ReleaseError(
                f"--force-unstaged: {environment.name} requires no other environment; leave it out"
            )
        return None
    if force is not None and not force.strip():
        raise ReleaseError('--force-unstaged needs a reason: --force-unstaged "REASON"')
    if force is not None:
        try:
            missing = promotion.unstaged(project, environment, history.graph, span.revisions)
        except promotion.NotStaged:
            missing = list(span.revisions)  # unread: none of them is known to be staged
        return Unstaged(environment.requires, comment(force, limit=300), tuple(missing))
    progress(f"reading {environment.requires}'s audit: did it run the release's revisions?")
    missing = promotion.unstaged(project, environment, history.graph, span.revisions)
    if missing:
        raise promotion.refusal(environment, missing, history.graph)
    return None


def _measured(
    project: Project, environment: Environment, history: History, span: Range
) -> Measurements | None:
    """What the release's statements do on the scratch server, with rows (None: a kind of
    database with nothing to measure; review.md then gives lint's static verdicts)."""
    from tools.proof.measure import measure_environment

    if not environment.kind.observes:
        return None
    progress(f"measuring the statements on a scratch {environment.kind.title} database")
    try:
        return measure_environment(project, environment, span, history)
    except NoScratchServer as err:
        raise ReleaseError(
            f"release not written: it is measured and proven on a scratch database first, "
            f"and there is {err}"
        ) from err


def _prove_before_writing(
    project: Project,
    environment: Environment,
    manifest: Manifest,
    folder: Path,
    start: tuple[RevisionId, ...],
    end: tuple[RevisionId, ...],
    files: dict[str, str],
) -> ProvenOn:
    """The new release proven after the recorded ones, or ReleaseError: nothing is written."""
    from tools.proof.prove import ProofFailed, ReleaseScripts, prove

    candidate = ReleaseScripts(
        shown_path(project, folder),
        start,
        end,
        files["upgrade.sql"],
        files["rollback.sql"],
        backups=environment.backup,
    )
    earlier = [_recorded_scripts(project, environment, rel) for rel in manifest.releases]
    try:
        # Earlier releases may end at revisions a squash replaced: prove on the history
        # they were rendered from.
        return prove(released_project(project), environment, earlier, [candidate])
    except ProofFailed as err:
        raise ReleaseError(f"release not written: {err}") from err
    except NoScratchServer as err:
        raise ReleaseError(
            f"release not written: it is proven on a scratch database first, and there is {err}"
        ) from err


def _refuse_edited(project: Project) -> None:
    """EditedRevision for the first revision file whose sha256 is not the one a recorded
    release of any environment holds for it (squashed files where squash keeps them)."""
    histories = _Histories(project)
    for environment in project.environments.values():
        for rel in read_manifest(project, environment).releases:
            graph = histories.of(rel).graph
            for rev, sha in rel.revisions.items():
                if rev in graph.revisions and sha256_of(graph[rev].path) != sha:
                    shown = shown_path(project, graph[rev].path)
                    raise EditedRevision(rev, shown, f"{environment.name}/{rel.name}")


def _recorded_scripts(project: Project, environment: Environment, rel: Release) -> ReleaseScripts:
    """A recorded release's scripts as they are on disk: what a DBA applies."""
    from tools.proof.prove import ReleaseScripts

    folder = env_dir(project, environment) / rel.name
    texts = {}
    for name in ("upgrade.sql", "rollback.sql"):
        path = folder / name
        if not path.is_file():
            raise ReleaseError(f"{shown_path(project, path)} is missing; restore it from git")
        texts[name] = path.read_text(encoding="utf-8")
    return ReleaseScripts(
        shown_path(project, folder),
        rel.start,
        rel.end,
        texts["upgrade.sql"],
        texts["rollback.sql"],
        # Scripts took backups from format 5 on (as the environment asked when rendered).
        backups=environment.backup and rel.format >= BACKUPS_FROM_FORMAT,
    )


def prove_recorded(project: Project, env: str | None = None) -> list[tuple[str, ProvenOn]]:
    """Prove every recorded release of ``env`` (default: every environment that has
    releases) again, in order on one scratch database each: what CI runs for sql_out/.
    Returns each environment's folder and what it was proven on; raises ProofFailed."""
    from tools.proof.prove import prove

    names = [env] if env else sorted(project.environments)
    proven = []
    for name in names:
        environment = project.environment(name)
        releases = read_manifest(project, environment).releases
        if not releases:
            if env:
                raise ReleaseError(
                    f"environment {name} has no recorded releases to prove; render one with "
                    f"`schemactl release --env {name}`"
                )
            continue
        scripts = [_recorded_scripts(project, environment, rel) for rel in releases]
        on = prove(released_project(project), environment, [], scripts)
        proven += [(s.where, on) for s in scripts]
    return proven


def prove_all(projects: list[Project], env: str | None = None) -> list[tuple[str, ProvenOn]]:
    """``prove_recorded`` for each database of a project (``projects``: one per database). A
    database without releases in ``env`` is passed over, unless it is the only one asked."""
    proven = []
    for project in projects:
        if (
            len(projects) > 1
            and env
            and not read_manifest(project, project.environment(env)).releases
        ):
            continue
        proven += prove_recorded(project, env)
    if env and not proven:
        raise ReleaseError(
            f"environment {env} has no recorded releases to prove; render one with "
            f"`schemactl release --env {env}`"
        )
    return proven


def check_all(projects: list[Project], env: str | None = None) -> CheckReport:
    """``check`` for each database of a project: one report, paths telling them apart."""
    report = CheckReport()
    for project in projects:
        one = check(project, env)
        report.checked += one.checked
        report.problems += one.problems
    return report


def _sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


# -- checking -----------------------------------------------------------------------------------


def check(project: Project, env: str | None = None) -> CheckReport:
    """Verify every recorded release: its files and revision files against the sha256s of
    its manifest, the chain without gaps, and (a release of the current format) its scripts
    rendered again byte for byte. Reports every difference, edit, gap or change."""
    report = CheckReport()
    names = [env] if env else sorted(project.environments)
    histories = _Histories(project)
    for name in names:
        environment = project.environment(name)
        if env_dir(project, environment).is_dir() or env:
            _check_environment(project, environment, histories, report)
    return report


class _Histories:
    """The histories a release may have been rendered from: the current one, and (after a
    squash) the one with the squashed revisions back in place of the revision replacing them.
    A release cut before a squash holds the originals' sha256s, one cut after it the new
    revision's."""

    def __init__(self, project: Project) -> None:
        self.current = load_history(project)
        released = released_project(project)
        self.released = self.current if released is project else load_history(released)

    def of(self, rel: Release) -> History:
        def holds(history: History) -> bool:
            graph = history.graph
            return all(r in graph.revisions for r in (*rel.revisions, *rel.start, *rel.end))

        def matches(history: History) -> bool:
            graph = history.graph
            return holds(history) and all(
                sha256_of(graph[r].path) == sha for r, sha in rel.revisions.items()
            )

        for history in (self.current, self.released):
            if matches(history):
                return history
        return self.current if holds(self.current) else self.released


def _check_environment(
    project: Project, environment: Environment, histories: _Histories, report: CheckReport
) -> None:
    folder = env_dir(project, environment)
    manifest = read_manifest(project, environment)
    if folder.is_dir():
        _check_folder(project, folder, manifest.releases, report.problems)
    previous: tuple[RevisionId, ...] = ()
    for number, rel in enumerate(manifest.releases, 1):
        where = shown_path(project, folder / rel.name)
        report.checked.append(where)
        if rel.name != release_name(number, rel.end):
            report.problems.append(
                Problem(where, f"expected the name {release_name(number, rel.end)}")
            )
        if rel.start != previous:
            report.problems.append(
                Problem(
                    where,
                    f"starts at {','.join(rel.start) or 'base'} but the release before it ends "
                    f"at {','.join(previous) or 'base'}: the chain has a gap",
                )
            )
        previous = rel.end
        _check_files(project, folder / rel.name, rel, report.problems)
        history = histories.of(rel)
        if _check_revisions(project, history, where, rel, report.problems) and rel.format == FORMAT:
            # A release of an earlier format is data: its files and the revision files it was
            # made from are verified by their sha256; it is never rendered again.
            _check_rendered_again(project, environment, history, folder / rel.name, rel, report)


def _check_folder(
    project: Project, folder: Path, releases: tuple[Release, ...], problems: list[Problem]
) -> None:
    """Nothing in an environment's folder but its recorded releases, and nothing in a
    release's folder but its files."""
    listed = {r.name for r in releases}
    # The first database's folder also holds the other databases' folders.
    others = set(project.databases) - {project.database} if project.default_database else ()
    for extra in sorted(folder.iterdir()):
        if extra.name in others and extra.is_dir():
            continue
        if extra.name not in listed and extra.name != MANIFEST:
            problems.append(
                Problem(
                    shown_path(project, extra),
                    f"not listed in {MANIFEST}: nothing but recorded releases belongs "
                    "here; remove it, or render releases with `schemactl release`",
                )
            )
    for rel in releases:
        inside = folder / rel.name
        for extra in sorted(inside.iterdir()) if inside.is_dir() else ():
            if extra.name not in RELEASE_FILES:
                problems.append(
                    Problem(
                        shown_path(project, extra),
                        f"not part of release {rel.name} ({', '.join(RELEASE_FILES)}); remove it",
                    )
                )


def _check_revisions(
    project: Project, history: History, where: str, rel: Release, problems: list[Problem]
) -> bool:
    """Every revision a release names is in its history, each file as it was released.
    False when some are missing (nothing more can be checked of the release)."""
    missing = [
        r for r in (*rel.revisions, *rel.start, *rel.end) if r not in history.graph.revisions
    ]
    if missing:
        problems.append(
            Problem(where, f"names revisions that are not in the history: {', '.join(missing)}")
        )
        return False
    for rev, sha in rel.revisions.items():
        path = history.graph[rev].path
        if sha256_of(path) != sha:
            problems.append(
                Problem(
                    shown_path(project, path),
                    f"edited after release {rel.name} contained it; released history must "
                    "not change: restore the file from git and put the change in a new "
                    "revision",
                )
            )
    return True


def _check_rendered_again(
    project: Project,
    environment: Environment,
    history: History,
    folder: Path,
    rel: Release,
    report: CheckReport,
) -> None:
    """A release of the current format renders again byte for byte."""
    where = shown_path(project, folder)
    try:
        span = plan_range(history.graph, rel.start, rel.end)
        upgrade, rollback = render_scripts(
            history.project or project,
            environment,
            history,
            span,
            out_dir=where,
            release=rel.name,
            unproven=rel.unproven,
        )
    except SchemactlError as err:
        report.problems.append(Problem(where, f"cannot be rendered again: {err}"))
        return
    fresh = {"upgrade.sql": upgrade.text, "rollback.sql": rollback.text}
    # review.md records the lint findings as they were when the release was cut (the
    # rules improve); its sha256 is checked with the other files, the scripts byte for byte.
    for name in RENDERED_AGAIN:
        path = folder / name
        if path.is_file() and path.read_text(encoding="utf-8") != fresh[name]:
            report.problems.append(
                Problem(
                    shown_path(project, path),
                    "differs from a fresh render of the same range; something it is made "
                    "from changed (a revision file, the template, or a pinned package)",
                )
            )


def _check_files(project: Project, folder: Path, rel: Release, problems: list[Problem]) -> None:
    for name in RELEASE_FILES:
        path = folder / name
        if not path.is_file():
            problems.append(Problem(shown_path(project, path), "missing; restore it from git"))
        elif sha256_of(path) != rel.files.get(name):
            problems.append(
                Problem(
                    shown_path(project, path),
                    f"edited after it was rendered (its sha256 differs from {MANIFEST}); "
                    "restore it from git",
                )
            )
