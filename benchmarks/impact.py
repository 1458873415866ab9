"""What a release does to a busy table: the longest writer stall, plain form against safe form.

For each kind of change, on PostgreSQL and on MariaDB: a table of --rows rows (1,000,000 by
default) on a throwaway database, a writer inserting new rows and updating existing ones one
statement at a time (autocommit, as an application writes), and the change's release script,
rendered by schemactl and applied with the real client (psql, mariadb) while the writer runs.
The script is rendered twice from one revision: for an environment with safe = false (the
plain form, Alembic's own operation) and for one without (the online operation's safe
form). Each run starts from a fresh database.

Reported per change and form: the longest time one write waited while the script ran (the
stall), the writes' p99 latency, the script's own time; and whether both forms ended with the
same schema and the same data in the rows that were there before. Target: the safe form's
longest stall under 1 s.

    python benchmarks/impact.py                                  # 1,000,000 rows, all kinds
    python benchmarks/impact.py --rows 100000 --kinds index,not_null --dialects postgresql

The servers are the scratch servers schemactl proves on ($SCHEMACTL_SCRATCH_POSTGRESQL_URL,
$SCHEMACTL_SCRATCH_MARIADB_URL, else this repository's alembic.ini). Nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402

from tools.config import load_project  # noqa: E402
from tools.dialects import ScriptDialect, script_dialect  # noqa: E402
from tools.proof.scratch import schema_of, scratch_database  # noqa: E402
from tools.proof.snapshot import compare  # noqa: E402

TARGET_S = 1.0
BIN = Path(sys.executable).parent

# Each change: its upgrade (the online operation), and its downgrade.
CHANGES: dict[str, tuple[str, str]] = {
    "index": (
        'op.create_index_online("ix_items_qty", "items", ["qty"])',
        'op.drop_index_online("ix_items_qty", table_name="items")',
    ),
    "drop_index": (
        'op.drop_index_online("ix_items_note", table_name="items")',
        'op.create_index_online("ix_items_note", "items", ["note"])',
    ),
    "foreign_key": (
        'op.create_foreign_key_online("fk_items_owner", "items", "owners", ["owner_id"], ["id"])',
        'op.drop_constraint("fk_items_owner", "items", type_="foreignkey")',
    ),
    "check": (
        'op.create_check_constraint_online("ck_items_qty", "items", "qty >= 0")',
        'op.drop_constraint("ck_items_qty", "items", type_="check")',
    ),
    "unique": (
        'op.create_unique_constraint_online("uq_items_sku", "items", ["sku"])',
        'op.drop_constraint("uq_items_sku", "items", type_="unique")',
    ),
    "not_null": (
        'op.set_not_null_online("items", "email", existing_type=sa.String(100))',
        'op.alter_column("items", "email", existing_type=sa.String(100), nullable=True)',
    ),
    "backfill": (
        'op.backfill_online("items", {"qty2": "qty"})',
        'op.execute("UPDATE items SET qty2 = NULL")',
    ),
}

SETUP = '''"""the busy table"""

import sqlalchemy as sa
from alembic import op

revision = "be0c00000001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(50), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(40), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(100)),
        sa.Column("note", sa.String(100)),
        sa.Column("qty2", sa.Integer()),
    )
    op.create_index("ix_items_note", "items", ["note"])


def downgrade():
    op.drop_table("items")
    op.drop_table("owners")
'''

CHANGE = '''"""{kind}"""

import sqlalchemy as sa
from alembic import op

revision = "be0c00000002"
down_revision = "be0c00000001"
branch_labels = None
depends_on = None


def upgrade():
    {upgrade}


def downgrade():
    {downgrade}
'''

INI = """[alembic]
script_location = {repo}/tools/alembic
version_locations = %(here)s/versions
path_separator = os
prepend_sys_path = %(here)s
target_metadata = bench_models:metadata

[schemactl]
default_env = postgresql_safe

[schemactl.env.postgresql_safe]
dialect = postgresql
url_env = BENCH_POSTGRESQL_URL

[schemactl.env.postgresql_plain]
dialect = postgresql
url_env = BENCH_POSTGRESQL_URL
safe = false

[schemactl.env.mariadb_safe]
dialect = mariadb
url_env = BENCH_MARIADB_URL

