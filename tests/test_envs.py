"""schemactl envs: every environment and database at once, on live databases of every kind
(SQLite dev, PostgreSQL staging and prod, MariaDB), one behind, one drifted, one unreachable."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import text

from tools.config import load_project

from .conftest import apply_script, schemactl

BRANCH_POINT = "9ecdc98b5e8a"
HEAD = "68cfa590ad28"


def url_of(db) -> str:
    return db.url.render_as_string(hide_password=False)


@pytest.fixture
def silent_server():
    """A TCP port that takes connections and never answers: a hung server, not a refusal."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.postgresql
@pytest.mark.mariadb
def test_envs_shows_every_environment_behind_drifted_and_unreachable(
    repo_copy, throwaway_database, tmp_path
):
    dev, staging = throwaway_database("sqlite"), throwaway_database("postgresql")
    prod, maria = throwaway_database("postgresql"), throwaway_database("mariadb")
    environ = {
        "BILLGEN_DEV_URL": url_of(dev),
        "BILLGEN_STAGING_URL": url_of(staging),
        "BILLGEN_PROD_URL": url_of(prod),
        "BILLGEN_MARIADB_URL": url_of(maria),
        # prod's reporting database: a server that is not there (nothing listens on port 1).
        "BILLGEN_PROD_REPORTING_URL": "postgresql://postgres@127.0.0.1:1/reporting",
        # mariadb's: a user the server does not know.
        "BILLGEN_MARIADB_REPORTING_URL": "mariadb://nobody:s3cret@127.0.0.1:3306/reporting",
    }
    assert schemactl(repo_copy, "upgrade", env=environ).returncode == 0  # dev at head
    staged = schemactl(repo_copy, "--env", "staging", "upgrade", BRANCH_POINT, env=environ)
    assert staged.returncode == 0, staged.stderr  # staging behind (it has no releases)
    for folder in ("0001_9ecdc98b5e8a", "0002_68cfa590ad28"):  # prod by its releases
        applied = apply_script(prod, repo_copy / "sql_out" / "prod" / folder / "upgrade.sql")
        assert applied.returncode == 0, applied.stderr
    assert schemactl(repo_copy, "--env", "mariadb", "upgrade", env=environ).returncode == 0
    with maria.engine().begin() as connection:  # by hand, behind the tool's back
        connection.execute(text("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)"))

    shown = schemactl(repo_copy, "envs", "--json", env=environ)
    assert shown.returncode == 1, shown.stderr
    report = json.loads(shown.stdout)
    found = {(t["environment"], t["database"]): t for t in report["targets"]}
    assert len(found) == 8  # 4 environments x 2 databases
    dev_ = found[("dev", "alembic")]
    assert dev_["reachable"] and dev_["current"] == [HEAD] and dev_["ok"], dev_
    assert dev_["drift"] == [] and dev_["last_audit"]["release"] == "online"
    staging_ = found[("staging", "alembic")]
    assert staging_["current"] == [BRANCH_POINT] and len(staging_["pending"]) == 6
    assert not staging_["released"] and not staging_["ok"]
    prod_ = found[("prod", "alembic")]
    assert prod_["ok"] and prod_["drift"] == [] and prod_["pending"] == []
    # The fixture's releases are of format 3: their audit rows name no release yet.
    assert (prod_["last_audit"]["revision"], prod_["last_audit"]["direction"]) == (HEAD, "upgrade")
    maria_ = found[("mariadb", "alembic")]
    assert maria_["current"] == [HEAD] and not maria_["ok"]
    assert maria_["drift"] == ["extra column users.nickname (VARCHAR(20), nullable)"]
    down = found[("prod", "reporting")]
    assert not down["reachable"] and "refused" in down["why"].lower(), down
    denied = found[("mariadb", "reporting")]
    assert not denied["reachable"] and "access denied" in denied["why"].lower(), denied
    assert "s3cret" not in shown.stdout + shown.stderr
    unset = found[("staging", "reporting")]
    assert not unset["reachable"] and "BILLGEN_STAGING_REPORTING_URL" in unset["why"]
    # What is wrong is named on stderr, one line each; no password, no traceback.
    assert "staging/alembic: at 9ecdc98b5e8a, not a released revision" in shown.stderr
    assert "mariadb/alembic: drift: extra column users.nickname" in shown.stderr
    assert "Traceback" not in shown.stderr

    table = schemactl(repo_copy, "envs", env=environ)
    assert table.returncode == 1
    header, *rows = table.stdout.splitlines()
    assert header.split() == [
        "ENV",
        "DATABASE",
        "DIALECT",
        "REVISION",
        "PENDING",
        "DRIFT",
        "LAST",
        "AUDIT",
        "STATE",
    ]
    assert any(r.split()[:4] == ["prod", "alembic", "postgresql", HEAD] for r in rows)

    both = schemactl(repo_copy, "envs", "--json", "--format", "html", env=environ)
    assert both.returncode == 2 and "give one" in both.stderr and not both.stdout
    page = schemactl(repo_copy, "envs", "--format", "html", env=environ)
    assert page.returncode == 1
    html = page.stdout
    assert_well_formed(html)
    for part in ('id="matrix"', 'id="history"', 'id="audit"', 'class="here"'):
        assert part in html
    assert "<script" not in html and "http" not in html.split("</style>")[1]  # self-contained
    saved = tmp_path / "envs.html"
    saved.write_text(html)
    dom = render_in_browser(saved, tmp_path, tmp_path / "envs.png")
    if dom is not None:  # what a browser made of it: every row, every mark
        table = dom.split('id="matrix"', 1)[1].split("</table>", 1)[0]
        assert table.count("<tr>") == 9  # the head and 8 rows
        assert table.count('class="bad">unreachable') == 4
        history = dom.split('id="history"', 1)[1].split("</table>", 1)[0]
        assert history.count('class="here"') == 4  # dev, staging, prod, mariadb: billing


