"""The steps Alembic's own commands would run, from its script directory.

`alembic upgrade`, `downgrade` and `stamp` compute their steps with ScriptDirectory methods
that are not public API (``_upgrade_revs``, ``_downgrade_revs``, ``_stamp_revs``); schemactl
needs the very same steps (to plan, to run under its lock, to check a stamp target before
anything is touched), so it calls them here and only here. Their signatures say one
revision where Alembic passes, and accepts, a sequence of heads; the versions they are known
to work with are the ones constraints.txt pins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


def upgrade_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """What `alembic upgrade TARGET` runs from ``heads`` (MigrationStep objects, in order)."""
    directory: Any = scripts
    return list(directory._upgrade_revs(target, tuple(heads)))


def downgrade_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str]) -> list[Any]:
    """What `alembic downgrade TARGET` runs from ``heads``."""
    directory: Any = scripts
    return list(directory._downgrade_revs(target, tuple(heads)))


def stamp_steps(scripts: ScriptDirectory, target: str, heads: Sequence[str] = ()) -> list[Any]:
    """What `alembic stamp TARGET` writes from ``heads`` (from base: `stamp --purge`). Raises
    what Alembic raises for a target it cannot resolve."""
    directory: Any = scripts
    return list(directory._stamp_revs((target,), tuple(heads)))