[schemactl.env.mariadb_plain]
dialect = mariadb
url_env = BENCH_MARIADB_URL
safe = false
"""

# The rows: every one valid for every change (a known owner, a unique sku, qty >= 0, an
# email), so each change succeeds on them.
FILL = {
    "postgresql": (
        "INSERT INTO owners SELECT g, 'owner ' || g FROM generate_series(1, 100) g;"
        "INSERT INTO items (id, owner_id, sku, qty, email) SELECT g, g % 100 + 1, 'sku-' || g, "
        "g % 50, 'u' || g || '@example.com' FROM generate_series(1, {rows}) g;"
        "ANALYZE owners; ANALYZE items"
    ),
    "mariadb": (
        "INSERT INTO owners SELECT seq, CONCAT('owner ', seq) FROM seq_1_to_100;"
        "INSERT INTO items (id, owner_id, sku, qty, email) SELECT seq, seq % 100 + 1, "
        "CONCAT('sku-', seq), seq % 50, CONCAT('u', seq, '@example.com') FROM seq_1_to_{rows};"
        "ANALYZE TABLE owners, items"
    ),
}
# What the rows that were there before hold (the writer's note column left out).
DIGEST = {
    "postgresql": (
        "SELECT count(*), sum(hashtext(concat_ws('|', id, owner_id, sku, qty, email, qty2)))"
        " FROM items WHERE id <= {rows}"
    ),
    "mariadb": (
        "SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, owner_id, sku, qty, email, qty2)))"
        " FROM items WHERE id <= {rows}"
    ),
}


@dataclass
class Writer:
    """Writes one statement at a time in autocommit, timing each, until stopped."""

    url: URL
    kind: ScriptDialect
    rows: int
    deadline_s: float = 600.0
    writes: list[tuple[float, float]] = field(default_factory=list)  # (start, end)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        engine = self.kind.engine(self.url, isolation_level="AUTOCOMMIT")
        chosen = random.Random(7)
        began = time.perf_counter()
        next_id = 10 * self.rows + 1
        try:
            with engine.connect() as connection:
                while not self.stop.is_set() and time.perf_counter() - began < self.deadline_s:
                    start = time.perf_counter()
                    try:
                        if next_id % 2:
                            connection.execute(
                                text(
                                    "INSERT INTO items (id, owner_id, sku, qty, email, qty2) "
                                    "VALUES (:id, 1, :sku, 1, 'w@example.com', 1)"
                                ),
                                {"id": next_id, "sku": f"w-{next_id}"},
                            )
                        else:
                            connection.execute(
                                text("UPDATE items SET note = 'written' WHERE id = :id"),
                                {"id": chosen.randint(1, self.rows)},
                            )
                    except Exception as err:  # a write the change refused: counted, shown
                        self.errors.append(str(getattr(err, "orig", err)).splitlines()[0])
                    next_id += 1
                    self.writes.append((start, time.perf_counter()))
        finally:
            engine.dispose()


@dataclass(frozen=True)
class Outcome:
    stall_s: float
    p99_ms: float
    script_s: float
    writes: int
    errors: int
    ok: bool
    said: str
    schema: object
    digest: tuple[object, ...]


def render(project: Path, environment: str, start: str, end: str, out: Path) -> Path:
    subprocess.run(
        [
            str(BIN / "schemactl"),
            "sql",
            "--env",
            environment,
            "--from",
            start,
            "--to",
            end,
            "--out",
            str(out),
        ],
        cwd=project,
        check=True,
        capture_output=True,
    )
    return out / "upgrade.sql"


def apply(kind: ScriptDialect, url: URL, script: Path) -> subprocess.CompletedProcess[str]:
    command = kind.client_command(url, script)
    env = {**os.environ, **command.env}
    if command.stdin is None:
        return subprocess.run(command.args, capture_output=True, text=True, env=env)
    with command.stdin.open() as stdin:
        return subprocess.run(command.args, stdin=stdin, capture_output=True, text=True, env=env)


def one_run(
    dialect: str, form: str, project: Path, server: URL, rows: int, scripts: dict[str, Path]
) -> Outcome:
    kind = script_dialect(dialect)
    with scratch_database(kind, server, prefix="schemactl_impact") as url:
        made = apply(kind, url, scripts["setup"])
        assert made.returncode == 0, made.stderr
        engine = kind.engine(url)
        with engine.begin() as connection:
            for statement in FILL[dialect].format(rows=rows).split(";"):
                connection.execute(text(statement))
        engine.dispose()
        writer = Writer(url, kind, rows)
        thread = threading.Thread(target=writer.run, daemon=True)
        thread.start()
        time.sleep(0.5)  # the writer at its pace before the release
        began = time.perf_counter()
        applied = apply(kind, url, scripts[form])
        ended = time.perf_counter()
        time.sleep(0.3)
        writer.stop.set()
        thread.join()
        during = [(s, e) for s, e in writer.writes if s < ended and e > began]
        latencies = sorted(e - s for s, e in during) or [0.0]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        engine = kind.engine(url)
        with engine.connect() as connection:
            digest = tuple(connection.execute(text(DIGEST[dialect].format(rows=rows))).one())
        engine.dispose()
        return Outcome(
            stall_s=max(latencies),
            p99_ms=p99 * 1000,
            script_s=ended - began,
            writes=len(during),
            errors=len(writer.errors),
            ok=applied.returncode == 0,
            said=_last_line(applied.stderr or applied.stdout),
            schema=schema_of(url),
            digest=digest,
        )


def _cells(outcome: Outcome, width: int) -> str:
    return f"{outcome.stall_s:>{width}.3f}s {outcome.p99_ms:>7.1f}ms {outcome.script_s:>7.2f}s"


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else ""


def servers() -> dict[str, URL]:
    configured = load_project(REPO / "alembic.ini").scratch_urls
    return {
        dialect: make_url(
            os.environ.get(f"SCHEMACTL_SCRATCH_{dialect.upper()}_URL") or configured[dialect]
        )
        for dialect in ("postgresql", "mariadb")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kinds", default=",".join(CHANGES))
    parser.add_argument("--dialects", default="postgresql,mariadb")
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(CHANGES))
    if unknown:
        parser.error(f"--kinds: {', '.join(unknown)} unknown; use some of {', '.join(CHANGES)}")
    at = servers()
    failed = False
    with tempfile.TemporaryDirectory(prefix="schemactl-impact-") as tmp:
        project = Path(tmp)
        (project / "versions").mkdir()
        (project / "bench_models.py").write_text(
            "from sqlalchemy import MetaData\n\nmetadata = MetaData()\n"
        )
        (project / "alembic.ini").write_text(INI.format(repo=REPO))
        (project / "versions" / "0001_be0c00000001_setup.py").write_text(SETUP)
        print(
            f"{args.rows:,} rows; longest writer stall and p99 write latency while each script ran"
        )
        for dialect in args.dialects.split(","):
            kind = script_dialect(dialect)
            print(f"\n{kind.title}")
            print(
                f"{'change':<12} {'plain: stall':>13} {'p99':>9} {'script':>8}   "
                f"{'safe: stall':>12} {'p99':>9} {'script':>8}   same end   target"
            )
            for change in kinds:
                upgrade, downgrade = CHANGES[change]
                (project / "versions" / "0002_be0c00000002_change.py").write_text(
                    CHANGE.format(kind=change, upgrade=upgrade, downgrade=downgrade)
                )
                out = project / "out" / dialect / change
                scripts = {
                    "setup": render(
                        project, f"{dialect}_safe", "base", "be0c00000001", out / "setup"
                    ),
                    "plain": render(
                        project, f"{dialect}_plain", "be0c00000001", "heads", out / "plain"
                    ),
                    "safe": render(
                        project, f"{dialect}_safe", "be0c00000001", "heads", out / "safe"
                    ),
                }
                plain = one_run(dialect, "plain", project, at[dialect], args.rows, scripts)
                safe = one_run(dialect, "safe", project, at[dialect], args.rows, scripts)
                same = (
                    plain.ok
                    and safe.ok
                    and plain.digest == safe.digest
                    and not compare(plain.schema, safe.schema)  # type: ignore[arg-type]
                )
                met = safe.ok and safe.stall_s < TARGET_S
                failed = failed or not (met and same)
                print(
                    f"{change:<12} {_cells(plain, 12)}   {_cells(safe, 11)}"
                    f"   {'yes' if same else 'NO':<8}   {'met' if met else 'NOT met'}"
                )
                for form, outcome in (("plain", plain), ("safe", safe)):
                    if not outcome.ok:
                        print(f"    {form} script failed: {outcome.said}")
                    if outcome.errors:
                        print(f"    {form}: {outcome.errors} writes refused while it ran")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
