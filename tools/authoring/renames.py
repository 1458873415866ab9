"""Renames in autogenerate: what Alembic writes as a column dropped and another added (it
cannot tell a rename from the models), turned into a rename when the developer says so.

As Django's makemigrations asks "Did you rename customers.billing_address to
customers.postal_address?", makemigrations offers each pair of one column dropped and one
added in the same table, of the same type, to ``confirm`` (the CLI asks on a terminal), or
takes the pairs given (`--rename TABLE.OLD:NEW`, for scripts and CI). A rename keeps the
column's values; a drop and add loses them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.core.errors import SchemactlError

if TYPE_CHECKING:
    from alembic.operations.ops import MigrationScript, ModifyTableOps

    from tools.dialects import ScriptDialect


class RenameError(SchemactlError):
    pass


@dataclass(frozen=True)
class Rename:
    table: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.table}.{self.old} to {self.table}.{self.new}"


# Asked of each candidate: True to write a rename.
Confirm = Callable[[Rename], bool]

_SPEC = re.compile(r"^(?P<table>[^.:\s]+)\.(?P<old>[^.:\s]+):(?:(?P=table)\.)?(?P<new>[^.:\s]+)$")


def parse(specs: Iterable[str]) -> tuple[Rename, ...]:
    """`--rename TABLE.OLD:NEW` (or TABLE.OLD:TABLE.NEW), each checked for form."""
    found = []
    for spec in specs:
        match = _SPEC.match(spec)
        if match is None:
            raise RenameError(
                f"--rename {spec!r} is not TABLE.OLD:NEW; write e.g. --rename "
                "customers.billing_address:postal_address"
            )
        found.append(Rename(match["table"], match["old"], match["new"]))
    return tuple(found)


def apply(
    script: MigrationScript,
    given: tuple[Rename, ...],
    confirm: Confirm | None,
    kind: ScriptDialect,
) -> None:
    """Turn each drop + add pair that is given, or that ``confirm`` accepts, into a rename in
    the upgrade, and the same pair back in the downgrade. A rename given that autogenerate
    did not offer (no such pair) is an error: nothing is written."""
    from alembic.operations import ops

    upgrade = script.upgrade_ops
    if upgrade is None:
        return
    done: list[Rename] = []
    for table_ops in [op for op in upgrade.ops if isinstance(op, ops.ModifyTableOps)]:
        done += _rename_in(table_ops, given, confirm, kind)
    missing = [r for r in given if r not in done]
    if missing:
        raise RenameError(
            f"--rename {missing[0].table}.{missing[0].old}:{missing[0].new}: the models do not "
            f"drop {missing[0].table}.{missing[0].old} and add {missing[0].new} of the same "
            "type; check the names (and that the type is unchanged)"
        )
    # The downgrade autogenerate wrote adds the old column back and drops the new one: the
    # same pairs, the other way round.
    back = tuple(Rename(r.table, r.new, r.old) for r in done)
    for downgrade in script.downgrade_ops_list if back else ():
        for table_ops in [op for op in downgrade.ops if isinstance(op, ops.ModifyTableOps)]:
            _rename_in(table_ops, back, None, kind)


def _rename_in(
    table_ops: ModifyTableOps,
    given: tuple[Rename, ...],
    confirm: Confirm | None,
    kind: ScriptDialect,
) -> list[Rename]:
    from alembic.operations import ops

    drops = {op.column_name: op for op in table_ops.ops if isinstance(op, ops.DropColumnOp)}
    adds = {op.column.name: op for op in table_ops.ops if isinstance(op, ops.AddColumnOp)}
    done: list[Rename] = []
    for old, drop in drops.items():
        dropped = drop.to_column()
        for new, add in adds.items():
            same = _same_type(dropped.type, add.column.type, kind)
            if new in {r.new for r in done} or not same:
                continue
            rename = Rename(table_ops.table_name, old, new)
            wanted = rename in given or (not given and confirm is not None and confirm(rename))
            if not wanted:
                continue
            index = table_ops.ops.index(drop)
            table_ops.ops[index] = ops.AlterColumnOp(
                table_ops.table_name,
                old,
                schema=table_ops.schema,
                modify_name=new,
                # MariaDB/MySQL rename with CHANGE, which restates the whole column.
                existing_type=dropped.type,
                existing_nullable=dropped.nullable,
                existing_server_default=_default(dropped),
                modify_nullable=None
                if add.column.nullable == dropped.nullable
                else add.column.nullable,
            )
            table_ops.ops.remove(add)
            done.append(rename)
            break
    return done


def _same_type(old: Any, new: Any, kind: ScriptDialect) -> bool:
    """Whether two column types are the same, as ``kind`` (the database autogenerate
    compared the models with) writes them."""
    dialect = kind.sa_dialect
    return str(old.compile(dialect=dialect)) == str(new.compile(dialect=dialect))


def _default(column: Any) -> Any:
    default = column.server_default
    return getattr(default, "arg", None) if default is not None else False
