"""The rewrite of real search output from observed values, without running anything."""

from __future__ import annotations

import ast
import json

from agents.generation.call_style import message_words
from agents.generation.distil import distil_unit
from agents.generation.observe import instrument, read_observations
from agents.generation.readability import measure
from agents.generation.test_layout import Laid, lay_out
from agents.generation.test_units import parse_file
from tests.helpers.generated_samples import TIMEPARSE_CROSSHAIR, TIMEPARSE_PYNGUIN


def _seen(records: list[dict]) -> dict:
    observed = read_observations([{"name": "test_u0", "outcome": "passed", "observed": json.dumps(records)}], 1)[0]
    assert observed is not None
    return observed.seen


def test_a_packed_pynguin_test_splits_into_its_independent_calls_and_drops_the_module_snapshot() -> None:
    parts = parse_file(TIMEPARSE_PYNGUIN)
    assert parts is not None and parts.aliases == {"timeparse_"}
    first = [u for u in parts.units if u.source == "test_timeparse_string_5"]
    # timeparse('+.hours'), timeparse(var_45), OPTSEP(x=...) with its assert, timeparse('8S') with its assert.
    assert [len(u.body) for u in first] == [1, 2, 2, 2]
    assert not any("COMPILED_TIMEFORMATS" in ast.unparse(s) for u in parts.units for s in u.body)



def test_calls_that_share_only_a_number_or_a_builtin_become_separate_chains_each_with_its_copy() -> None:
    # What Pynguin kept for the demo's calc.py (the first test of the Generate screenshot): four calls tied
    # together only by float_0, float_2 and ``var_0 = repr``. A list is mutable and still ties its users.
    parts = parse_file(
        "import calc as calc_\nimport pytest\n\n\ndef test_case_1():\n"
        "    float_0 = -710.24\n"
        "    float_1 = calc_.safe_div(a=float_0, b=float_0)\n"
        "    float_2 = -1342.32\n"
        "    float_3 = calc_.clamp(value=float_0, low=float_2, high=1782.5)\n"
        "    float_4 = calc_.clamp(value=float_2, low=-1637.55, high=5.0)\n"
        "    var_0 = repr\n"
        "    with pytest.raises(ValueError):\n"
        "        calc_.clamp(value=var_0, low=float_0, high=-129.0)\n"
        "    list_0 = [1]\n"
        "    calc_.append_to(list_0)\n"
        "    calc_.total(list_0)\n"
    )
    assert parts is not None
    chains = [[ast.unparse(s) for s in u.body] for u in parts.units]
    assert chains[0] == ["float_0 = -710.24", "float_1 = calc_.safe_div(a=float_0, b=float_0)"]
    assert ["float_2 = -1342.32", "float_4 = calc_.clamp(value=float_2, low=-1637.55, high=5.0)"] in chains
    raising = next(c for c in chains if "var_0 = repr" in c)
    assert raising[0] == "float_0 = -710.24" and len(raising) == 3
    assert ["list_0 = [1]", "calc_.append_to(list_0)", "calc_.total(list_0)"] in chains
    assert len(chains) == 5
    # The builtin is written where it is used, as a literal would be.
    unit = next(u for u in parts.units if any("repr" in ast.unparse(s) for s in u.body))
    assert distil_unit(unit, {}, parts).code().splitlines()[1:] == [
        "    with pytest.raises(ValueError):", "        calc_.clamp(value=repr, low=-710.24, high=-129.0)"]

def test_a_unit_is_asserted_named_and_inlined_from_what_it_returned() -> None:
    parts = parse_file(TIMEPARSE_PYNGUIN)
    assert parts is not None
    unit = [u for u in parts.units if u.source == "test_timeparse_string_5"][1]  # var_45 = '+.minutes'; timeparse
    seen = _seen([{"k": "1", "params": [["sval", "POSITIONAL_OR_KEYWORD"], ["granularity", "POSITIONAL_OR_KEYWORD"]]},
                  {"k": "1", "type": "NoneType", "module": "builtins", "repr": "None"}])
    test = distil_unit(unit, seen, parts)
    assert test.code() == ("def test_timeparse_returns_none():\n"
                           "    assert timeparse_.timeparse(sval='+.minutes') is None")


