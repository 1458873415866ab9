"""The safety corpus (tests/safety_cases.py), judged twice: offline by lint's static rules,
and on the real server by running each revision with rows (tools/proof/measure) and, where
the danger is to the application rather than the table, the application's own query after
it. Every case's verdict from its public source must be what the server shows; lint must
agree with the server on every case (recall and false alarms reported per dialect)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.config import load_project
from tools.dialects import script_dialect
from tools.dialects.observe import run
from tools.history.load import Range, load_history
from tools.lint.engine import lint_range
from tools.lint.findings import ERROR, Finding
from tools.proof import scratch
from tools.proof.measure import Measured, measure_at

from .conftest import admin_url
from .safety_cases import CASES, Case, fill

ENVIRONMENT = {"postgresql": "prod", "mariadb": "mariadb"}
SETUP = "5afe00000000"

HEADER = '''"""{message}"""

import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None

'''


# The cases' downgrades are not written (each does nothing): whether a revision can be
# undone is the irreversible rule's, tested in tests/unit/test_lint_rules.py.
NOT_JUDGED = {"irreversible"}


def revision_id(number: int) -> str:
    return f"5afe{number:08d}"


def setup_revision(cases: list[Case]) -> str:
    """One revision making each case's tables {t} and {o}, three rows in each, and the
    case's own setup statements."""
    lines = ["def upgrade():"]
    for number, case in enumerate(cases, 1):
        body = """\
    owners = op.create_table(
        "{o}",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
    )
    items = op.create_table(
        "{t}",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sku", sa.String(64)),
        sa.Column("price", sa.Numeric(10, 2)),
        sa.Column("qty", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("note", sa.Text()),
        sa.Column("owner_id", sa.Integer()),
        sa.Column("status", sa.Enum("new", "paid", name="st_{t}")),
        sa.Column("created_at", sa.DateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_{t}"),
    )
    op.create_index("ix_{t}_sku", "{t}", ["sku"])
    op.bulk_insert(owners, [{"id": i, "name": f"owner {i}"} for i in (1, 2, 3)])
    op.bulk_insert(items, [
        {"id": i, "name": f"item {i}", "sku": f"sku-{i}", "price": i * 1.5, "qty": i,
          "note": f"note {i}", "owner_id": i, "status": ("new", "paid")[i % 2],
          "created_at": datetime.datetime(2026, 1, i, 12, 30)}
        for i in (1, 2, 3)
    ])
"""
        lines.append(fill(body, number))
        lines += [f"    op.execute({fill(sql, number)!r})" for sql in case.setup]
    lines += ["", "", "def downgrade():", "    pass", ""]
    header = HEADER.format(message="The corpus's tables", revision=SETUP, down="68cfa590ad28")
    return header + "\n".join(lines)


def case_revision(number: int, case: Case, down: str) -> str:
    header = HEADER.format(
        message=f"{case.name} ({case.source})", revision=revision_id(number), down=down
    )
    if case.allow:
        header += f"# schemactl: allow {case.allow}\n\n"
    return header + f"def upgrade():\n{case.body(number)}\n\n\ndef downgrade():\n    pass\n"


@dataclass
class Judged:
    number: int
    case: Case
    findings: list[Finding]
    measured: tuple[Measured, ...]
    probe_error: str | None

    @property
    def expected(self) -> bool:
        return self.case.danger is not None

    @property
    def static(self) -> bool:
        return any(not f.silenced for f in self.findings)

    @property
    def why_static(self) -> list[str]:
        return [f"{f.severity} {f.rule}: {f.message}" for f in self.findings]

    @property
    def exclusive(self) -> bool:
        """ACCESS EXCLUSIVE held on an existing table (PostgreSQL)."""
        return any("ACCESS EXCLUSIVE" in dict(m.observed.locks).values() for m in self.measured)

    @property
    def server(self) -> bool:
        """What the server showed: a rewrite or copy, writes blocked, a refusal, or the
        application's query failing afterwards; for a statement whose CONCURRENTLY form
        holds less, ACCESS EXCLUSIVE held."""
        concurrent_form = self.case.danger == "exclusive" and self.exclusive
        return (
            any(m.notable for m in self.measured) or self.probe_error is not None or concurrent_form
        )

    def shows(self) -> bool:
        """Whether the server shows the kind of danger the source names (or none)."""
        danger = self.case.danger
        rewrites = any(m.rewrites for m in self.measured)
        blocks = any(m.blocks_writes or m.rewrites for m in self.measured)
        fails = any(m.failed for m in self.measured)
        broken = self.probe_error is not None
        return {
            None: not (rewrites or blocks or fails or broken),
            "rewrite": rewrites and not fails,
            "blocks": blocks and not fails,
            "fails": fails,
            "breaks": broken and not fails,
            "exclusive": self.exclusive and not (rewrites or blocks or fails or broken),
        }[danger]

    def __str__(self) -> str:
        said = [m.words() for m in self.measured] + [f"probe: {self.probe_error}"]
        return f"{self.case.dialect} {self.case.name}: server {said}; lint {self.why_static}"


