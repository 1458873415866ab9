"""Promotion: an environment that requires another (`requires = staging` in
[schemactl.env.prod]) takes a release only of revisions the other one ran.

"Ran" is what the required environment's audit shows: the revision's last step there an
upgrade (from a release, a `schemactl sql` script or online), of the revision file as it is now
(the same sha256). A revision staging ran and then undid, or ran from a file edited since, is
not staged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tools.config import redact
from tools.core.errors import SchemactlError, first_line
from tools.history.load import sha256_of
from tools.live.audit import read as read_audit
from tools.live.database_errors import translate_errors

if TYPE_CHECKING:
    from tools.config import Environment, Project
    from tools.history.graph import Graph, RevisionId
    from tools.live.audit import AuditRow


class NotStaged(SchemactlError):
    """A release of revisions the required environment never ran."""


def unstaged(
    project: Project, environment: Environment, graph: Graph, revisions: Sequence[RevisionId]
) -> list[RevisionId]:
    """The revisions of ``revisions`` (in apply order) that the environment ``environment``
    requires has not run; NotStaged when its audit cannot be read."""
    assert environment.requires is not None
    required = project.environment(environment.requires)
    rows = _audit(required, environment)
    last: dict[str, AuditRow] = {}
    for row in rows:
        if row.direction in ("upgrade", "downgrade"):
            last[row.revision] = row
    return [
        rev
        for rev in revisions
        if rev not in last
        or last[rev].direction != "upgrade"
        or last[rev].sha256 != sha256_of(graph[rev].path)
    ]


def _audit(required: Environment, environment: Environment) -> list[AuditRow]:
    way_out = (
        'or release without it with --force-unstaged "REASON" (recorded in the manifest '
        "and the review)"
    )
    try:
        url = required.url()
        kind = required.kind
        if not kind.exists(url):
            raise SchemactlError(f"{redact(url)}: no database there")
        engine = kind.engine(url)
        try:
            with translate_errors(url), engine.connect() as connection:
                rows = read_audit(connection, kind)
        finally:
            engine.dispose()
    except SchemactlError as err:
        raise NotStaged(
            f"{environment.name} requires {required.name}, whose audit cannot be read "
            f"({first_line(err).split('; ')[0]}); make it readable from here, {way_out}"
        ) from err
    return rows or []


def refusal(environment: Environment, missing: list[RevisionId], graph: Graph) -> NotStaged:
    first = missing[0]
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return NotStaged(
        f"release for {environment.name} refused: {environment.requires} has not run revision "
        f"{first} ({graph[first].path.name}){more}, which it requires (its audit shows no "
        f"upgrade of that file as it is now); apply the release to {environment.requires} "
        f'first, or release anyway with --force-unstaged "REASON" (recorded in the manifest '
        "and the review)"
    )