def test_an_integer_result_and_a_word_like_input_name_the_test() -> None:
    parts = parse_file(TIMEPARSE_PYNGUIN)
    assert parts is not None
    unit = [u for u in parts.units if u.source == "test_timeparse_string_5"][3]  # var_50 = timeparse(sval='8S')
    seen = _seen([{"k": "0", "type": "int", "module": "builtins", "repr": "8"}])
    assert distil_unit(unit, seen, parts).code() == (
        "def test_timeparse_returns_int_for_8s():\n    assert timeparse_.timeparse(sval='8S') == 8")


def test_a_checked_size_names_the_type_that_has_it_not_int() -> None:
    """humanize's ``len(_suppress_lower_units(...)) == 5`` was named "returns_int": the call returns a set."""
    parts = parse_file("import units as units_\n\n\ndef test_case_0():\n    var_0 = units_.lower_units(n=3)\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "set", "module": "builtins", "len": 5}])
    assert distil_unit(parts.units[0], seen, parts).code() == (
        "def test_lower_units_returns_set():\n    assert len(units_.lower_units(n=3)) == 5")


def test_an_instance_made_for_a_method_is_its_receiver_and_a_dunder_prefixed_parameter_stays_positional() -> None:
    """tomli's kept tests read ``Flags.finalize_pending(self=Flags())`` and ``loads(__s='')``."""
    parts = parse_file("import p as p_\n\n\ndef test_case_0():\n    var_0 = p_.Flags.pending(p_.Flags(), 3)\n"
                       "    var_1 = p_.loads('', 2)\n")
    assert parts is not None
    method = [["self", "POSITIONAL_OR_KEYWORD"], ["depth", "POSITIONAL_OR_KEYWORD"]]
    seen = _seen([{"k": "0", "params": method}, {"k": "0", "type": "NoneType", "module": "builtins", "repr": "None"}])
    assert distil_unit(parts.units[0], seen, parts).code().splitlines()[-1] == \
        "    assert p_.Flags().pending(depth=3) is None"
    loads = [["__s", "POSITIONAL_OR_KEYWORD"], ["limit", "POSITIONAL_OR_KEYWORD"]]
    seen = _seen([{"k": "0", "params": loads}, {"k": "0", "type": "dict", "module": "builtins", "repr": "{}"}])
    assert distil_unit(parts.units[1], seen, parts).code().splitlines()[-1] == "    assert p_.loads('', 2) == {}"
    # Pynguin itself writes it by name: back to its place too.
    parts = parse_file("import p as p_\n\n\ndef test_case_0():\n    var_0 = p_.loads(__s='#', limit=2)\n")
    assert parts is not None
    assert distil_unit(parts.units[0], seen, parts).code().splitlines()[-1] == "    assert p_.loads('#', limit=2) == {}"


def test_a_constructor_called_through_its_class_on_a_fresh_instance_is_the_construction() -> None:
    """arrow's kept test read ``assert DateTimeFormatter(locale='sv').__init__(locale='es') is None``: CrossHair's
    ``DateTimeFormatter.__init__(DateTimeFormatter(locale='sv'), 'es')`` with the instance made its receiver."""
    parts = parse_file("import f as f_\n\n\ndef test_case_0():\n"
                       "    var_0 = f_.Formatter.__init__(f_.Formatter(locale='sv'), 'es')\n")
    assert parts is not None
    init = [["self", "POSITIONAL_OR_KEYWORD"], ["locale", "POSITIONAL_OR_KEYWORD"]]
    seen = _seen([{"k": "0", "params": init}, {"k": "0", "type": "NoneType", "module": "builtins", "repr": "None"}])
    assert distil_unit(parts.units[0], seen, parts).code().splitlines()[-1] == "    f_.Formatter(locale='es')"


def test_an_object_called_by_its_dunder_name_is_called_as_a_person_calls_it() -> None:
    """marshmallow's kept tests read ``and_.__call__(value=-36.64)``, in and out of ``pytest.raises``."""
    parts = parse_file("import v as v_\nimport pytest\n\n\ndef test_case_0():\n    and_0 = v_.And()\n"
                       "    with pytest.raises(TypeError):\n        and_0.__call__(value=-36.64)\n")
    assert parts is not None
    code = distil_unit(parts.units[0], {}, parts).code()
    assert "and_0.__call__" not in code and "(value=-36.64)" in code
    assert code.startswith("def test_and_raises_type_error")  # the And validator, called, raises


def test_a_function_of_the_module_passed_as_a_value_is_named_where_it_is_used() -> None:
    """docstring_parser's kept test read ``result_2 = util.combine_docstrings`` then ``result(func=result_2)``."""
    parts = parse_file("import util as util_\n\n\ndef test_case_0():\n    var_0 = util_.combine()\n"
                       "    var_1 = util_.combine\n    var_2 = var_0(func=var_1)\n")
    assert parts is not None
    code = distil_unit(parts.units[0], {}, parts).code()
    assert "(func=util_.combine)" in code and " = util_.combine\n" not in code


def test_a_long_expected_value_is_not_called_a_long_input() -> None:
    long = "(Arguments)|(Args)|" * 8
    parts = parse_file("import p as p_\n\n\ndef test_case_0():\n    var_0 = p_.pattern(title_colon=None)\n"
                       f"    assert var_0.titles_re == {long!r}\n")
    assert parts is not None
    test = distil_unit(parts.units[0], {}, parts)
    assert long in test.code() and "Keeps a" not in test.code() and test.notes == []


def test_a_raised_exception_is_checked_by_the_start_of_what_it_said() -> None:
    """tomli: ``raises(TOMLDecodeError)`` alone let a mutant through that changed every message."""
    parts = parse_file("import toml as toml_\nimport pytest\n\n\ndef test_case_0():\n"
                       "    with pytest.raises(ValueError):\n        toml_.loads('a = [1')\n")
    assert parts is not None
    parts.module_source = ("raise ValueError('Unclosed array')\n"
                           "raise ValueError('A value of this kind is not accepted here because the key it belongs')")

    def raised(message: str) -> str:
        return distil_unit(parts.units[0], _seen([{"k": "0", "message": message}]), parts).code()

    assert "pytest.raises(ValueError, match='^Unclosed array')" in raised("Unclosed array (at line 1, column 7)")
    assert "match=" not in raised("<object at 0x7f3a2c>: bad")  # an address differs on the next run
    assert "match=" not in raised("(1, 2)")  # no words to say it by
    assert "match=" not in raised("can only concatenate list (not str)")  # the interpreter's words, not the module's
    long = raised("A value of this kind is not accepted here because the key it belongs to was already defined")
    assert "match='^A value of this kind is not accepted here because the key')" in long  # at a word's end


def test_crosshair_checks_become_value_assertions_and_its_raises_keeps_keywords() -> None:
    parts = parse_file(TIMEPARSE_CROSSHAIR)
    assert parts is not None and parts.imported["timeparse"] == "pytimeparse.timeparse"
    raises, equals = parts.units
    params = [["sval", "POSITIONAL_OR_KEYWORD"], ["mdict", "POSITIONAL_OR_KEYWORD"]]
    test = distil_unit(raises, _seen([{"k": "0.0", "params": params}]), parts)
    assert test.code() == ("def test_interpret_as_minutes_raises_key_error():\n"
                           "    with pytest.raises(KeyError):\n"
                           "        _interpret_as_minutes(sval=':', mdict={'hours': None, 'days': None, 'mins': ''})")
    test = distil_unit(equals, _seen([{"k": "0", "type": "NoneType", "module": "builtins", "repr": "None"}]), parts)
    assert test.code() == ("def test_timeparse_returns_none_for_empty_string():\n"
                           "    assert timeparse('', granularity='') is None")


def test_an_unwritable_result_says_the_test_checks_only_that_nothing_raises() -> None:
    parts = parse_file("import m as module_0\n\n\ndef test_case_0():\n    var_0 = module_0.make(3)\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "<lambda>", "module": "m"}])
    code = distil_unit(parts.units[0], seen, parts).code()
    assert code.startswith("def test_make_does_not_raise():\n    \"\"\"Checks only that make does not raise")
    assert "var_0" not in code and measure(code).assert_share == 1


def test_a_layout_writes_imports_once_sorted_and_only_those_used() -> None:
    parts = parse_file(TIMEPARSE_PYNGUIN)
    assert parts is not None
    unit = [u for u in parts.units if u.source == "test_timeparse_string_5"][3]
    test = distil_unit(unit, _seen([{"k": "0", "type": "int", "module": "builtins", "repr": "8"}]), parts)
    header = '"""Tests."""\nimport sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parent))\n'
    code, _ = lay_out(parts, header, [Laid(test, [0])])
    assert code.count("import sys") == 1 and "import re" not in code and "import pytest" not in code
    # A dotted module keeps Pynguin's alias: 'from pytimeparse import timeparse' is the package's function.
    assert "timeparse_ = sys.modules['pytimeparse.timeparse']" in code and "from pytimeparse import" not in code
    assert measure(code).duplicate_imports == 0
    ast.parse(code)


def test_what_comes_back_from_a_run_is_read_as_input_never_evaluated() -> None:
    hostile = [
        {"k": "0", "type": "str", "module": "builtins", "repr": "__import__('os').system('true')"},
        {"k": "1", "params": [["x; import os", "POSITIONAL_OR_KEYWORD"], ["ok", "KEYWORD_ONLY"]]},
        {"k": 2, "repr": "1"},
        "not a record",
        {"k": "3", "type": "int", "module": "builtins", "repr": "7", "len": "many"},
        {"k": "4", "message": "x" * 100_000},
        {"k": "5", "message": ["not", "text"]},
    ]
    seen = _seen(hostile)
    assert len(seen["4"].message or "") == 300 and seen["5"].message is None  # what a raise said: text, bounded
    assert message_words("') or __import__('os'") is None  # a pattern is made of plain words only
    assert seen["0"].repr is None  # not a literal: dropped, not run
    assert seen["1"].params == [("ok", "KEYWORD_ONLY")]  # a name that is not an identifier never reaches the code
    assert "2" not in seen and seen["3"].repr == "7" and seen["3"].length is None
    unreadable = read_observations([{"name": "test_u0", "outcome": "passed", "observed": "{not json"},
                                    {"name": "test_u9", "outcome": "passed", "observed": "[]"}], 1)
    assert unreadable[0] is not None and not unreadable[0].passed  # an unreadable record: the unit stays as written


def test_the_observe_form_records_every_call_and_runs_each_assertion_without_asserting_it() -> None:
    """Without asserting (a shrunk value may change what it compares) but run: bidict's ``__eq__`` was reached by
    ``assert v == BidictBase(...)`` alone, and the file went out as generated for "losing" that line."""
    parts = parse_file(TIMEPARSE_PYNGUIN)
    assert parts is not None
    unit = [u for u in parts.units if u.source == "test_timeparse_string_5"][2]  # OPTSEP with its assert
    body = "\n".join(ast.unparse(s) for s in instrument(unit.body))
    assert body.startswith("var_49 = _aw_value('0', _aw_params('0', timeparse_.OPTSEP)(x=[3567.19]))\ntry:\n")
    assert "assert" not in body  # whether it held is recorded instead (a shrink must keep it holding)
    assert body.endswith("try:\n    _aw_held('1', var_49 == '(?:[3567.19]\\\\s*(?:[,/]\\\\s*)?)?')\n"
                         "except Exception:\n    _aw_held('1', False)"), body


def test_tests_that_would_share_a_name_are_told_apart_by_an_argument_only_one_passes() -> None:
    from agents.generation.distil import Distilled
    from agents.generation.test_layout import _unique_names

    def laid(code: str) -> Laid:
        node = ast.parse(code).body[0]
        assert isinstance(node, ast.FunctionDef)
        return Laid(Distilled(node.name, node.body))

    tests = [laid("def test_p():\n    assert m.parameterize(string='a') == 'a'\n"),
             laid("def test_p():\n    assert m.parameterize(string='b', separator='') == 'b'\n"),
             laid("def test_p():\n    assert m.parameterize(string='c') == 'c'\n")]
    _unique_names(tests)
    assert [t.test.name for t in tests] == ["test_p_1", "test_p_with_separator", "test_p_2"]
    # Then by a keyword any of its calls passes: the object's constructor (marshmallow's validators).
    tests = [laid("def test_r():\n    range_ = m.Range(max_inclusive=True)\n    assert range_(value='a') == 'a'\n"),
             laid("def test_r():\n    assert m.Range()(value='a') == 'a'\n")]
    _unique_names(tests)
    assert [t.test.name for t in tests] == ["test_r_with_max_inclusive", "test_r"]
    # A keyword already in the name is not said twice (python-slugify: ``..._with_decimal_with_decimal``).
    tests = [laid("def test_s_with_decimal():\n    assert m.slugify(text='a', decimal=True) == 'a'\n"),
             laid("def test_s_with_decimal():\n    assert m.slugify(text='b', decimal=False) == 'b'\n")]
    _unique_names(tests)
    assert [t.test.name for t in tests] == ["test_s_with_decimal", "test_s_with_decimal_without_decimal"]


def test_a_method_on_an_object_the_test_made_names_the_test_and_unnamed_builtin_types_are_not_asserted() -> None:
    """semver's Pynguin tests: an object made, a method called on it, ``__eq__`` answering NotImplemented."""
    parts = parse_file("import semver.version as module_0\n\n\ndef test_case_0():\n"
                       "    var_0 = module_0.Version(major=0)\n    var_1 = var_0.bump_build()\n"
                       "    var_2 = var_0.__eq__(other=())\n")
    assert parts is not None and len(parts.units) == 1
    seen = _seen([{"k": "0", "type": "Version", "module": "semver.version"},
                  {"k": "1", "type": "Version", "module": "semver.version"},
                  {"k": "2", "type": "NotImplementedType", "module": "builtins"}])
    test = distil_unit(parts.units[0], seen, parts)
    assert test.name.startswith("test_version_eq"), test.name
    code = test.code()
    assert "NotImplementedType" not in code  # not a name Python binds: asserting it would be a NameError
    assert code.endswith("    assert isinstance(version.bump_build(), module_0.Version)\n    version.__eq__(other=())")


def test_a_method_called_on_an_object_made_in_the_same_expression_names_the_test_after_both() -> None:
    """arrow's typical call ``DateTimeFormatter().format(...)`` was named ``test_date_time_formatter_returns_str``."""
    parts = parse_file("from arrow.formatter import DateTimeFormatter\n\n\ndef test_case_0():\n"
                       "    var_0 = DateTimeFormatter().format(fmt='YYYY')\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "str", "module": "builtins", "repr": "'2024'"}])
    assert distil_unit(parts.units[0], seen, parts).name == "test_date_time_formatter_format_returns_str"


def test_a_call_in_an_expected_value_does_not_name_the_test() -> None:
    """isodate's duration test was ``test_decimal_returns_str`` for its ``== Decimal('1')``."""
    parts = parse_file("from isodate.isoduration import Decimal, parse_duration\n\n\ndef test_case_0():\n"
                       "    var_0 = parse_duration(datestring='P1Y1M')\n    assert var_0.years == Decimal('1')\n"
                       "    assert var_0.months == Decimal('1')\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "Duration", "module": "isodate.duration"}])
    assert distil_unit(parts.units[0], seen, parts).name.startswith("test_parse_duration")
    # The type of a field of what it returned does not say what it returns: a Duration, not a str.
    parts = parse_file("from isodate.isoduration import parse_duration\n\n\ndef test_case_0():\n"
                       "    var_0 = parse_duration(datestring='P1Y1M')\n"
                       "    assert type(var_0).__qualname__ == 'Duration'\n"
                       "    assert type(var_0.tdelta).__qualname__ == 'timedelta'\n")
    assert parts is not None
    assert distil_unit(parts.units[0], seen, parts).name == "test_parse_duration_returns_duration"


def test_an_object_worked_on_is_not_compared_whole_before_the_check_that_ends_the_test() -> None:
    """semver's chains after distillation began with the same ``assert version == Version(...)`` in every test,
    and ``isinstance`` beside an equality on the same value; the object keeps its name (no one-line chain)."""
    parts = parse_file("import semver.version as module_0\nfrom semver.version import Version\n\n\n"
                       "def test_case_0():\n"
                       "    var_0 = module_0.Version(major=1)\n"
                       "    assert var_0 == Version(major=1, minor=0, patch=0, prerelease=None, build=None)\n"
                       "    var_1 = var_0.bump_minor()\n"
                       "    assert isinstance(var_1, module_0.Version)\n"
                       "    assert var_1 == Version(major=1, minor=1, patch=0, prerelease=None, build=None)\n"
                       "    var_2 = var_0.bump_minor()\n"
                       "    assert var_2 == Version(major=1, minor=1, patch=0, prerelease=None, build=None)\n")
    assert parts is not None and len(parts.units) == 1
    seen = _seen([{"k": str(i), "type": "Version", "module": "semver.version"} for i in (0, 2, 5)])
    code = distil_unit(parts.units[0], seen, parts).code()
    assert code.endswith("    version = module_0.Version(major=1)\n"
                         "    assert version.bump_minor() == Version(major=1, minor=1, patch=0, prerelease=None, "
                         "build=None)"), code


def test_a_long_float_is_checked_to_four_figures_within_one_percent_and_a_short_one_exactly() -> None:
    """codetiming: ``timer.stop()`` returned 0.00015711399464635178 once and 5.3e-06 the next run."""
    for value, expected in (("0.00015711399464635178", "== pytest.approx(0.0001571, rel=0.01, abs=0.01)"),
                            ("1.5", "== pytest.approx(1.5)\n")):
        parts = parse_file("import codetiming._timer as module_0\n\n\ndef test_case_0():\n"
                           "    var_0 = module_0.Timer()\n    var_1 = var_0.stop()\n")
        assert parts is not None and len(parts.units) == 1
        seen = _seen([{"k": "0", "type": "Timer", "module": "codetiming._timer"},
                      {"k": "1", "type": "float", "module": "builtins", "repr": value}])
        code = distil_unit(parts.units[0], seen, parts).code() + "\n"
        assert expected in code, code


def test_dunder_calls_in_assertions_read_as_operators() -> None:
    """codetiming 1.4.0, as Pynguin asserted it: ``assert timer.__eq__(other=timer_3) is False``."""
    import ast

    from agents.generation.operators import Operators

    def rewritten(source: str) -> str:
        return ast.unparse(Operators().visit(ast.parse(source).body[0]))

    assert rewritten("assert timer.__eq__(other=timer_3) is False") == "assert timer != timer_3"
    assert rewritten("assert timer.__eq__(other=timer) is True") == "assert timer == timer"
    # An order negated keeps its own dunder: ``>=`` would call __ge__, another method (semver lost __lt__'s line).
    assert rewritten("assert version.__lt__(other) is False") == "assert not version < other"
    assert rewritten("assert version.__ge__(other=v) is True") == "assert version >= v"
    assert rewritten("assert box.__len__() == 3") == "assert len(box) == 3"
    # Not a plain comparison: left as written.
    assert rewritten("assert x.__eq__(1, 2) is True") == "assert x.__eq__(1, 2) is True"
    assert rewritten("assert x.__eq__(1) == NotImplemented") == "assert x.__eq__(1) == NotImplemented"


def test_a_test_reading_a_field_of_what_the_call_returned_is_named_after_that_type() -> None:
    """validators 0.28.3: ``cron('4yu{...')`` returns a ValidationError whose ``value`` the test reads; the test was
    called test_cron_returns_str, from the field's value."""
    parts = parse_file("import validators.cron as module_0\n\n\ndef test_case_0():\n"
                       "    var_0 = module_0.cron('4yu{')\n    assert var_0.value == '4yu{'\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "ValidationError", "module": "validators.utils"}])
    test = distil_unit(parts.units[0], seen, parts)
    assert test.name.startswith("test_cron_returns_validation_error"), test.code()


def test_pynguins_check_of_a_type_it_cannot_import_reads_as_the_type_name() -> None:
    """validators 0.28.3: ``f"{type(var_0).__module__}.{type(var_0).__qualname__}" == "validators.utils.ValidationError"``."""
    parts = parse_file("import validators.cron as module_0\n\n\ndef test_case_0():\n"
                       "    var_0 = module_0.cron('s+')\n"
                       "    assert f'{type(var_0).__module__}.{type(var_0).__qualname__}' == "
                       "'validators.utils.ValidationError'\n    assert var_0.reason == 'Badly formatted cron string'\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "ValidationError", "module": "validators.utils"}])
    code = distil_unit(parts.units[0], seen, parts).code()
    assert "type(validation_error).__qualname__ == 'ValidationError'" in code, code
    assert "__module__" not in code and code.startswith("def test_cron_returns_validation_error")


def test_an_object_is_never_named_after_a_keyword_or_a_name_the_test_reads() -> None:
    """marshmallow 4.4.0: an ``And`` validator was named ``and`` (a SyntaxError that ended the whole distillation);
    an object of a class named like the module would shadow the module."""
    parts = parse_file("import marshmallow.validate as module_0\n\n\ndef test_case_0():\n"
                       "    var_0 = module_0.And()\n    var_1 = var_0.error\n"
                       "    var_2 = module_0.Module_0()\n    var_3 = var_2.error\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "And", "module": "marshmallow.validate"},
                  {"k": "1", "type": "NoneType", "module": "builtins", "repr": "None"},
                  {"k": "2", "type": "Module_0", "module": "marshmallow.validate"},
                  {"k": "3", "type": "NoneType", "module": "builtins", "repr": "None"}])
    code = "\n\n".join(distil_unit(unit, seen, parts).code() for unit in parts.units)
    ast.parse(code)  # it compiles
    assert "and_ = module_0.And()" in code, code
    assert "module_0 = " not in code, code
    # marshmallow's kept test read ``range = validate.Range(min_inclusive=False)``: a builtin shadowed.
    parts = parse_file("import v as v_\n\n\ndef test_case_0():\n    var_0 = v_.Range()\n    var_1 = var_0(value=3)\n"
                       "    var_2 = var_0.check(value=4)\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "Range", "module": "v"}, {"k": "1", "type": "int", "module": "builtins", "repr": "3"},
                  {"k": "2", "type": "int", "module": "builtins", "repr": "4"}])
    assert "range_ = v_.Range()" in distil_unit(parts.units[0], seen, parts).code()


def test_an_object_passed_as_an_argument_or_printed_names_the_test_after_what_is_done_with_it() -> None:
    """semver's typical calls were ``test_version_is_zero`` (for ``compare``) and ``test_version_returns_str``
    (for ``repr``): the ``Version(major=1)`` passed in, or printed, renamed the test after the class alone."""
    parts = parse_file("from semver.version import Version\n\n\ndef test_case_0():\n"
                       "    var_0 = Version(major=1).compare(other=Version(major=1))\n\n\n"
                       "def test_case_1():\n    var_0 = repr(Version(major=1))\n")
    assert parts is not None
    zero = _seen([{"k": "0", "type": "int", "module": "builtins", "repr": "0"}])
    text = _seen([{"k": "0", "type": "str", "module": "builtins", "repr": "'Version(major=1)'"}])
    assert distil_unit(parts.units[0], zero, parts).name == "test_version_compare_is_zero"
    assert distil_unit(parts.units[1], text, parts).name == "test_version_repr_returns_str"


def test_a_repr_read_back_as_a_construction_must_be_the_type_called_with_literals_only() -> None:
    """What the sandbox reports is input: ``made`` is kept only as ``TypeName(<literals>)``."""
    from agents.generation.observe import _merge

    def made(text: str) -> str | None:
        seen: dict = {}
        _merge(seen, {"k": "0", "type": "Point", "module": "point", "made": text})
        return seen["0"].made

    assert made("Point(x=2, y=0)") == "Point(x=2, y=0)"
    assert made("Point(x=__import__('os').system('id'))") is None
    assert made("Other(x=2)") is None and made("Point(**{'x': 2})") is None and made("Point(x=2) + 1") is None


def test_a_text_made_from_a_set_of_several_texts_is_checked_by_its_length() -> None:
    """marshmallow's kept ``OneOf(choices={'to', 865.44}).choices_text == '865.44, to'`` failed one bench rerun
    in three: a set's order is the run's hash seed's."""
    parts = parse_file("import validate as module_0\n\n\ndef test_case_0():\n"
                       "    var_0 = module_0.OneOf(choices={'to', 865.44})\n"
                       "    assert var_0.choices_text == '865.44, to'\n"
                       "    var_1 = module_0.join(values={'a', 'b'})\n")
    assert parts is not None
    assert parts is not None and len(parts.units) == 2  # two call chains
    code = distil_unit(parts.units[0], _seen([{"k": "0", "type": "OneOf", "module": "validate"}]), parts).code()
    # Inlined: its ``isinstance`` check went, true by construction beside a check of what it stored.
    assert "assert len(module_0.OneOf(choices={'to', 865.44}).choices_text) == 10" in code, code
    assert "'865.44, to'" not in code and "isinstance" not in code
    seen = _seen([{"k": "0", "type": "str", "module": "builtins", "len": 4, "repr": "'a, b'"}])
    code = distil_unit(parts.units[1], seen, parts).code()
    assert "== 'a, b'" not in code and ") == 4" in code, code
    # A set of numbers alone iterates in the same order in every run: checked by value.
    plain = parse_file("import validate as module_0\n\n\ndef test_case_0():\n    var_0 = module_0.join(values={2, 1})\n")
    assert plain is not None
    seen = _seen([{"k": "0", "type": "str", "module": "builtins", "len": 4, "repr": "'1, 2'"}])
    assert "== '1, 2'" in distil_unit(plain.units[0], seen, plain).code()


def test_an_object_without_a_literal_form_is_checked_by_what_its_constructor_stored() -> None:
    """marshmallow's kept ``validate.Email(error="")`` read "Checks only that email does not raise"."""
    parts = parse_file("from marshmallow import validate\n\n\ndef test_email():\n    validate.Email(error='')\n")
    assert parts is not None
    fields = {"error": "'Not a valid email address.'", "strict": "None"}
    seen = _seen([{"k": "0", "type": "Email", "module": "marshmallow.validate", "fields": fields}])
    code = distil_unit(parts.units[0], seen, parts).code()
    assert code.endswith("    email = validate.Email(error='')\n    assert email.error == 'Not a valid email address.'\n"
                         "    assert email.strict is None"), code
    assert "does not raise" not in code
    # Hostile fields never reach the code: a name that is not an identifier, a value that does not read back.
    odd = _seen([{"k": "0", "type": "Email", "module": "m", "fields": {"x; import os": "1", "ok": "__import__('os')",
                                                                      "fine": "'yes'"}}])
    assert odd["0"].fields == {"fine": "'yes'"}


def test_the_observe_helper_records_public_fields_that_read_back_and_no_float() -> None:
    from agents.generation.observe import _HELPERS

    namespace: dict = {}
    exec(compile(_HELPERS, "observe_helpers", "exec"), namespace)  # our own helper text, not the repository's  # noqa: S102

    class Made:
        def __init__(self) -> None:
            self.error, self.limit, self.started, self._private, self.handler = "bad", 3, 1.5, "x", print

    namespace["_aw_value"]("0", Made())
    assert namespace["_AW_SEEN"][-1]["fields"] == {"error": "'bad'", "limit": "3"}


def test_an_object_the_test_made_and_then_called_names_the_test_after_its_own_class() -> None:
    """marshmallow's ``contains_only(value=0.0)`` raising TypeError was named after a ContainsNoneOf made before it."""
    parts = parse_file("from marshmallow import validate\n\n\ndef test_case_0():\n"
                       "    var_0 = validate.ContainsOnly(choices=[1])\n"
                       "    var_1 = validate.ContainsNoneOf(iterable=[1])\n"
                       "    with pytest.raises(TypeError):\n        var_0(value=0.0)\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "ContainsOnly", "module": "marshmallow.validate"},
                  {"k": "1", "type": "ContainsNoneOf", "module": "marshmallow.validate"}])
    assert distil_unit(parts.units[0], seen, parts).name == "test_contains_only_raises_type_error_for_zero"


def test_an_object_of_a_submodule_imported_by_name_is_compared_with_one_its_repr_makes() -> None:
    """bidict's kept file: ``from bidict import _base`` said "does not raise" where a repr made the object again (a key
    given twice keeps its last value)."""
    parts = parse_file("from bidict import _base\n\n\ndef test_case_0():\n    _base.BidictBase({'a': 0, 'a': 1})\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "BidictBase", "module": "bidict._base", "made": "BidictBase({'a': 1})"}])
    code = distil_unit(parts.units[0], seen, parts).code()
    assert "does not raise" not in code and "== _base.BidictBase({'a': 1})" in code, code
    # Its repr the very call: the comparison would say nothing, nor would ``isinstance``.
    same = _seen([{"k": "0", "type": "BidictBase", "module": "bidict._base", "made": "BidictBase({'a': 1})"}])
    plain = parse_file("from bidict import _base\n\n\ndef test_case_0():\n    _base.BidictBase({'a': 1})\n")
    assert plain is not None
    assert "does not raise" in distil_unit(plain.units[0], same, plain).code()


def test_a_class_its_package_renames_is_reached_through_the_module_under_test() -> None:
    """bidict sets ``BidictBase.__module__ = 'bidict'``: its copies went out "does not raise"."""
    parts = parse_file("from bidict import _base\n\n\ndef test_case_0():\n    var_0 = _base.BidictBase()\n"
                       "    var_1 = var_0.copy()\n")
    assert parts is not None
    seen = _seen([{"k": "0", "type": "BidictBase", "module": "bidict", "made": "BidictBase()"},
                  {"k": "1", "type": "BidictBase", "module": "bidict", "made": "BidictBase()"}])
    assert "does not raise" in distil_unit(parts.units[0], seen, parts).code()  # nothing says where it lives
    parts.module_source = "class BidictBase:\n    pass\n"
    code = distil_unit(parts.units[0], seen, parts).code()
    assert "does not raise" not in code and ".copy() == _base.BidictBase()" in code, code
