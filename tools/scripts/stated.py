"""Every ALTER Alembic's own operations write into an offline script, said online where the
kind of database always does it so (MariaDB: ALGORITHM=INPLACE, LOCK=NONE), so that a
server that would copy the table instead refuses it. Installed by env.py on the offline
context, so `alembic upgrade --sql` writes what schemactl's scripts do; an environment
with safe = false, a kind that says nothing of it, and raw SQL (``op.execute``: the
developer's, as written) are left as they are.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.schema import ExecutableDDLElement

from tools.dialects import ScriptDialect
from tools.operations.online import SAFE_OPTION, Verbatim, kind_of
from tools.scripts import statements


def state_online(context: Any) -> None:
    """Make the offline statements of Alembic's own operations in ``context`` (a
    MigrationContext, configured) say that they must run online, where its kind always
    does them so: on MariaDB an ALTER TABLE that adds or drops a column, an index or a key
    (tools.scripts.statements.actions, within MariaDB.ONLINE_ACTIONS)."""
    impl = context.impl
    kind = kind_of(context.dialect)
    if not impl.as_sql or kind is None or not kind.ONLINE_ACTIONS:
        return
    if not context.opts.get(SAFE_OPTION, True):
        return
    execute = impl._exec

    def stated_exec(construct: Any, *args: Any, **kw: Any) -> Any:
        if not isinstance(construct, ExecutableDDLElement) or isinstance(construct, Verbatim):
            return execute(construct, *args, **kw)
        own = "static_output" in vars(impl)
        output = impl.static_output
        impl.static_output = lambda text: output(_stated(kind, text))
        try:
            return execute(construct, *args, **kw)
        finally:
            if own:
                impl.static_output = output
            else:
                del impl.static_output

    impl._exec = stated_exec


_ALTERS = re.compile(r"\s*(ALTER\s+TABLE|CREATE\s+(UNIQUE\s+)?INDEX)\b", re.I)


def _stated(kind: ScriptDialect, text: str) -> str:
    """One statement Alembic wrote (with its terminator), with the kind's online clause."""
    if not _ALTERS.match(text):
        return text
    body = text.rstrip()
    end = ";" if body.endswith(";") else ""
    body = body.removesuffix(";").rstrip()
    stated = kind.stated_online(statements.actions(statements.parse_one(body, kind.sqlglot)), body)
    return text if stated is None else f"{stated}{end}{text[len(text.rstrip()) :]}"
