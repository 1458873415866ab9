-- =============================================================================
-- schemactl upgrade script for database reporting, environment prod (postgresql)
-- =============================================================================
-- From: base (no revision)
-- To:   6f90ca6efb5f
--
-- Revisions, in apply order:
--    1. 3a6f3886a7e3  Reporting baseline: monthly revenue
--    2. 1d8ade1065a3  [taxes] Start the taxes branch
--    3. 5ed95bbd56e2  [taxes] Create tax_summaries
--    4. e0a6168bbe2e  Add monthly_revenue.refunded_amount
--    5. 6f90ca6efb5f  Merge taxes and e0a6168bbe2e
--
-- Apply with (psql):
--   psql -X -v ON_ERROR_STOP=1 --dbname=DBNAME -f sql_out/prod/reporting/0001_6f90ca6efb5f/upgrade.sql
-- Regenerate with:
--   schemactl -n reporting sql --env prod --from base --to 6f90ca6efb5f --out sql_out/prod/reporting/0001_6f90ca6efb5f
--
-- Before it changes anything, the script takes a lock (a second client applying a script to
-- this database at the same moment waits for it) and checks that reporting_alembic_version
-- holds exactly the from-state above, stopping with an error naming what it found otherwise.
-- It also stops if this database holds another database's version table (alembic_version):
-- this script is for database reporting only.
-- Each step's version stamp must move exactly one row, or the script stops.
-- All or nothing: everything runs in one transaction, and any error rolls all of it back.
-- Every revision is recorded in schemactl_audit: revision, direction, its start, end and
-- duration by the server's clock, the release (0001_6f90ca6efb5f), by whom, and the sha256 of its
-- revision file. An audit table of an earlier layout gets the new columns first; no row of
-- it is changed.
-- =============================================================================

\set ON_ERROR_STOP on
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET client_min_messages = warning;
SELECT pg_catalog.set_config('search_path', 'public', false) \g /dev/null
BEGIN;
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '15min';
SELECT pg_catalog.pg_advisory_lock(2033188311750541990) \g /dev/null

CREATE TABLE IF NOT EXISTS reporting_alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT reporting_alembic_version_pkc PRIMARY KEY (version_num)
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

DO $schemactl_audit$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_attribute
        WHERE attrelid = 'schemactl_audit'::regclass AND NOT attisdropped
          AND attname IN ('started_at', 'finished_at', 'duration_ms', 'release_name')) < 4 THEN
        ALTER TABLE schemactl_audit
            ADD COLUMN IF NOT EXISTS started_at TIMESTAMP WITH TIME ZONE,
            ADD COLUMN IF NOT EXISTS finished_at TIMESTAMP WITH TIME ZONE,
            ADD COLUMN IF NOT EXISTS duration_ms NUMERIC(12, 3),
            ADD COLUMN IF NOT EXISTS release_name VARCHAR(100);
    END IF;
END
$schemactl_audit$;

-- Guard: stop unless this database is at base (no revision).
DO $schemactl_guard$
DECLARE
    found text := '';
