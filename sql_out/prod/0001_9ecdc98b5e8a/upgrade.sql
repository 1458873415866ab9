-- =============================================================================
-- schemactl upgrade script for environment prod (postgresql)
-- =============================================================================
-- From: base (no revision)
-- To:   9ecdc98b5e8a
--
-- Revisions, in apply order:
--    1. ab251de0ab93  Baseline: users, customers, invoices and invoice items
--    2. 228dfcf7a7c0  Add users.phone
--    3. cc474e29ad24  Create tax_rates
--    4. 45c580e85327  Create products
--    5. a66186b7cc1d  Store invoices.total_amount as Numeric(12, 2), not Float
--    6. 9ecdc98b5e8a  Seed the standard tax rates
--
-- Apply with (psql):
--   psql -X -v ON_ERROR_STOP=1 --dbname "$DATABASE_URL" -f sql_out/prod/0001_9ecdc98b5e8a/upgrade.sql
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

-- Guard: stop unless this database is at base (no revision).
DO $schemactl_guard$
DECLARE
    found text := '';
BEGIN
    IF to_regclass('alembic_version') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(string_agg(version_num, '','' ORDER BY version_num), '''') '
             || 'FROM alembic_version' INTO found;
    END IF;
    IF found IS DISTINCT FROM '' THEN
        RAISE EXCEPTION 'schemactl guard: expected revision %, found %; nothing was changed',
            'base (no revision)', coalesce(nullif(found, ''), 'base (no revision)');
    END IF;
END
$schemactl_guard$;

-- -----------------------------------------------------------------------------
-- 1/6  upgrade ab251de0ab93
--   Baseline: users, customers, invoices and invoice items
--   0001_ab251de0ab93_baseline.py  sha256 6d339c8b8f0335d80a076da30c63666534733d90c6944936ec4a907a5f5478d0
-- -----------------------------------------------------------------------------

CREATE TABLE users (
    id SERIAL NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    full_name VARCHAR(120) NOT NULL, 
    password_hash VARCHAR(255) NOT NULL, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    CONSTRAINT pk_users PRIMARY KEY (id), 
    CONSTRAINT uq_users_email UNIQUE (email)
);

CREATE TABLE customers (
    id SERIAL NOT NULL, 
    owner_id INTEGER NOT NULL, 
    name VARCHAR(200) NOT NULL, 
    email VARCHAR(255), 
    billing_address TEXT, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    CONSTRAINT pk_customers PRIMARY KEY (id), 
    CONSTRAINT fk_customers_owner_id_users FOREIGN KEY(owner_id) REFERENCES users (id)
);

CREATE INDEX ix_customers_owner_id ON customers (owner_id);

CREATE TYPE invoice_status AS ENUM ('draft', 'sent', 'paid', 'void');

CREATE TABLE invoices (
    id SERIAL NOT NULL, 
    number VARCHAR(32) NOT NULL, 
    customer_id INTEGER NOT NULL, 
    issued_by_id INTEGER NOT NULL, 
    status invoice_status DEFAULT 'draft' NOT NULL, 
    issue_date DATE NOT NULL, 
    due_date DATE, 
    currency VARCHAR(3) DEFAULT 'EUR' NOT NULL, 
    total_amount FLOAT NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL, 
    CONSTRAINT pk_invoices PRIMARY KEY (id), 
    CONSTRAINT fk_invoices_customer_id_customers FOREIGN KEY(customer_id) REFERENCES customers (id), 
    CONSTRAINT fk_invoices_issued_by_id_users FOREIGN KEY(issued_by_id) REFERENCES users (id), 
    CONSTRAINT uq_invoices_number UNIQUE (number)
);

CREATE INDEX ix_invoices_customer_id ON invoices (customer_id);

CREATE INDEX ix_invoices_issued_by_id ON invoices (issued_by_id);

CREATE TABLE invoice_items (
    id SERIAL NOT NULL, 
    invoice_id INTEGER NOT NULL, 
    description VARCHAR(255) NOT NULL, 
    quantity NUMERIC(10, 3) NOT NULL, 
    unit_price NUMERIC(12, 2) NOT NULL, 
    line_total NUMERIC(12, 2) NOT NULL, 
    CONSTRAINT pk_invoice_items PRIMARY KEY (id), 
    CONSTRAINT fk_invoice_items_invoice_id_invoices FOREIGN KEY(invoice_id) REFERENCES invoices (id) ON DELETE CASCADE
);

CREATE INDEX ix_invoice_items_invoice_id ON invoice_items (invoice_id);

INSERT INTO alembic_version (version_num) VALUES ('ab251de0ab93');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('ab251de0ab93', 'upgrade', '6d339c8b8f0335d80a076da30c63666534733d90c6944936ec4a907a5f5478d0', session_user);

-- -----------------------------------------------------------------------------
-- 2/6  upgrade 228dfcf7a7c0
--   Add users.phone
--   0002_228dfcf7a7c0_add_users_phone.py  sha256 3099a4842b3da897642f8d560dbc51245227217bb6e6ea67a5fcbba1b5010b86
-- -----------------------------------------------------------------------------

ALTER TABLE users ADD COLUMN phone VARCHAR(20);

UPDATE alembic_version SET version_num='228dfcf7a7c0' WHERE alembic_version.version_num = 'ab251de0ab93';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('228dfcf7a7c0', 'upgrade', '3099a4842b3da897642f8d560dbc51245227217bb6e6ea67a5fcbba1b5010b86', session_user);

-- -----------------------------------------------------------------------------
-- 3/6  upgrade cc474e29ad24
--   Create tax_rates
--   0003_cc474e29ad24_create_tax_rates.py  sha256 7fd648f3c17c6bc012c7132b3bdd881d38e83f27d322b2d0f0651c04e09d3fcc
-- -----------------------------------------------------------------------------

CREATE TABLE tax_rates (
    id SERIAL NOT NULL, 
    code VARCHAR(16) NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    rate NUMERIC(5, 2) NOT NULL, 
    CONSTRAINT pk_tax_rates PRIMARY KEY (id), 
    CONSTRAINT uq_tax_rates_code UNIQUE (code)
);

UPDATE alembic_version SET version_num='cc474e29ad24' WHERE alembic_version.version_num = '228dfcf7a7c0';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('cc474e29ad24', 'upgrade', '7fd648f3c17c6bc012c7132b3bdd881d38e83f27d322b2d0f0651c04e09d3fcc', session_user);

-- -----------------------------------------------------------------------------
-- 4/6  upgrade 45c580e85327
--   Create products
--   0004_45c580e85327_create_products.py  sha256 4a0c00d3ea9057b73d2278326f564d7a8280e579a4f27fc9114394c7382f143c
-- -----------------------------------------------------------------------------

CREATE TABLE products (
    id SERIAL NOT NULL, 
    sku VARCHAR(64) NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    description TEXT, 
    unit_price NUMERIC(12, 2) NOT NULL, 
    tax_rate_id INTEGER, 
    is_active BOOLEAN DEFAULT true NOT NULL, 
    CONSTRAINT pk_products PRIMARY KEY (id), 
    CONSTRAINT fk_products_tax_rate_id_tax_rates FOREIGN KEY(tax_rate_id) REFERENCES tax_rates (id), 
    CONSTRAINT uq_products_sku UNIQUE (sku)
);

CREATE INDEX ix_products_tax_rate_id ON products (tax_rate_id);

UPDATE alembic_version SET version_num='45c580e85327' WHERE alembic_version.version_num = 'cc474e29ad24';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('45c580e85327', 'upgrade', '4a0c00d3ea9057b73d2278326f564d7a8280e579a4f27fc9114394c7382f143c', session_user);

-- -----------------------------------------------------------------------------
-- 5/6  upgrade a66186b7cc1d
--   Store invoices.total_amount as Numeric(12, 2), not Float
--   0005_a66186b7cc1d_invoices_total_amount_to_numeric.py  sha256 1288831b6bc7b8fb22bf387de97e00535fb641f622f3d7098f49776b1c0656da
-- -----------------------------------------------------------------------------

ALTER TABLE invoices ALTER COLUMN total_amount TYPE NUMERIC(12, 2) USING round(total_amount::numeric, 2);

UPDATE alembic_version SET version_num='a66186b7cc1d' WHERE alembic_version.version_num = '45c580e85327';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('a66186b7cc1d', 'upgrade', '1288831b6bc7b8fb22bf387de97e00535fb641f622f3d7098f49776b1c0656da', session_user);

-- -----------------------------------------------------------------------------
-- 6/6  upgrade 9ecdc98b5e8a
--   Seed the standard tax rates
--   0006_9ecdc98b5e8a_seed_tax_rates.py  sha256 66c558e4a7adbc2dde4218fc114b10a5f0cb9b3e5163c9b1fdca5c38dcf2a3ff
-- -----------------------------------------------------------------------------

INSERT INTO tax_rates (code, name, rate) VALUES ('STD', 'Standard rate', 19.00);

INSERT INTO tax_rates (code, name, rate) VALUES ('RED', 'Reduced rate', 7.00);

INSERT INTO tax_rates (code, name, rate) VALUES ('ZERO', 'Zero rate', 0.00);

UPDATE alembic_version SET version_num='9ecdc98b5e8a' WHERE alembic_version.version_num = 'a66186b7cc1d';
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by) VALUES ('9ecdc98b5e8a', 'upgrade', '66c558e4a7adbc2dde4218fc114b10a5f0cb9b3e5163c9b1fdca5c38dcf2a3ff', session_user);

COMMIT;
