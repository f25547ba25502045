"""Tests built on another package's private names are not kept; the package under test's own private names are."""

from __future__ import annotations

from agents.generation.foreign_private import leaning_on_foreign_private

# What CrossHair kept for isodate (issue 27): a private class of the standard library passed as a format string.
_ISODATE = '''from importlib.metadata._text import FoldedCase
from isodate.isoduration import duration_isoformat, parse_duration
from isodate._helpers import clamp


def test_duration_isoformat():
    duration_isoformat(tduration=0, format=FoldedCase())


def test_parse_duration():
    assert parse_duration('P1D').days == 1


def test_clamp():
    assert clamp(3) == 3
'''


def test_a_test_using_another_packages_private_class_is_named_and_the_others_are_not() -> None:
    assert leaning_on_foreign_private(_ISODATE, "isodate") == ["test_duration_isoformat"]


def test_private_modules_imported_whole_and_private_names_count_too() -> None:
    code = ("import collections._sketchy as sk\nfrom json import _default_decoder\nfrom os import path\n\n\n"
            "def test_a():\n    sk.x()\n\n\ndef test_b():\n    _default_decoder.decode('1')\n\n\n"
            "def test_c():\n    path.join('a')\n")
    assert leaning_on_foreign_private(code, "mypkg") == ["test_a", "test_b"]
    # Dunder names are not private: ``from pkg import __version__``.
    assert leaning_on_foreign_private("from other import __version__\n\n\ndef test_v():\n    assert __version__\n",
                                      "mypkg") == []
