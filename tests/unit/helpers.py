"""Graphs and histories built in memory: no files, no database."""

from __future__ import annotations

from tools.history.graph import Graph, Header, build_graph
from tools.history.load import History


def header(
    rev: str,
    *parents: str,
    labels: tuple[str, ...] = (),
    message: str = "",
    name: str = "",
    depends_on: tuple[str, ...] = (),
) -> Header:
    """One revision; its file name sorts by the order revisions are written in a test."""
    return Header(
        rev, tuple(parents), labels, message or f"revision {rev}", name or f"{rev}.py", depends_on
    )


def graph_of(*headers: Header) -> Graph:
    return build_graph(headers)


def history_of(*headers: Header) -> History:
    return History(build_graph(headers))
