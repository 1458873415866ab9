"""The audit records each step's start, end and duration by the server's clock, and the
release it came from, for scripts (applied with the real client) and online commands alike;
`schemactl audit` shows it; an audit table of the layout before (scripts of format 3) is
brought up to date in place by the next script, every row kept; online commands take the
scripts' timeouts and lock."""

from __future__ import annotations

import json
import re
import statistics
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import DIALECTS, apply_script, schemactl, scratch_env
from tests.test_lint import add_case
from tools.config import load_project
from tools.dialects import AUDIT_TABLE, FORMAT, TIMING_COLUMNS, script_dialect
from tools.history.load import load_history, plan_range
from tools.scripts.render import render_scripts

HEAD = "68cfa590ad28"
SHORT, LONG = "5a1e00000001", "5a1e00000002"
# Heavy enough on SQLite to be measured (it has no sleep): a recursive count.
HEAVY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {n}) SELECT count(*) FROM c"
# Eight times the work on SQLite: a busy machine can slow either step several times over, and
# the longer must still take longer (check_timed).
SQLITE_ROWS = {SHORT: 750_000, LONG: 6_000_000}
SLEEP = {SHORT: 0.3, LONG: 0.6}

SLOW_REVISION = """
    name = op.get_context().dialect.name
    if name == "postgresql":
        op.execute("SELECT pg_sleep({seconds})")
    elif name in ("mysql", "mariadb"):
        op.execute("DO SLEEP({seconds})")
    else:
        op.execute("{heavy}")"""


def add_slow_revisions(repo: Path) -> None:
    """Two revisions on top of head that take about 0.3 s and 0.6 s (SQLite: 0.15 s and 1.2 s)."""
    for depth, (rev, down) in enumerate(((SHORT, HEAD), (LONG, SHORT)), start=11):
        body = SLOW_REVISION.format(seconds=SLEEP[rev], heavy=HEAVY.format(n=SQLITE_ROWS[rev]))
        add_case(
            repo, body, body, revision=rev, down_revision=down, depth=depth, message=f"slow {rev}"
        )


