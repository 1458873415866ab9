<%doc>
  The DBA script: one template for every dialect and both directions.
  Dialect-specific SQL comes from `dialect` (tools/dialects/), built there with its
  literal() and quote(); it is written as it is (`| n`). Every other expression passes through
  `inline` (the page's filter): nothing can end its comment line. Values a developer wrote
  (messages, labels, file names) also go through comment(), which shortens them.
</%doc>\
<%!
    from tools.core.text import inline
%>\
<%page expression_filter="inline"/>\
<%
    upgrade = script.kind == "upgrade"
    env = script.environment
    rule = "-- " + "=" * 77
    thin = "-- " + "-" * 77
    def heads(revisions):
        return ", ".join(revisions) or "base (no revision)"
    out_of_transaction = [s for s in script.steps if not s.transactional]
    # Statements that copy their table, and the commands that copy it in the background.
    copies = [
        (step, statement, dialect.copy_commands(statement))
        for step in script.steps
        for statement in step.statements
        if dialect.copy_commands(statement)
    ]
    # What to render if the script stops: on to its end, or back to its start.
    command = comment(script.sql_command, limit=100_000)
    resume = [
        f"--   on to {heads(script.result)}:",
        f"--     {command} --from REVISION --to {','.join(script.result) or 'base'}",
        f"--   back to {heads(script.expected)}:",
        f"--     {command} --from REVISION --to {','.join(script.expected) or 'base'}",
    ]
%>\
${rule}
-- schemactl ${"recovery" if script.recovery else script.kind} script for ${"database %s, " % comment(env.database) if env.database else ""}environment ${env.name} (${dialect.name})
${rule}
% if script.recovery:
-- RECOVERY of a script that stopped midway:
%   for line in script.recovery:
--   ${comment(line, limit=100_000)}
%   endfor
--
% endif
% if script.unproven:
-- NOT PROVEN: written with `release --no-prove`, so no scratch database has run it yet.
-- Prove it before applying it: ${comment(script.prove_command, limit=100_000)}
--
% endif
-- From: ${heads(script.expected)}
-- To:   ${heads(script.result)}
% if not script.recovery:
--
-- ${"Revisions, in apply order:" if upgrade else "Revisions undone, in this order:"}
%   for number, step in enumerate(script.steps, 1):
--   ${"%2d" % number}. ${step.revision.id}  ${"[%s] " % comment(step.branch) if step.branch else ""}${step.message}
%   endfor
% endif
--
-- For: ${comment(dialect.clients(), limit=100_000)}
-- Apply with:
--   ${comment(script.apply_command, limit=100_000)}
-- Regenerate with:
--   ${comment(script.regenerate_command, limit=100_000)}
--
-- Before it changes anything, the script takes a lock (a second client applying a script to
-- this database at the same moment waits for it) and checks that ${dialect.version_name}
-- holds exactly the from-state above, stopping with an error naming what it found otherwise.
% if dialect.other_version_tables:
-- It also stops if this database holds another database's version table (${", ".join(comment(t) for t, _ in dialect.other_version_tables)}):
-- this script is for database ${comment(dialect.database_name)} only.
% endif
-- Each step's version stamp must move exactly one row, or the script stops.
-- Timeouts: ${dialect.timeouts_in_words()}.
% if script.transactional:
-- All or nothing: everything runs in one transaction, and any error rolls all of it back.
% elif dialect.transactional:
-- NOT all or nothing: these revisions run statements that cannot run in a transaction,
-- so the work before each of them is committed first:
%   for step in out_of_transaction:
--   ${step.revision.id}  ${step.message}
%   endfor
-- If the script stops, ${dialect.version_name} names the last revision that completed
-- (REVISION below). A step outside a transaction may have run part of its statements:
--   ${comment(script.recover_command, limit=100_000)}
-- says which, and renders a script that finishes or undoes them. Or render a script from
-- there, either way:
%   for line in resume:
${line | n}
%   endfor
% else:
-- NOT all or nothing: ${dialect.name} commits every DDL statement. Each revision records
-- itself in ${dialect.version_name} right after its statements, so if the script stops,
-- the database is at the last revision recorded there (REVISION below), plus whatever
-- statements the failed revision ran before its error. Then run:
--   ${comment(script.recover_command, limit=100_000)}
-- It reads the database, says which statements of that revision ran, and renders a script
-- that finishes them (--finish) or undoes them (--undo). Then render a script from there,
-- either way:
%   for line in resume:
${line | n}
%   endfor
% endif
% if script.backups and script.backup:
-- Data these revisions destroy is kept: before each such step the upgrade copies it into a
-- backup table the application never reads; the rollback, once the step's downgrade has
-- rebuilt the structure, puts it back and drops the backup table:
%   for b in script.backups:
--   ${b.revision}  ${comment(b.what)} -> ${comment(dialect.backup_table(b.name))}
%     if not b.restorable:
--     NOT restored by the rollback: ${comment(b.problem, limit=300)}; the backup table is kept (and a
--     copy an earlier run kept is left as it was).
%     endif
%   endfor
% elif script.backups:
-- backup = off for this environment: what these revisions destroy will NOT come back with
-- the rollback script (the structure comes back, empty):
%   for b in script.backups:
--   ${b.revision}  ${comment(b.what)}
%   endfor
% elif not script.backup:
-- backup = off for this environment: data a revision destroys would not be kept.
% endif
% if copies:
-- COPIES A TABLE: the server can make these changes only by copying the table; reads go on,
-- writes to it wait until the copy is done. For a large table, either command below makes
-- the same change by copying it in the background while writes go on (a brief lock at the end);
-- run it instead, with that statement taken out of this script:
%   for step, statement, commands in copies:
--   ${step.revision.id}  ${comment(statement, limit=300)}
%     for line in commands:
--     ${comment(line, limit=100_000)}
%     endfor
%   endfor
% endif
-- Every revision is recorded in schemactl_audit: revision, direction, its start, end and
-- duration by the server's clock, the release${" (%s)" % comment(script.release) if script.release else ""}, by whom, and the sha256 of its
-- revision file. An audit table of an earlier layout gets the new columns first; no row of
-- it is changed.
${rule}

% for line in dialect.preamble() + dialect.begin() + dialect.lock() + dialect.clock_setup():
${line | n}
% endfor
% if dialect.transactional:
%   for line in dialect.ensure_tables():

${line | n}
%   endfor

-- Guard: stop unless this database is at ${heads(script.expected)}.
${dialect.guard(script.expected) | n}
%   for line in dialect.database_guard():

-- Guard: stop if this is another database of the project (it holds their version table).
${line | n}
%   endfor
% else:

-- Guard: stop unless this database is at ${heads(script.expected)}.
${dialect.guard(script.expected) | n}
%   for line in dialect.database_guard():

-- Guard: stop if this is another database of the project (it holds their version table).
${line | n}
%   endfor
%   for line in dialect.ensure_tables():

${line | n}
%   endfor
% endif
% for number, step in enumerate(script.steps, 1):

${thin}
-- ${number}/${len(script.steps)}  ${step.direction} ${step.revision.id}${"  [%s]" % comment(step.branch) if step.branch else ""}
--   ${step.message}
--   ${comment(step.revision.filename)}  sha256 ${step.sha256}
${thin}
<%  outside = not step.transactional and dialect.transactional %>\
%   if step.folded:
-- Its own ${comment(step.folded)} are left out: the statements between them run in
-- this script's transaction.
%   endif
%   if outside:

-- This revision cannot run in a transaction: commit what came before it. Its statements,
-- then its version and audit rows, each commit on their own, under the same timeouts.
%     for line in dialect.commit() + dialect.outside_transaction():
${line | n}
%     endfor
%   endif

%   for line in dialect.clock_start():
${line | n}
%   endfor
%   if step.backup_sql and upgrade:

-- Backup of what this revision destroys (the rollback script puts it back):
%     for line in step.backup_sql:
${line | n}
%     endfor
%   endif
%   if not step.statements:

-- (no schema change: this revision only moves the version)
%   endif
%   for statement in step.statements:

${statement | n}
%   endfor
%   if step.backups and not upgrade and script.backup:

-- Put back what the upgrade kept, now that the structure is rebuilt; then drop the backup:
%     for b in step.backups:
%       if not b.restorable:
-- NOT restored: ${comment(b.problem, limit=300)}; ${comment(dialect.backup_table(b.name))} is kept.
%       endif
%     endfor
%     for line in step.backup_sql:
${line | n}
%     endfor
%   endif

%   for line in step.stamp:
${line | n}
%   endfor
${step.audit | n}
%   if outside:

-- Back in a transaction for what follows.
%     for line in dialect.begin():
${line | n}
%     endfor
%   endif
% endfor

% for line in dialect.commit() + dialect.unlock():
${line | n}
% endfor
