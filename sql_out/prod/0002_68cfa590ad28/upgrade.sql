-- =============================================================================
-- schemactl upgrade script for environment prod (postgresql)
-- =============================================================================
-- From: 9ecdc98b5e8a
-- To:   68cfa590ad28
--
-- Revisions, in apply order:
--    1. 466a3e31682b  [discounts] Start the discounts feature: create discounts
--    2. fa4621c62bf9  [discounts] Add invoices.discount_total
--    3. 83a14815e175  [payments] Start the payments feature: create payments
--    4. fcac57c435d7  [payments] Add payments.reference and index payments.paid_at
--    5. e58b81ed3f5b  Merge the payments and discounts branches
--    6. 68cfa590ad28  Add customers.tax_id
--
-- Apply with (psql):
--   psql -X -v ON_ERROR_STOP=1 --dbname "$DATABASE_URL" -f sql_out/prod/0002_68cfa590ad28/upgrade.sql
-- Regenerate with:
--   schemactl sql --env prod --from 9ecdc98b5e8a --to 68cfa590ad28 --out sql_out/prod/0002_68cfa590ad28
--
-- Before it changes anything, the script checks that alembic_version holds exactly the
-- from-state above, and stops with an error naming what it found otherwise.
-- All or nothing: everything runs in one transaction, and any error rolls all of it back.
-- Every revision is recorded in schemactl_audit: revision, direction, when, by whom, and
-- the sha256 of its revision file.
-- =============================================================================

\set ON_ERROR_STOP on
SET client_encoding = 'UTF8';
BEGIN;
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';

CREATE TABLE IF NOT EXISTS alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

CREATE TABLE IF NOT EXISTS schemactl_audit (
    id SERIAL NOT NULL, 
    revision VARCHAR(32) NOT NULL, 
    direction VARCHAR(10) NOT NULL, 
    revision_sha256 VARCHAR(64) NOT NULL, 
    applied_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    applied_by VARCHAR(128), 
    PRIMARY KEY (id)
);

-- Guard: stop unless this database is at 9ecdc98b5e8a.
DO $schemactl_guard$
DECLARE
    found text := '';
