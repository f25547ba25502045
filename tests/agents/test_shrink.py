"""Smaller inputs, one kind and one step at a time, on statements as Pynguin wrote them (semver 3.1.1)."""

from __future__ import annotations

import ast

from agents.generation.shrink import (
    DISTINCT,
    KINDS,
    ONE_FIGURE,
    ONE_OF_EACH,
    WHOLE,
    collection_at,
    has_mistyped_keyword,
    has_noisy_number,
    has_odd_keyword,
    number_at,
    text_at,
    with_typed_keywords,
    without_odd_keywords,
)
from agents.generation.test_units import Unit


def _unit(code: str) -> Unit:
    return Unit("test_case_0", ast.parse(code).body)


def _code(unit: Unit) -> str:
    return "\n".join(ast.unparse(s) for s in unit.body)


DOC = "\\n        Replace one or more parts of a version and return a new :class:`Version`\\n        object, but leave self"


def test_a_long_text_is_cut_in_the_input_and_where_the_generators_assertion_repeats_it() -> None:
    # Pynguin seeded prerelease with the module's own docstring and asserted the object it built from it;
    # bump_prerelease appended '.0' to it: the assertion repeats the input as a prefix.
    unit = _unit(f"var_0 = module_0.Version(major=False, prerelease='{DOC}')\n"
                 f"assert var_0 == Version(major=0, minor=0, patch=0, prerelease='{DOC}', build=None)\n"
                 "var_1 = var_0.bump_prerelease()\n"
                 f"assert var_1 == Version(major=0, minor=0, patch=0, prerelease='{DOC}.0', build=None)\n")
    cut = _code(text_at(unit, 8))
    assert cut == ("var_0 = module_0.Version(major=False, prerelease='\\n       ')\n"
                   "assert var_0 == Version(major=0, minor=0, patch=0, prerelease='\\n       ', build=None)\n"
                   "var_1 = var_0.bump_prerelease()\n"
                   "assert var_1 == Version(major=0, minor=0, patch=0, prerelease='\\n       .0', build=None)")
    assert _code(unit).count("Replace one or more") == 3  # the unit itself is left as it was


def test_noisy_numbers_become_small_round_ones_and_plain_ones_stay() -> None:
    unit = _unit("var_0 = module_0.Version(major=False)\n"
                 "var_1 = var_0.bump_prerelease(bump_when_empty=complex(-490.0, -1388.911))\n"
                 "var_2 = module_0.Version(major=3, minor=2741)\n"
                 "assert var_2.minor == 2741\n")
    assert has_noisy_number(unit)
    # An expectation that repeats an input repeats what the input became (the run decides whether it holds).
    assert _code(number_at(unit, 0)) == ("var_0 = module_0.Version(major=False)\n"
                                         "var_1 = var_0.bump_prerelease(bump_when_empty=complex(0.0, 0.0))\n"
                                         "var_2 = module_0.Version(major=3, minor=0)\n"
                                         "assert var_2.minor == 0")
    assert "complex(-1.0, -1.0)" in _code(number_at(unit, -1))
    # False, 3 and -1.0 read as a person would write them: nothing to shrink.
    assert not has_noisy_number(_unit("v = module_0.Version(major=False, minor=3, patch=-1.0, x=0.5)\n"))


def test_numbers_that_must_keep_their_order_are_rounded_each_on_its_own() -> None:
    """0, 1, -1, 10 and 100 for every number at once made low equal high, and clamp raised: the test stayed
    ``clamp(value=-230.37, low=2150.25, high=3107.9)``. Rounding keeps each number's sign and size."""
    unit = _unit("var_0 = module_0.clamp(value=-230.37, low=2150.25, high=3107.9)\n"
                 "assert var_0 == pytest.approx(2150.25, rel=0.01, abs=0.01)\n"
                 "assert module_0.scale(x=-230.37) == pytest.approx(-460.74)\n")
    assert _code(number_at(unit, ONE_FIGURE)) == (
        "var_0 = module_0.clamp(value=-200.0, low=2000.0, high=3000.0)\n"
        "assert var_0 == pytest.approx(2000.0, rel=0.01, abs=0.01)\n"
        # The same value in an assertion follows its input; a computed expectation stays, and the run decides.
        "assert module_0.scale(x=-200.0) == pytest.approx(-460.74)")
    assert _code(number_at(unit, WHOLE)).startswith("var_0 = module_0.clamp(value=-230.0, low=2150.0, high=3108.0)")
    assert [k.steps for k in KINDS if k.name == "number"] == [(0, 1, -1, 10, 100, ONE_FIGURE, WHOLE)]


def test_a_long_collection_keeps_its_first_elements_and_a_set_is_never_emptied() -> None:
    unit = _unit("var_0 = module_0.compare(other=(True, 1, 2, 3, 4))\n"
                 "var_1 = module_0.parse(values={'a': 1, 'b': 2, 'c': 3, 'd': 4})\n"
                 "var_2 = module_0.parse(values={1, 2, 3, 4, 5})\n")
    assert _code(collection_at(unit, 0)) == ("var_0 = module_0.compare(other=())\n"
                                             "var_1 = module_0.parse(values={})\n"
                                             "var_2 = module_0.parse(values={1})")
    assert _code(collection_at(unit, 1)) == ("var_0 = module_0.compare(other=(True,))\n"
                                             "var_1 = module_0.parse(values={'a': 1})\n"
                                             "var_2 = module_0.parse(values={1})")


