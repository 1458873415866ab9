"""Write a synthetic Alembic project with N revisions, for timing schemactl against Alembic.

The history is shaped like a team's: runs of trunk revisions, and every few dozen revisions
two labelled feature branches off the trunk, joined again by a merge. Each revision creates a
table, adds a column, or adds an index. File names follow the repo's NNNN_<rev>_<slug>.py.

    python benchmarks/generate.py 1000 /tmp/history-1000
    python benchmarks/generate.py 1000 /tmp/importing-1000 --import-cost-ms 10

With --import-cost-ms N each revision file imports `bench_app` afresh, a module whose import
costs about N ms of CPU time (measured as the process's CPU time, so a loaded machine does not
make it cheaper): the cost real revision files pay when they import their application's
models. Every environment renders offline: dev (SQLite), prod (PostgreSQL), maria (MariaDB);
plain Alembic takes the dialect as `-x dialect=NAME`.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

TRUNK_RUN = 30  # trunk revisions between feature branches
BRANCH_LENGTH = 5  # revisions on each of the two feature branches

ALEMBIC_INI = """\
[alembic]
script_location = %(here)s/migrations
version_locations = %(here)s/versions
path_separator = os

[schemactl]
default_env = dev

[schemactl.env.dev]
dialect = sqlite
url_env = BENCH_DEV_URL
default_url = sqlite:///%(here)s/dev.db

[schemactl.env.prod]
dialect = postgresql
url_env = BENCH_PROD_URL

[schemactl.env.maria]
dialect = mariadb
url_env = BENCH_MARIA_URL
"""

ENV_PY = '''\
"""A minimal env.py: offline only needs the dialect (the environment's, when schemactl runs
it; else `-x dialect=NAME`, postgresql by default); online uses the dev SQLite file."""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
environment = config.attributes.get("schemactl.environment")
dialect = (
    environment.dialect
    if environment is not None
    else context.get_x_argument(as_dictionary=True).get("dialect", "postgresql")
)

if context.is_offline_mode():
    context.configure(dialect_name=dialect, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = "sqlite:///" + config.get_main_option("here") + "/dev.db"
    with create_engine(url, poolclass=pool.NullPool).connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
'''

SCRIPT_MAKO = '"""${message}"""\n'

# Stands for an application's models module: importing it costs ~N ms of CPU. Each revision
# file imports it afresh, so each one pays.
BENCH_APP = """\
\"\"\"Costs about {ms} ms of CPU to import (CPU time, whatever else the machine runs).\"\"\"
import time

_end = time.process_time() + {ms} / 1000
while time.process_time() < _end:
    pass
"""
IMPORT_APP = """\
import sys

sys.modules.pop("bench_app", None)  # imported afresh: ~{ms} ms, like an app's models
import bench_app  # noqa: E402, F401
"""

REVISION = '''\
"""{message}"""

{imports}import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''


class History:
    def __init__(self, folder: Path, imports: str = "") -> None:
        self.folder = folder
        self.imports = imports
        self.count = 0
        self.depth: dict[str, int] = {}
        self.tables: list[str] = []

    def add(self, down: str | tuple[str, ...] | None, label: str | None = None) -> str:
        self.count += 1
        rev = f"{self.count:012x}"
        parents = (down,) if isinstance(down, str) else tuple(down or ())
        self.depth[rev] = 1 + max((self.depth[p] for p in parents), default=0)
        if len(parents) > 1:
            message, up, down_body = f"Merge {', '.join(parents)}", "pass", "pass"
        else:
            message, up, down_body = self._change(rev)
        body = REVISION.format(
            imports=self.imports,
            message=message,
            rev=rev,
            down=down,
            labels=(label,) if label else None,
            upgrade=textwrap.indent(up, "    "),
            downgrade=textwrap.indent(down_body, "    "),
        )
        name = f"{self.depth[rev]:04d}_{rev}_{message.split()[0].lower()}.py"
        (self.folder / "versions" / name).write_text(body)
        return rev

    def _change(self, rev: str) -> tuple[str, str, str]:
        kind = self.count % 3
        if kind == 0 or not self.tables:
            table = f"t_{rev}"
            self.tables.append(table)
            return (
                f"Create {table}",
                f'op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True), '
                f'sa.Column("name", sa.String(50)))',
                f'op.drop_table("{table}")',
            )
        table = self.tables[self.count % len(self.tables)]
        if kind == 1:
            return (
                f"Add {table}.c_{rev}",
                f'op.add_column("{table}", sa.Column("c_{rev}", sa.Integer))',
                f'op.drop_column("{table}", "c_{rev}")',
            )
        return (
            f"Index {table}.name",
            f'op.create_index("ix_{rev}", "{table}", ["name"])',
            f'op.drop_index("ix_{rev}", table_name="{table}")',
        )


def generate(size: int, folder: Path, import_cost_ms: int = 0) -> Path:
    (folder / "versions").mkdir(parents=True)
    (folder / "migrations").mkdir()
    ini = ALEMBIC_INI
    if import_cost_ms:
        # The project folder on sys.path, as an app's own package would be.
        ini = ini.replace(
            "path_separator = os\n", "path_separator = os\nprepend_sys_path = %(here)s\n"
        )
        (folder / "bench_app.py").write_text(BENCH_APP.format(ms=import_cost_ms))
    (folder / "alembic.ini").write_text(ini)
    (folder / "migrations" / "env.py").write_text(ENV_PY)
    (folder / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)
    imports = IMPORT_APP.format(ms=import_cost_ms) if import_cost_ms else ""
    history = History(folder, imports)
    head: str | None = None
    feature = 0
    while history.count < size:
        for _ in range(min(TRUNK_RUN, size - history.count)):
            head = history.add(head)
        if size - history.count < 2 * BRANCH_LENGTH + 1:
            continue
        feature += 1
        tips = []
        for side in ("a", "b"):
            tip = history.add(head, label=f"feature_{feature}_{side}")
            for _ in range(BRANCH_LENGTH - 1):
                tip = history.add(tip)
            tips.append(tip)
        head = history.add(tuple(tips))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--import-cost-ms", type=int, default=0)
    args = parser.parse_args()
    generate(args.size, args.folder, args.import_cost_ms)
    print(f"{args.size} revisions in {args.folder}")


if __name__ == "__main__":
    main()
