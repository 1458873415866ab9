"""The ways a revision goes, as types: every layer names them, so they stand on the ground
floor (a misspelt direction is a type error, not a script that does nothing)."""

from __future__ import annotations

from typing import Literal, TypeAlias

# Which of a revision's functions runs: upgrade() or downgrade().
Direction: TypeAlias = Literal["upgrade", "downgrade"]
BOTH_WAYS: tuple[Direction, Direction] = ("upgrade", "downgrade")
# What an audit row records: a revision run either way, or the version set by `stamp`.
AuditedStep: TypeAlias = Literal["upgrade", "downgrade", "stamp"]