BEGIN
    IF to_regclass('alembic_version') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(string_agg(version_num, '','' ORDER BY version_num), '''') '
             || 'FROM alembic_version' INTO found;
    END IF;
    IF found IS DISTINCT FROM '9ecdc98b5e8a' THEN
        RAISE EXCEPTION 'schemactl guard: expected revision %, found %; nothing was changed',
            '9ecdc98b5e8a', coalesce(nullif(found, ''), 'base (no revision)');
    END IF;
END
$schemactl_guard$;

-- -----------------------------------------------------------------------------
-- 1/6  upgrade 466a3e31682b  [discounts]
--   Start the discounts feature: create discounts
--   0007_466a3e31682b_create_discounts.py  sha256 f14da3245e1160b52e0e2e9ed85414c99fa627eea6fbd87b7e495e647973c1bb
-- -----------------------------------------------------------------------------

CREATE TABLE discounts (
    id SERIAL NOT NULL, 
    code VARCHAR(32) NOT NULL, 
    percent_off NUMERIC(5, 2) NOT NULL, 
    valid_from DATE NOT NULL, 
    valid_until DATE, 
    CONSTRAINT pk_discounts PRIMARY KEY (id), 
    CONSTRAINT uq_discounts_code UNIQUE (code)
);

UPDATE alembic_version SET version_num='466a3e31682b' WHERE alembic_version.version_num = '9ecdc98b5e8a';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('466a3e31682b', 'upgrade', 'f14da3245e1160b52e0e2e9ed85414c99fa627eea6fbd87b7e495e647973c1bb', session_user);

-- -----------------------------------------------------------------------------
-- 2/6  upgrade fa4621c62bf9  [discounts]
--   Add invoices.discount_total
--   0008_fa4621c62bf9_add_invoices_discount_total.py  sha256 4b0e8b947ab6fb936be42263995299879ff2f2793be397a5e1ef18bfbb225a0d
-- -----------------------------------------------------------------------------

ALTER TABLE invoices ADD COLUMN discount_total NUMERIC(12, 2) DEFAULT 0 NOT NULL;

UPDATE alembic_version SET version_num='fa4621c62bf9' WHERE alembic_version.version_num = '466a3e31682b';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('fa4621c62bf9', 'upgrade', '4b0e8b947ab6fb936be42263995299879ff2f2793be397a5e1ef18bfbb225a0d', session_user);

-- -----------------------------------------------------------------------------
-- 3/6  upgrade 83a14815e175  [payments]
--   Start the payments feature: create payments
--   0007_83a14815e175_create_payments.py  sha256 97f15c4c7bff658f4d406286588d03f4a317ee3db470769d0c6875f85575b634
-- -----------------------------------------------------------------------------

CREATE TYPE payment_method AS ENUM ('cash', 'card', 'bank_transfer');

CREATE TABLE payments (
    id SERIAL NOT NULL, 
    invoice_id INTEGER NOT NULL, 
    amount NUMERIC(12, 2) NOT NULL, 
    method payment_method NOT NULL, 
    paid_at TIMESTAMP WITH TIME ZONE NOT NULL, 
    CONSTRAINT pk_payments PRIMARY KEY (id), 
    CONSTRAINT fk_payments_invoice_id_invoices FOREIGN KEY(invoice_id) REFERENCES invoices (id)
);

CREATE INDEX ix_payments_invoice_id ON payments (invoice_id);

INSERT INTO alembic_version (version_num) VALUES ('83a14815e175');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('83a14815e175', 'upgrade', '97f15c4c7bff658f4d406286588d03f4a317ee3db470769d0c6875f85575b634', session_user);

-- -----------------------------------------------------------------------------
-- 4/6  upgrade fcac57c435d7  [payments]
--   Add payments.reference and index payments.paid_at
--   0008_fcac57c435d7_add_payments_reference.py  sha256 0e347e76bf3560c8029bede9082ff59a7d162e98a8eb21333f357b067397c0fa
-- -----------------------------------------------------------------------------

ALTER TABLE payments ADD COLUMN reference VARCHAR(64);

CREATE INDEX ix_payments_paid_at ON payments (paid_at);

UPDATE alembic_version SET version_num='fcac57c435d7' WHERE alembic_version.version_num = '83a14815e175';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('fcac57c435d7', 'upgrade', '0e347e76bf3560c8029bede9082ff59a7d162e98a8eb21333f357b067397c0fa', session_user);

-- -----------------------------------------------------------------------------
-- 5/6  upgrade e58b81ed3f5b
--   Merge the payments and discounts branches
--   0009_e58b81ed3f5b_merge_payments_and_discounts.py  sha256 f8973a3ba1c64ff5c47984214251741f49938e1ffe30786969dbe3f7bac5d6b3
-- -----------------------------------------------------------------------------

-- (no schema change: this revision only moves the version)

DELETE FROM alembic_version WHERE alembic_version.version_num = 'fcac57c435d7';
DELETE FROM alembic_version WHERE alembic_version.version_num = 'fa4621c62bf9';
INSERT INTO alembic_version (version_num) VALUES ('e58b81ed3f5b');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('e58b81ed3f5b', 'upgrade', 'f8973a3ba1c64ff5c47984214251741f49938e1ffe30786969dbe3f7bac5d6b3', session_user);

-- -----------------------------------------------------------------------------
-- 6/6  upgrade 68cfa590ad28
--   Add customers.tax_id
--   0010_68cfa590ad28_add_customers_tax_id.py  sha256 683fc1934eebeaf1c068273a31cb5b3d75093618e5d9ccf3e4b795a1d540ee4f
-- -----------------------------------------------------------------------------

ALTER TABLE customers ADD COLUMN tax_id VARCHAR(32);

CREATE INDEX ix_customers_tax_id ON customers (tax_id);

UPDATE alembic_version SET version_num='68cfa590ad28' WHERE alembic_version.version_num = 'e58b81ed3f5b';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('68cfa590ad28', 'upgrade', '683fc1934eebeaf1c068273a31cb5b3d75093618e5d9ccf3e4b795a1d540ee4f', session_user);

COMMIT;