def judge(repo: Path, dialect: str) -> list[Judged]:
    cases = [c for c in CASES if c.dialect == dialect]
    versions = repo / "versions"
    (versions / f"0011_{SETUP}_corpus_tables.py").write_text(setup_revision(cases))
    down = SETUP
    for number, case in enumerate(cases, 1):
        rev = revision_id(number)
        (versions / f"{11 + number:04d}_{rev}_case.py").write_text(
            case_revision(number, case, down)
        )
        down = rev
    project = load_project(repo / "alembic.ini")
    history = load_history(project)
    kind = script_dialect(dialect)
    revisions = tuple(revision_id(n) for n in range(1, len(cases) + 1))
    environment = project.environment(ENVIRONMENT[dialect])
    findings = lint_range(history, kind, revisions, environment=environment)
    span = Range((SETUP,), (revisions[-1],), revisions)
    with scratch.scratch_database(kind, admin_url(dialect), prefix="schemactl_corpus") as url:
        measured = measure_at(project, history, kind, url, span, rows_per_table=0, keep_going=True)
        probes = dict(_probes(kind, url, cases))
    return [
        Judged(
            number,
            case,
            [f for f in findings if f.revision == revision_id(number) and f.rule not in NOT_JUDGED],
            measured.get(revision_id(number), ()),
            probes.get(number),
        )
        for number, case in enumerate(cases, 1)
    ]


def _probes(kind, url, cases: list[Case]) -> Iterator[tuple[int, str]]:
    from sqlalchemy.exc import DBAPIError

    engine = kind.engine(kind.session_url(url))
    try:
        with engine.connect() as connection:
            for number, case in enumerate(cases, 1):
                if case.probe is None:
                    continue
                try:
                    run(connection, fill(case.probe, number))
                except DBAPIError as err:
                    yield number, kind.describe_error(err.orig)
                connection.rollback()
    finally:
        engine.dispose()


