"""Lint: the facts of each revision, the rules that judge them (portable rules, then each
database's own), squawk for PostgreSQL, and silencing with a reason."""
