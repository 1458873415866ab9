"""Revision headers read without running the files, and kept in a cache between runs.

What the graph needs of a revision file (revision, down_revision, branch_labels,
depends_on, the docstring's first paragraph) is read with ``ast``: nothing in the file runs,
so none of what it imports is imported. A file whose header is not literal (an id built by an
expression, a name imported from elsewhere, anything that rebinds a header name) is imported
as Alembic imports it, and reported once. The files are found as Alembic finds them (its own
listing of the version locations), so both see the same history.

The headers are cached in ``.schemactl_cache/`` beside the project's ini (ignored by git
through its own ``.gitignore``, as pytest's and ruff's caches are), keyed by each file's path
and the sha256 of its content: an edited, added or removed file changes just its entry. A
cache that cannot be read (corrupt, another format, another tool's) is rebuilt, and one that
cannot be written is done without; neither is an error.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import time
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.core.files import OutputError, write_files
from tools.core.internals import is_revision_file_name, listed_python_files, version_locations
from tools.history.graph import Header, HistoryError, as_tuple

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

CACHE_DIR = ".schemactl_cache"
# Bumped whenever what is read, or how, changes: an older cache is then rebuilt.
CACHE_FORMAT = 5
IGNORE_ALL = "# Created by schemactl: a cache, never committed.\n*\n"

NAMES = ("revision", "down_revision", "branch_labels", "depends_on")
# The names whose binding a literal header must own, and the names whose use can rebind a
# module's globals behind an assignment's back.
_WATCHED = frozenset({*NAMES, "__doc__"})
_DYNAMIC = frozenset({"globals", "vars", "locals", "exec", "eval", "setattr", "__import__"})


@dataclass(frozen=True)
class Headers:
    """The headers of a history's files, and the files read by importing them."""

    headers: tuple[Header, ...]
    # Files whose header is not literal, imported to read it.
    imported: tuple[Path, ...] = ()
    # Of those, the ones not reported before (new, or changed since).
    newly_imported: tuple[Path, ...] = ()


def literal_header(source: bytes, path: str) -> Header | None:
    """The header of a revision file's source, read without running it; None when it is not
    literal (the file must then be imported to know it)."""
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # importing it reports the error as Alembic would
    values: dict[str, Any] = {}
    for node in tree.body:
        found = _assignment(node)
        if found is None:
            continue
        name, value = found
        if name in values:
            return None  # assigned twice: the last one wins at run time; let it run
        try:
            values[name] = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
    if "revision" not in values or "down_revision" not in values:
        return None
    if not isinstance(values["revision"], str) or not all(
        _ids(values.get(name)) for name in NAMES[1:]
    ):
        return None
    if _rebound(tree, len(values), source) or not _alembic_accepts(values):
        return None
    doc = ast.get_docstring(tree, clean=False)
    return Header(
        revision=values["revision"],
        down_revision=as_tuple(values["down_revision"]),
        branch_labels=as_tuple(values.get("branch_labels")),
        message=message_of(doc),
        path=path,
        depends_on=as_tuple(values.get("depends_on")),
    )


def _alembic_accepts(values: dict[str, Any]) -> bool:
    """Whether Alembic takes these as a revision (no self-loop, no '-', '@', '+' or ':' in
    the id, ...): a file it refuses is imported, so the error is Alembic's own."""
    from alembic.script.revision import Revision, RevisionError

    try:
        Revision(
            values["revision"],
            values["down_revision"],
            dependencies=values.get("depends_on"),
            branch_labels=values.get("branch_labels"),
        )
    except RevisionError:
        return False
    return True


def message_of(doc: str | None) -> str:
    """A revision's message from its docstring, as Alembic's ``Script.doc`` gives it."""
    longdoc = doc.strip() if doc else ""
    return re.split("\n\n", longdoc)[0].strip()


def _assignment(node: ast.stmt) -> tuple[str, ast.expr] | None:
    """``NAME = value`` or ``NAME: type = value`` at module level, NAME a header name."""
    if (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in NAMES
    ):
        return node.targets[0].id, node.value
    if (
        isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id in NAMES
        and node.value is not None
    ):
        return node.target.id, node.value
    return None


def _ids(value: object) -> bool:
    """None, a string, or a tuple or list of strings: what Alembic's header fields take."""
    if value is None or isinstance(value, str):
        return True
    return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)


