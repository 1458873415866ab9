"""A database's reflected schema as plain data, so two databases compare with ==."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def snapshot(connection: Connection, ignore: Collection[str] = ()) -> dict[str, Any]:
    """Tables with their columns (name, type, nullability), keys, indexes and constraints.

    Columns are compared by name, not position: two branches that each add a column to one
    table give the same schema in either order, only the columns' order differs.
    """
    from sqlalchemy import inspect

    insp = inspect(connection)
    return {
        table: {
            "columns": sorted(
                (c["name"], str(c["type"]), bool(c["nullable"])) for c in insp.get_columns(table)
            ),
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(str(c) for c in ix["column_names"]), bool(ix["unique"]))
                for ix in insp.get_indexes(table)
            ),
            "uniques": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in insp.get_unique_constraints(table)
            ),
        }
        for table in sorted(insp.get_table_names())
        if table not in ignore
    }


def differences(left: dict[str, Any], right: dict[str, Any]) -> list[str]:
    """What differs between two snapshots, one line per table and aspect."""
    found = []
    for table in sorted(set(left) | set(right)):
        if table not in right:
            found.append(f"table {table} only in the first")
        elif table not in left:
            found.append(f"table {table} only in the second")
        else:
            for aspect in ("columns", "pk", "fks", "indexes", "uniques"):
                if left[table][aspect] != right[table][aspect]:
                    found.append(
                        f"{table}.{aspect}: {left[table][aspect]} vs {right[table][aspect]}"
                    )
    return found