@pytest.mark.postgresql
@pytest.mark.mariadb
def test_envs_waits_for_dead_servers_at_once(repo_copy, silent_server, tmp_path, monkeypatch):
    """Eight environments, two on servers that never answer: each is given up after the
    timeout, and they are waited for together (one timeout, not two)."""
    ini = repo_copy / "alembic.ini"
    extra = "".join(
        f"\n[schemactl.env.lite{n}]\ndialect = sqlite\ndefault_url = sqlite:///{tmp_path}/l{n}.db\n"
        f"reporting.default_url = sqlite:///{tmp_path}/r{n}.db\n"
        for n in range(4)
    )
    ini.write_text(ini.read_text() + extra)
    for n in range(4):
        for name in (f"l{n}.db", f"r{n}.db"):
            (tmp_path / name).touch()
    hung = f"127.0.0.1:{silent_server}"
    environ = {
        "BILLGEN_STAGING_URL": f"postgresql://postgres@{hung}/x",
        "BILLGEN_MARIADB_URL": f"mariadb://root@{hung}/x",
    }
    project = load_project(ini)
    assert len(project.environments) == 8
    shown = schemactl(repo_copy, "envs", "--json", "--timeout", "2", env=environ)
    report = json.loads(shown.stdout)
    found = {(t["environment"], t["database"]): t for t in report["targets"]}
    for env in ("staging", "mariadb"):
        assert not found[(env, "alembic")]["reachable"]
        why = found[(env, "alembic")]["why"].lower()
        assert "timeout" in why or "timed out" in why or "no answer" in why, why
    assert all(found[(f"lite{n}", "alembic")]["reachable"] for n in range(4))
    # Not a speed target (benchmarks/envs.py has it): the same run in this process, its
    # imports done, waits for the two silent servers together; one after the other would
    # take two timeouts, 4 s.
    from tools.live.envs import envs

    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    began = time.monotonic()
    matrix = envs(load_project(ini), timeout=2)
    took = time.monotonic() - began
    # 2 silent; prod and the other databases without a URL or a file: only the 8 lite ones answer
    assert sorted(t.environment for t in matrix.targets if t.reachable) == sorted(
        f"lite{n}" for n in range(4) for _ in range(2)
    )
    assert took < 4, took


