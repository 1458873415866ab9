"""DBA scripts made offline: each revision captured in an offline Alembic context, its values
written exactly, the backups its destructive steps need, the scripts rendered through the Mako
template, and the manifest that records what was released."""
