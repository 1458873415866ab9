"""What a warm `schemactl status` keeps between runs (tools.live.status derived/shown) prints
what format_status prints, on any history Alembic accepts and any set of heads a database
can be at; and a kept form that does not fit is declined, never shown."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from tools.config import Environment
from tools.live.status import Status, derived, format_status, shown, status_rows

from .helpers import graph_of, header
from .test_graph_shapes import histories

ENV = Environment(name="dev", dialect="sqlite")
URL = "sqlite:///dev.db"


@given(histories(), st.data())
def test_the_kept_rows_print_what_the_rows_print(headers, data):
    graph = graph_of(*headers)
    heads = data.draw(st.sets(st.sampled_from(graph.order), max_size=3))
    # A database sits on heads only: none of them below another.
    current = tuple(r for r in graph.order if r in heads and not graph.ancestors(heads - {r}) & {r})
    expected = format_status(
        Status(ENV, URL, current, status_rows(graph, graph.ancestors(current)), graph.heads)
    )
    kept = json.loads(json.dumps(derived(graph)))  # as it is written and read back
    assert shown(kept, ENV, URL, current) == expected.splitlines()


def test_a_kept_form_that_does_not_fit_is_declined():
    graph = graph_of(header("a1"), header("b2", "a1"), header("c3", "a1", labels=("side",)))
    kept = derived(graph)
    assert shown(kept, ENV, URL, ("feedfacefeed",)) is None  # not in this history
    cut = {**kept, "below": kept["below"][:-1]}
    assert shown(cut, ENV, URL, ()) is None


def test_what_a_revision_file_says_is_shown_inert():
    """A message or a label holding an escape sequence (a terminal's title, colours) or a
    control character is shown with spaces in its place, kept or not."""
    hostile = "Add \x1b[31mred\x1b[0m \x1b]0;pwned\x07 tax\u2028id\x85"
    graph = graph_of(header("a1", message=hostile), header("b2", "a1", labels=("x\x1by",)))
    expected = format_status(Status(ENV, URL, ("b2",), status_rows(graph, {"a1", "b2"})))
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", expected), expected
    assert "Add  [31mred [0m  ]0;pwned  tax" in expected and "x y" in expected
    assert shown(derived(graph), ENV, URL, ("b2",)) == expected.splitlines()
