"""Values written into scripts exactly, in memory: each kind's escapes, binary literals, a
CR before LF inside raw SQL, and TABs kept through Alembic's layout."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tools.dialects import UnwritableValue, script_dialect
from tools.scripts.literals import RawNul, offline_dialect, restore


def compiled(name: str, statement: object, driver: str = "") -> str:
    """A statement as the capture compiles it for ``name`` (env.py's dialect with a driver's
    paramstyle), laid out as Alembic lays it out (TABs expanded), marks restored."""
    url = make_url(f"{name}{'+' + driver if driver else ''}://")
    dialect = offline_dialect(url.get_dialect()(), script_dialect(name))
    text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    return restore(text.replace("\t", "    ").strip() + ";")


TABLE = sa.table("t", sa.column("name", sa.String), sa.column("blob", sa.LargeBinary))


@pytest.mark.parametrize(
    ("name", "driver"), [("postgresql", "psycopg"), ("mariadb", "pymysql"), ("sqlite", "")]
)
def test_percent_and_tab_reach_the_text_as_written(name, driver):
    value = "50% off\tnow"
    assert compiled(name, TABLE.insert().values(name=value), driver).endswith(
        "VALUES ('50% off\tnow');"
    )
    raw = sa.text("UPDATE t SET name = 'a%b\tc' WHERE name LIKE '%x'")
    assert compiled(name, raw, driver) == "UPDATE t SET name = 'a%b\tc' WHERE name LIKE '%x';"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgresql", "U&'line\\000D\nnext \\001B \\\\ it''s'"),
        ("mariadb", "'line\\r\nnext \\\\ it''s'"),
        ("sqlite", "('line' || char(13) || '\nnext ' || char(27) || ' \\ it''s')"),
    ],
)
def test_control_characters_are_escaped_each_kind_its_way(name, expected):
    value = "line\r\nnext \x1b \\ it's"
    if name == "mariadb":  # ESC has no escape there: the whole value in hex
        assert script_dialect(name).string_literal(value) == (
            "_utf8mb4 X'" + value.encode().hex().upper() + "'"
        )
        assert script_dialect(name).string_literal("line\r\nnext \\ it's") == expected
    else:
        assert script_dialect(name).string_literal(value) == expected
    assert script_dialect(name).string_literal("plain\ttab\nand newline") is None


def test_nul_where_the_database_cannot_hold_it_is_refused():
    with pytest.raises(UnwritableValue, match="NUL"):
        script_dialect("postgresql").string_literal("a\x00b")
    assert script_dialect("mariadb").string_literal("a\x00b") == "'a\\0b'"
    assert script_dialect("sqlite").string_literal("a\x00b") == "('a' || char(0) || 'b')"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("postgresql", "'\\x00ff0d'::bytea"), ("mariadb", "X'00FF0D'"), ("sqlite", "X'00FF0D'")],
)
def test_binary_values_are_hex_literals(name, expected):
    assert compiled(name, TABLE.insert().values(blob=b"\x00\xff\r")).endswith(f"({expected});")


def test_a_crlf_inside_a_raw_literal_survives_the_clients_that_drop_it():
    raw = sa.text("INSERT INTO t (name) VALUES ('a\r\nb')\r\n")
    assert compiled("mariadb", raw) == "INSERT INTO t (name) VALUES ('a\\r\nb');"
    assert compiled("sqlite", raw) == "INSERT INTO t (name) VALUES ('a' || char(13) || '\nb');"
    assert compiled("postgresql", raw) == "INSERT INTO t (name) VALUES ('a\r\nb');"


def test_raw_sql_with_a_nul_is_refused():
    with pytest.raises(RawNul):
        compiled("sqlite", sa.text("SELECT 'a\x00'"))


def test_layout_tabs_are_expanded_as_alembic_does():
    create = sa.schema.CreateTable(
        sa.Table("t", sa.MetaData(), sa.Column("note", sa.String, server_default="a\tb"))
    )
    text = compiled("sqlite", create)
    assert "\n    note VARCHAR DEFAULT 'a\tb'" in text