# Text that can bind a name from inside an expression (a walrus, a call that writes
# globals): where a file holds none of it, only its statements need a look.
_RISKY = re.compile(rb":=|\b(?:globals|vars|locals|exec|eval|setattr|__import__|__dict__|match)\b")
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _rebound(tree: ast.Module, assignments: int, source: bytes) -> bool:
    """Whether anything but the ``assignments`` top-level literal assignments could bind a
    header name (or the docstring) while the file is imported: another assignment, an
    import, a def, a global statement, a walrus, a match pattern, or a call that writes
    globals. The body of a function that does not run at import (upgrade(), downgrade())
    binds nothing then, whatever it holds."""
    deferred = _deferred(tree)
    stores = 0
    statements: list[ast.AST] = list(tree.body)
    while statements:
        node = statements.pop()
        found = _binds(node)
        if found is None:
            return True
        stores += found
        if node in deferred:
            continue
        for name in _BODIES:
            statements.extend(getattr(node, name, ()))
    # Only a file whose text holds a walrus, a globals-writing name or `match` can bind
    # from inside an expression or a pattern: just those are walked node by node.
    return stores != assignments or bool(
        _RISKY.search(source) and _expression_binds(tree, deferred)
    )


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_Function = ast.FunctionDef | ast.AsyncFunctionDef
# Names through which import-time code could call a function without naming it.
_INDIRECT = frozenset(
    {"getattr", "globals", "vars", "locals", "eval", "exec", "__import__", "__dict__"}
    | {"attrgetter", "methodcaller", "compile"}
)


def _deferred(tree: ast.Module) -> set[_Function]:
    """The functions whose bodies do not run while the module is imported: defined at module
    level (not in a class), undecorated, and never named by code that runs at import, nor by
    a function that does; none when that code could reach one without naming it
    (getattr, globals(), exec, ...)."""
    candidates: dict[str, list[_Function]] = {}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, _FUNCTIONS):
            if not node.decorator_list:
                candidates.setdefault(node.name, []).append(node)
            continue
        if not isinstance(node, ast.ClassDef):
            for name in _BODIES:
                pending.extend(getattr(node, name, ()))
    skipped = {id(body) for defs in candidates.values() for d in defs for body in d.body}
    named = _named_outside(tree, skipped)
    if named & _INDIRECT:
        return set()
    reached: set[str] = set()
    waiting = [name for name in named if name in candidates]
    while waiting:
        name = waiting.pop()
        if name in reached:
            continue
        reached.add(name)
        for definition in candidates[name]:
            for statement in definition.body:
                inner = _named_outside(statement, set())
                if inner & _INDIRECT:
                    return set()
                waiting.extend(n for n in inner if n in candidates)
    return {d for name, defs in candidates.items() if name not in reached for d in defs}


