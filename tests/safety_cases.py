"""The safety corpus: revisions whose danger (or safety) public migration-safety sources
state, each run on the real server to check that verdict (tests/test_safety_corpus.py).

Every case works on tables of its own, made for it by a setup revision with three rows in
each, so that the cases can run one after another on one database without touching each
other: {t} (id, name, sku, price, qty, note, owner_id, status, created_at; an index
ix_{t}_sku) and {o} (id, name), whose ids the rows of {t} reference through owner_id.

A case's `danger` is what the server shows when the statement is dangerous:
- "rewrite": every row written again (PostgreSQL: a new relfilenode; MariaDB: a table
  copy, or a rebuild in place where ALGORITHM=NOCOPY is refused);
- "blocks": writes stopped while it goes through the rows (PostgreSQL: a lock of SHARE or
  stronger held on a table it scans; MariaDB: LOCK=SHARED or EXCLUSIVE the cheapest it
  accepts);
- "fails": the server refuses it with rows in the table;
- "breaks": it goes through, after which `probe` (what the running application, or the
  old schema's readers, still do) fails on the server;
- "exclusive": it holds ACCESS EXCLUSIVE on an existing table (reads and writes queue behind
  it while it waits for running queries) where a CONCURRENTLY form of it holds less;
- None: safe; its probe, if any, works afterwards.

Sources, by name:
- SM: strong_migrations (ankane/strong_migrations, README, "Checks" and "Safe by default");
- ATLAS: Atlas migration analyzers (atlasgo.io/lint/analyzers: destructive changes, data-
  dependent changes, backward-incompatible changes, concurrent index, table rewrites);
- DML: django-migration-linter (3YOURMIND/django-migration-linter, docs/incompatibilities);
- SQUAWK: squawk's rules (squawkhq.com/docs/rules);
- PG: the PostgreSQL 15 manual (ALTER TABLE "Notes" and lock levels, CREATE INDEX
  "Building Indexes Concurrently", 13.3 "Explicit Locking");
- MDB: the MariaDB manual ("InnoDB Online DDL Overview", "InnoDB Online DDL Operations with
  the INSTANT / NOCOPY / INPLACE Alter Algorithm", "ALTER TABLE", "Generated Columns").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    dialect: str
    source: str
    upgrade: str  # the body of upgrade(), with {t}, {o} for the case's tables
    danger: str | None
    probe: str | None = None  # SQL the application still runs afterwards ("breaks")
    setup: tuple[str, ...] = ()  # SQL run on the case's tables by the setup revision
    # A rule the revision silences, with its reason, as a developer who did what the rule
    # asks would (`# schemactl: allow RULE: reason`).
    allow: str = ""

    def body(self, number: int) -> str:
        return fill(self.upgrade, number)


def fill(text: str, number: int) -> str:
    return text.replace("{t}", f"t{number:02d}").replace("{o}", f"o{number:02d}")


def ex(sql: str) -> str:
    """op.execute of raw SQL."""
    return f"    op.execute({sql!r})"


def op(line: str) -> str:
    return f"    op.{line}"


AUTOCOMMIT = "    with op.get_context().autocommit_block():\n    "

PG = "postgresql"
MDB = "mariadb"


def online_cases(dialect: str) -> tuple[Case, ...]:
    """schemactl's online operations (tools/operations/online.py): the safe forms, on each
    server."""
    return (
        Case(
            "online-index",
            dialect,
            "SM: Adding an index non-concurrently, the safe form, as op.create_index_online",
            op('create_index_online("ix_{t}_name", "{t}", ["name"])'),
            None,
        ),
        Case(
            "online-drop-index",
            dialect,
            "SQUAWK: require-concurrent-index-deletion, the safe form, as op.drop_index_online",
            op('drop_index_online("ix_{t}_sku", table_name="{t}")'),
            None,
        ),
        Case(
            "online-foreign-key",
            dialect,
            "SM: Adding a foreign key, the safe form, as op.create_foreign_key_online",
            op('create_foreign_key_online("fk_{t}_owner", "{t}", "{o}", ["owner_id"], ["id"])'),
            None,
        ),
        Case(
            "online-check",
            dialect,
            "SM: Adding a check constraint, the safe form, as op.create_check_constraint_online "
            "(MariaDB: the table copied beside itself, writes going on)",
            op('create_check_constraint_online("ck_{t}_qty", "{t}", "qty >= 0")'),
            None,
        ),
        Case(
            "online-unique",
            dialect,
            "SM: Adding a unique constraint, the safe form, as op.create_unique_constraint_online",
            op('create_unique_constraint_online("uq_{t}_name", "{t}", ["name"])'),
            None,
            allow="unique-on-existing-table: checked, no duplicates",
        ),
        Case(
            "online-not-null",
            dialect,
            "SM: Setting NOT NULL, the safe form, as op.set_not_null_online (MDB: NULL to NOT "
            "NULL rebuilds the table in place, writes going on; there is no cheaper form)",
            op('set_not_null_online("{t}", "sku", existing_type=sa.String(64))'),
            "rewrite" if dialect == MDB else None,
        ),
        Case(
            "online-backfill",
            dialect,
            "SM: Backfilling data, in batches that each commit, as op.backfill_online",
            op('backfill_online("{t}", {"qty": "qty + 1"}, batch_size=2)'),
            None,
        ),
    )


CASES: tuple[Case, ...] = (
    # -- PostgreSQL: dangerous ------------------------------------------------------------
    Case(
        "index-not-concurrently",
        PG,
        "SM: Adding an index non-concurrently; SQUAWK: require-concurrent-index-creation",
        op('create_index("ix_{t}_name", "{t}", ["name"])'),
        "blocks",
    ),
    Case(
        "raw-index-not-concurrently",
        PG,
        "PG: CREATE INDEX, 'locks out writes (but not reads) on the table'",
        ex("CREATE INDEX ix_{t}_qty ON {t} (qty)"),
        "blocks",
    ),
    Case(
        "unique-index-not-concurrently",
        PG,
        "SM: Adding an index non-concurrently (unique); ATLAS: concurrent index",
        op('create_index("ux_{t}_name", "{t}", ["name"], unique=True)'),
        "blocks",
    ),
    Case(
        "unique-constraint",
        PG,
        "SM: Adding a unique constraint; SQUAWK: disallowed-unique-constraint",
        op('create_unique_constraint("uq_{t}_name", "{t}", ["name"])'),
        "blocks",
    ),
    Case(
        "raw-unique-constraint",
        PG,
        "SM: Adding a unique constraint; PG: ALTER TABLE ADD table_constraint",
        ex("ALTER TABLE {t} ADD CONSTRAINT uq_{t}_sku UNIQUE (sku)"),
        "blocks",
    ),
    Case(
        "foreign-key-validated",
        PG,
        "SM: Adding a foreign key; SQUAWK: adding-foreign-key-constraint",
        op('create_foreign_key("fk_{t}_owner", "{t}", "{o}", ["owner_id"], ["id"])'),
        "blocks",
    ),
    Case(
        "raw-foreign-key-validated",
        PG,
        "SM: Adding a foreign key; PG: ADD FOREIGN KEY takes SHARE ROW EXCLUSIVE",
        ex("ALTER TABLE {t} ADD CONSTRAINT fk_{t}_o FOREIGN KEY (owner_id) REFERENCES {o} (id)"),
        "blocks",
    ),
    Case(
        "check-validated",
        PG,
        "SM: Adding a check constraint; SQUAWK: constraint-missing-not-valid",
        op('create_check_constraint("ck_{t}_qty", "{t}", "qty >= 0")'),
        "blocks",
    ),
    Case(
        "raw-check-validated",
        PG,
        "SM: Adding a check constraint; PG: ALTER TABLE ADD CHECK scans the table",
        ex("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_name CHECK (name <> '')"),
        "blocks",
    ),
    Case(
        "set-not-null",
        PG,
        "SM: Setting NOT NULL on an existing column; SQUAWK: adding-not-nullable-field",
        op('alter_column("{t}", "sku", existing_type=sa.String(64), nullable=False)'),
        "blocks",
    ),
    Case(
        "raw-set-not-null",
        PG,
        "SM: Setting NOT NULL on an existing column; PG: SET NOT NULL scans the table",
        ex("ALTER TABLE {t} ALTER COLUMN note SET NOT NULL"),
        "blocks",
    ),
    Case(
        "integer-to-bigint",
        PG,
        "SM: Changing the type of a column; ATLAS: table rewrites; SQUAWK: changing-column-type",
        op('alter_column("{t}", "qty", existing_type=sa.Integer(), type_=sa.BigInteger())'),
        "rewrite",
    ),
    Case(
        "raw-numeric-scale",
        PG,
        "SM: Changing the type of a column (decimal scale); PG: ALTER TYPE rewrites",
        ex("ALTER TABLE {t} ALTER COLUMN price TYPE numeric(12, 4)"),
        "rewrite",
    ),
    Case(
        "varchar-narrowed",
        PG,
        "SM: Changing the type of a column (decreasing length); DML: ALTER_COLUMN",
        op('alter_column("{t}", "name", existing_type=sa.String(100), type_=sa.String(50))'),
        "rewrite",
    ),
    Case(
        "text-to-varchar",
        PG,
        "SM: Changing the type of a column (adding a limit); ATLAS: table rewrites",
        op('alter_column("{t}", "note", existing_type=sa.Text(), type_=sa.String(200))'),
        "rewrite",
    ),
    Case(
        "integer-to-text",
        PG,
        "SM: Changing the type of a column; PG: ALTER TYPE ... USING",
        ex("ALTER TABLE {t} ALTER COLUMN qty TYPE text USING qty::text"),
        "rewrite",
    ),
    Case(
        "volatile-default",
        PG,
        "SM: Adding a column with a volatile default value; PG: ADD COLUMN, volatile DEFAULT",
        op('add_column("{t}", sa.Column("score", sa.Float(), server_default=sa.text("random()")))'),
        "rewrite",
    ),
    Case(
        "raw-volatile-default",
        PG,
        "SM: Adding a column with a volatile default value; SQUAWK: adding-field-with-default",
        ex("ALTER TABLE {t} ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp()"),
        "rewrite",
    ),
    Case(
        "raw-uuid-default",
        PG,
        "SM: Adding a column with a volatile default value (gen_random_uuid)",
        ex("ALTER TABLE {t} ADD COLUMN token uuid DEFAULT gen_random_uuid()"),
        "rewrite",
    ),
    Case(
        "required-column-no-default",
        PG,
        "DML: NOT_NULL; SQUAWK: adding-required-field",
        op('add_column("{t}", sa.Column("tier", sa.Integer(), nullable=False))'),
        "fails",
    ),
    Case(
        "raw-required-column-no-default",
        PG,
        "DML: NOT_NULL; PG: ADD COLUMN NOT NULL fails on a table with rows",
        ex("ALTER TABLE {t} ADD COLUMN tier integer NOT NULL"),
        "fails",
    ),
    Case(
        "raw-bigserial",
        PG,
        "PG: ADD COLUMN with a serial type fills every row (volatile nextval default)",
        ex("ALTER TABLE {t} ADD COLUMN seq bigserial"),
        "rewrite",
    ),
    Case(
        "set-unlogged",
        PG,
        "PG: ALTER TABLE SET LOGGED/UNLOGGED rewrites the table",
        ex("ALTER TABLE {t} SET UNLOGGED"),
        "rewrite",
    ),
    Case(
        "replace-primary-key",
        PG,
        "ATLAS: table rewrites (primary key change); PG: ADD PRIMARY KEY builds its index",
        ex("ALTER TABLE {t} DROP CONSTRAINT pk_{t}, ADD PRIMARY KEY (id, name)"),
        "blocks",
    ),
    Case(
        "exclusion-constraint",
        PG,
        "SM: Adding an exclusion constraint; PG: ADD EXCLUDE builds an index under ACCESS EXCLUSIVE",
        ex("ALTER TABLE {t} ADD CONSTRAINT ex_{t}_name EXCLUDE USING btree (name WITH =)"),
        "blocks",
    ),
    Case(
        "backfill-after-ddl",
        PG,
        "SM: Backfilling data (not in the transaction of the schema change)",
        op('add_column("{t}", sa.Column("flag", sa.Boolean()))')
        + "\n"
        + ex("UPDATE {t} SET flag = true WHERE flag IS NULL"),
        "blocks",
    ),
    Case(
        "concurrently-in-transaction",
        PG,
        "PG: CREATE INDEX CONCURRENTLY 'cannot be executed inside a transaction block'",
        op('create_index("ix_{t}_note", "{t}", ["note"], postgresql_concurrently=True)'),
        "fails",
    ),
    Case(
        "json-column",
        PG,
        "SM: Adding a json column (no equality operator: DISTINCT, UNION, GROUP BY fail)",
        op('add_column("{t}", sa.Column("meta", sa.JSON()))'),
        "breaks",
        probe="SELECT DISTINCT meta FROM {t}",
    ),
    Case(
        "rename-column",
        PG,
        "SM: Renaming a column; DML: RENAME_COLUMN; SQUAWK: renaming-column",
        op('alter_column("{t}", "note", new_column_name="remark")'),
        "breaks",
        probe="SELECT note FROM {t}",
    ),
    Case(
        "raw-rename-column",
        PG,
        "SM: Renaming a column; ATLAS: backward-incompatible changes",
        ex("ALTER TABLE {t} RENAME COLUMN sku TO code"),
        "breaks",
        probe="SELECT sku FROM {t}",
    ),
    Case(
        "rename-table",
        PG,
        "SM: Renaming a table; DML: RENAME_TABLE; SQUAWK: renaming-table",
        op('rename_table("{o}", "{o}_old")'),
        "breaks",
        probe="SELECT id FROM {o}",
    ),
    Case(
        "drop-column",
        PG,
        "SM: Removing a column; DML: DROP_COLUMN; ATLAS: destructive changes",
        op('drop_column("{t}", "note")'),
        "breaks",
        probe="SELECT note FROM {t}",
    ),
    Case(
        "raw-drop-column",
        PG,
        "ATLAS: destructive changes; SQUAWK: ban-drop-column",
        ex("ALTER TABLE {t} DROP COLUMN price"),
        "breaks",
        probe="SELECT price FROM {t}",
    ),
    Case(
        "drop-table",
        PG,
        "DML: DROP_TABLE; ATLAS: destructive changes; SQUAWK: ban-drop-table",
        op('drop_table("{o}")'),
        "breaks",
        probe="SELECT id FROM {o}",
    ),
    Case(
        "drop-index-not-concurrently",
        PG,
        "SM: Removing an index non-concurrently; SQUAWK: require-concurrent-index-deletion",
        op('drop_index("ix_{t}_sku", table_name="{t}")'),
        "exclusive",
    ),
    Case(
        "raw-drop-index-not-concurrently",
        PG,
        "SQUAWK: require-concurrent-index-deletion; PG: DROP INDEX takes ACCESS EXCLUSIVE",
        ex("DROP INDEX ix_{t}_sku"),
        "exclusive",
    ),
    Case(
        "reindex-table",
        PG,
        "PG: REINDEX 'locks out writes but not reads of the table's parent table'",
        ex("REINDEX TABLE {t}"),
        "blocks",
    ),
    Case(
        "cluster-table",
        PG,
        "PG: CLUSTER rewrites the table under ACCESS EXCLUSIVE",
        ex("CLUSTER {t} USING ix_{t}_sku"),
        "rewrite",
    ),
    Case(
        "vacuum-full",
        PG,
        "PG: VACUUM FULL 'rewrites the entire contents of the table' under ACCESS EXCLUSIVE",
        AUTOCOMMIT + ex("VACUUM FULL {t}"),
        "rewrite",
    ),
    Case(
        "timestamp-to-date",
        PG,
        "SM: Changing the type of a column (timestamp to date); PG: ALTER TYPE rewrites",
        ex("ALTER TABLE {t} ALTER COLUMN created_at TYPE date"),
        "rewrite",
    ),
    Case(
        "add-column-not-null-unique",
        PG,
        "SM: Adding a unique constraint (inline, with the column); PG: UNIQUE builds an index",
        ex("ALTER TABLE {t} ADD COLUMN ref integer UNIQUE"),
        "blocks",
    ),
    Case(
        "set-not-null-in-revision-after-check",
        PG,
        "SM: Setting NOT NULL (the CHECK validated in the same transaction still scans)",
        ex("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_nn CHECK (sku IS NOT NULL)")
        + "\n"
        + ex("ALTER TABLE {t} ALTER COLUMN sku SET NOT NULL"),
        "blocks",
    ),
    Case(
        "identity-column",
        PG,
        "PG: ALTER TABLE, adding an identity column rewrites the table",
        ex("ALTER TABLE {t} ADD COLUMN seq integer GENERATED ALWAYS AS IDENTITY"),
        "rewrite",
    ),
    Case(
        "op-identity-column",
        PG,
        "PG: ALTER TABLE, adding an identity column rewrites the table (sa.Identity)",
        op('add_column("{t}", sa.Column("seq", sa.BigInteger(), sa.Identity()))'),
        "rewrite",
    ),
    Case(
        "stored-generated-column",
        PG,
        "SM: Adding a stored generated column; PG: a stored generated column rewrites",
        ex("ALTER TABLE {t} ADD COLUMN name_len integer GENERATED ALWAYS AS (length(name)) STORED"),
        "rewrite",
    ),
    Case(
        "op-stored-generated-column",
        PG,
        "SM: Adding a stored generated column (sa.Computed)",
        op(
            'add_column("{t}", sa.Column("name_len", sa.Integer(), '
            'sa.Computed("length(name)", persisted=True)))'
        ),
        "rewrite",
    ),
    Case(
        "type-change-without-existing-type",
        PG,
        "SM: Changing the type of a column (the old type not written in the revision)",
        op('alter_column("{t}", "qty", type_=sa.BigInteger())'),
        "rewrite",
    ),
    Case(
        "raw-varchar-narrowed",
        PG,
        "SM: Changing the type of a column (decreasing length); ATLAS: data-dependent changes",
        ex("ALTER TABLE {t} ALTER COLUMN sku TYPE varchar(32)"),
        "rewrite",
    ),
    Case(
        "raw-rename-table",
        PG,
        "SM: Renaming a table; SQUAWK: renaming-table",
        ex("ALTER TABLE {o} RENAME TO {o}_old"),
        "breaks",
        probe="SELECT id FROM {o}",
    ),
    Case(
        "add-reference",
        PG,
        "SM: Adding a reference (a column with its foreign key, validated at once)",
        op('add_column("{t}", sa.Column("owner2_id", sa.Integer(), sa.ForeignKey("{o}.id")))'),
        "blocks",
    ),
    # -- PostgreSQL: safe ------------------------------------------------------------------
    Case(
        "add-nullable-column",
        PG,
        "SM: safe (adding a column); PG: ADD COLUMN without a default changes the catalog only",
        op('add_column("{t}", sa.Column("nickname", sa.String(30)))'),
        None,
    ),
    Case(
        "constant-default",
        PG,
        "SM: Adding a column with a default value (safe in Postgres 11+); PG: non-volatile DEFAULT",
        op(
            'add_column("{t}", sa.Column("level", sa.Integer(), nullable=False, server_default="0"))'
        ),
        None,
    ),
    Case(
        "stable-default-now",
        PG,
        "PG: ADD COLUMN with a non-volatile default (now() is STABLE) does not rewrite",
        ex("ALTER TABLE {t} ADD COLUMN added_at timestamptz DEFAULT now()"),
        None,
    ),
    Case(
        "index-concurrently",
        PG,
        "SM: Adding an index non-concurrently, the safe form; PG: CREATE INDEX CONCURRENTLY",
        AUTOCOMMIT
        + op('create_index("ix_{t}_name", "{t}", ["name"], postgresql_concurrently=True)'),
        None,
    ),
    Case(
        "raw-index-concurrently",
        PG,
        "SQUAWK: require-concurrent-index-creation, the safe form",
        AUTOCOMMIT + ex("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_{t}_qty ON {t} (qty)"),
        None,
    ),
    Case(
        "drop-index-concurrently",
        PG,
        "SQUAWK: require-concurrent-index-deletion, the safe form",
        AUTOCOMMIT + op('drop_index("ix_{t}_sku", table_name="{t}", postgresql_concurrently=True)'),
        None,
    ),
    Case(
        "foreign-key-not-valid",
        PG,
        "SM: Adding a foreign key, the safe form (NOT VALID)",
        op(
            'create_foreign_key("fk_{t}_owner", "{t}", "{o}", ["owner_id"], ["id"], '
            "postgresql_not_valid=True)"
        ),
        None,
    ),
    Case(
        "raw-check-not-valid",
        PG,
        "SM: Adding a check constraint, the safe form; SQUAWK: constraint-missing-not-valid",
        ex("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_qty CHECK (qty >= 0) NOT VALID"),
        None,
    ),
    Case(
        "validate-constraint",
        PG,
        "SM: validate in another transaction; PG: VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE",
        ex("ALTER TABLE {t} VALIDATE CONSTRAINT ck_{t}_qty"),
        None,
        setup=("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_qty CHECK (qty >= 0) NOT VALID",),
    ),
    Case(
        "set-not-null-after-valid-check",
        PG,
        "SM: Setting NOT NULL, the safe form (Postgres 12+); PG: SET NOT NULL skips the scan",
        ex("ALTER TABLE {t} ALTER COLUMN sku SET NOT NULL"),
        None,
        setup=("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_sku_nn CHECK (sku IS NOT NULL)",),
    ),
    Case(
        "varchar-widened",
        PG,
        "SM: safe type changes (increasing the length limit of a varchar)",
        op('alter_column("{t}", "sku", existing_type=sa.String(64), type_=sa.String(128))'),
        None,
    ),
    Case(
        "raw-add-reference-inline",
        PG,
        "PG: a column added with its REFERENCES holds no value yet: nothing to validate",
        ex("ALTER TABLE {t} ADD COLUMN owner2_id integer REFERENCES {o} (id)"),
        None,
    ),
    Case(
        "widened-without-existing-type",
        PG,
        "SM: safe type changes (a varchar's limit raised; the old type not written)",
        op('alter_column("{t}", "sku", type_=sa.String(128))'),
        None,
    ),
    Case(
        "raw-varchar-widened",
        PG,
        "SM: safe type changes (increasing the length limit of a varchar)",
        ex("ALTER TABLE {t} ALTER COLUMN sku SET DATA TYPE varchar(200)"),
        None,
    ),
    Case(
        "varchar-to-text",
        PG,
        "SM: safe type changes (changing varchar to text)",
        op('alter_column("{t}", "sku", existing_type=sa.String(64), type_=sa.Text())'),
        None,
    ),
    Case(
        "raw-varchar-unlimited",
        PG,
        "SM: safe type changes (removing a varchar's limit)",
        ex("ALTER TABLE {t} ALTER COLUMN name TYPE varchar"),
        None,
    ),
    Case(
        "numeric-precision-raised",
        PG,
        "SM: safe type changes (increasing the precision of a decimal at the same scale)",
        op(
            'alter_column("{t}", "price", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(14, 2))'
        ),
        None,
    ),
    Case(
        "drop-not-null",
        PG,
        "DML: dropping NOT NULL is backward compatible; PG: catalog only",
        op('alter_column("{t}", "name", existing_type=sa.String(100), nullable=True)'),
        None,
    ),
    Case(
        "new-table-with-index-and-fk",
        PG,
        "SM: safe (a new table has no rows and no readers)",
        op(
            'create_table("{t}_new", sa.Column("id", sa.Integer(), primary_key=True), '
            'sa.Column("owner_id", sa.Integer(), sa.ForeignKey("{o}.id")), '
            'sa.Column("code", sa.String(20), nullable=False, unique=True))'
        )
        + "\n"
        + op('create_index("ix_{t}_new_owner", "{t}_new", ["owner_id"])'),
        None,
    ),
    Case(
        "comment-on-column",
        PG,
        "PG: COMMENT changes the catalog only",
        ex("COMMENT ON COLUMN {t}.note IS 'free text, 50% of rows'"),
        None,
    ),
    Case(
        "set-statistics",
        PG,
        "PG: SET STATISTICS takes SHARE UPDATE EXCLUSIVE",
        ex("ALTER TABLE {t} ALTER COLUMN qty SET STATISTICS 500"),
        None,
    ),
    Case(
        "set-default",
        PG,
        "PG: SET DEFAULT changes the catalog only (existing rows keep their values)",
        op('alter_column("{t}", "qty", existing_type=sa.Integer(), server_default="5")'),
        None,
    ),
    Case(
        "unique-via-concurrent-index",
        PG,
        "SM: Adding a unique constraint, the safe form (ADD CONSTRAINT ... USING INDEX)",
        AUTOCOMMIT
        + ex("CREATE UNIQUE INDEX CONCURRENTLY ux_{t}_name ON {t} (name)")
        + "\n"
        + ex("ALTER TABLE {t} ADD CONSTRAINT uq_{t}_name UNIQUE USING INDEX ux_{t}_name"),
        None,
        allow="unique-on-existing-table: checked, no duplicates",
    ),
    Case(
        "enum-value-added",
        PG,
        "PG: ALTER TYPE ... ADD VALUE changes the catalog only",
        ex("ALTER TYPE st_{t} ADD VALUE 'void'"),
        None,
    ),
    Case(
        "jsonb-column",
        PG,
        "SM: Adding a json column, the safe form (jsonb)",
        op('add_column("{t}", sa.Column("meta", sa.JSON().with_variant(JSONB(), "postgresql")))'),
        None,
        probe="SELECT DISTINCT meta FROM {t}",
    ),
    Case(
        "backfill-alone",
        PG,
        "SM: Backfilling data in its own transaction (RowExclusive: writes go on)",
        ex("UPDATE {t} SET qty = 1 WHERE qty = 0"),
        None,
    ),
    Case(
        "rename-index",
        PG,
        "PG: ALTER INDEX RENAME takes SHARE UPDATE EXCLUSIVE",
        ex("ALTER INDEX ix_{t}_sku RENAME TO ix_{t}_code"),
        None,
    ),
    Case(
        "drop-check",
        PG,
        "PG: DROP CONSTRAINT changes the catalog only",
        ex("ALTER TABLE {t} DROP CONSTRAINT ck_{t}_qty"),
        None,
        setup=("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_qty CHECK (qty >= 0)",),
    ),
    Case(
        "create-view",
        PG,
        "PG: CREATE VIEW locks nothing it reads for longer than ACCESS SHARE",
        ex("CREATE VIEW {t}_named AS SELECT id, name FROM {t}"),
        None,
    ),
    Case(
        "reindex-concurrently",
        PG,
        "SQUAWK: require-concurrent-reindex, the safe form (REINDEX ... CONCURRENTLY)",
        AUTOCOMMIT + ex("REINDEX TABLE CONCURRENTLY {t}"),
        None,
    ),
    Case(
        "sequence-default-later",
        PG,
        "PG: SET DEFAULT applies to new rows only (a serial column's safe form)",
        ex("CREATE SEQUENCE {t}_seq")
        + "\n"
        + ex("ALTER TABLE {t} ADD COLUMN seq bigint")
        + "\n"
        + ex("ALTER TABLE {t} ALTER COLUMN seq SET DEFAULT nextval('{t}_seq')"),
        None,
    ),
    Case(
        "volatile-default-set-later",
        PG,
        "SM: Adding a column with a volatile default value, the safe form (default set after)",
        ex("ALTER TABLE {t} ADD COLUMN seen_at timestamptz")
        + "\n"
        + ex("ALTER TABLE {t} ALTER COLUMN seen_at SET DEFAULT clock_timestamp()"),
        None,
    ),
    Case(
        "primary-key-via-concurrent-index",
        PG,
        "SQUAWK: adding-primary-key-constraint, the safe form (PRIMARY KEY USING INDEX)",
        AUTOCOMMIT
        + ex("CREATE UNIQUE INDEX CONCURRENTLY ux_{t}_id_name ON {t} (id, name)")
        + "\n"
        + ex(
            "ALTER TABLE {t} DROP CONSTRAINT pk_{t}, "
            "ADD CONSTRAINT pk_{t} PRIMARY KEY USING INDEX ux_{t}_id_name"
        ),
        None,
        allow="unique-on-existing-table: checked, no duplicates",
    ),
    # -- PostgreSQL: schemactl's online operations (tools/operations/online.py) -----------
    *online_cases(PG),
    # -- MariaDB: dangerous -----------------------------------------------------------------
    Case(
        "decimal-scale",
        MDB,
        "MDB: INPLACE, changing a column's data type is not supported (COPY)",
        op(
            'alter_column("{t}", "price", existing_type=sa.Numeric(10, 2), type_=sa.Numeric(10, 4))'
        ),
        "rewrite",
    ),
    Case(
        "int-to-bigint",
        MDB,
        "SM (MySQL): Changing the type of a column; MDB: changing a data type copies",
        op(
            'alter_column("{t}", "qty", existing_type=sa.Integer(), type_=sa.BigInteger(), '
            "existing_nullable=False)"
        ),
        "rewrite",
    ),
    Case(
        "varchar-narrowed",
        MDB,
        "ATLAS: data-dependent changes; MDB: shortening a VARCHAR copies",
        op(
            'alter_column("{t}", "name", existing_type=sa.String(100), type_=sa.String(50), '
            "existing_nullable=False)"
        ),
        "rewrite",
    ),
    Case(
        "foreign-key",
        MDB,
        "SM (MySQL): Adding a foreign key; MDB: INPLACE needs foreign_key_checks=OFF",
        op('create_foreign_key("fk_{t}_owner", "{t}", "{o}", ["owner_id"], ["id"])'),
        "rewrite",
    ),
    Case(
        "raw-check",
        MDB,
        "SM (MySQL): Adding a check constraint; MDB: ADD CONSTRAINT CHECK copies",
        ex("ALTER TABLE {t} ADD CONSTRAINT ck_{t}_qty CHECK (qty >= 0)"),
        "rewrite",
    ),
    Case(
        "stored-generated-column",
        MDB,
        "MDB: Generated Columns (adding a STORED column copies the table)",
        ex("ALTER TABLE {t} ADD COLUMN name_len INT AS (length(name)) STORED"),
        "rewrite",
    ),
    Case(
        "expression-default",
        MDB,
        "MDB: INSTANT, ADD COLUMN with a non-constant DEFAULT is not supported",
        ex("ALTER TABLE {t} ADD COLUMN token VARCHAR(36) DEFAULT (uuid())"),
        "rewrite",
    ),
    Case(
        "fulltext-index",
        MDB,
        "MDB: INPLACE, adding a FULLTEXT index needs LOCK=SHARED",
        ex("ALTER TABLE {t} ADD FULLTEXT INDEX ft_{t}_name (name)"),
        "blocks",
    ),
    Case(
        "forced-copy",
        MDB,
        "MDB: ALTER TABLE, ALGORITHM=COPY copies the table",
        ex("ALTER TABLE {t} ADD COLUMN extra INT, ALGORITHM=COPY"),
        "rewrite",
    ),
    Case(
        "forced-exclusive-lock",
        MDB,
        "MDB: ALTER TABLE, LOCK=EXCLUSIVE stops reads and writes",
        ex("ALTER TABLE {t} ADD INDEX ix_{t}_qty (qty), LOCK=EXCLUSIVE"),
        "blocks",
    ),
    Case(
        "primary-key-replaced",
        MDB,
        "ATLAS: primary key change; MDB: changing the primary key rebuilds the table",
        ex("ALTER TABLE {t} DROP PRIMARY KEY, ADD PRIMARY KEY (id, name)"),
        "rewrite",
    ),
    Case(
        "enum-value-inserted",
        MDB,
        "ATLAS: enum values not at the end; MDB: INSTANT only for values added at the end",
        ex("ALTER TABLE {t} MODIFY status ENUM('new', 'void', 'paid')"),
        "rewrite",
    ),
    Case(
        "enum-value-removed",
        MDB,
        "ATLAS: enum values removed (data-dependent); MDB: a value in use is refused",
        ex("ALTER TABLE {t} MODIFY status ENUM('new')"),
        "fails",
    ),
    Case(
        "set-not-null",
        MDB,
        "SM: Setting NOT NULL; MDB: NULL to NOT NULL rebuilds the table (INPLACE)",
        op(
            'alter_column("{t}", "sku", existing_type=sa.String(64), nullable=False, '
            "existing_nullable=True)"
        ),
        "rewrite",
    ),
    Case(
        "drop-not-null",
        MDB,
        "MDB: INPLACE, NOT NULL to NULL rebuilds the table",
        op(
            'alter_column("{t}", "name", existing_type=sa.String(100), nullable=True, '
            "existing_nullable=False)"
        ),
        "rewrite",
    ),
    Case(
        "convert-charset",
        MDB,
        "MDB: ALTER TABLE CONVERT TO CHARACTER SET copies the table",
        ex("ALTER TABLE {t} CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
        "rewrite",
    ),
    Case(
        "engine-rebuild",
        MDB,
        "MDB: ALTER TABLE ... ENGINE=InnoDB (a null ALTER) rebuilds the table",
        ex("ALTER TABLE {t} ENGINE=InnoDB"),
        "rewrite",
    ),
    Case(
        "force-rebuild",
        MDB,
        "MDB: ALTER TABLE ... FORCE rebuilds the table",
        ex("ALTER TABLE {t} FORCE"),
        "rewrite",
    ),
    Case(
        "rename-column",
        MDB,
        "SM (MySQL): Renaming a column; DML: RENAME_COLUMN",
        op('alter_column("{t}", "note", new_column_name="remark", existing_type=sa.Text())'),
        "breaks",
        probe="SELECT note FROM {t}",
    ),
    Case(
        "rename-table",
        MDB,
        "SM (MySQL): Renaming a table; DML: RENAME_TABLE",
        op('rename_table("{o}", "{o}_old")'),
        "breaks",
        probe="SELECT id FROM {o}",
    ),
    Case(
        "drop-column",
        MDB,
        "SM (MySQL): Removing a column; DML: DROP_COLUMN",
        op('drop_column("{t}", "note")'),
        "breaks",
        probe="SELECT note FROM {t}",
    ),
    Case(
        "drop-table",
        MDB,
        "DML: DROP_TABLE; ATLAS: destructive changes",
        ex("DROP TABLE {o}"),
        "breaks",
        probe="SELECT id FROM {o}",
    ),
    Case(
        "required-column-no-default",
        MDB,
        "DML: NOT_NULL (the old application's INSERTs, without the column, are refused)",
        op('add_column("{t}", sa.Column("tier", sa.Integer(), nullable=False))'),
        "breaks",
        probe="INSERT INTO {t} (id, name, qty) VALUES (100, 'x', 1)",
    ),
    Case(
        "change-column-renames",
        MDB,
        "SM (MySQL): Renaming a column (CHANGE old new)",
        ex("ALTER TABLE {t} CHANGE note remark TEXT"),
        "breaks",
        probe="SELECT note FROM {t}",
    ),
    Case(
        "raw-unique-index-on-duplicates",
        MDB,
        "ATLAS: data-dependent changes (a unique index on an existing column)",
        ex("ALTER TABLE {t} ADD UNIQUE INDEX ux_{t}_name (name)"),
        "fails",
        setup=("UPDATE {t} SET name = 'same'",),
    ),
    Case(
        "op-stored-generated-column",
        MDB,
        "MDB: Generated Columns (a STORED column copies the table; sa.Computed)",
        op(
            'add_column("{t}", sa.Column("name_len", sa.Integer(), '
            'sa.Computed("length(name)", persisted=True)))'
        ),
        "rewrite",
    ),
    Case(
        "raw-required-column-no-default",
        MDB,
        "DML: NOT_NULL (the old application's INSERTs, without the column, are refused)",
        ex("ALTER TABLE {t} ADD COLUMN tier INT NOT NULL"),
        "breaks",
        probe="INSERT INTO {t} (id, name, qty) VALUES (100, 'x', 1)",
    ),
    Case(
        "type-change-without-existing-type",
        MDB,
        "MDB: changing a column's data type copies (the old type from earlier revisions)",
        op('alter_column("{t}", "qty", type_=sa.BigInteger(), existing_nullable=False)'),
        "rewrite",
    ),
    Case(
        "add-reference",
        MDB,
        "SM (MySQL): Adding a reference; MDB: a foreign key added with checks copies",
        op('add_column("{t}", sa.Column("owner2_id", sa.Integer(), sa.ForeignKey("{o}.id")))'),
        "rewrite",
    ),
    # -- MariaDB: safe -------------------------------------------------------------------------
    Case(
        "add-nullable-column",
        MDB,
        "MDB: INSTANT, ADD COLUMN",
        op('add_column("{t}", sa.Column("nickname", sa.String(30)))'),
        None,
    ),
    Case(
        "constant-default",
        MDB,
        "MDB: INSTANT, ADD COLUMN with a constant DEFAULT",
        op(
            'add_column("{t}", sa.Column("level", sa.Integer(), nullable=False, server_default="0"))'
        ),
        None,
    ),
    Case(
        "column-in-the-middle",
        MDB,
        "MDB: INSTANT, ADD COLUMN anywhere in the table (10.4+)",
        ex("ALTER TABLE {t} ADD COLUMN middle INT AFTER name"),
        None,
    ),
    Case(
        "index",
        MDB,
        "MDB: NOCOPY, CREATE INDEX (writes go on: LOCK=NONE)",
        op('create_index("ix_{t}_name", "{t}", ["name"])'),
        None,
    ),
    Case(
        "raw-index",
        MDB,
        "MDB: NOCOPY, ALTER TABLE ADD INDEX",
        ex("ALTER TABLE {t} ADD INDEX ix_{t}_qty (qty)"),
        None,
    ),
    Case(
        "drop-index",
        MDB,
        "MDB: NOCOPY/INSTANT, DROP INDEX",
        op('drop_index("ix_{t}_sku", table_name="{t}")'),
        None,
    ),
    Case(
        "rename-index",
        MDB,
        "MDB: INSTANT, RENAME INDEX",
        ex("ALTER TABLE {t} RENAME INDEX ix_{t}_sku TO ix_{t}_code"),
        None,
    ),
    Case(
        "varchar-widened-same-length-bytes",
        MDB,
        "MDB: INSTANT, a VARCHAR lengthened within the same number of length bytes",
        ex("ALTER TABLE {t} MODIFY sku VARCHAR(60)"),
        None,
        setup=("ALTER TABLE {t} MODIFY sku VARCHAR(32)",),
    ),
    Case(
        "enum-value-appended",
        MDB,
        "MDB: INSTANT, adding ENUM values at the end",
        ex("ALTER TABLE {t} MODIFY status ENUM('new', 'paid', 'void')"),
        None,
    ),
    Case(
        "virtual-generated-column",
        MDB,
        "MDB: Generated Columns (a VIRTUAL column is INSTANT)",
        ex("ALTER TABLE {t} ADD COLUMN name_chars INT AS (length(name)) VIRTUAL"),
        None,
    ),
    Case(
        "set-default",
        MDB,
        "MDB: INSTANT, ALTER COLUMN SET DEFAULT",
        ex("ALTER TABLE {t} ALTER COLUMN qty SET DEFAULT 5"),
        None,
    ),
    Case(
        "modify-default-only",
        MDB,
        "MDB: INSTANT, a column redefined with only its DEFAULT changed",
        ex("ALTER TABLE {t} MODIFY qty INT NOT NULL DEFAULT 5"),
        None,
    ),
    Case(
        "drop-default",
        MDB,
        "MDB: INSTANT, ALTER COLUMN DROP DEFAULT",
        ex("ALTER TABLE {t} ALTER COLUMN qty DROP DEFAULT"),
        None,
    ),
    Case(
        "foreign-key-without-checks",
        MDB,
        "MDB: INPLACE, ADD FOREIGN KEY with foreign_key_checks=OFF",
        ex("SET SESSION foreign_key_checks = 0")
        + "\n"
        + ex("ALTER TABLE {t} ADD CONSTRAINT fk_{t}_o FOREIGN KEY (owner_id) REFERENCES {o} (id)")
        + "\n"
        + ex("SET SESSION foreign_key_checks = 1"),
        None,
    ),
    Case(
        "asks-instant",
        MDB,
        "MDB: ALTER TABLE, ALGORITHM=INSTANT refuses rather than copies",
        ex("ALTER TABLE {t} ADD COLUMN extra INT, ALGORITHM=INSTANT"),
        None,
    ),
    Case(
        "asks-lock-none",
        MDB,
        "MDB: ALTER TABLE, LOCK=NONE refuses rather than stops writes",
        ex("ALTER TABLE {t} ADD INDEX ix_{t}_qty (qty), LOCK=NONE"),
        None,
    ),
    Case(
        "new-table",
        MDB,
        "SM: safe (a new table has no rows and no readers)",
        op(
            'create_table("{t}_new", sa.Column("id", sa.Integer(), primary_key=True), '
            'sa.Column("owner_id", sa.Integer(), sa.ForeignKey("{o}.id")), '
            'sa.Column("code", sa.String(20), nullable=False, unique=True))'
        ),
        None,
    ),
    Case(
        "backfill-alone",
        MDB,
        "SM: Backfilling data in its own transaction (row locks only)",
        ex("UPDATE {t} SET qty = 1 WHERE qty = 0"),
        None,
    ),
    Case(
        "drop-foreign-key",
        MDB,
        "MDB: INSTANT/NOCOPY, DROP FOREIGN KEY",
        ex("ALTER TABLE {t} DROP FOREIGN KEY fk_{t}_o"),
        None,
        setup=(
            "ALTER TABLE {t} ADD CONSTRAINT fk_{t}_o FOREIGN KEY (owner_id) REFERENCES {o} (id)",
        ),
    ),
    Case(
        "column-comment",
        MDB,
        "MDB: INSTANT, changing a column's COMMENT",
        ex("ALTER TABLE {t} MODIFY note TEXT COMMENT 'free text, 50% of rows'"),
        None,
    ),
    Case(
        "unique-index-on-duplicates",
        MDB,
        "ATLAS: data-dependent changes (a unique index on an existing column)",
        op('create_index("ux_{t}_name", "{t}", ["name"], unique=True)'),
        "fails",
        setup=("UPDATE {t} SET name = 'same'",),
    ),
    *online_cases(MDB),
)
