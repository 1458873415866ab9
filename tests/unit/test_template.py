"""The DBA script template: every expression is one line of text unless it is SQL a dialect
built (with its literal() and quote()), and nothing outside can end a comment line."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tools.core.text import comment, inline
from tools.scripts.render import DEFAULT_TEMPLATE

# The expressions written as they are: SQL from the dialect and from the revisions.
SQL = {"line", "dialect.guard(script.expected)", "statement", "step.audit"}
# What the clients (and editors) take for the end of a line.
LINE_ENDS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def test_every_expression_but_sql_passes_through_inline():
    source = DEFAULT_TEMPLATE.read_text()
    assert '<%page expression_filter="inline"/>' in source
    raw = {m.group(1).strip() for m in re.finditer(r"\$\{(.*?)\|\s*n\s*\}", source)}
    assert raw == SQL


@given(st.text())
def test_inline_and_comment_keep_any_text_on_its_line(value):
    for shown in (inline(value), comment(value)):
        assert not LINE_ENDS.search(shown)
    assert len(inline(value)) == len(value)  # columns stay aligned


@pytest.mark.parametrize("value", ["a\nDROP TABLE users;", "a\rb", "a\u2028b", "a\x1bc"])
def test_inline_turns_what_ends_a_line_into_a_space(value):
    assert inline(value) == value[0] + " " + value[2:]


@given(st.lists(st.text(alphabet="ab\n", max_size=6), max_size=8), st.integers(1, 10))
def test_a_script_written_piece_by_piece_ends_as_its_whole_text_would(pieces, batch):
    """write_text passes the template's pieces on in batches; the text ends with exactly
    one newline, whatever the pieces and the batches end with, and is otherwise the pieces
    unchanged."""
    import io

    from tools.scripts.render import _EndingOnce

    for size in (batch, _EndingOnce.BATCH):
        out = io.StringIO()
        ending = _EndingOnce(out)
        ending.BATCH = size
        for piece in pieces:
            ending.write(piece)
        ending.close()
        assert out.getvalue() == "".join(pieces).rstrip("\n") + "\n"
