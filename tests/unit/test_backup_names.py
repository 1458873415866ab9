"""Backup table names and the commands a review suggests, in memory."""

from __future__ import annotations

import re

import pytest

from tools.dialects import script_dialect
from tools.scripts.backup_plan import backup_name, revision_of


def test_backup_names_are_plain_short_and_distinct():
    assert backup_name("9ecdc98b5e8a", "users", "phone") == "r9ecdc98b5e8a_users_phone"
    assert backup_name("9ecdc98b5e8a", "tax_rates", None) == "r9ecdc98b5e8a_tax_rates"
    long_a = backup_name("9ecdc98b5e8a", "invoice_reminder_schedules", "last_reminded_at_a")
    long_b = backup_name("9ecdc98b5e8a", "invoice_reminder_schedules", "last_reminded_at_b")
    assert long_a != long_b and len(long_a) <= 40 and len(long_b) <= 40
    assert revision_of(long_a) == "9ecdc98b5e8a"  # what `schemactl backups` maps to a release
    assert revision_of("something_else") is None
    hostile = backup_name("9ecdc98b5e8a", 'we"ird; DROP', "x")
    assert re.fullmatch(r"[a-z0-9_]+", hostile)


@pytest.mark.parametrize("name", ["postgresql", "mariadb", "sqlite"])
def test_a_dump_command_keeps_a_hostile_table_name_one_word(name):
    command = script_dialect(name).dump_command("x; rm -rf /")
    assert "'" in command and "; rm" not in command.replace("'x; rm -rf /'", "").replace(
        "'.dump x; rm -rf /'", ""
    )
    assert command.endswith("x_rm_-rf_.before.sql")


def test_a_column_and_a_table_that_would_share_a_name_each_get_their_own():
    from tools.scripts.backup_plan import COLUMN, TABLE, Backup, _distinct_names

    column = Backup("d007", COLUMN, "users", "phone", "drops column users.phone", ("id",),
                    backup_name("d007", "users", "phone"))  # fmt: skip
    table = Backup("d007", TABLE, "users_phone", None, "drops table users_phone", ("id",),
                   backup_name("d007", "users_phone", None))  # fmt: skip
    assert column.name == table.name  # what format 6 wrote: one table for both
    named = _distinct_names([column, table])
    assert len({b.name for b in named}) == 2
    assert all(re.fullmatch(r"rd007_users_phone_[0-9a-f]{8}", b.name) for b in named)
    assert _distinct_names([column]) == [column]  # no clash: the plain name stays


def test_a_rollback_restores_parents_before_the_children_that_refer_to_them():
    from tools.scripts.backup_plan import COLUMN, TABLE, Backup, _restore_order
    from tools.scripts.shapes import Shapes, TableShape

    child = Backup("d004", COLUMN, "products", "tax_rate_id", "", ("id",), "a")
    parent = Backup("d004", TABLE, "tax_rates", None, "", ("id",), "b")
    whole = Backup("d004", TABLE, "products", None, "", ("id",), "c")
    shapes = Shapes(
        {
            "products": TableShape(("id",), references={"fk": "tax_rates"}),
            "tax_rates": TableShape(("id",)),
        }
    )
    assert _restore_order([child, parent], shapes) == [parent, child]
    assert _restore_order([parent, child], shapes) == [parent, child]
    assert _restore_order([child, whole], shapes) == [whole, child]
    # A cycle of foreign keys: as destroyed, nothing dropped.
    cycle = Shapes({"products": TableShape(references={"x": "tax_rates"}),
                    "tax_rates": TableShape(references={"y": "products"})})  # fmt: skip
    assert _restore_order([child, parent], cycle) == [child, parent]


def test_postgresql_keeps_each_schemas_backups_apart():
    public = script_dialect("postgresql")
    billing = script_dialect("postgresql", {"schema": "billing"})
    assert public.backup_table("r1_t") == "schemactl_backup.r1_t"
    assert billing.backup_table("r1_t") == "schemactl_backup_billing.r1_t"
    long = script_dialect("postgresql", {"schema": "s" * 63}).backup_schema
    assert len(long) <= 63 and long.startswith("schemactl_backup_s")
    # MariaDB and SQLite: beside the tables of the one database, under a prefix.
    assert script_dialect("mariadb").backup_table("r1_t") == "schemactl_backup_r1_t"
