"""What is shipped: `schemactl sql` and `release` (scripts, review and manifest into
sql_out/), the review report, and `check`, the CI gate that holds models, revisions and sql_out/
together."""
