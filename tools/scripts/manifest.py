"""The record of what was released: sql_out/<env>/manifest.json and the names in it.

Each environment's manifest lists its releases in order: the revisions each one runs (with
the sha256 of each revision file when it was released), the sha256 of each file written, the
script format and where it was proven. Reading it is what every command that must respect a
release needs (squash, backups, makemigrations' released-revision check, check); writing
releases is tools.release.release's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tools.core.errors import SchemactlError
from tools.dialects import FORMATS, safe_revision

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.graph import RevisionId

MANIFEST = "manifest.json"
# The first script format whose upgrades keep what they destroy for their rollbacks.
BACKUPS_FROM_FORMAT = 5
RELEASE_FILES = ("upgrade.sql", "rollback.sql", "review.md")


class ReleaseError(SchemactlError):
    """sql_out/ cannot be read or written as a chain of releases."""


@dataclass(frozen=True)
class Unstaged:
    """A release written for an environment before the one it requires ran all of it
    (`release --force-unstaged REASON`): who was skipped, why, and which revisions."""

    required: str
    reason: str
    missing: tuple[RevisionId, ...]

    def as_json(self) -> dict[str, object]:
        return {"required": self.required, "reason": self.reason, "missing": list(self.missing)}


@dataclass(frozen=True)
class Release:
    name: str
    start: tuple[RevisionId, ...]
    end: tuple[RevisionId, ...]
    files: dict[str, str]  # file name -> sha256
    revisions: dict[RevisionId, str]  # revision -> sha256 of its file when released
    format: int = 1  # the script format it was rendered with (tools.dialects.FORMAT)
    # The client and server its scripts were proven with when it was written (tools.proof.prove).
    proven: dict[str, str] | None = None
    # Written with `release --no-prove` (no scratch server at hand): `release --prove` is
    # what proves it.
    unproven: bool = False
    # Written with --force-unstaged: the required environment had not run all of it.
    unstaged: Unstaged | None = None

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "name": self.name,
            "from": list(self.start),
            "to": list(self.end),
            "files": self.files,
            "revisions": self.revisions,
        }
        if self.format != 1:  # releases from before formats were recorded stay as written
            data["format"] = self.format
        if self.proven is not None:
            data["proven"] = self.proven
        if self.unproven:
            data["unproven"] = True
        if self.unstaged is not None:
            data["unstaged"] = self.unstaged.as_json()
        return data


@dataclass(frozen=True)
class Manifest:
    environment: str
    dialect: str
    releases: tuple[Release, ...] = ()

    @property
    def end(self) -> tuple[RevisionId, ...]:
        return self.releases[-1].end if self.releases else ()

    def as_json(self) -> str:
        data = {
            "environment": self.environment,
            "dialect": self.dialect,
            "releases": [r.as_json() for r in self.releases],
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def env_dir(project: Project, environment: Environment) -> Path:
    return project.releases_dir(environment)


def shown_path(project: Project, path: Path) -> str:
    """A path as it appears in scripts and messages: relative to the project, never absolute."""
    try:
        return path.resolve().relative_to(project.root).as_posix()
    except ValueError:
        return path.name


def released_revisions(project: Project) -> dict[RevisionId, str]:
    """Every revision some recorded release contains, with that release's path."""
    found: dict[RevisionId, str] = {}
    for environment in project.environments.values():
        for rel in read_manifest(project, environment).releases:
            where = shown_path(project, env_dir(project, environment) / rel.name)
            for rev in rel.revisions:
                found.setdefault(rev, where)
    return found


def read_manifest(project: Project, environment: Environment) -> Manifest:
    path = env_dir(project, environment) / MANIFEST
    if not path.exists():
        return Manifest(environment.name, environment.dialect)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        releases = tuple(
            Release(
                name=_text(r["name"]),
                start=_ids(r["from"]),
                end=_ids(r["to"]),
                files={_text(k): _text(v) for k, v in r["files"].items()},
                revisions={safe_revision(_text(k)): _text(v) for k, v in r["revisions"].items()},
                format=_format(r.get("format", 1)),
                proven=_proven(r.get("proven")),
                unproven=r.get("unproven", False) is True,
                unstaged=_unstaged(r.get("unstaged")),
            )
            for r in data["releases"]
        )
        bad = [r.name for r in releases if not RELEASE_NAME.fullmatch(r.name)]
        if bad:
            raise ValueError(f"release name {bad[0]!r} is not NNNN_<revisions>")
    except (ValueError, KeyError, TypeError, AttributeError, SchemactlError) as err:
        raise ReleaseError(
            f"{shown_path(project, path)} is not a manifest schemactl wrote ({err}); restore it "
            "from git"
        ) from err
    return Manifest(data.get("environment", environment.name), environment.dialect, releases)


RELEASE_NAME = re.compile(r"\d{4}_[A-Za-z0-9_]+")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _format(value: object) -> int:
    if value not in FORMATS or isinstance(value, bool):
        raise ValueError(
            f"format {value!r} is none schemactl knows ({', '.join(map(str, FORMATS))})"
        )
    return int(value)  # type: ignore[call-overload]


def _unstaged(value: object) -> Unstaged | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"required", "reason", "missing"}:
        raise ValueError("'unstaged' must give the required environment, reason and missing")
    return Unstaged(_text(value["required"]), _text(value["reason"]), _ids(value["missing"]))


def _proven(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) != {"client", "server"}:
        raise ValueError("'proven' must name the client and the server")
    return {key: _text(item) for key, item in value.items()}


def _ids(value: object) -> tuple[RevisionId, ...]:
    """A manifest's list of revision ids (a bare string is not a list of one)."""
    if not isinstance(value, list):
        raise TypeError(f"expected a list of revision ids, found {type(value).__name__}")
    return tuple(safe_revision(_text(item)) for item in value)


def release_name(number: int, end: tuple[RevisionId, ...]) -> str:
    return f"{number:04d}_{'_'.join(end)}"
