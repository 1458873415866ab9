"""What is worked out from a history's headers, kept between runs under their fingerprint.

A warm `schemactl status` of 10,000 revisions spent most of its time rebuilding what it had
built the run before from the same files: parsing the header cache, building the graph,
writing the rows. Whatever a command derives from the headers alone (never from a database)
can be kept here under the fingerprint tools.history.headers takes of the files just before
it read them (their stat, each version location's names, the ini): a later run whose
fingerprint is the same takes it back without parsing or building anything. A value worked
out by running revision code (`branch list`'s tables) depends on more: the project's own
modules those revisions imported, which imported_files lists with their stat for the caller
to keep beside it and check with unchanged.

One file per database and kind (``kept-status-<key>.json`` in ``.schemactl_cache/``), written
whole; it also names the schemactl code it was made by, so a changed formatter never shows
what an older one wrote. What cannot be read (none, corrupt, another format, other files) is
None, and the caller works it out again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.dialects import safe_revision
from tools.history.graph import Graph, build_graph
from tools.history.headers import (
    CACHE_DIR,
    Vouched,
    fingerprint,
    read_warm_vouched,
    settled,
    stat_of,
    write_cache,
)

FORMAT = 1
# The modules whose code shapes what is kept: another version of any of them, nothing kept
# before counts.
_MAKERS = (
    "history/graph.py",
    "history/kept.py",
    "live/status.py",
    "core/text.py",
    "authoring/revisions.py",  # branch list: its table, and the tables a branch touches
    "scripts/capture.py",
)


def keep(root: Path, name: str, kind: str, read: Vouched, value: Any) -> None:
    """Keep ``value`` (JSON) for database ``name`` of the project in ``root``, as what
    ``kind`` derived from the headers of ``read``; nothing when its files cannot be vouched
    for yet, or the folder cannot be written."""
    if read.fingerprint is None:
        return
    listing = read.listing
    data = {
        "schemactl_kept": FORMAT,
        "code": _code(),
        "listing": {
            "path": listing["path"],
            "cwd": listing["cwd"],
            "ini": listing["ini"],
            "locations": list(listing["locations"]),
            "files": "\n".join(listing["files"]),
        },
        "fingerprint": read.fingerprint,
        "value": value,
    }
    write_cache(root, _file(name, kind), json.dumps(data, sort_keys=True))


def recall(root: Path, name: str, kind: str) -> Any:
    """What ``keep`` kept for ``kind``, when the files are still those it was derived from;
    None otherwise."""
    try:
        with open(root / CACHE_DIR / _file(name, kind), encoding="utf-8") as stream:
            data = json.load(stream)
        if data["schemactl_kept"] != FORMAT or data["code"] != _code():
            return None
        listing = dict(data["listing"])
        listing["files"] = listing["files"].split("\n") if listing["files"] else []
        if fingerprint(listing) != data["fingerprint"]:
            return None
        return data["value"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def made_from_headers(ini: Path, name: str, kind: str, make: Callable[[Graph], Any]) -> Any:
    """What ``make`` works out from the graph of database ``name`` of the project whose
    alembic.ini is ``ini``: kept from the run before while the files are the same, else made
    from the header cache (headers.read_warm, which Alembic is not imported for) and kept;
    None where the header cache cannot vouch for the files."""
    root = ini.parent
    found = recall(root, name, kind)
    if found is not None:
        return found
    read = read_warm_vouched(ini, name)
    if read is None:
        return None
    for header in read.headers:
        safe_revision(header.revision)  # an id reaches SQL and file names: a plain one only
    found = make(build_graph(read.headers))
    keep(root, name, kind, read, found)
    return found


def imported_files(root: Path, modules: list[Any]) -> list[list[Any]] | None:
    """The project's own source files among ``modules`` (its models, a helper a revision
    imports), with what their stat vouches for: what a kept value derived by running revision
    code depends on besides the headers. schemactl's own modules and installed packages are
    not the project's. None when one changed too recently for its stat to vouch for it."""
    tools = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    inside = str(root.resolve()) + os.sep
    found = []
    for module in modules:
        where = getattr(module, "__file__", None)
        if not where or not where.startswith(inside) or where.startswith(tools):
            continue
        if "site-packages" in where:
            continue
        stat = stat_of(where)
        if not settled(stat[2]):
            return None
        found.append([where, *stat])
    return sorted(found)


def unchanged(files: list[list[Any]]) -> bool:
    """Whether each file imported_files listed is as it was."""
    try:
        return all(stat_of(where) == stat for where, *stat in files)
    except OSError:
        return False


def _file(name: str, kind: str) -> str:
    return f"kept-{kind}-{hashlib.sha256(name.encode()).hexdigest()[:16]}.json"


def _code() -> list[list[int]]:
    """The size and mtime of each module that shapes what is kept."""
    tools = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = []
    for module in _MAKERS:
        stat = os.stat(os.path.join(tools, module))
        found.append([stat.st_size, stat.st_mtime_ns])
    return found