def _named_outside(root: ast.AST, skipped: set[int]) -> set[str]:
    """The names (and attribute names) ``root`` mentions, leaving out the statements whose
    id is in ``skipped``."""
    found: set[str] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _binds(node: ast.AST) -> int | None:
    """How many times a statement binds a watched name as a plain name; None when it binds
    one otherwise (an import, a def, a global statement, an attribute)."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = {a.asname or a.name for a in node.names}
        return None if _WATCHED & names or "*" in names else 0
    if isinstance(node, ast.Global | ast.Nonlocal):
        return None if _WATCHED.intersection(node.names) else 0
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler):
        return None if node.name in _WATCHED else 0
    if isinstance(node, ast.Assign | ast.Delete):
        targets: list[ast.expr] = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.For | ast.AsyncFor):
        targets = [node.target]
    elif isinstance(node, ast.With | ast.AsyncWith):
        targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
    else:
        return 0
    stores = 0
    for target in targets:
        for part in ast.walk(target):
            if isinstance(part, ast.Name) and part.id in _WATCHED:
                stores += 1
            elif isinstance(part, ast.Attribute) and part.attr in _WATCHED:
                return None
    return stores


def _expression_binds(tree: ast.Module, deferred: set[_Function]) -> bool:
    """Whether an expression or a match pattern run at import could bind a header name: a
    walrus, a pattern capture, or a name that writes globals (globals(), exec, setattr,
    __dict__); the bodies of the ``deferred`` functions do not run then."""
    skipped = {id(statement) for d in deferred for statement in d.body}
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if id(node) in skipped:
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name) and node.id in _DYNAMIC:
            return True
        if isinstance(node, ast.Attribute) and node.attr == "__dict__":
            return True
        if isinstance(node, ast.NamedExpr) and node.target.id in _WATCHED:
            return True
        if isinstance(node, ast.MatchAs | ast.MatchStar) and node.name in _WATCHED:
            return True
        if isinstance(node, ast.MatchMapping) and node.rest in _WATCHED:
            return True
    return False


# -- the files, as Alembic lists them -------------------------------------------------------


def revision_files(scripts: ScriptDirectory) -> Iterator[str]:
    """Every revision file of the history, resolved, in Alembic's order (its listing of the
    version locations, and its file name filter). Plain folders are listed with os.scandir:
    the same files in the same order, without a Path object per file."""
    from alembic import util

    seen: set[str] = set()
    for location in version_locations(scripts):
        if not location.exists():
            continue
        if scripts.recursive_version_locations:
            paths = [os.path.realpath(path) for path in listed_python_files(scripts, location)]
        else:
            with os.scandir(location) as found:
                listed = sorted((e.name, e.is_symlink()) for e in found if not e.is_dir())
            folder = os.path.realpath(location)
            paths = [
                _resolved(os.path.join(folder, name)) if link else os.path.join(folder, name)
                for name, link in listed
            ]
        for real in paths:
            if real in seen:
                util.warn(
                    f"File {real} loaded twice! ignoring. Please ensure version_locations "
                    "is unique."
                )
                continue
            seen.add(real)
            if is_revision_file_name(os.path.basename(real)):
                yield real


# -- reading, with the cache ------------------------------------------------------------------


def read(
    scripts: ScriptDirectory,
    root: Path,
    name: str,
    imported: Callable[[str], Header],
    ini: Path | None = None,
) -> Headers | None:
    """The headers of every revision file, from the cache where a file is unchanged, else
    from its source (or, not literal, by importing it). ``root`` is the project's folder,
    ``name`` the database (one cache each). None for a history Alembic loads from compiled
    files only (``sourceless``): the caller imports it. ``imported`` gives the header of a
    file that is not literal, by importing it.

    Every file is read and hashed each time (a few milliseconds for hundreds of files): its
    size and mtime cannot be trusted, an edit of the same size with its mtime put back
    (``touch -r``) would go unseen. Only a new sha256 makes a file parsed again. What each
    file's stat said as it was hashed is kept for read_warm (see _stat).

    With ``ini`` (the project's alembic.ini) the cache also keeps what the listing came from
    (the ini's sha256, each version location's names), which read_warm checks."""
    if scripts.sourceless:
        return None
    # One file per database: entries are keyed by path, so other version locations (a
    # release's history rebuilt elsewhere) replace the entries rather than add a file.
    cache_file = _cache_file(root, name)
    cached = _load(cache_file)
    cached_listing = _load_listing(cache_file)
    entries: dict[str, dict[str, Any]] = {}
    headers: list[Header] = []
    by_import: list[Path] = []
    newly: list[Path] = []
    for where in revision_files(scripts):
        seen = _stat(where)
        source = _source(where)
        digest = hashlib.sha256(source).hexdigest()
        entry = cached.get(where)
        if entry is None or entry["sha256"] != digest:
            header = literal_header(source, where)
            entry = {"header": _dump(header) if header else None, "sha256": digest}
            if header is None:
                newly.append(Path(where))
        kept = entry.get("stat")
        if isinstance(kept, list) and seen is not None and kept[:4] == seen[:4]:
            seen = kept  # the same stat: when it was first seen is what read_warm weighs
        entries[where] = {**entry, "stat": seen}
        header = _undump(entry["header"], where) if entry["header"] is not None else None
        if header is None:
            header = imported(where)
            by_import.append(Path(where))
        headers.append(header)
    listing = _listing(scripts, ini, [h.path for h in headers]) if ini is not None else None
    if entries != cached or listing != cached_listing:
        _save(cache_file, entries, listing)
    return Headers(tuple(headers), tuple(by_import), tuple(newly))


def read_warm(ini: Path, name: str) -> tuple[Header, ...] | None:
    """The headers of every revision file from the cache alone, without Alembic: when the
    ini is the one the cache was written from, each version location lists the same names
    (no symlink among them), and every file is literal with the sha256 cached. None when
    anything differs: the caller takes read().

    A file whose stat (size, mtime, ctime, inode) is what it was when read() hashed it, and
    whose ctime was then already two seconds old, is taken as unchanged without reading it,
    as git takes its index: no one sets a ctime back (``touch -r`` sets the mtime, and moves
    the ctime to now), and an edit in the same tick as the hash is read again."""
    data = _read_cache(_cache_file(ini.parent, name))
    listing = _listing_of(data)
    return None if listing is None else _warm(ini, data, listing)


@dataclass(frozen=True)
class Vouched:
    """A warm read, and what vouches for it: the listing it was read from and the
    fingerprint taken before it (None: the files cannot be vouched for yet)."""

    headers: tuple[Header, ...]
    listing: dict[str, Any]
    fingerprint: str | None


def read_warm_vouched(ini: Path, name: str) -> Vouched | None:
    """read_warm, with the fingerprint of the files taken just before it: what is derived
    from these headers may be kept under that fingerprint (tools.history.kept)."""
    data = _read_cache(_cache_file(ini.parent, name))
    listing = _listing_of(data)
    if listing is None:
        return None
    taken = fingerprint(listing)
    found = _warm(ini, data, listing)
    return None if found is None else Vouched(found, listing, taken)


def _cache_file(root: Path, name: str) -> Path:
    """The header cache of database ``name`` of the project in folder ``root``."""
    key = hashlib.sha256(name.encode()).hexdigest()[:16]
    return root / CACHE_DIR / f"headers-{key}.json"


def _warm(ini: Path, data: Any, listing: dict[str, Any]) -> tuple[Header, ...] | None:
    try:
        # The same ini, at the same place: a copied project's cache names the original's files.
        # And from the same folder: Alembic reads relative locations from the working one.
        if listing["path"] != str(ini.resolve()) or listing["cwd"] != os.getcwd():
            return None
        if hashlib.sha256(ini.read_bytes()).hexdigest() != listing["ini"]:
            return None
        for location, names in listing["locations"].items():
            if _names(location) != names:
                return None
        entries = _entries_of(data)
        found = []
        for path in listing["files"]:
            entry = entries.get(path)
            if entry is None or entry["header"] is None:
                return None
            if not _unchanged(path, entry.get("stat")):
                with open(path, "rb") as stream:
                    if hashlib.sha256(stream.read()).hexdigest() != entry["sha256"]:
                        return None
            found.append(_undump(entry["header"], path))
    except (OSError, KeyError, TypeError, AttributeError):
        return None
    return tuple(found)


def fingerprint(listing: dict[str, Any]) -> str | None:
    """What a listing's files are now, hashed: the ini's place, the working folder, each
    version location's names, and each file's size, mtime, ctime and inode; the same
    digest later means the same files with the same stat. None where that stat cannot be
    trusted yet (a file, or the ini, changed within the last two seconds: an edit in the
    same clock tick would leave it the same) or something is missing.

    Taken before a warm read, it vouches for what that read found (an edit after it changes
    the digest); what is derived from the headers can then be kept under it
    (tools.live.status_kept)."""
    settled = time.time_ns() - _SETTLED_NS
    stats = array("q")
    try:
        if listing["cwd"] != os.getcwd():  # Alembic reads relative locations from it
            return None
        listed = [listing["path"], listing["cwd"], listing["ini"]]
        for where in (listing["path"], *listing["files"]):
            found = stat_of(where)
            if found[2] > settled:  # its ctime
                return None
            stats.extend(found)
        listed += [[location, _names(location)] for location in listing["locations"]]
        digest = hashlib.sha256(json.dumps(listed).encode())
    except (OSError, KeyError, TypeError, ValueError, OverflowError):
        return None
    digest.update(stats.tobytes())
    return digest.hexdigest()


def _names(location: str) -> list[list[str]] | None:
    """A version location's entries (not folders) by name, None when it is not there; a
    symlink among them is listed as such, so the warm read declines it."""
    if not os.path.isdir(location):
        return None
    with os.scandir(location) as found:
        return sorted([e.name, "link" if e.is_symlink() else ""] for e in found if not e.is_dir())


def _listing(scripts: ScriptDirectory, ini: Path, files: list[str]) -> dict[str, Any] | None:
    """What the history's listing came from, for read_warm; None where the warm read cannot
    tell it unchanged (folders walked recursively, a symlink in a location)."""
    if scripts.recursive_version_locations:
        return None
    locations = {str(location): _names(str(location)) for location in version_locations(scripts)}
    if any(n[1] for names in locations.values() for n in names or ()):
        return None
    digest = hashlib.sha256(ini.read_bytes()).hexdigest()
    return {
        "path": str(ini.resolve()),
        "cwd": os.getcwd(),
        "ini": digest,
        "locations": locations,
        "files": files,
    }


def _resolved(link: str) -> str:
    """Where a symlink in a version location points; one that points at nothing is a
    HistoryError naming the link (Alembic would fail on it with a traceback)."""
    real = os.path.realpath(link)
    if not os.path.exists(real) and _only_revision_name(link):
        raise HistoryError(
            f"{link} is a symlink to {real}, which does not exist; fix the link or remove it"
        )
    return real


def _only_revision_name(path: str) -> bool:
    return is_revision_file_name(os.path.basename(path))


def _source(where: str) -> bytes:
    """A revision file's bytes; one that cannot be read (gone since it was listed, no
    permission, a folder named like a revision) is a HistoryError naming it."""
    try:
        with open(where, "rb") as stream:
            return stream.read()
    except OSError as err:
        why = (err.strerror or type(err).__name__).lower()
        raise HistoryError(
            f"revision file {where} cannot be read ({why}); fix or remove it"
        ) from err


def _dump(header: Header) -> dict[str, Any]:
    return {
        "revision": header.revision,
        "down_revision": list(header.down_revision),
        "branch_labels": list(header.branch_labels),
        "depends_on": list(header.depends_on),
        "message": header.message,
    }


def _undump(data: dict[str, Any], path: str) -> Header:
    return Header(
        revision=data["revision"],
        down_revision=tuple(data["down_revision"]),
        branch_labels=tuple(data["branch_labels"]),
        message=data["message"],
        path=path,
        depends_on=tuple(data["depends_on"]),
    )


# A file whose ctime is this close to the moment it was hashed is read again (an edit in
# the same clock tick as the hash would leave the same stat).
_SETTLED_NS = 2_000_000_000


def settled(ctime_ns: int) -> bool:
    """Whether a file whose ctime is this was last changed long enough ago that its stat
    can vouch for it (an edit in the same clock tick would leave the stat the same)."""
    return ctime_ns + _SETTLED_NS <= time.time_ns()


def stat_of(where: str) -> list[int]:
    """What a file's stat vouches for (size, mtime, ctime, inode); OSError when it is gone."""
    found = os.stat(where)
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino]


