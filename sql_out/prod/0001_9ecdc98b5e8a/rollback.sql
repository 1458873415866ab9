-- =============================================================================
-- schemactl rollback script for environment prod (postgresql)
-- =============================================================================
-- From: 9ecdc98b5e8a
-- To:   base (no revision)
--
-- Revisions undone, in this order:
--    1. 9ecdc98b5e8a  Seed the standard tax rates
--    2. a66186b7cc1d  Store invoices.total_amount as Numeric(12, 2), not Float
--    3. 45c580e85327  Create products
--    4. cc474e29ad24  Create tax_rates
--    5. 228dfcf7a7c0  Add users.phone
--    6. ab251de0ab93  Baseline: users, customers, invoices and invoice items
--
-- Apply with (psql):
--   psql -X -v ON_ERROR_STOP=1 --dbname "$DATABASE_URL" -f sql_out/prod/0001_9ecdc98b5e8a/rollback.sql
-- Regenerate with:
--   schemactl sql --env prod --from base --to 9ecdc98b5e8a --out sql_out/prod/0001_9ecdc98b5e8a
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
-- 1/6  downgrade 9ecdc98b5e8a
--   Seed the standard tax rates
--   0006_9ecdc98b5e8a_seed_tax_rates.py  sha256 66c558e4a7adbc2dde4218fc114b10a5f0cb9b3e5163c9b1fdca5c38dcf2a3ff
-- -----------------------------------------------------------------------------

DELETE FROM tax_rates WHERE tax_rates.code IN ('STD', 'RED', 'ZERO');

UPDATE alembic_version SET version_num='a66186b7cc1d' WHERE alembic_version.version_num = '9ecdc98b5e8a';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('9ecdc98b5e8a', 'downgrade', '66c558e4a7adbc2dde4218fc114b10a5f0cb9b3e5163c9b1fdca5c38dcf2a3ff', session_user);

-- -----------------------------------------------------------------------------
-- 2/6  downgrade a66186b7cc1d
--   Store invoices.total_amount as Numeric(12, 2), not Float
--   0005_a66186b7cc1d_invoices_total_amount_to_numeric.py  sha256 1288831b6bc7b8fb22bf387de97e00535fb641f622f3d7098f49776b1c0656da
-- -----------------------------------------------------------------------------

ALTER TABLE invoices ALTER COLUMN total_amount TYPE FLOAT USING total_amount::double precision;

UPDATE alembic_version SET version_num='45c580e85327' WHERE alembic_version.version_num = 'a66186b7cc1d';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('a66186b7cc1d', 'downgrade', '1288831b6bc7b8fb22bf387de97e00535fb641f622f3d7098f49776b1c0656da', session_user);

-- -----------------------------------------------------------------------------
-- 3/6  downgrade 45c580e85327
--   Create products
--   0004_45c580e85327_create_products.py  sha256 4a0c00d3ea9057b73d2278326f564d7a8280e579a4f27fc9114394c7382f143c
-- -----------------------------------------------------------------------------

DROP TABLE products;

UPDATE alembic_version SET version_num='cc474e29ad24' WHERE alembic_version.version_num = '45c580e85327';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('45c580e85327', 'downgrade', '4a0c00d3ea9057b73d2278326f564d7a8280e579a4f27fc9114394c7382f143c', session_user);

-- -----------------------------------------------------------------------------
-- 4/6  downgrade cc474e29ad24
--   Create tax_rates
--   0003_cc474e29ad24_create_tax_rates.py  sha256 7fd648f3c17c6bc012c7132b3bdd881d38e83f27d322b2d0f0651c04e09d3fcc
-- -----------------------------------------------------------------------------

DROP TABLE tax_rates;

UPDATE alembic_version SET version_num='228dfcf7a7c0' WHERE alembic_version.version_num = 'cc474e29ad24';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('cc474e29ad24', 'downgrade', '7fd648f3c17c6bc012c7132b3bdd881d38e83f27d322b2d0f0651c04e09d3fcc', session_user);

-- -----------------------------------------------------------------------------
-- 5/6  downgrade 228dfcf7a7c0
--   Add users.phone
--   0002_228dfcf7a7c0_add_users_phone.py  sha256 3099a4842b3da897642f8d560dbc51245227217bb6e6ea67a5fcbba1b5010b86
-- -----------------------------------------------------------------------------

ALTER TABLE users DROP COLUMN phone;

UPDATE alembic_version SET version_num='ab251de0ab93' WHERE alembic_version.version_num = '228dfcf7a7c0';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('228dfcf7a7c0', 'downgrade', '3099a4842b3da897642f8d560dbc51245227217bb6e6ea67a5fcbba1b5010b86', session_user);

-- -----------------------------------------------------------------------------
-- 6/6  downgrade ab251de0ab93
--   Baseline: users, customers, invoices and invoice items
--   0001_ab251de0ab93_baseline.py  sha256 6d339c8b8f0335d80a076da30c63666534733d90c6944936ec4a907a5f5478d0
-- -----------------------------------------------------------------------------

DROP TABLE invoice_items;

DROP TABLE invoices;

DROP TABLE customers;

DROP TABLE users;

DROP TYPE invoice_status;

DELETE FROM alembic_version WHERE alembic_version.version_num = 'ab251de0ab93';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('ab251de0ab93', 'downgrade', '6d339c8b8f0335d80a076da30c63666534733d90c6944936ec4a907a5f5478d0', session_user);

COMMIT;
