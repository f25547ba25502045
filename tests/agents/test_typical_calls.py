"""Typical calls read from a module's source, never by importing it."""

from __future__ import annotations

import ast

from agents.generation.typical_calls import search_seeds, typical_units

MODULE = '''
def slugify(text: str, max_length: int = 0, separator: str = "-") -> str:
    return text

def send(email, subject):
    pass

def scale(points: list, factor: float):
    pass

def _private(text):
    pass

def render(template: "Template", text: str):
    pass

def nothing_to_pass():
    pass

def odd(qwzx):
    pass
'''


def _calls(prefix: str | None, imported: set[str] | None = None) -> list[str]:
    return [ast.unparse(u.body[0]) for u in typical_units(MODULE, prefix, imported or set())]


def test_values_come_from_names_then_annotations_and_defaults_are_left_to_apply() -> None:
    assert _calls("slugify_") == [
        "typical = slugify_.slugify(text='Hello World')",
        "typical = slugify_.send(email='jane.doe@example.com', subject='Hello World')",
        "typical = slugify_.scale(points=[3, 1, 2], factor=1.5)",
    ]


def test_functions_imported_by_name_are_called_by_name_and_only_those() -> None:
    assert _calls(None, {"slugify"}) == ["typical = slugify(text='Hello World')"]


def test_a_module_that_does_not_parse_gives_none() -> None:
    assert typical_units("def broken(:\n", "m", set()) == []


def test_a_docstring_example_gives_the_typical_call_its_author_had_in_mind() -> None:
    source = ('def timeparse(sval: str, granularity: str = "seconds"):\n'
              '    """Parse a time expression.\n\n    >>> timeparse(\'1:24\')\n    84\n    """\n')
    assert [ast.unparse(u.body[0]) for u in typical_units(source, "timeparse_", set())] == \
        ["typical = timeparse_.timeparse(sval='1:24')"]
    # An example that is not all literals is passed over for the guess from the annotation.
    source = source.replace("timeparse('1:24')", "timeparse(make_text())")
    assert [ast.unparse(u.body[0]) for u in typical_units(source, "timeparse_", set())] == \
        ["typical = timeparse_.timeparse(sval='Hello World')"]


def test_a_sphinx_type_and_the_words_of_a_name_give_a_value() -> None:
    # pyhumps 3.8.0's main.py: no annotations (they are in a .pyi), the type in the docstring.
    source = (
        "def pascalize(str_or_iter):\n"
        '    """Convert a string, dict, or list of dicts to pascal case.\n\n'
        "    :param str_or_iter:\n        A string or iterable.\n"
        "    :type str_or_iter: Union[list, dict, str]\n"
        '    """\n\n\n'
        "def count(items_list):\n"
        '    """:type items_list: Union[int, list]"""\n'
    )
    calls = [ast.unparse(u.body[0]) for u in typical_units(source, "main", set())]
    assert calls == ["typical = main.pascalize(str_or_iter='Hello World')",
                     "typical = main.count(items_list=20)"]


def test_the_typical_calls_become_a_seed_module_pynguin_can_read() -> None:
    source = ("def slugify(text, max_length=0):\n    return text\n\n\ndef _private(text):\n    return text\n\n\n"
              "def mystery(blob):\n    return blob\n")
    assert search_seeds(source, "slugify.slugify") == (
        "import slugify.slugify as module_0\n\n\n"
        "def test_seed_0():\n    var_0 = module_0.slugify(text='Hello World')\n")
    assert search_seeds("def mystery(blob):\n    return blob\n", "m") is None  # nothing to seed: no file
    assert search_seeds("def broken(:\n", "m") is None


def test_a_positional_only_parameter_is_passed_by_position_from_the_docstring_example() -> None:
    """validators 0.28.3: ``def cron(value: str, /)`` with ``>>> cron('*/5 * * * *')``; the example was passed
    over (its argument had no keyword to go to), and search never found a valid cron string (25 % of cron.py)."""
    source = ('def cron(value: str, /):\n    """Whether value is a cron string.\n\n'
              "    >>> cron('*/5 * * * *')\n    # Output: True\n    \"\"\"\n    return True\n")
    units = typical_units(source, "cron_", set())
    assert [ast.unparse(s) for u in units for s in u.body] == ["typical = cron_.cron('*/5 * * * *')"]