def test_every_kind_tries_its_smallest_step_first() -> None:
    assert [(k.name, k.steps[0]) for k in KINDS] == [("odd keyword", 0), ("mistyped keyword", 0), ("text", 0),
                                                      ("readable text", 0), ("number", 0), ("collection", 0)]
    # A unit without that kind of value is not tried for it (no run is spent on it).
    plain = _unit("var_0 = module_0.Version(major=1)\n")
    assert not any(k.has(plain) for k in KINDS)


def test_a_text_whose_rare_characters_sit_deep_inside_keeps_one_of_each_kind() -> None:
    """flutils 0.7: as_escaped_unicode_literal branches on how wide each character's code is; Pynguin's
    input was 5,069 characters of docstring with a star and an emoji deep inside, so no prefix kept the
    branches. One character of each kind does (a letter, a space, a star, an emoji ...)."""
    text = "The given 'setup_dir' is NOT a directory. " * 5 + "1.★ 🛑"
    unit = _unit(f"var_0 = module_0.as_escaped_unicode_literal(text={text!r})\n")
    steps = next(k for k in KINDS if k.name == "text").steps
    assert steps.index(ONE_OF_EACH) < steps.index(40) < steps.index(DISTINCT) < steps.index(80)
    cut = ast.literal_eval(_code(text_at(unit, ONE_OF_EACH)).split("text=", 1)[1][:-1])
    assert "★" in cut and "🛑" in cut and len(cut) < 20, cut
    distinct = ast.literal_eval(_code(text_at(unit, DISTINCT)).split("text=", 1)[1][:-1])
    assert sorted(distinct) == sorted(set(text))


def test_a_keyword_given_an_odd_value_is_tried_left_out() -> None:
    """isodate's kept test passed ``as_timedelta_if_possible=b'\\xdb\\x8b...'`` to a flag."""
    unit = _unit("with pytest.raises(ISO8601Error):\n"
                 "    module_0.parse_duration(datestring='+', as_timedelta_if_possible=b'\\xdb\\x8b=')\n"
                 "var_1 = module_0.f(x=complex(0.0, 1.0), y=b'plain', z=2)\n")
    assert has_odd_keyword(unit)
    assert _code(without_odd_keywords(unit, 0)) == (
        "with pytest.raises(ISO8601Error):\n    module_0.parse_duration(datestring='+')\n"
        "var_1 = module_0.f(y=b'plain', z=2)")
    assert not has_odd_keyword(_unit("var_0 = module_0.f(b'\\xff', text=b'abc')\n"))  # by position: it stays


def test_a_float_input_the_code_truncates_changes_where_the_assertion_repeats_its_whole_part() -> None:
    """semver's Pynguin file: ``Version(major=505.74)`` shrunk to 0.0 beside its own ``== Version(major=505, ...)``
    failed every rerun, and the file went out as generated."""
    unit = _unit("var_0 = module_0.Version(major=505.74)\nassert var_0 == Version(major=505, minor=0)\n")
    assert _code(number_at(unit, 0)) == "var_0 = module_0.Version(major=0.0)\nassert var_0 == Version(major=0, minor=0)"


def test_a_keyword_given_a_value_of_another_type_than_its_name_asks_for_gets_that_types_value() -> None:
    """inflection's kept ``pluralize(word=False) is False``: a reader sees a flag where a word goes; ``''``
    takes the same early return. First the type's empty value, then the name's typical one."""
    unit = _unit("var_0 = module_0.pluralize(word=False)\nassert var_0 is False\n"
                 "var_1 = module_0.f(text=3, n=True, ratio=2, other=None, word='a', data=b'\\xff')\n")
    assert has_mistyped_keyword(unit)
    assert _code(with_typed_keywords(unit, 0)) == (
        "var_0 = module_0.pluralize(word='')\nassert var_0 is False\n"  # the assertion is re-observed, not edited
        "var_1 = module_0.f(text='', n=0, ratio=2, other=None, word='a', data=b'\\xff')")
    assert _code(with_typed_keywords(unit, 1)).startswith("var_0 = module_0.pluralize(word='hello')")
    # A class where a flag goes (python-slugify's kept ``allow_unicode=complex``) gets a flag too.
    classed = _unit("var_0 = module_0.slugify(text='', allow_unicode=complex)\n")
    assert has_mistyped_keyword(classed)
    assert _code(with_typed_keywords(classed, 1)) == "var_0 = module_0.slugify(text='', allow_unicode=True)"
    # What fits, what the name says nothing about, None (an optional's default) and odd bytes stay.
    assert not has_mistyped_keyword(_unit("var_0 = module_0.f(word='a', ratio=2, qwzx=True, text=None)\n"))
    # A text replaced by a list (``items`` asks for one) is not written into the generator's assertion.
    listed = with_typed_keywords(_unit("var_0 = module_0.f(items='abc')\nassert var_0.items == 'abc'\n"), 1)
    assert _code(listed) == "var_0 = module_0.f(items=[3, 1, 2])\nassert var_0.items == 'abc'"
    # A word of the name says less than the name: python-slugify's ``word_boundary=True`` is a flag.
    assert not has_mistyped_keyword(_unit("var_0 = module_0.slugify(text='a', word_boundary=True)\n"))
