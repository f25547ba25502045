"""A merged test file in one style, each check once (inflection's and isodate's kept files, session 12)."""

from __future__ import annotations

from agents.generation.one_style import one_style

MERGED = '''"""Tests for inflection, generated (doctest examples, search: Pynguin)."""

import inflection
import pytest
from inflection import camelize
from inflection import ordinal


def test_camelize_returns_str_for_device_type():
    assert camelize(string="device_type") == "DeviceType"


@pytest.mark.parametrize("number, expected", [(0, "th"), (1, "st")])
def test_ordinal_returns_str(number, expected):
    assert ordinal(number=number) == expected


def test_camelize_returns_str_for_device_type_2():
    assert inflection.camelize(string="device_type") == "DeviceType"


def test_ordinal_returns_str_2():
    """Said otherwise, checked the same."""
    assert inflection.ordinal(number=1) == "st"


def test_dasherize_returns_str_2():
    assert inflection.dasherize(word="puni_puni") == "puni-puni"


def test_ordinal_is_empty_for_0():
    assert inflection.ordinal(number="0") == ""
'''


def test_one_spelling_per_module_and_each_check_once() -> None:
    out = one_style(MERGED, "inflection")
    assert "from inflection import" not in out
    assert "inflection.camelize(string='device_type')" in out
    assert "inflection.ordinal(number=number)" in out
    assert out.count("string='device_type'") == 1  # the twin went
    assert "ordinal(number=1)" not in out  # a row of the table, written out again
    # A numbered name whose first is gone is the plain name.
    assert "def test_dasherize_returns_str():" in out
    assert "def test_camelize_returns_str_for_device_type():" in out
    assert "def test_ordinal_is_empty_for_0():" in out  # the case's own word, not a counter


def test_a_name_the_module_imports_from_elsewhere_is_imported_from_there() -> None:
    code = ("from isodate.isoduration import Decimal, parse_duration\n\n\n"
            "def test_years():\n    assert parse_duration('P1Y').years == Decimal('1')\n")
    source = "from decimal import Decimal\nfrom isodate.duration import Duration\n\n\ndef parse_duration(s):\n    pass\n"
    out = one_style(code, "isodate.isoduration", source)
    assert out.splitlines()[:2] == ["from decimal import Decimal", "from isodate.isoduration import parse_duration"]


def test_a_name_bound_in_the_file_keeps_its_import_and_a_comment_leaves_the_file_as_written() -> None:
    code = ("import m\nfrom m import f\n\n\ndef test_a():\n    f = 2\n    assert m.g(f) == 2\n\n\n"
            "def test_b():\n    assert m.h() == 1\n")
    assert one_style(code, "m") == code  # ``f`` is also a local: nothing to change, nothing repeated
    with_comment = MERGED.replace('    assert camelize(string="device_type")', "    # the model's words\n"
                                  '    assert camelize(string="device_type")')
    assert one_style(with_comment, "inflection") == with_comment  # the rewrite would lose them


def test_what_the_rewrites_leave_alone_keeps_its_text() -> None:
    """A README example's blank lines and comments, a comment on an import: a rewrite elsewhere keeps them."""
    readme = ('\n\ndef test_readme_how_to_use() -> None:\n    """The example in README.md."""\n'
              '    txt = "a b"  # two words\n    assert inflection.dasherize(txt) == "a b"\n\n'
              '    txt = "a_b"\n    assert inflection.dasherize(txt) == "a-b"\n')
    code = MERGED.replace("import pytest\n", "import pytest  # the model's words\n") + readme
    out = one_style(code, "inflection")
    assert "from inflection import" not in out  # rewritten elsewhere
    assert "import pytest  # the model's words\n" in out and readme.strip() in out


def test_pynguin_s_module_lookup_beside_names_imported_from_the_module_becomes_names_imported() -> None:
    """string_utils.validation's kept file read both ``validation_.is_decimal(...)`` and ``is_decimal(...)``."""
    code = ('import string_utils.validation\nimport sys\nfrom string_utils.validation import is_decimal\n'
            'validation_ = sys.modules["string_utils.validation"]\n\n\n'
            'def test_a():\n    assert is_decimal(input_string="42.0") is True\n\n\n'
            'def test_b():\n    assert validation_.is_decimal(input_string="42.0") is True\n\n\n'
            'def test_c():\n    assert validation_.is_email(input_string="@") is False\n')
    out = one_style(code, "string_utils.validation")
    assert "sys" not in out and "validation_" not in out and "import string_utils.validation\n" not in out
    assert "from string_utils.validation import is_email" in out
    assert out.count("from string_utils.validation import is_decimal") == 1
    assert out.count('is_decimal(input_string="42.0")') + out.count("is_decimal(input_string='42.0')") == 1


def test_a_leaf_the_package_binds_to_something_else_is_not_taken_for_the_module() -> None:
    """python-slugify: ``from slugify import slugify`` is the function the package exports."""
    code = ("from slugify import slugify\nfrom slugify.slugify import smart_truncate\n\n\n"
            "def test_a():\n    assert slugify('A b') == 'a-b'\n\n\n"
            "def test_b():\n    assert smart_truncate('abc', max_length=2) == 'ab'\n")
    assert one_style(code, "slugify.slugify") == code
    assert "formatter.DateTimeFormatter()" in one_style(
        "from arrow import formatter\nfrom arrow.formatter import DateTimeFormatter\n\n\n"
        "def test_a():\n    assert DateTimeFormatter().format(fmt='YYYY')\n\n\n"
        "def test_b():\n    assert formatter.FORMAT_W3C\n", "arrow.formatter", leaf_is_module=True)


def test_the_lookups_names_are_imported_beside_the_files_own_import_of_the_module_once() -> None:
    """semver's merged file imported ``Version`` twice: at the head, and where Pynguin's lookup sat, below the
    doctest helper."""
    code = ('import sys\nfrom semver.version import Version\n\n\ndef _helper():\n    return 1\n\n\n'
            'version_ = sys.modules["semver.version"]\n\n\n'
            'def test_a():\n    assert version_.Version(major=1) == Version(major=1)\n\n\n'
            'def test_b():\n    assert version_.parse(version="1.2.3") is not None\n')
    out = one_style(code, "semver.version")
    assert out.count("from semver.version import Version") == 1
    head = out.split("def _helper")[0]
    assert "from semver.version import parse" in head and "version_" not in out
