"""Typical calls placed in a test file: through its own binding of the module, with the imports they need."""

from __future__ import annotations

import ast

from agents.generation.test_units import parse_file
from agents.generation.typical_in_file import rows_adding, typical_in_file

MODULE = ("import datetime\n\n\nclass Formatter:\n    def format(self, dt: datetime.datetime, fmt: str) -> str:\n"
          "        return 'YYYY' if fmt == 'YYYY' else fmt if fmt == 'MM' else ''\n\n\n"
          "def shout(text: str) -> str:\n    return text.upper()\n")


def _calls(code: str, leaf_is_module: bool = False) -> tuple[list[str], str]:
    parts = parse_file(code)
    assert parts is not None
    parts.module_source = MODULE
    units, _rows = typical_in_file(parts, "pkg.fmt", leaf_is_module)
    return [ast.unparse(u.body[0].value) for u in units], "\n".join(ast.unparse(n) for n in parts.imports)


def test_the_calls_go_through_the_file_s_own_binding_of_the_module() -> None:
    calls, imports = _calls("import pkg.fmt as fmt_\n\n\ndef test_a():\n    fmt_.shout(text='a')\n")
    assert calls[1] == "fmt_.shout(text='Hello World')" and calls[0].startswith("fmt_.Formatter().format(")
    assert imports == "import pkg.fmt as fmt_\nimport datetime"
    # ``from pkg import fmt`` is the module only where the package binds the leaf to it.
    calls, _ = _calls("from pkg import fmt\n\n\ndef test_a():\n    fmt.shout(text='a')\n", leaf_is_module=True)
    assert calls[1] == "fmt.shout(text='Hello World')"
    calls, imports = _calls("from pkg import fmt\n\n\ndef test_a():\n    fmt.shout(text='a')\n")
    assert calls[1] == "shout(text='Hello World')" and "from pkg.fmt import shout" in imports


def test_a_name_the_file_binds_to_something_else_is_never_used() -> None:
    calls, imports = _calls("from datetime import datetime\nfrom pkg.fmt import shout\n\n\n"
                            "def test_a():\n    shout(text=str(datetime.now()))\n")
    assert calls == ["shout(text='Hello World')"]  # the formatter needs ``datetime``, the module: not here
    assert imports.splitlines() == ["from datetime import datetime", "from pkg.fmt import shout"]


def test_a_row_stays_only_where_it_runs_something_new() -> None:
    covers = [frozenset({("m.py", 1)}), frozenset({("m.py", 1), ("m.py", 2)}), frozenset({("m.py", 2)}),
              frozenset({("m.py", 3)})]
    assert rows_adding([1, 2, 3], covers, [0]) == {1, 3}
