"""Write a synthetic Alembic project with N revisions, for timing schemactl against Alembic.

The history is shaped like a team's: runs of trunk revisions, and every few dozen revisions
two labelled feature branches off the trunk, joined again by a merge. Each revision creates a
table, adds a column, or adds an index. File names follow the repo's NNNN_<rev>_<slug>.py.

    python benchmarks/generate.py 1000 /tmp/history-1000
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
"""

ENV_PY = '''\
"""A minimal env.py: offline only needs the dialect; online uses the dev SQLite file."""

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
dialect = context.get_x_argument(as_dictionary=True).get("dialect", "postgresql")

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

REVISION = '''\
"""{message}"""

import sqlalchemy as sa
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
    def __init__(self, folder: Path) -> None:
        self.folder = folder
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


def generate(size: int, folder: Path) -> Path:
    (folder / "versions").mkdir(parents=True)
    (folder / "migrations").mkdir()
    (folder / "alembic.ini").write_text(ALEMBIC_INI)
    (folder / "migrations" / "env.py").write_text(ENV_PY)
    (folder / "migrations" / "script.py.mako").write_text(SCRIPT_MAKO)
    history = History(folder)
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
    args = parser.parse_args()
    generate(args.size, args.folder)
    print(f"{args.size} revisions in {args.folder}")


if __name__ == "__main__":
    main()
