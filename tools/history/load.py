"""The history on disk: load the revision files, resolve the names users give, plan ranges.

Loading goes through Alembic's ScriptDirectory, so a project's own file layout, version
locations and revision templates all count; the graph itself (tools.history.graph) is pure. Every
name a user types (a revision, a prefix, a branch label, 'label@head', 'heads', 'base') is
resolved by one lookup with one error.
"""

from __future__ import annotations

import configparser
import functools
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.config import PATH_SEPARATORS
from tools.config.ini import IniFile
from tools.core.errors import RevisionError, first_line, raised_at
from tools.core.internals import (
    modules_loaded_by,
    revision_file,
    revision_files,
    stamp_steps,
)
from tools.core.text import printed_to_stderr
from tools.dialects import safe_revision
from tools.history import compiled, headers
from tools.history.graph import Graph, Header, HistoryError, RevisionId, as_tuple, build_graph

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import Script, ScriptDirectory
    from alembic.script.revision import RevisionMap

    from tools.config import Project


class UnknownRevision(RevisionError):
    """A name that is no revision, prefix or branch label of the history."""

    def __init__(self, name: str, reason: str | None = None) -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"{reason}; run `schemactl status` to see the revisions and branch labels"
            if reason
            else f"no revision or branch label {name!r}; run `schemactl status` to see them"
        )


class NothingToRender(RevisionError):
    """A range whose start already contains its target."""

    def __init__(self, start: Sequence[RevisionId], target: Sequence[RevisionId]) -> None:
        self.start = tuple(start)
        self.target = tuple(target)
        super().__init__(
            f"nothing to render: a database at {','.join(sorted(start)) or 'base'} already "
            f"has {','.join(sorted(target)) or 'base'}; choose a later --to"
        )


class OverlappingHeads(RevisionError):
    """A set of heads that names a revision together with one built on it."""

    def __init__(self, option: str, inner: Sequence[RevisionId]) -> None:
        self.option = option
        self.inner = tuple(inner)
        super().__init__(
            f"{option} names {', '.join(inner)} together with a later revision on the same "
            "line; a database sits on heads only, so name just the later one"
        )


# -- loading ------------------------------------------------------------------------------------


def script_directory(cfg: Config) -> ScriptDirectory:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(cfg)
    except CommandError as err:
        raise HistoryError(f"{err}; check script_location in the Alembic config") from err
    except ValueError as err:  # a value Alembic reads as a number or a choice
        raise HistoryError(
            f"[{cfg.config_ini_section}] of the Alembic config holds a value Alembic cannot "
            f"use ({first_line(err)}); fix it (truncate_slug_length is a number, "
            f"path_separator one of {', '.join(PATH_SEPARATORS)})"
        ) from err


def load_scripts(
    scripts: ScriptDirectory,
    project: Project | None = None,
    named: Mapping[str, str] | None = None,
) -> list[Script]:
    """Every revision file, loaded by Alembic (the graph checks them: ids, parents, cycles);
    with ``project``, their compiled code kept in its cache (tools.history.compiled).

    Alembic's revision map is not built here: building it spreads every branch label over
    every related revision, which grows with labels x revisions (on a 10,000-revision
    history, half of all the time spent). Its file loader is used directly, and the graph
    does its own checking.
    """
    with loading_errors():
        # A history listed from elsewhere (a release's, rebuilt in a temporary folder each
        # run: Project.version_locations) would leave an entry per run.
        if project is None or project.version_locations is not None:
            return list(revision_files(scripts))
        load = functools.partial(compiled.load_module, root=project.config_path.parent, named=named)
        with modules_loaded_by(load):
            return list(revision_files(scripts))


@contextmanager
def loading_errors() -> Iterator[None]:
    """What importing revision files raised, as one HistoryError naming the file (what they
    print goes to stderr)."""

    try:
        with printed_to_stderr():
            yield
    except SyntaxError as err:
        where = f"{Path(err.filename or '?').name}, line {err.lineno}"
        raise HistoryError(
            f"revision file {where} is not valid Python ({err.msg}); fix or remove it"
        ) from err
    except HistoryError:
        raise
    except Exception as err:  # revision files are project code: report what they raised
        raise HistoryError(
            f"a revision file failed to load{_where(err)} ({type(err).__name__}: "
            f"{first_line(err)}); fix or remove it"
        ) from err


