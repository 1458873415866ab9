"""Backup table names and the commands a review suggests, in memory."""

from __future__ import annotations

import re

import pytest

from tools.backup import backup_name, revision_of
from tools.dialects import script_dialect


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