BEGIN
    IF to_regclass('reporting_alembic_version') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(string_agg(version_num, '','' ORDER BY version_num), '''') '
             || 'FROM reporting_alembic_version' INTO found;
    END IF;
    IF found IS DISTINCT FROM '' THEN
        RAISE EXCEPTION 'schemactl guard: expected revision %, found %; nothing was changed',
            'base (no revision)', coalesce(nullif(found, ''), 'base (no revision)');
    END IF;
END
$schemactl_guard$;

-- Guard: stop if this is another database of the project (it holds their version table).
DO $schemactl_database$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(ARRAY['alembic_version']) AS other(name)
               WHERE to_regclass(pg_catalog.quote_ident(other.name)) IS NOT NULL) THEN
        RAISE EXCEPTION '%', 'schemactl guard: this database holds the version table of another database: alembic_version (database alembic); this script is for database reporting: run it on that database. Nothing was changed';
    END IF;
END
$schemactl_database$;

-- -----------------------------------------------------------------------------
-- 1/5  upgrade 3a6f3886a7e3
--   Reporting baseline: monthly revenue
--   0001_3a6f3886a7e3_reporting_baseline_monthly_revenue.py  sha256 caba059b9f1d3b4aaddc942e3b1f50f648803116c9775ae8397851f226090c07
-- -----------------------------------------------------------------------------

DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;

CREATE TABLE monthly_revenue (
    id SERIAL NOT NULL, 
    month DATE NOT NULL, 
    currency VARCHAR(3) NOT NULL, 
    invoice_count INTEGER DEFAULT '0' NOT NULL, 
    net_amount NUMERIC(12, 2) NOT NULL, 
    tax_amount NUMERIC(12, 2) NOT NULL, 
    gross_amount NUMERIC(12, 2) NOT NULL, 
    computed_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    CONSTRAINT pk_monthly_revenue PRIMARY KEY (id), 
    CONSTRAINT uq_monthly_revenue_month_currency UNIQUE (month, currency)
);

INSERT INTO reporting_alembic_version (version_num) VALUES ('3a6f3886a7e3');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by, started_at, finished_at, duration_ms, release_name) SELECT '3a6f3886a7e3' AS revision, 'upgrade' AS direction, 'caba059b9f1d3b4aaddc942e3b1f50f648803116c9775ae8397851f226090c07' AS revision_sha256, session_user AS applied_by, clock.started_at, clock.finished_at, round((extract(epoch FROM clock.finished_at) - extract(epoch FROM clock.started_at)) * 1000, 3) AS duration_ms, '0001_6f90ca6efb5f' AS release_name 
FROM (SELECT pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8) AS started_at, pg_catalog.clock_timestamp() AS finished_at) AS clock;

-- -----------------------------------------------------------------------------
-- 2/5  upgrade 1d8ade1065a3  [taxes]
--   Start the taxes branch
--   0002_1d8ade1065a3_start_taxes.py  sha256 4aee98044a7429d9678708bb3a6f34e3cb5c99bb3f231c4ae8491e0bd5cd42b0
-- -----------------------------------------------------------------------------

DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;

-- (no schema change: this revision only moves the version)

DO $schemactl_stamp$
BEGIN
    UPDATE reporting_alembic_version SET version_num='1d8ade1065a3' WHERE reporting_alembic_version.version_num = '3a6f3886a7e3';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schemactl stamp: reporting_alembic_version did not hold 3a6f3886a7e3; stopped, nothing of this step was kept';
    END IF;
END
$schemactl_stamp$;
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by, started_at, finished_at, duration_ms, release_name) SELECT '1d8ade1065a3' AS revision, 'upgrade' AS direction, '4aee98044a7429d9678708bb3a6f34e3cb5c99bb3f231c4ae8491e0bd5cd42b0' AS revision_sha256, session_user AS applied_by, clock.started_at, clock.finished_at, round((extract(epoch FROM clock.finished_at) - extract(epoch FROM clock.started_at)) * 1000, 3) AS duration_ms, '0001_6f90ca6efb5f' AS release_name 
FROM (SELECT pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8) AS started_at, pg_catalog.clock_timestamp() AS finished_at) AS clock;

-- -----------------------------------------------------------------------------
-- 3/5  upgrade 5ed95bbd56e2  [taxes]
--   Create tax_summaries
--   0003_5ed95bbd56e2_create_tax_summaries.py  sha256 0e25f805e64a9926f47e0f17419b526a0be90961da5effea519eb4b865b3f083
-- -----------------------------------------------------------------------------

DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;

CREATE TABLE tax_summaries (
    id SERIAL NOT NULL, 
    month DATE NOT NULL, 
    tax_rate_code VARCHAR(16) NOT NULL, 
    rate NUMERIC(5, 2) NOT NULL, 
    taxable_amount NUMERIC(12, 2) NOT NULL, 
    tax_amount NUMERIC(12, 2) NOT NULL, 
    CONSTRAINT pk_tax_summaries PRIMARY KEY (id), 
    CONSTRAINT uq_tax_summaries_month_tax_rate_code UNIQUE (month, tax_rate_code)
);

DO $schemactl_stamp$
BEGIN
    UPDATE reporting_alembic_version SET version_num='5ed95bbd56e2' WHERE reporting_alembic_version.version_num = '1d8ade1065a3';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schemactl stamp: reporting_alembic_version did not hold 1d8ade1065a3; stopped, nothing of this step was kept';
    END IF;
END
$schemactl_stamp$;
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by, started_at, finished_at, duration_ms, release_name) SELECT '5ed95bbd56e2' AS revision, 'upgrade' AS direction, '0e25f805e64a9926f47e0f17419b526a0be90961da5effea519eb4b865b3f083' AS revision_sha256, session_user AS applied_by, clock.started_at, clock.finished_at, round((extract(epoch FROM clock.finished_at) - extract(epoch FROM clock.started_at)) * 1000, 3) AS duration_ms, '0001_6f90ca6efb5f' AS release_name 
FROM (SELECT pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8) AS started_at, pg_catalog.clock_timestamp() AS finished_at) AS clock;

-- -----------------------------------------------------------------------------
-- 4/5  upgrade e0a6168bbe2e
--   Add monthly_revenue.refunded_amount
--   0002_e0a6168bbe2e_add_monthly_revenue_refunded_amount.py  sha256 0c6250a209d4236d4c746399c3c8088f14cad87bf741bf7a46cd5fe37d9cdeb7
-- -----------------------------------------------------------------------------

DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;

ALTER TABLE monthly_revenue ADD COLUMN refunded_amount NUMERIC(12, 2) DEFAULT '0' NOT NULL;

INSERT INTO reporting_alembic_version (version_num) VALUES ('e0a6168bbe2e');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by, started_at, finished_at, duration_ms, release_name) SELECT 'e0a6168bbe2e' AS revision, 'upgrade' AS direction, '0c6250a209d4236d4c746399c3c8088f14cad87bf741bf7a46cd5fe37d9cdeb7' AS revision_sha256, session_user AS applied_by, clock.started_at, clock.finished_at, round((extract(epoch FROM clock.finished_at) - extract(epoch FROM clock.started_at)) * 1000, 3) AS duration_ms, '0001_6f90ca6efb5f' AS release_name 
FROM (SELECT pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8) AS started_at, pg_catalog.clock_timestamp() AS finished_at) AS clock;

-- -----------------------------------------------------------------------------
-- 5/5  upgrade 6f90ca6efb5f
--   Merge taxes and e0a6168bbe2e
--   0004_6f90ca6efb5f_merge_taxes_and_e0a6168bbe2e.py  sha256 3f80d32274eba4a0c56038e0e1e229d6949b9c0c5c6dcd7843962fac20269aae
-- -----------------------------------------------------------------------------

DO $schemactl_clock$ BEGIN PERFORM pg_catalog.set_config('schemactl.step_started', extract(epoch FROM pg_catalog.clock_timestamp())::text, false); END $schemactl_clock$;

-- (no schema change: this revision only moves the version)

DO $schemactl_stamp$
BEGIN
    DELETE FROM reporting_alembic_version WHERE reporting_alembic_version.version_num = '5ed95bbd56e2';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schemactl stamp: reporting_alembic_version did not hold 5ed95bbd56e2; stopped, nothing of this step was kept';
    END IF;
END
$schemactl_stamp$;
DO $schemactl_stamp$
BEGIN
    DELETE FROM reporting_alembic_version WHERE reporting_alembic_version.version_num = 'e0a6168bbe2e';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schemactl stamp: reporting_alembic_version did not hold e0a6168bbe2e; stopped, nothing of this step was kept';
    END IF;
END
$schemactl_stamp$;
INSERT INTO reporting_alembic_version (version_num) VALUES ('6f90ca6efb5f');
INSERT INTO schemactl_audit (revision, direction, revision_sha256, applied_by, started_at, finished_at, duration_ms, release_name) SELECT '6f90ca6efb5f' AS revision, 'upgrade' AS direction, '3f80d32274eba4a0c56038e0e1e229d6949b9c0c5c6dcd7843962fac20269aae' AS revision_sha256, session_user AS applied_by, clock.started_at, clock.finished_at, round((extract(epoch FROM clock.finished_at) - extract(epoch FROM clock.started_at)) * 1000, 3) AS duration_ms, '0001_6f90ca6efb5f' AS release_name 
FROM (SELECT pg_catalog.to_timestamp(pg_catalog.current_setting('schemactl.step_started')::float8) AS started_at, pg_catalog.clock_timestamp() AS finished_at) AS clock;

COMMIT;
SELECT pg_catalog.pg_advisory_unlock(2033188311750541990) \g /dev/null