def _where(err: BaseException) -> str:
    """ " in FILE, line N" where a revision file raised, if it can be told."""
    at = raised_at(err)
    return f" in {at[0]}, line {at[1]}" if at else ""


def header_of(script: Script) -> Header:

    # A revision id reaches SQL and file names: refuse one that is not plain (a trailing
    # newline, a quote) before anything is drawn or rendered from it.
    safe_revision(script.revision)
    return Header(
        revision=script.revision,
        down_revision=_names(script, "down_revision", script.down_revision),
        branch_labels=_names(
            script, "branch_labels", getattr(script.module, "branch_labels", None)
        ),
        message=(script.doc or "").strip(),
        path=script.path,
        depends_on=_names(script, "depends_on", getattr(script.module, "depends_on", None)),
    )


def _names(script: Script, field: str, value: object) -> tuple[str, ...]:
    """A header field Alembic takes as a string, a sequence of strings or None."""
    if value is None or isinstance(value, str):
        return as_tuple(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise HistoryError(
        f"{Path(script.path).name}: {field} = {value!r:.40} is neither a string, a tuple of "
        "strings nor None; fix the revision file"
    )


def graph_of(loaded: list[Script]) -> Graph:
    return build_graph(header_of(script) for script in loaded)


def load_graph(cfg: Config) -> Graph:
    """The graph of every revision file the Alembic config names, from the files' headers
    (read without running them, cached: tools.history.headers); a file whose header is not literal
    is imported."""
    return _read_graph(script_directory(cfg), cfg)


# The options that say which files a history is: as the ini has them, the warm read's.
_LISTING_OPTIONS = (
    "script_location",
    "version_locations",
    "recursive_version_locations",
    "sourceless",
    "path_separator",
)


def _listed_as_in_ini(cfg: Config, ini: Path) -> bool:
    """Whether ``cfg`` lists the history's files as its ini file does (no option set over
    it in memory)."""
    own = IniFile(ini)
    own.config_ini_section = cfg.config_ini_section
    try:
        return all(cfg.get_main_option(o) == own.get_main_option(o) for o in _LISTING_OPTIONS)
    except (configparser.Error, UnicodeDecodeError, OSError):
        return False  # an ini the full read reports on; nothing recorded meanwhile


def project_graph(project: Project) -> Graph:
    """load_graph of the project's history, from the header cache alone (Alembic not even
    imported) when nothing it was read from changed since (headers.read_warm)."""
    return _warm_graph(project) or load_graph(project.alembic_config())


def _warm_graph(project: Project) -> Graph | None:
    """The graph from the header cache alone (headers.read_warm), None where it cannot
    vouch for it."""
    if project.version_locations is not None:  # not listed as the ini says
        return None
    found = headers.read_warm(project.config_path, project.database)
    if found is None:
        return None
    for header in found:
        safe_revision(header.revision)
    return build_graph(found)


def _read_graph(scripts: ScriptDirectory, cfg: Config) -> Graph:
    import logging

    def imported(path: str) -> Header:
        """The header of a file that must run to be known: imported as Alembic does."""
        with loading_errors():
            script = revision_file(scripts, path)
        if script is None:  # pragma: no cover - the listing filtered such names out
            raise HistoryError(f"{path} is not a revision file")
        return header_of(script)

    ini = Path(str(cfg.config_file_name))
    # The listing is recorded for the warm read only where the files are listed as the ini
    # says (not a release's history rebuilt elsewhere: Project.version_locations).
    listed = ini if _listed_as_in_ini(cfg, ini) else None
    found = headers.read(scripts, ini.parent, cfg.config_ini_section, imported, listed)
    if found is None:  # compiled files only: imported, as Alembic does
        return graph_of(load_scripts(scripts))
    if found.newly_imported:
        names = ", ".join(path.name for path in found.newly_imported)
        logging.getLogger("schemactl").warning(
            "%d revision file(s) read by importing them (their header is not literal strings): %s",
            len(found.newly_imported),
            names,
        )
    for header in found.headers:
        # A revision id reaches SQL and file names: refuse one that is not plain.
        safe_revision(header.revision)
    return build_graph(found.headers)


@dataclass(frozen=True)
class History:
    """The revision files, loaded once: Alembic's view (for the code) and ours (the graph)."""

    graph: Graph
    scripts: ScriptDirectory | None = field(default=None, repr=False)
    loaded: dict[RevisionId, Any] = field(default_factory=dict, repr=False)  # id -> Script
    project: Project | None = field(default=None, repr=False)
    # Whether every file was imported (load_history); False: read from headers, no file
    # imported until a revision is run (read_history).
    complete: bool = True
    # What offline runs of env.py captured, per (dialect, environment): one command lints,
    # renders, plans backups and proves the same revisions, and each (revision, direction)
    # is captured on its own, so once is enough (scripts.capture fills it).
    captured: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False, compare=False)
    # The revision modules each of those runs executes (run -> id -> module).
    imported: dict[object, dict[RevisionId, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # The sha256 of the bytes each revision let go of (let_go) was compiled from.
    digests: dict[RevisionId, bytes] = field(default_factory=dict, repr=False, compare=False)

    def modules(self, run: object) -> dict[RevisionId, Any]:
        """The revision modules for one run of the revisions (``run``: what tells it apart),
        as an Alembic command has them: every revision file imported, in the order Alembic
        loads them, before any revision runs, so one that relies on what an earlier file
        imported or put on sys.path works as it does with Alembic. Each run gets modules of
        its own, so each revision's functions run once per import, as with Alembic (a
        module-level sa.Index passed to create_table attaches to one table only); the first
        run takes the files the history already imported."""
        if run not in self.imported:
            if self.complete and not self.imported:
                scripts = list(self.loaded.values())
            elif self.scripts is None:
                raise HistoryError("this history has no files to run; load it with load_history")
            else:
                files = {r.file: r.file for r in self.graph.revisions.values()}
                scripts = load_scripts(self.scripts, self.project, files)
            self.imported[run] = {script.revision: script.module for script in scripts}
        return self.imported[run]

    def sha256(self, rev: RevisionId) -> str:
        """The sha256 of a revision's file: of the very bytes its code was compiled from,
        where a run imported it through the code cache (tools.history.compiled), else of
        the file as it is now."""
        for modules in self.imported.values():
            digest = _compiled_from(modules.get(rev))
            if digest is not None:
                return digest.hex()
        kept = self.digests.get(rev)
        return kept.hex() if kept is not None else sha256_of(self.graph[rev].path)

    def let_go(self) -> None:
        """Let the imported revision modules go, once nothing more will run in them (a
        script rendered alone: about 3 KB a revision); the sha256 of what each was compiled
        from is kept. A module and its functions refer to each other: they are freed when
        the cyclic collector next runs. A later run imports the files again."""
        for modules in self.imported.values():
            for rev, module in modules.items():
                digest = _compiled_from(module)
                if digest is not None:
                    self.digests.setdefault(rev, digest)
        self.imported.clear()

    def find(self, name: str) -> tuple[RevisionId, ...]:
        """The revisions one name stands for, in apply order.

        'base', 'heads', 'head' (when there is one) and full ids come from the graph; the
        rest (prefixes, branch labels, 'label@head', relative forms) from Alembic's revision
        map, so they mean exactly what they mean to Alembic. The map is built only then.
        """
        from alembic.script.revision import RevisionError as AlembicRevisionError

        graph = self.graph
        if name == "base":
            return ()
        if name == "heads" or (name == "head" and len(graph.heads) == 1):
            return graph.heads
        if name in graph.revisions:
            return (name,)
        if name.endswith("@base"):
            # Where a branch starts: before any revision, as Alembic reads it (an upgrade to
            # LABEL@base runs nothing). The label itself must exist.
            self.find(name.removesuffix("@base"))
            return ()
        try:
            revisions = self._revision_map.get_revisions(name)
        except AlembicRevisionError as err:
            raise UnknownRevision(name, str(err)) from err
        if not revisions:
            raise UnknownRevision(name)
        found = {r.revision for r in revisions if r is not None and not isinstance(r, str)}
        return tuple(r for r in graph.order if r in found)

    @cached_property
    def _revision_map(self) -> RevisionMap:
        if self.scripts is not None and self.complete:
            return self.scripts.revision_map
        return revision_map(self.graph)  # in memory: nothing more is imported


def revision_map(graph: Graph) -> RevisionMap:
    """Alembic's revision map of a graph, built in memory (no files)."""
    from alembic.script.revision import Revision as AlembicRevision
    from alembic.script.revision import RevisionMap

    def revisions() -> list[AlembicRevision]:
        return [
            AlembicRevision(
                rev,
                graph[rev].parents or None,
                dependencies=graph[rev].dependencies or None,
                branch_labels=graph[rev].labels or None,
            )
            for rev in graph.order
        ]

    return RevisionMap(revisions)


def read_history(project: Project) -> History:
    """The history from the files' headers (tools.history.headers), no file imported: what status,
    graph, name resolution and planning need. The files are imported only when revisions
    are run, and then all of them, as Alembic does (History.modules)."""
    cfg = project.alembic_config()
    scripts = script_directory(cfg)
    graph = _warm_graph(project) or _read_graph(scripts, cfg)
    return History(graph, scripts, {}, project, complete=False)


def load_history(project: Project, *, every_file: bool = False) -> History:
    """The history, its files imported only when revisions run (read_history);
    ``every_file``: every revision file imported now, as Alembic loads them (the CI gate
    checks them all)."""
    if not every_file:
        return read_history(project)
    scripts = script_directory(project.alembic_config())
    loaded = load_scripts(scripts, project)
    return History(
        graph_of(loaded), scripts, {script.revision: script for script in loaded}, project
    )


# The line a squashing revision carries: a later squash may archive it, and the history as
# releases saw it must then take the originals, not it.
SQUASH_MARKER = "# schemactl squash: this revision replaces every revision from base to {rev}"


def released_project(project: Project) -> Project:
    """The project as its releases were rendered from: where a squash replaced revisions up
    to REV by one, the replaced files back in REV's place, so recorded releases render (and
    prove) byte for byte. The project itself when nothing was squashed."""
    import atexit
    import shutil
    import tempfile
    from dataclasses import replace

    squashes = _squashes(project)
    if not squashes or project.version_locations is not None:
        return project
    current = load_history(project)
    folder = Path(tempfile.mkdtemp(prefix="schemactl-released-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    squashing = {p.name for p in squashes}
    for rev in current.graph.order:
        if rev not in squashing:
            shutil.copy2(current.graph[rev].path, folder)
    marker = SQUASH_MARKER.split("{", 1)[0]
    for squash in squashes:
        for path in squash.glob("*.py"):
            if marker not in path.read_text(encoding="utf-8", errors="replace"):
                shutil.copy2(path, folder)
    return replace(project, version_locations=str(folder))


def _squashes(project: Project) -> list[Path]:
    """The archive folders of this database's squashes (the first database's archive also
    holds the other databases' archives, which are theirs)."""
    archive = project.squash_archive
    if not archive.is_dir():
        return []
    others = set(project.databases) - {project.database} if project.default_database else set()
    return sorted(p for p in archive.iterdir() if p.is_dir() and p.name not in others)


def squashed_into(project: Project, revisions: Sequence[RevisionId]) -> RevisionId | None:
    """The revision a squash replaced one of ``revisions`` with (its archive's name), if any."""
    assigned = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
    for squash in _squashes(project):
        for path in squash.glob("*.py"):
            found = assigned.search(path.read_text(encoding="utf-8", errors="replace"))
            if found and found.group(1) in revisions:
                return squash.name
    return None


def _compiled_from(module: Any) -> bytes | None:
    """The sha256 of the bytes a module imported through the code cache was compiled from."""
    digest = getattr(getattr(module, "__loader__", None), "digest", None)
    return digest if isinstance(digest, bytes) else None


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- names --------------------------------------------------------------------------------------


def resolve_heads(history: History, spec: str | Sequence[str] | None) -> tuple[RevisionId, ...]:
    """The set of revisions a --from/--to value names: 'base', 'heads', ids, labels, 'x@head'."""
    if spec is None:
        return ()
    parts = [spec] if isinstance(spec, str) else list(spec)
    names = [p.strip() for part in parts for p in part.split(",")]
    found: set[RevisionId] = set()
    for name in names:
        _check_name(
            name,
            "name revisions (or unique prefixes), branch labels or LABEL@head, "
            "separated by commas, or 'heads' or 'base'",
        )
        found.update(history.find(name))
    return tuple(r for r in history.graph.order if r in found)


_KEYWORDS = frozenset({"base", "head", "heads"})
# What no revision id, label or target holds (Alembic would read it as part of a name).
_NOT_IN_NAMES = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_RELATIVE = re.compile(r"(?P<name>.*?)(?P<step>[+-]\d+)?")


def check_target(history: History, target: str) -> None:
    """Refuse a target naming a revision or branch label that does not exist.

    Targets are what Alembic accepts: 'heads', 'base', '-1', a revision (or unique prefix),
    a label, 'label@head', 'label@-1', 'rev+2'. Alembic checks most of these itself, but
    trips over an unknown label in a relative downgrade, so every name is checked here.
    """
    shape = (
        "name a revision (or a unique prefix), a branch label, LABEL@head, LABEL@-1, REV+2, "
        "-1, 'heads' or 'base'"
    )
    _check_name(target.strip(), shape)
    for part in target.split("@"):
        found = _RELATIVE.fullmatch(part.strip())
        name, step = found.group("name"), found.group("step")  # type: ignore[union-attr]
        if name in ("head", "heads") and step and step.startswith("+"):
            raise RevisionError(f"{target!r}: nothing lies above {name!r}; {shape}")
        if not name or name in _KEYWORDS:
            continue
        history.find(name)


def _check_name(name: str, shape: str) -> None:
    """RevisionError for what cannot be a revision name, a label or LABEL@REV: nothing at
    all, a space or control character inside, nothing on a side of '@', two '@'."""
    if not name:
        raise RevisionError(f"an empty revision name: {shape}")
    if _NOT_IN_NAMES.search(name):
        raise RevisionError(f"{name!r} holds a space or a control character: {shape}")
    sides = name.split("@")
    if len(sides) > 2 or not all(sides):
        raise RevisionError(f"{name!r} has an empty revision name beside '@': {shape}")


def check_stamp_target(history: History, target: str) -> None:
    """Refuse a stamp target Alembic cannot resolve, before anything touches the database
    (Alembic's stamp empties the version table first, then resolves the target)."""
    from alembic.util import CommandError

    check_target(history, target)
    if history.scripts is None:  # a graph without Alembic's view: nothing to resolve with
        return
    try:
        stamp_steps(history.scripts, target)
    except (CommandError, AssertionError, KeyError) as err:
        reason = first_line(err) or "it names no revision"
        raise RevisionError(f"cannot stamp {target!r}: {reason}; nothing was changed") from err


# -- ranges -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """What a pair of scripts covers: from a set of heads to a set of heads."""

    start: tuple[RevisionId, ...]
    end: tuple[RevisionId, ...]
    revisions: tuple[RevisionId, ...]  # apply order

    @property
    def start_label(self) -> str:
        return ",".join(self.start) or "base"

    @property
    def end_label(self) -> str:
        return ",".join(self.end) or "base"


def plan_range(graph: Graph, start: Sequence[RevisionId], target: Sequence[RevisionId]) -> Range:
    """The revisions that take a database at ``start`` to ``target``, in apply order."""
    start_set, target_set = set(start), set(target)
    for heads, what in ((start_set, "--from"), (target_set, "--to")):
        inner = sorted(r for r in heads if graph.ancestors(heads - {r}) & {r})
        if inner:
            raise OverlappingHeads(what, inner)
    have = graph.ancestors(start_set)
    want = graph.ancestors(target_set)
    todo = tuple(r for r in graph.order if r in want and r not in have)
    if not todo:
        raise NothingToRender(tuple(start_set), tuple(target_set))
    end = heads_of(graph, have | want)
    return Range(tuple(r for r in graph.order if r in start_set), end, todo)


def version_moves(
    graph: Graph, span: Range
) -> dict[RevisionId, tuple[tuple[RevisionId, ...], tuple[RevisionId, ...]]]:
    """For each revision of ``span``: the heads applying it removes from alembic_version, and
    the one it adds. A rollback undoes the revisions in exactly the reverse order, so each of
    its moves is the inverse of the upgrade's: one pass serves both."""
    heads = set(span.start)
    moves: dict[RevisionId, tuple[tuple[RevisionId, ...], tuple[RevisionId, ...]]] = {}
    for rev in span.revisions:
        revision = graph[rev]
        removed = tuple(p for p in revision.parents if p in heads)
        heads = (heads - set(removed)) | {rev}
        # The graph's own tuples where they are the same (a long range's moves then cost a
        # pair each): the parents, and (rev,) as a lone child's parents name it.
        if removed == revision.parents:
            removed = revision.parents
        added = next(
            (graph[c].parents for c in revision.children if graph[c].parents == (rev,)), (rev,)
        )
        moves[rev] = (removed, added)
    return moves


def heads_of(graph: Graph, revisions: set[RevisionId]) -> tuple[RevisionId, ...]:
    """The revisions of a set that no other revision of it builds on, in apply order."""
    return tuple(
        r for r in graph.order if r in revisions and not set(graph[r].children) & revisions
    )