class _Balanced(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()


def assert_well_formed(html: str) -> None:
    """The page parses with every element closed where it opened (no headless browser is in
    the package registries this suite installs from)."""
    assert html.startswith("<!DOCTYPE html>")
    parser = _Balanced()
    parser.feed(html)
    parser.close()
    assert parser.open == []


@pytest.mark.postgresql
@pytest.mark.mariadb
def test_diff_two_live_databases_and_one_with_the_models(repo_copy, throwaway_database):
    staging, prod = throwaway_database("postgresql"), throwaway_database("postgresql")
    maria, dev = throwaway_database("mariadb"), throwaway_database("sqlite")
    environ = {
        "BILLGEN_STAGING_URL": url_of(staging),
        "BILLGEN_PROD_URL": url_of(prod),
        "BILLGEN_MARIADB_URL": url_of(maria),
        "BILLGEN_DEV_URL": url_of(dev),
    }
    for env in ("staging", "mariadb", "dev"):
        assert schemactl(repo_copy, "--env", env, "upgrade", env=environ).returncode == 0
    for folder in ("0001_9ecdc98b5e8a", "0002_68cfa590ad28"):
        assert (
            apply_script(prod, repo_copy / "sql_out/prod" / folder / "upgrade.sql").returncode == 0
        )
    same = schemactl(repo_copy, "diff", "staging", "prod", env=environ)
    assert same.returncode == 0 and same.stdout.splitlines()[-1].strip() == "the same", same.stdout

    with prod.engine().begin() as connection:  # by hand on prod
        connection.execute(text("ALTER TABLE customers ADD COLUMN fax VARCHAR(20) DEFAULT 'none'"))
        connection.execute(text("DROP INDEX ix_customers_tax_id"))
    found = schemactl(repo_copy, "diff", "staging", "prod", "--json", env=environ)
    assert found.returncode == 1
    report = json.loads(found.stdout)
    assert report["differences"] == [
        "extra column customers.fax (VARCHAR(20), nullable)",
        "missing index ix_customers_tax_id on customers",
    ]
    assert (report["left"], report["right"], report["by_family"]) == ("staging", "prod", False)

    # PostgreSQL and MariaDB at the same revision: the same in meaning (serials, unique
    # indexes, TINYINT(1) booleans, enums all as the other has them).
    across = schemactl(repo_copy, "diff", "staging", "mariadb", env=environ)
    assert across.returncode == 0, across.stdout
    assert "two kinds of database: types compared by family" in across.stdout
    with maria.engine().begin() as connection:
        connection.execute(text("ALTER TABLE customers MODIFY name VARCHAR(100) NOT NULL"))
    narrowed = schemactl(repo_copy, "diff", "staging", "mariadb", "--json", env=environ)
    assert json.loads(narrowed.stdout)["differences"] == [
        "column customers.name is STRING(100), expected STRING(200)"
    ]

    models = schemactl(repo_copy, "diff", "dev", "--models", env=environ)
    assert models.returncode == 0, models.stdout + models.stderr
    with dev.engine().begin() as connection:
        connection.execute(text("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)"))
    drifted = schemactl(repo_copy, "diff", "dev", "--models", "--json", env=environ)
    assert json.loads(drifted.stdout)["differences"] == [
        "extra column users.nickname (VARCHAR(20), nullable)"
    ]
    bad = schemactl(repo_copy, "diff", "staging", env=environ)
    assert bad.returncode == 2 and "--models" in bad.stderr
    unknown = schemactl(repo_copy, "diff", "staging", "nowhere", env=environ)
    assert unknown.returncode == 1 and "nowhere" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1


def render_in_browser(page: Path, tmp_path: Path, shot: Path | None = None) -> str | None:
    """The DOM headless Chromium builds from ``page`` (None: no Chromium here; Debian's
    package chromium installs one). Flags as this machine needs them: no sandbox as root,
    no background networking on a closed network."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ]
    if shot is not None:
        subprocess.run(
            [chromium, *flags, f"--screenshot={shot}", "--window-size=1400,1000", page.as_uri()],
            capture_output=True,
            timeout=120,
        )
    done = subprocess.run(
        [chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.postgresql
def test_drift_that_cannot_be_compared_is_said_not_counted(repo_copy, throwaway_database):
    """A user who may not create databases (the scratch one verify needs): envs reads the
    database, says why drift was not compared, and does not count it as drift."""
    import uuid

    db = throwaway_database("postgresql")
    role = f"schemactl_t_{uuid.uuid4().hex[:8]}"
    admin = db.engine()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN NOCREATEDB"))
    try:
        assert (
            schemactl(
                repo_copy, "--env", "staging", "upgrade", env={"BILLGEN_STAGING_URL": url_of(db)}
            ).returncode
            == 0
        )
        with admin.begin() as connection:
            connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
        weak = url_of(db).replace("postgres@", f"{role}@", 1)
        assert role in weak
        shown = schemactl(repo_copy, "envs", "--json", env={"BILLGEN_STAGING_URL": weak})
        found = {(t["environment"], t["database"]): t for t in json.loads(shown.stdout)["targets"]}
        staging = found[("staging", "alembic")]
        assert staging["reachable"] and staging["current"] == [HEAD], staging
        assert staging["drift"] is None and "create" in staging["drift_not_compared"].lower()
        assert staging["ok"]  # at head (staging has no releases), drift not counted
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"REASSIGN OWNED BY {role} TO postgres"))
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))
        admin.dispose()
