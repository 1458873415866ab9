-- =============================================================================
-- schemactl rollback script for environment prod (postgresql)
-- =============================================================================
-- From: 68cfa590ad28
-- To:   9ecdc98b5e8a
--
-- Revisions undone, in this order:
--    1. 68cfa590ad28  Add customers.tax_id
--    2. e58b81ed3f5b  Merge the payments and discounts branches
--    3. fcac57c435d7  [payments] Add payments.reference and index payments.paid_at
--    4. 83a14815e175  [payments] Start the payments feature: create payments
--    5. fa4621c62bf9  [discounts] Add invoices.discount_total
--    6. 466a3e31682b  [discounts] Start the discounts feature: create discounts
--
-- Apply with (psql):
--   psql -X -v ON_ERROR_STOP=1 --dbname "$DATABASE_URL" -f sql_out/prod/0002_68cfa590ad28/rollback.sql
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

-- Guard: stop unless this database is at 68cfa590ad28.
DO $schemactl_guard$
DECLARE
    found text := '';
BEGIN
    IF to_regclass('alembic_version') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(string_agg(version_num, '','' ORDER BY version_num), '''') '
             || 'FROM alembic_version' INTO found;
    END IF;
    IF found IS DISTINCT FROM '68cfa590ad28' THEN
        RAISE EXCEPTION 'schemactl guard: expected revision %, found %; nothing was changed',
            '68cfa590ad28', coalesce(nullif(found, ''), 'base (no revision)');
    END IF;
END
$schemactl_guard$;

-- -----------------------------------------------------------------------------
-- 1/6  downgrade 68cfa590ad28
--   Add customers.tax_id
--   0010_68cfa590ad28_add_customers_tax_id.py  sha256 683fc1934eebeaf1c068273a31cb5b3d75093618e5d9ccf3e4b795a1d540ee4f
-- -----------------------------------------------------------------------------

DROP INDEX ix_customers_tax_id;

ALTER TABLE customers DROP COLUMN tax_id;

UPDATE alembic_version SET version_num='e58b81ed3f5b' WHERE alembic_version.version_num = '68cfa590ad28';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('68cfa590ad28', 'downgrade', '683fc1934eebeaf1c068273a31cb5b3d75093618e5d9ccf3e4b795a1d540ee4f', session_user);

-- -----------------------------------------------------------------------------
-- 2/6  downgrade e58b81ed3f5b
--   Merge the payments and discounts branches
--   0009_e58b81ed3f5b_merge_payments_and_discounts.py  sha256 f8973a3ba1c64ff5c47984214251741f49938e1ffe30786969dbe3f7bac5d6b3
-- -----------------------------------------------------------------------------

-- (no schema change: this revision only moves the version)

DELETE FROM alembic_version WHERE alembic_version.version_num = 'e58b81ed3f5b';
INSERT INTO alembic_version (version_num) VALUES ('fcac57c435d7');
INSERT INTO alembic_version (version_num) VALUES ('fa4621c62bf9');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('e58b81ed3f5b', 'downgrade', 'f8973a3ba1c64ff5c47984214251741f49938e1ffe30786969dbe3f7bac5d6b3', session_user);

-- -----------------------------------------------------------------------------
-- 3/6  downgrade fcac57c435d7  [payments]
--   Add payments.reference and index payments.paid_at
--   0008_fcac57c435d7_add_payments_reference.py  sha256 0e347e76bf3560c8029bede9082ff59a7d162e98a8eb21333f357b067397c0fa
-- -----------------------------------------------------------------------------

DROP INDEX ix_payments_paid_at;

ALTER TABLE payments DROP COLUMN reference;

UPDATE alembic_version SET version_num='83a14815e175' WHERE alembic_version.version_num = 'fcac57c435d7';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('fcac57c435d7', 'downgrade', '0e347e76bf3560c8029bede9082ff59a7d162e98a8eb21333f357b067397c0fa', session_user);

-- -----------------------------------------------------------------------------
-- 4/6  downgrade 83a14815e175  [payments]
--   Start the payments feature: create payments
--   0007_83a14815e175_create_payments.py  sha256 97f15c4c7bff658f4d406286588d03f4a317ee3db470769d0c6875f85575b634
-- -----------------------------------------------------------------------------

DROP TABLE payments;

DROP TYPE payment_method;

DELETE FROM alembic_version WHERE alembic_version.version_num = '83a14815e175';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('83a14815e175', 'downgrade', '97f15c4c7bff658f4d406286588d03f4a317ee3db470769d0c6875f85575b634', session_user);

-- -----------------------------------------------------------------------------
-- 5/6  downgrade fa4621c62bf9  [discounts]
--   Add invoices.discount_total
--   0008_fa4621c62bf9_add_invoices_discount_total.py  sha256 4b0e8b947ab6fb936be42263995299879ff2f2793be397a5e1ef18bfbb225a0d
-- -----------------------------------------------------------------------------

ALTER TABLE invoices DROP COLUMN discount_total;

UPDATE alembic_version SET version_num='466a3e31682b' WHERE alembic_version.version_num = 'fa4621c62bf9';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('fa4621c62bf9', 'downgrade', '4b0e8b947ab6fb936be42263995299879ff2f2793be397a5e1ef18bfbb225a0d', session_user);

-- -----------------------------------------------------------------------------
-- 6/6  downgrade 466a3e31682b  [discounts]
--   Start the discounts feature: create discounts
--   0007_466a3e31682b_create_discounts.py  sha256 f14da3245e1160b52e0e2e9ed85414c99fa627eea6fbd87b7e495e647973c1bb
-- -----------------------------------------------------------------------------

DROP TABLE discounts;

UPDATE alembic_version SET version_num='9ecdc98b5e8a' WHERE alembic_version.version_num = '466a3e31682b';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('466a3e31682b', 'downgrade', 'f14da3245e1160b52e0e2e9ed85414c99fa627eea6fbd87b7e495e647973c1bb', session_user);

COMMIT;
