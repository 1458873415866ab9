"""What is worked out from a history's headers, kept between runs under their fingerprint.

A warm `schemactl status` of 10,000 revisions spent most of its time rebuilding what it had
built the run before from the same files: parsing the header cache, building the graph,
writing the rows. Whatever a command derives from the headers alone (never from a database)
can be kept here under the fingerprint tools.history.headers takes of the files just before
it read them (their stat, each version location's names, the ini): a later run whose
fingerprint is the same takes it back without parsing or building anything.

One file per database and kind (``kept-status-<key>.json`` in ``.schemactl_cache/``), written
whole; it also names the schemactl code it was made by, so a changed formatter never shows
what an older one wrote. What cannot be read (none, corrupt, another format, other files) is
None, and the caller works it out again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tools.core.files import OutputError, write_files
from tools.history.headers import CACHE_DIR, IGNORE_ALL, Vouched, fingerprint

FORMAT = 1
# The modules whose code shapes what is kept: another version of any of them, nothing kept
# before counts.
_MAKERS = ("history/graph.py", "history/kept.py", "live/status.py", "core/text.py")


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
    folder = root / CACHE_DIR
    try:
        if not (folder / ".gitignore").exists():
            write_files(folder, {".gitignore": IGNORE_ALL})
        write_files(folder, {_file(name, kind): json.dumps(data, sort_keys=True)})
    except (OutputError, OSError):
        pass


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