def _stat(where: str) -> list[int] | None:
    """What read_warm compares: size, mtime, ctime and inode, and when they were taken."""
    try:
        return [*stat_of(where), time.time_ns()]
    except OSError:
        return None


def _unchanged(where: str, kept: Any) -> bool:
    """Whether a file's stat is the one kept when it was hashed, and was settled then."""
    if not isinstance(kept, list) or len(kept) != 5:
        return False
    size, mtime, ctime, inode, taken = kept
    if not isinstance(taken, int) or not isinstance(ctime, int) or ctime + _SETTLED_NS > taken:
        return False
    try:
        return stat_of(where) == [size, mtime, ctime, inode]
    except OSError:
        return False


def _read_cache(cache_file: Path) -> dict[str, Any] | None:
    """The cache file's contents, if it is ours and of this format."""
    try:
        data = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("schemactl_headers") != CACHE_FORMAT:
        return None
    return data


def _load(cache_file: Path) -> dict[str, dict[str, Any]]:
    """The cached entries; nothing when the cache is missing, corrupt or not ours."""
    return _entries_of(_read_cache(cache_file))


def _entries_of(data: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    if data is None:
        return {}
    try:
        entries = data["entries"]
        for entry in entries.values():
            if not isinstance(entry["sha256"], str):
                return {}
            header = entry["header"]
            if header is not None and not _well_formed(header):
                return {}
        return dict(entries)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _well_formed(header: dict[str, Any]) -> bool:
    return (
        isinstance(header["revision"], str)
        and isinstance(header["message"], str)
        and all(
            isinstance(header[key], list) and all(isinstance(v, str) for v in header[key])
            for key in ("down_revision", "branch_labels", "depends_on")
        )
    )


def _load_listing(cache_file: Path) -> dict[str, Any] | None:
    """The cached listing (see _listing); None when there is none, or the cache is not ours."""
    return _listing_of(_read_cache(cache_file))


def _listing_of(data: dict[str, Any] | None) -> dict[str, Any] | None:
    listing = data.get("listing") if data is not None else None
    return listing if isinstance(listing, dict) else None


def _save(
    cache_file: Path, entries: dict[str, dict[str, Any]], listing: dict[str, Any] | None = None
) -> None:
    """Write the cache whole (atomically)."""
    data = {"schemactl_headers": CACHE_FORMAT, "entries": entries, "listing": listing}
    write_cache(cache_file.parent.parent, cache_file.name, json.dumps(data, sort_keys=True))


def write_cache(root: Path, name: str, data: str | bytes) -> None:
    """Write one file of the cache of the project in folder ``root`` whole (``name`` may
    name a subfolder of it), the cache ignoring itself in git; a folder that cannot be
    written is done without."""
    cache = root / CACHE_DIR
    target = cache / name
    try:
        if not (cache / ".gitignore").exists():
            write_files(cache, {".gitignore": IGNORE_ALL})
        write_files(target.parent, {target.name: data})
    except (OutputError, OSError):
        pass
