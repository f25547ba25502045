"""The calls a module's docstrings and README show, written as seeds Pynguin's seed parser reads."""

from __future__ import annotations

from agents.generation.example_seeds import example_seed_tests, top_names

PARSER = '''
def loads(__s, *, parse_float=float):
    """Parse a TOML text.

    >>> loads("a = 1")
    {'a': 1}
    """
    return {}


class Document:
    def __init__(self, text):
        self.text = text

    def keys(self):
        return []


def _helper(x):
    return x
'''

README = '''# tomli

## Parse a TOML string

```python
import tomli as tomllib
from decimal import Decimal

toml_str = """
[[players]]
name = "Lehtinen"
"""
toml_dict = tomllib.loads(toml_str)
assert toml_dict == tomllib.loads(toml_str)
exact = tomllib.loads("x = 0.1", parse_float=Decimal)
```

## A document

>>> from tomli._parser import Document
>>> doc = Document("a = 1")
>>> doc.keys()
[]
>>> import os
>>> os.system("echo not a seed")
0
'''


def test_the_module_names_a_seed_may_call_are_what_it_defines() -> None:
    assert top_names(PARSER) == {"loads", "Document", "_helper"}
    assert top_names("def broken(:\n") == set()


def test_docstring_and_readme_calls_become_seed_calls_of_the_module_with_their_literals() -> None:
    tests = example_seed_tests(PARSER, "tomli._parser", [README])
    assert tests == [
        # the docstring's bare name is the module's own
        "def test_example_0():\n    var_0 = module_0.loads('a = 1')\n",
        # through the package's alias; the text bound to a name is written in; the same call twice is one;
        # a keyword whose value the seed cannot write (a class from elsewhere) is left out
        ("def test_example_1():\n"
         "    var_0 = module_0.loads('\\n[[players]]\\nname = \"Lehtinen\"\\n')\n"
         "    var_1 = module_0.loads('x = 0.1')\n"),
        # a method of what a call returned; a call of another module (os.system) is no seed
        "def test_example_2():\n    var_0 = module_0.Document('a = 1')\n    var_1 = var_0.keys()\n",
    ]


def test_examples_that_call_nothing_of_the_module_or_do_not_parse_give_no_seed() -> None:
    readme = "# x\n\n```python\nimport json\njson.loads('1')\n```\n\n```python\ndef broken(:\n```\n"
    assert example_seed_tests(PARSER.replace(">>>", "..."), "tomli._parser", [readme]) == []
    assert example_seed_tests("def broken(:\n", "m", [README]) == []
    deep = "# x\n\n```python\nimport m\nm.f(" + "[" * 100_000 + "]" * 100_000 + ")\n```\n"
    assert example_seed_tests("def f(x):\n    return x\n", "m", [deep]) == []


def test_a_value_too_long_to_read_is_not_written_into_a_seed() -> None:
    readme = "# x\n\n>>> import m\n>>> m.f('" + "a" * 10_000 + "')\n>>> m.f('short')\n"
    assert example_seed_tests("def f(x):\n    return x\n", "m", [readme]) == [
        "def test_example_0():\n    var_0 = module_0.f('short')\n"]


VALIDATE = '''
class Range:
    def __init__(self, min=None):
        self.min = min


class And:
    """Compose validators.

    Example: ::

        from marshmallow import validate

        def is_even(value):
            return value % 2 == 0

        validate.Range(is_even)
        validator = validate.And(validate.Range(min=0), is_even)
        validator(-1)
    """

    def __init__(self, *validators):
        self.validators = validators
'''


def test_a_docstrings_literal_block_is_read_and_its_star_args_are_written_as_far_as_they_can_be() -> None:
    """marshmallow.validate's ``And``: its example composes a validator of the module with one of its own."""
    assert example_seed_tests(VALIDATE, "marshmallow.validate", []) == [
        # Range(is_even): a parameter without a value the seed can write, and no *args to leave it to: no call
        ("def test_example_0():\n    var_0 = module_0.Range(min=0)\n    var_1 = module_0.And(var_0)\n"
         "    var_2 = var_1.__call__(-1)\n")]


def test_a_format_a_docstring_shows_with_placeholders_is_filled_in_bare_and_signed() -> None:
    """isodate's parse_duration lists its formats (``-PYYYY-MM-DDThh:mm:ss``) and no example of them."""
    source = ('def parse_duration(datestring):\n    """Parses durations.\n\n'
              '    The following formats are supported:\n      -PnnW     in weeks\n'
              '      -PYYYY-MM-DDThh:mm:ss  extended alternative format\n\n'
              '    Beginning with nn, annually MM and DD: words and lone placeholders are no format.\n    """\n')
    assert example_seed_tests(source, "isodate.isoduration", []) == [(
        "def test_example_0():\n"
        "    var_0 = module_0.parse_duration('P3W')\n    var_1 = module_0.parse_duration('-P3W')\n"
        "    var_2 = module_0.parse_duration('P2003-02-01T04:05:06')\n"
        "    var_3 = module_0.parse_duration('-P2003-02-01T04:05:06')\n")]
