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
    return [ast.unparse(u.body[0]) for u in typical_units(MODULE, prefix, imported or set()).units]


def test_values_come_from_names_then_annotations_and_defaults_are_left_to_apply() -> None:
    assert _calls("slugify_") == [
        "typical = slugify_.slugify(text='Hello World')",
        "typical = slugify_.send(email='jane.doe@example.com', subject='Hello World')",
        "typical = slugify_.scale(points=[3, 1, 2], factor=1.5)",
    ]


def test_functions_are_called_by_name_without_an_alias_and_those_not_imported_yet_are_named() -> None:
    assert _calls(None, {"slugify"})[:2] == ["typical = slugify(text='Hello World')",
                                            "typical = send(email='jane.doe@example.com', subject='Hello World')"]
    typical = typical_units(MODULE, None, {"slugify"})
    assert typical.names == {"send", "scale"}  # slugify is imported already
    # A name the file binds to something else is not called.
    assert "typical = send(" not in str(_calls_blocked({"send"}))


def _calls_blocked(blocked: set[str]) -> list[str]:
    return [ast.unparse(u.body[0]) for u in typical_units(MODULE, None, set(), blocked=frozenset(blocked)).units]


def test_a_module_that_does_not_parse_gives_none() -> None:
    assert typical_units("def broken(:\n", "m", set()).units == []


def test_a_docstring_example_gives_the_typical_call_its_author_had_in_mind() -> None:
    source = ('def timeparse(sval: str, granularity: str = "seconds"):\n'
              '    """Parse a time expression.\n\n    >>> timeparse(\'1:24\')\n    84\n    """\n')
    assert [ast.unparse(u.body[0]) for u in typical_units(source, "timeparse_", set()).units] == \
        ["typical = timeparse_.timeparse(sval='1:24')"]
    # An example that is not all literals is passed over for the guess from the annotation.
    source = source.replace("timeparse('1:24')", "timeparse(make_text())")
    assert [ast.unparse(u.body[0]) for u in typical_units(source, "timeparse_", set()).units] == \
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
    calls = [ast.unparse(u.body[0]) for u in typical_units(source, "main", set()).units]
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
    units = typical_units(source, "cron_", set()).units
    assert [ast.unparse(s) for u in units for s in u.body] == ["typical = cron_.cron('*/5 * * * *')"]


# arrow 1.3.0's formatter, cut down: a class whose method takes a datetime and a format of tokens it compares.
FORMATTER = '''
import re
from datetime import datetime
from typing import Optional

class DateTimeFormatter:
    def __init__(self, locale: str = "en_us") -> None:
        self.locale = locale

    def format(cls, dt: datetime, fmt: str) -> str:
        return cls._FORMAT_RE.sub(lambda m: cls._format_token(dt, m.group(0)), fmt)

    def _format_token(self, dt: datetime, token: Optional[str]) -> Optional[str]:
        if token == "YYYY":
            return f"{dt.year:04d}"
        if token in ("MM", "M"):
            return f"{dt.month}"
        return None

    def reset(self):
        return self

    @property
    def name(self):
        return "formatter"

    def forget(self, key: str) -> None:
        self.locale = key

class _Hidden:
    def shown(self, text):
        return text
'''


def test_a_class_is_made_with_typical_values_and_its_methods_called_with_a_datetime_and_its_own_tokens() -> None:
    typical = typical_units(FORMATTER, "formatter", set())
    assert [ast.unparse(u.body[0]) for u in typical.units] == [
        "typical = formatter.DateTimeFormatter().format(dt=datetime.datetime(2024, 3, 15, 13, 45, 30, "
        "tzinfo=datetime.timezone.utc), fmt='YYYY')"]
    # The other tokens the class compares with are rows: the same call with another format.
    assert [ast.unparse(u.body[0].value.keywords[1].value) for u in typical.rows] == ["'MM'", "'M'"]
    assert typical.modules == {"datetime"}
    # ``datetime`` bound to the class in the test file: no value may name the module.
    assert typical_units(FORMATTER, "formatter", set(), blocked=frozenset({"datetime"})).units == []
    # Without an alias the class is called by name, and named to import.
    assert typical_units(FORMATTER, None, set()).names == {"DateTimeFormatter"}


def test_a_parameter_matched_against_the_modules_pattern_gets_a_text_the_pattern_accepts() -> None:
    """isodate 0.7.2: ``parse_duration(datestring)`` says nothing by its name; its pattern says ``P1Y...``."""
    source = ('import re\n'
              'PERIOD = re.compile(r"^(?P<sign>[+-])?P(?!\\b)(?P<years>[0-9]+([,.][0-9]+)?Y)?"\n'
              '                    r"((?P<separator>T)(?P<hours>[0-9]+([,.][0-9]+)?H)?)?$")\n'
              'def parse_duration(datestring):\n'
              '    match = PERIOD.match(datestring)\n'
              '    return match.groupdict()\n')
    typical = typical_units(source, "isoduration", set())
    assert [ast.unparse(u.body[0]) for u in typical.units] == \
        ["typical = isoduration.parse_duration(datestring='+P1YT1H')"]
    assert [ast.unparse(u.body[0].value.keywords[0].value) for u in typical.rows] == ["'+P'", "'P1Y'", "'PT1H'"]