def test_the_corpus_is_large_and_names_its_sources():
    names = [(c.dialect, c.name) for c in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 80
    assert sum(c.dialect == "mariadb" for c in CASES) >= 20
    assert all(c.source.split(":")[0].split()[0] in SOURCES for c in CASES)
    for dialect in ("postgresql", "mariadb"):
        ours = [c for c in CASES if c.dialect == dialect]
        assert sum(c.danger is None for c in ours) >= 10, dialect
        assert sum(c.danger is not None for c in ours) >= 10, dialect


SOURCES = {"SM", "ATLAS", "DML", "SQUAWK", "PG", "MDB"}


@pytest.mark.slow(30)
@pytest.mark.parametrize("dialect", ["postgresql", "mariadb"])
def test_the_server_and_lint_agree_on_every_case(repo_copy, dialect):
    """Each case runs with rows on the server; it is as dangerous (or as safe) as its source
    says: rewrites, blocks writes, fails, or breaks the application's query, or none of
    these. Static lint then agrees with the server on every case: recall and false alarms
    are printed per dialect (the bar: recall >= 95%, false alarms <= 3%, none at error
    level; every disagreement is listed)."""
    judged = judge(repo_copy, dialect)
    wrong = [str(j) for j in judged if not j.shows()]
    assert not wrong, "\n".join(wrong)
    dangerous = [j for j in judged if j.server]
    safe = [j for j in judged if not j.server]
    missed = [j for j in dangerous if not j.static]
    alarms = [j for j in safe if j.static]
    print(
        f"\n{dialect}: {len(judged)} cases, recall {1 - len(missed) / len(dangerous):.0%} "
        f"({len(dangerous) - len(missed)}/{len(dangerous)}), false alarms "
        f"{len(alarms) / len(safe):.0%} ({len(alarms)}/{len(safe)})"
    )
    assert not missed and not alarms, "\n".join(str(j) for j in missed + alarms)
    assert not [f for j in safe for f in j.findings if f.severity == ERROR]
    fixes = {f.fix for j in dangerous for f in j.findings}
    unproven = _unproven(fixes, judged, dialect)
    assert not unproven, "\n".join(unproven)


# Every fix lint gives on the corpus is proven or says what to weigh. A fix's words -> the
# cases of the corpus that carry its form out (each measured safe on the server, in the same
# run); a fix that begins with one of WEIGHED proposes no form, it says what to weigh.
PROVEN = {
    "postgresql": {
        "op.create_index_online": ["online-index"],
        "op.drop_index_online": ["online-drop-index"],
        "op.create_foreign_key_online or op.create_check_constraint_online": [
            "online-foreign-key",
            "online-check",
        ],
        "op.create_unique_constraint_online": ["online-unique"],
        "op.set_not_null_online": ["online-not-null"],
        "op.backfill_online": ["online-backfill"],
        "postgresql_concurrently=True on drop_index": ["drop-index-concurrently"],
        "write DROP INDEX CONCURRENTLY": ["drop-index-concurrently"],
        "postgresql_concurrently=True": ["index-concurrently"],
        "write CREATE INDEX CONCURRENTLY": ["raw-index-concurrently"],
        "REINDEX ... CONCURRENTLY": ["reindex-concurrently"],
        "add it NOT VALID": ["foreign-key-not-valid", "raw-check-not-valid", "validate-constraint"],
        "USING INDEX": ["unique-via-concurrent-index", "primary-key-via-concurrent-index"],
        "without a default (or with a constant one)": [
            "add-nullable-column",
            "constant-default",
            "backfill-alone",
            "volatile-default-set-later",
        ],
        "a sequence as its default": ["sequence-default-later", "backfill-alone"],
        "put it inside `with op.get_context().autocommit_block():`": ["index-concurrently"],
        "put the data change in a revision of its own": ["backfill-alone"],
        "add a new column, backfill": ["add-nullable-column", "backfill-alone"],
        "give it a server_default, or add it nullable": ["constant-default", "add-nullable-column"],
        "give it a DEFAULT, or add it nullable": ["stable-default-now", "add-nullable-column"],
        "add the new name, write to both": ["add-nullable-column"],
        "use postgresql.JSONB": ["jsonb-column"],
        "CHECK (col IS NOT NULL) NOT VALID": [
            "raw-check-not-valid",
            "validate-constraint",
            "set-not-null-after-valid-check",
        ],
    },
    "mariadb": {
        "op.create_foreign_key_online": ["online-foreign-key"],
        "op.create_check_constraint_online": ["online-check"],
        "op.backfill_online": ["online-backfill"],
        "add it VIRTUAL": ["virtual-generated-column"],
        "add a new column, backfill it in batches": ["add-nullable-column", "backfill-alone"],
        "ALGORITHM=INSTANT or LOCK=NONE": ["asks-instant", "asks-lock-none"],
        "foreign_key_checks = 0": ["foreign-key-without-checks"],
        "give it a server_default, or add it nullable": ["constant-default", "add-nullable-column"],
        "give it a DEFAULT, or add it nullable": ["column-in-the-middle", "constant-default"],
        "add the new name, write to both": ["add-nullable-column"],
    },
}
WEIGHED = ("weigh ", "schedule it", "check ", "release the code", "PostgreSQL cannot")


def _unproven(fixes: set[str], judged: list[Judged], dialect: str) -> list[str]:
    """The fixes neither proven by a safe case of the corpus nor saying what to weigh."""
    safe = {j.case.name for j in judged if not j.server}
    found = []
    for fix in sorted(fixes):
        forms = [cases for words, cases in PROVEN[dialect].items() if words in fix]
        if any(set(cases) <= safe for cases in forms):
            continue
        if not forms and fix.startswith(WEIGHED):
            continue
        found.append(fix)
    return found
