"""Revision headers read with ast (tools.history.headers.literal_header): what is literal is read as
importing the file would give it; anything that could make the two differ is not literal."""

from __future__ import annotations

import textwrap
import types

import pytest

from tools.history.graph import Header
from tools.history.headers import literal_header
from tools.history.load import header_of

TEMPLATE = '''\
"""Add users.phone

Revision ID: 228dfcf7a7c0
Revises: ab251de0ab93
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "228dfcf7a7c0"
down_revision: str | Sequence[str] | None = "ab251de0ab93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("phone", sa.String(20)))


def downgrade() -> None:
    op.drop_column("users", "phone")
'''


def imported(source: str, path: str = "/x/r.py") -> Header:
    """The header importing the source gives: Alembic's Script of the module, read by the
    import path's own code (tools.history.load.header_of)."""
    from alembic.script.base import Script

    module = types.ModuleType("r")
    exec(compile(source, path, "exec"), module.__dict__)
    return header_of(Script(module, module.revision, path))


def test_the_template_is_read_as_importing_it_reads_it():
    header = literal_header(TEMPLATE.encode(), "/x/r.py")
    assert header == imported(TEMPLATE)
    assert header == Header(
        revision="228dfcf7a7c0",
        down_revision=("ab251de0ab93",),
        branch_labels=(),
        message="Add users.phone",
        path="/x/r.py",
        depends_on=(),
    )


@pytest.mark.parametrize(
    "header",
    [
        'revision = "m1"\ndown_revision = ("a", "b")\nbranch_labels = ["pay"]\ndepends_on = "n1"',
        "revision = 'r1'\ndown_revision = None",
        'revision = "r1"\ndown_revision = ""',
        'revision = "r1"\ndown_revision = ["a"]\nbranch_labels = ("x", "y")',
        'revision = "m1"\ndown_revision = ("a", "b", "a")',  # as Alembic keeps it
    ],
)
def test_literal_forms(header):
    source = f'"""Message\n\nmore"""\n{header}\n'
    assert literal_header(source.encode(), "/x/r.py") == imported(source)


@pytest.mark.parametrize(
    "body",
    [
        'revision = "ab" + "cd"\ndown_revision = None',  # an expression
        'from parents import PARENT\nrevision = "r1"\ndown_revision = PARENT',  # a name
        'revision = "r1"\ndown_revision = None\nif True:\n    down_revision = "x"',
        'revision = "r1"\ndown_revision = None\nrevision = "r2"',  # assigned twice
        'revision = "r1"\ndown_revision = None\nfrom other import *',
        'revision = "r1"\ndown_revision = None\nfrom other import depends_on',
        'revision = "r1"\ndown_revision = None\nglobals()["down_revision"] = "x"',
        # A function that runs at import: called, decorated, reached through another, or
        # through a name import-time code could call any function by.
        'revision = "r1"\ndown_revision = None\ndef f():\n    global revision\n    revision = "y"\nf()',
        'revision = "r1"\ndown_revision = None\ndef f():\n    setattr(m, "revision", 2)\nx = [f]',
        'revision = "r1"\ndown_revision = None\n@run\ndef f():\n    globals()["revision"] = 2',
        'revision = "r1"\ndown_revision = None\ndef f():\n    exec("revision = 2")\n'
        "def g():\n    f()\ng()",
        'revision = "r1"\ndown_revision = None\ndef f():\n    globals()["revision"] = 2\n'
        'getattr(sys.modules[__name__], "f")()',
        'revision = "r1"\ndown_revision = None\nclass C:\n    def __init__(self):\n'
        '        globals()["revision"] = 2\nC()',
        'revision = "r1"\ndown_revision = None\nif True:\n    def f():\n'
        '        globals()["revision"] = 2\n    f()',
        'revision = "r1"\ndown_revision = None\n(down_revision := "x")',
        'revision = "r1"\ndown_revision = None\nimport sys\nsys.modules[__name__].revision = "y"',
        'revision = "r1"\ndown_revision = None\nfor branch_labels in [("x",)]:\n    pass',
        'revision = "r1"\ndown_revision = None\n__doc__ = "Another message"',
        'revision = "r1"\ndown_revision = None\nwith open("f") as depends_on:\n    pass',
        'revision = "r1"\ndown_revision = None\ntry:\n    pass\nexcept Exception as revision:\n'
        "    pass",
        'revision = "r1"\ndown_revision = None\nmatch 1:\n    case revision:\n        pass',
        'revision = "r1"\ndown_revision = None\nexec("revision = 2")',
        'revision = "r1"\ndown_revision = None\nimport sys\n'
        'sys.modules[__name__].__dict__["revision"] = "y"',
        'revision = "r1"\ndown_revision = None\ndef depends_on():\n    pass',
        'revision = "r1"',  # no down_revision: importing reports it
        "down_revision = None",  # no revision: legacy file names, or an error
        "revision = 12\ndown_revision = None",  # not a string
        'revision = "r1"\ndown_revision = [1]',
        'revision = "r1"\ndown_revision = None\nbranch_labels = {"a": 1}',
        "revision = 'r1'\ndown_revision = None\ndef upgrade(:\n    pass",  # not Python
    ],
)
def test_anything_else_is_not_literal(body):
    assert literal_header(textwrap.dedent(body).encode(), "/x/r.py") is None


@pytest.mark.parametrize(
    "body",
    [
        # A function's own variable called revision.
        "def upgrade():\n    revision = 1\n",
        # Code that could rebind a header, in functions import never runs.
        'def upgrade():\n    setattr(op, "x", 1)\n    exec("pass")\n',
        'def f():\n    global revision\n    revision = "y"\n',
        'def upgrade():\n    globals()["revision"] = 2\ndef downgrade():\n    upgrade()\n',
    ],
)
def test_what_functions_import_never_runs_do_leaves_the_header_literal(body):
    """upgrade() and downgrade() run when Alembic migrates, not when it reads the file: what
    they do cannot change the header importing the file gives."""
    source = 'revision = "r1"\ndown_revision = None\n' + body
    assert literal_header(source.encode(), "/x/r.py") == imported(source)


@pytest.mark.parametrize(
    "doc",
    [
        None,
        "",
        "   One line   ",
        "First paragraph\nstill first\n\nSecond",
        "\n\n  Leading blank lines\n\nrest",
    ],
)
def test_the_message_is_alembics_doc(doc):
    docstring = "" if doc is None else f'"""{doc}"""\n'
    source = f'{docstring}revision = "r1"\ndown_revision = None\n'
    assert literal_header(source.encode(), "/x/r.py").message == imported(source).message


def test_an_encoding_cookie_and_non_ascii_are_read_as_python_reads_them():
    source = (
        '# -*- coding: latin-1 -*-\n"""Caf\xe9 totals"""\nrevision = "r1"\ndown_revision = None\n'
    )
    header = literal_header(source.encode("latin-1"), "/x/r.py")
    assert header is not None and header.message == "Caf\xe9 totals"


def test_a_comprehension_variable_is_its_own_scope():
    """A comprehension's loop variable binds nothing at module level (Python 3): the header
    is still literal, and what importing gives."""
    source = (
        'revision = "r1"\ndown_revision = None\n'
        "def upgrade():\n    return [revision for revision in ('a', 'b')]\n"
    )
    assert literal_header(source.encode(), "/x/r.py") == imported(source)