def sqlite_truth(rows: int) -> float:
    """How long the heavy query takes in the sqlite3 client, in ms (median of three)."""
    runs = []
    for _ in range(3):
        done = subprocess.run(
            ["sqlite3", ":memory:"],
            input=".timer on\n" + HEAVY.format(n=rows) + ";\n",
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(float(re.search(r"Run Time: real ([\d.]+)", done.stdout).group(1)) * 1000)
    return statistics.median(runs)


def truth(dialect: str) -> dict[str, float]:
    if dialect == "sqlite":
        return {rev: sqlite_truth(rows) for rev, rows in SQLITE_ROWS.items()}
    return {rev: seconds * 1000 for rev, seconds in SLEEP.items()}


def audit_json(repo: Path, db) -> dict:
    shown = schemactl(repo, "--env", db.env, "audit", "--json", env={db.url_var: str_url(db)})
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def str_url(db) -> str:
    return db.url.render_as_string(hide_password=False)


def check_timed(rows: list[dict], dialect: str, release: str) -> None:
    want = truth(dialect)
    timed = {row["revision"]: row for row in rows if row["revision"] in want}
    assert set(timed) == set(want)
    for rev, expected in want.items():
        row = timed[rev]
        assert row["release"] == release
        assert row["direction"] == "upgrade"
        assert close_to(row["duration_ms"], expected, dialect), (rev, row, expected)
        took = _at(row["finished_at"]) - _at(row["started_at"])
        assert abs(took.total_seconds() * 1000 - row["duration_ms"]) < 2, row
    # Distinct starts, in apply order, the second after the first one's end.
    first, second = timed[SHORT], timed[LONG]
    assert _at(first["started_at"]) < _at(first["finished_at"]) <= _at(second["started_at"])
    # More work (or a longer sleep) takes longer: each row holds its own step's time.
    assert second["duration_ms"] > first["duration_ms"] * 1.2, (first, second)


def close_to(measured: float, expected: float, dialect: str) -> bool:
    if dialect == "sqlite":
        # A query's time, measured apart in the client: on a shared machine, with the suite's
        # other workers busy, either run can be slowed two or three times over. Within a factor
        # of four catches a wrong unit or a step timed as nothing; check_timed also checks the
        # steps' order (eight times the work takes longer), which load does not swap.
        return expected / 4 <= measured <= expected * 4
    return abs(measured - expected) <= 0.2 * expected  # a server-side sleep: the truth itself


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.slow
@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_a_script_records_each_steps_time_by_the_servers_clock(repo_copy, database):
    add_slow_revisions(repo_copy)
    out = repo_copy / "out"
    rendered = schemactl(
        repo_copy, "sql", "--env", database.env, "--from", "base", "--out", str(out)
    )
    assert rendered.returncode == 0, rendered.stderr
    applied = apply_script(database, out / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr

    report = audit_json(repo_copy, database)
    assert len(report["rows"]) == 14
    check_timed(report["rows"], database.dialect, release=None)
    assert {row["file"] for row in report["rows"]} == {"same"}
    assert report["slowest"][0] == report["rows"][-1]["id"]  # the 0.6 s one
    (upgrades,) = [r for r in report["releases"] if r["direction"] == "upgrade"]
    assert upgrades["steps"] == 14 and upgrades["release"] is None  # not a release
    # The release's time is its steps' times (each held against the truth by check_timed).
    steps = [row["duration_ms"] for row in report["rows"] if row["direction"] == "upgrade"]
    assert upgrades["total_ms"] == pytest.approx(sum(steps), abs=0.01)

    # The text report says the same; a revision file edited since shows as edited.
    path = next((repo_copy / "versions").glob(f"*_{SHORT}_*.py"))
    path.write_text(path.read_text() + "\n# edited after it was applied\n")
    shown = schemactl(
        repo_copy, "--env", database.env, "audit", env={database.url_var: str_url(database)}
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].split() == [
        "#",
        "revision",
        "direction",
        "started",
        "(server",
        "clock)",
        "took",
        "release",
        "by",
        "file",
    ]
    short_line = next(line for line in lines if f" {SHORT} " in line and "upgrade" in line)
    assert short_line.rstrip().endswith("edited")
    assert f"EDITED since applied: {SHORT}" in shown.stdout
    assert "Slowest steps:" in shown.stdout and "Time per release:" in shown.stdout


@pytest.mark.slow
@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_online_upgrade_records_and_prints_each_steps_time(repo_copy, database):
    add_slow_revisions(repo_copy)
    env = {database.url_var: str_url(database)}
    upgraded = schemactl(repo_copy, "--env", database.env, "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    report = audit_json(repo_copy, database)
    assert len(report["rows"]) == 14
    check_timed(report["rows"], database.dialect, release="online")
    # Each 'Running' line ends with the duration its audit row holds.
    for row in report["rows"][-2:]:
        line = next(
            line for line in upgraded.stderr.splitlines() if f"-> {row['revision']}," in line
        )
        assert line.endswith(f" ... done ({row['duration_ms']:,.1f} ms)"), line

    downgraded = schemactl(repo_copy, "--env", database.env, "downgrade", "-1", env=env)
    assert downgraded.returncode == 0, downgraded.stderr
    last = audit_json(repo_copy, database)["rows"][-1]
    assert (last["revision"], last["direction"], last["release"]) == (LONG, "downgrade", "online")
    assert close_to(last["duration_ms"], truth(database.dialect)[LONG], database.dialect)


def render_range(repo: Path, env: str, start: str, end: str, out: Path) -> None:
    project = load_project(repo / "alembic.ini")
    environment = project.environment(env)
    history = load_history(project)
    span = plan_range(
        history.graph, tuple(start.split(",")) if start else (), tuple(end.split(","))
    )
    upgrade, rollback = render_scripts(
        project, environment, history, span, out_dir=out.name, release=out.name
    )
    out.mkdir()
    (out / "upgrade.sql").write_text(upgrade.text)
    (out / "rollback.sql").write_text(rollback.text)


def audit_rows(db) -> list[tuple]:
    engine = db.engine()
    try:
        with engine.connect() as connection:
            return [
                tuple(row)
                for row in connection.execute(text(f"SELECT * FROM {AUDIT_TABLE} ORDER BY id"))
            ]
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", DIALECTS, indirect=True)
def test_an_audit_table_of_the_first_layout_is_upgraded_in_place(repo_copy, database, monkeypatch):
    """A database whose audit table has the first layout (as scripts before format 4 left
    it, with their rows): the next script adds the timing columns (SQLite: the timing table),
    keeps every old row as it was, and writes timed rows; its rollback too."""
    from tools.dialects.tables import version_and_audit_tables as _tables
    from tools.proof.scratch import scratch_config, upgrade

    monkeypatch.chdir(repo_copy)
    add_slow_revisions(repo_copy)
    project = load_project(repo_copy / "alembic.ini")
    upgrade(scratch_config(project, database.kind, database.url), HEAD)
    engine = database.engine()
    with engine.begin() as connection:
        layout_1 = _tables("alembic_version", None)[AUDIT_TABLE]
        layout_1.create(connection)
        for rev in load_history(project).graph.order[:12]:
            connection.execute(
                layout_1.insert().values(
                    revision=rev, direction="upgrade", revision_sha256="0" * 64, applied_by="dba"
                )
            )
    engine.dispose()
    before = audit_rows(database)
    assert len(before) == 12 and len(before[0]) == 6  # layout 1
    untimed = audit_json(repo_copy, database)["rows"]
    assert [(r["release"], r["duration_ms"]) for r in untimed] == [(None, None)] * 12

    third = repo_copy / "r3"
    render_range(repo_copy, database.env, HEAD, LONG, third)
    applied = apply_script(database, third / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    report = audit_json(repo_copy, database)
    rows = report["rows"]
    kept = audit_rows(database)[:12]
    assert [row[:6] for row in kept] == before  # every old row as it was
    assert all(r["started_at"] is None and r["release"] is None for r in rows[:12])
    check_timed(rows, database.dialect, release="r3")
    if database.dialect != "sqlite":
        assert len(kept[0]) == 6 + len(TIMING_COLUMNS)

    applied = apply_script(database, third / "rollback.sql")
    assert applied.returncode == 0, applied.stderr
    rows = audit_json(repo_copy, database)["rows"]
    assert [(r["revision"], r["release"]) for r in rows[14:16]] == [(LONG, "r3"), (SHORT, "r3")]
    assert all(r["duration_ms"] is not None for r in rows[14:16])


@pytest.mark.postgresql
def test_a_database_at_prod_release_0002_takes_the_next_release_keeping_its_audit(
    repo_copy, throwaway_database
):
    db = throwaway_database("postgresql")
    releases = repo_copy / "sql_out" / "prod"
    for name in ("0001_9ecdc98b5e8a", "0002_68cfa590ad28"):
        applied = apply_script(db, releases / name / "upgrade.sql")
        assert applied.returncode == 0, applied.stderr
    before = audit_rows(db)
    assert len(before) == 12

    add_case(
        repo_copy,
        '    op.add_column("users", sa.Column("nickname", sa.String(30)))',
        '    op.drop_column("users", "nickname")',
        revision="0a0d17000001",
    )
    released = schemactl(repo_copy, "release", "--env", "prod", env=scratch_env("postgresql"))
    assert released.returncode == 0, released.stderr
    third = releases / "0003_0a0d17000001"
    assert json.loads((releases / "manifest.json").read_text())["releases"][2]["format"] == FORMAT
    applied = apply_script(db, third / "upgrade.sql")
    assert applied.returncode == 0, applied.stderr
    after = audit_rows(db)
    assert [row[:6] for row in after[:12]] == before
    assert all(value is None for row in after[:12] for value in row[6:])
    new = dict(
        zip(
            ("id", "revision", "direction", "sha", "at", "by", *TIMING_COLUMNS),
            after[12],
            strict=True,
        )
    )
    assert (new["revision"], new["direction"], new["release_name"]) == (
        "0a0d17000001",
        "upgrade",
        third.name,
    )
    assert new["duration_ms"] is not None and new["started_at"] <= new["finished_at"]
    # The whole chain back down: the new rollback, then the released format 3 ones.
    for name in (third.name, "0002_68cfa590ad28", "0001_9ecdc98b5e8a"):
        applied = apply_script(db, releases / name / "rollback.sql")
        assert applied.returncode == 0, applied.stderr
    assert len(audit_rows(db)) == 12 + 1 + 1 + 12
    checked = schemactl(repo_copy, "release", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


SETTINGS_PROBE = {
    "postgresql": (
        "CREATE TABLE probe AS SELECT current_setting('lock_timeout') AS a, "
        "current_setting('statement_timeout') AS b",
        ("5s", "15min"),
    ),
    "mariadb": (
        "CREATE TABLE probe AS SELECT @@SESSION.lock_wait_timeout AS a, 'x' AS b",
        ("10", "x"),
    ),
}


@pytest.mark.parametrize("database", DIALECTS[1:], indirect=True)
def test_online_commands_run_with_the_scripts_timeouts(repo_copy, database):
    statement, expected = SETTINGS_PROBE[database.dialect]
    add_case(repo_copy, f'    op.execute("{statement}")', '    op.execute("DROP TABLE probe")')
    upgraded = schemactl(
        repo_copy, "--env", database.env, "upgrade", env={database.url_var: str_url(database)}
    )
    assert upgraded.returncode == 0, upgraded.stderr
    engine = database.engine()
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT a, b FROM probe")).one()
    finally:
        engine.dispose()
    assert tuple(str(v) for v in found) == expected


@pytest.mark.parametrize("database", DIALECTS[1:], indirect=True)
def test_online_upgrade_waits_for_a_script_holding_the_lock_and_then_stops(repo_copy, database):
    """A client holding the scripts' lock (a DBA applying a script): the online command
    waits for it as long as the timeout allows, then stops with nothing changed."""
    config = repo_copy / "alembic.ini"
    setting = {"postgresql": "lock_timeout = 5s", "mariadb": "lock_wait_timeout = 10"}[
        database.dialect
    ]
    short = {"postgresql": "lock_timeout = 1s", "mariadb": "lock_wait_timeout = 1"}[
        database.dialect
    ]
    config.write_text(config.read_text().replace(setting, short, 1))
    kind = script_dialect(database.dialect)
    hold = {
        "postgresql": f"SELECT pg_advisory_lock({kind.lock_key})",
        "mariadb": "SELECT GET_LOCK(CONCAT('schemactl:', DATABASE(), ':', 'alembic_version'), 0)",
    }[database.dialect]
    env = {database.url_var: str_url(database)}
    engine = database.engine()
    try:
        with engine.connect() as holder:
            holder.execute(text(hold))
            blocked = schemactl(repo_copy, "--env", database.env, "upgrade", env=env)
        assert blocked.returncode == 1
        assert blocked.stderr.count("\n") == 1 and blocked.stderr.startswith("Error: "), (
            blocked.stderr
        )
        assert "lock" in blocked.stderr
        assert database.tables() <= {"alembic_version", AUDIT_TABLE}
    finally:
        engine.dispose()
    upgraded = schemactl(repo_copy, "--env", database.env, "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr


def test_online_commands_on_a_foreign_project_use_its_version_table(tmp_path):
    """A project whose env.py names its own version table (globex_versions): status, the
    audit rows of upgrade, downgrade and stamp, and status --check all read that table."""
    from tests.test_corpus import project_copy

    project = project_copy(tmp_path, "idioms", "sqlite")
    args = ("-c", "alembic.ini", "-x", "tenant=globex")
    upgraded = schemactl(project, *args, "upgrade", "c3c3c3c3c3c3")
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout == "default (sqlite) is now at c3c3c3c3c3c3\n"
    status = schemactl(project, *args, "status", "--check")
    assert status.returncode == 1
    assert "[X] 0003 c3c3c3c3c3c3" in status.stdout and "[ ] 0004 d4d4d4d4d4d4" in status.stdout
    back = schemactl(project, *args, "downgrade", "-1")
    assert back.stdout == "default (sqlite) is now at b2b2b2b2b2b2\n", back.stderr
    stamped = schemactl(project, *args, "stamp", "heads")
    assert stamped.returncode == 0, stamped.stderr
    assert schemactl(project, *args, "status", "--check").returncode == 0
    shown = schemactl(project, *args, "audit", "--json")
    rows = [(r["revision"], r["direction"], r["release"]) for r in json.loads(shown.stdout)["rows"]]
    assert rows == [
        ("a1a1a1a1a1a1", "upgrade", "online"),
        ("b2b2b2b2b2b2", "upgrade", "online"),
        ("c3c3c3c3c3c3", "upgrade", "online"),
        ("c3c3c3c3c3c3", "downgrade", "online"),
        ("d4d4d4d4d4d4", "stamp", "online"),
    ]


@pytest.mark.parametrize("database", DIALECTS[1:], indirect=True)
def test_a_script_does_not_wait_for_readers_of_an_audit_table_already_in_layout(
    repo_copy, database, tmp_path
):
    """Someone reading the audit in an open transaction (a DBA's session, `schemactl audit`)
    does not stop a script: the layout upgrade alters the table only when a column is
    missing, so nothing waits for their lock."""
    env = {database.url_var: str_url(database)}
    upgraded = schemactl(repo_copy, "--env", database.env, "upgrade", "9ecdc98b5e8a", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    rendered = schemactl(
        repo_copy,
        "sql",
        "--env",
        database.env,
        "--from",
        "9ecdc98b5e8a",
        "--out",
        str(tmp_path / "s"),
    )
    assert rendered.returncode == 0, rendered.stderr
    engine = database.engine()
    try:
        with engine.connect() as reader:
            reader.execute(text(f"SELECT count(*) FROM {AUDIT_TABLE}")).scalar()
            assert reader.in_transaction()
            applied = apply_script(database, tmp_path / "s" / "upgrade.sql")
            assert applied.returncode == 0, applied.stderr
            reader.rollback()
    finally:
        engine.dispose()
    assert len(audit_rows(database)) == 12


def test_audit_of_a_database_without_an_audit_table_and_of_an_unset_url(repo_copy, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    shown = schemactl(repo_copy, "audit", env={"BILLGEN_DEV_URL": url})
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1] == "No audit table: nothing was applied here by schemactl."
    as_json = json.loads(
        schemactl(repo_copy, "audit", "--json", env={"BILLGEN_DEV_URL": url}).stdout
    )
    assert as_json["audit_table"] is False and as_json["rows"] == []
    unset = schemactl(repo_copy, "--env", "staging", "audit")
    assert unset.returncode == 1 and unset.stdout == ""
    assert unset.stderr.startswith("Error: ") and "BILLGEN_STAGING_URL" in unset.stderr
    assert unset.stderr.count("\n") == 1


def test_text_from_the_database_reaches_the_terminal_escaped(repo_copy, tmp_path):
    """An audit row whose text holds a terminal escape and a newline (written by anyone who
    can write the table) cannot clear the screen or forge a line of `schemactl audit`."""
    import sqlite3

    url = f"sqlite:///{tmp_path / 'dev.db'}"
    assert schemactl(repo_copy, "upgrade", env={"BILLGEN_DEV_URL": url}).returncode == 0
    with sqlite3.connect(tmp_path / "dev.db") as db:
        db.execute(
            "UPDATE schemactl_audit SET applied_by = ? WHERE id = 1",
            ("mallory\x1b[2J\nFORGED 0000 upgrade",),
        )
    shown = schemactl(repo_copy, "audit", env={"BILLGEN_DEV_URL": url})
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    assert "mallory\\x1b[2J\\nFORGED" in shown.stdout
    assert not any(line.startswith("FORGED") for line in shown.stdout.splitlines())
