"""Literals: every value a revision writes reaches its script's SQL exactly as written.

Offline, Alembic compiles each statement with the dialect the project's env.py configured
and writes it out, and three things on that way change data that online Alembic stores
intact:

- a dialect created with its driver's paramstyle (psycopg's pyformat, PyMySQL's format)
  doubles every ``%`` of the text, literals included, for a DBAPI that never sees it;
- Alembic lays statements out with every TAB expanded to four spaces, the TABs inside
  string literals and raw SQL included;
- the ``mariadb`` and ``sqlite3`` clients drop a CR that stands before a LF, and other
  control characters, written raw, can hide text from a DBA reading the script.

The capture (tools.scripts.capture) compiles with a copy of env.py's dialect made here: named
parameters; a compiler that writes string values with control characters and binary values
the dialect's own exact way (tools.dialects), and marks every TAB of a value or of raw SQL
so that only the layout's TABs are expanded; raw SQL with a CR before a LF inside a string
literal written so the client keeps it. ``restore`` turns the marks back into TABs.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from tools.core.internals import forget_type_memos
from tools.dialects import UnwritableValue

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

    from tools.dialects import ScriptDialect

# What a TAB of a value or of raw SQL is written as until Alembic has laid the statement out.
# A NUL cannot reach compiled SQL otherwise: values holding one are written with the
# dialect's escapes (or refused), and raw SQL holding one is refused.
TAB_MARK = "\x00"
_LAYOUT_END = re.compile(r"\s*(;?)\s*\Z")


class RawNul(UnwritableValue):
    """Raw SQL holding a NUL character: no client reads past it."""

    def __init__(self) -> None:
        super().__init__("its SQL text holds a NUL character, which no client can read")


class LostCarriageReturn(UnwritableValue):
    """Raw SQL with a CR before a LF where it cannot be told whether a literal holds it."""

    def __init__(self, client: str) -> None:
        super().__init__(
            f"its SQL text has a CR before a LF that the {client} client would drop, and the "
            "SQL cannot be tokenized to tell whether a string literal holds it"
        )


def offline_dialect(dialect: Dialect, kind: ScriptDialect) -> Dialect:
    """A copy of ``dialect`` (as env.py configured it) that writes values exactly."""
    offline = copy.copy(dialect)
    offline.paramstyle = "named"
    offline.positional = False
    # Literal processors are remembered per dialect: the copy keeps its own.
    forget_type_memos(offline)
    offline.identifier_preparer = offline.preparer(offline)
    offline.statement_compiler = _exact_compiler(type(dialect).statement_compiler, kind)
    return offline


def _exact_compiler(base: type[Any], kind: ScriptDialect) -> type[Any]:
    class ExactCompiler(base):  # type: ignore[misc, valid-type]
        def render_literal_value(self, value: Any, type_: Any) -> str:
            from sqlalchemy import String

            if isinstance(value, bytes | bytearray | memoryview):
                return kind.binary_literal(bytes(value))
            written = None
            if isinstance(value, str) and isinstance(type_, String):
                written = kind.string_literal(value)
            if written is None:
                written = str(super().render_literal_value(value, type_))
            return written.replace("\t", TAB_MARK)

        def post_process_text(self, text: str) -> str:
            text = super().post_process_text(text)
            if TAB_MARK in text:
                raise RawNul()
            return _keep_crlf(text, kind).replace("\t", TAB_MARK)

    ExactCompiler.__name__ = ExactCompiler.__qualname__ = f"Exact{base.__name__}"
    return ExactCompiler


def _keep_crlf(text: str, kind: ScriptDialect) -> str:
    """Raw SQL whose string literals hold a CR before a LF, written so the client keeps the CR
    (a CR outside literals, a line ending, is left as it is: the client drops it harmlessly)."""
    if kind.crlf_in_string is None or "\r\n" not in text:
        return text
    from tools.scripts.statements import string_spans  # (sqlglot: only for such text)

    spans = string_spans(text, kind.sqlglot)
    if spans is None:
        raise LostCarriageReturn(kind.client)
    pieces, done = [], 0
    for start, end in spans:
        pieces += [text[done:start], text[start:end].replace("\r\n", kind.crlf_in_string)]
        done = end
    return "".join([*pieces, text[done:]])


def restore(statement: str) -> str:
    """A statement as Alembic laid it out, with the TABs of its values and raw SQL back, and
    without the white space Alembic would have stripped around it."""
    if TAB_MARK not in statement:
        return statement
    body = statement.replace(TAB_MARK, "\t")
    end = _LAYOUT_END.search(body)
    assert end is not None
    return body[: end.start()].strip() + end.group(1)
