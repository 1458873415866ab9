"""Writing revision files: branches, autogenerate made portable, SQLite table rebuilds, merges
after a conflict analysis, and squash."""