def test_the_formats_the_docstring_shows_are_rows_after_the_patterns_texts() -> None:
    """isodate 0.7.2: the alternative format (``-PYYYY-MM-DDThh:mm:ss``) no pattern of the module accepts."""
    source = ('import re\n'
              'PERIOD = re.compile(r"^(?P<sign>[+-])?P(?P<years>[0-9]+Y)?$")\n'
              'def parse_duration(datestring, as_timedelta=True):\n'
              '    """Formats:\n\n      -PYYYY-MM-DDThh:mm:ss  alternative\n    """\n'
              '    return PERIOD.match(datestring)\n')
    typical = typical_units(source, "isoduration", set())
    assert [ast.unparse(u.body[0].value.keywords[0].value) for u in typical.rows] == [
        "'+P'", "'P1Y'", "'P2003-02-01T04:05:06'", "'-P2003-02-01T04:05:06'"]


def test_the_seed_module_for_pynguin_stays_literal_calls_of_functions() -> None:
    assert search_seeds(FORMATTER, "formatter") is None
    source = "from datetime import datetime\n\ndef since(dt: datetime, text: str):\n    return text\n"
    assert search_seeds(source, "m") is None  # a datetime is not a literal Pynguin's seed parser reads


VERSIONS = '''
from ._types import String
from typing import Union, Dict

Comparable = Union["Version", Dict[str, int], str]


class Version:
    def __init__(self, major: int, minor: int = 0):
        self.major, self.minor = major, minor

    def compare(self, other: Comparable) -> int:
        return 0

    def is_compatible(self, other: "Version") -> bool:
        return True

    @classmethod
    def parse(cls, version: String) -> "Version":
        return cls(1)

    def __repr__(self) -> str:
        return f"Version(major={self.major})"


def newest(versions: list, default: Version) -> Version:
    return default
'''


def test_a_parameter_taking_the_modules_own_class_gets_its_typical_construction() -> None:
    """semver's ``compare(other: Comparable)`` and ``is_compatible(other: 'Version')`` got no typical call: the
    lines they run were left to search, which reached them only with its full time."""
    calls = [ast.unparse(u.body[0]) for u in typical_units(VERSIONS, None, set()).units]
    assert "typical = Version(major=20).compare(other=Version(major=20))" in calls  # through the module's alias
    assert "typical = Version(major=20).is_compatible(other=Version(major=20))" in calls
    assert "typical = newest(versions=[3, 1, 2], default=Version(major=20))" in calls
    # A type read from elsewhere (``String``) leaves the name to say what to pass; the class's text form is shown.
    assert "typical = Version.parse(version='1.2.3')" in calls
    assert "typical = repr(Version(major=20))" in calls
    assert typical_units(VERSIONS, None, set()).names == {"Version", "newest"}
    prefixed = [ast.unparse(u.body[0]) for u in typical_units(VERSIONS, "semver_", set()).units]
    assert "typical = semver_.Version(major=20).is_compatible(other=semver_.Version(major=20))" in prefixed


VALIDATORS = '''
from abc import ABC, abstractmethod


class Validator(ABC):
    @abstractmethod
    def __call__(self, value): ...

    def __repr__(self) -> str:
        return "<Validator>"


class URL(Validator):
    def __init__(self, *, relative: bool = False):
        self.relative = relative

    def __call__(self, value: str) -> str:
        return value


class Length(Validator):
    def __call__(self, value) -> object:
        return value
'''


def test_a_callable_object_is_called_with_what_its_class_name_asks_for_and_an_abstract_one_is_not_made() -> None:
    """marshmallow's validators are used as ``URL()(value)``: their ``__call__`` lines were left to search."""
    calls = [ast.unparse(u.body[0]) for u in typical_units(VALIDATORS, None, set()).units]
    assert calls == ["typical = URL()(value='https://example.com/docs?page=2')",
                     "typical = Length()(value='Hello World')"]  # a class name asking for a count gives no text


def test_a_text_the_code_decodes_or_transliterates_is_also_given_as_bytes_and_with_accents() -> None:
    source = '''
import unicodedata

def slugify(text: str) -> str:
    if not isinstance(text, str):
        text = str(text, "utf-8", "ignore")
    return unicodedata.normalize("NFKD", text)

def parse(version: str):
    if isinstance(version, bytes):
        version = version.decode("UTF-8")
    return version

def shout(text: str) -> str:
    return str(text).upper()
'''
    calls = [ast.unparse(u.body[0]) for u in typical_units(source, None, set()).units]
    assert calls == ["typical = slugify(text='Hello World')", "typical = slugify(text=b'Hello World')",
                     "typical = slugify(text='Héllo Wörld')",
                     "typical = parse(version='1.2.3')", "typical = parse(version=b'1.2.3')",
                     "typical = shout(text='Hello World')"]  # str(text) alone decodes nothing
