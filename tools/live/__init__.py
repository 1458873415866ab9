"""Commands against a real environment's database: upgrade and downgrade online with the
scripts' safety, the audit of what ran, the backups a database holds, and verify."""
