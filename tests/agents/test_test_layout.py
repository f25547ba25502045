"""A distilled file laid out: each field check made once in the file."""

from __future__ import annotations

import ast

from agents.generation.distil import Distilled
from agents.generation.test_layout import Laid, lay_out
from agents.generation.test_units import parse_file


def _test(name: str, code: str) -> Laid:
    return Laid(Distilled(name, ast.parse(code).body, function="timer"), [0])


def test_a_field_check_the_file_already_made_is_not_made_again_but_a_last_or_only_check_stays() -> None:
    """codetiming 1.4.0: Pynguin asserted every field of each new Timer, in every test that made one."""
    parts = parse_file("from codetiming import _timer\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    fields = "assert timer.name is None\nassert timer.text == 'Elapsed time: {:0.4f} seconds'\n"
    tests = [_test("test_timer_a", f"timer = _timer.Timer()\n{fields}timer.start()\n"),
             _test("test_timer_b", f"timer = _timer.Timer(name='x')\n{fields}assert timer.stop() > 0\n"),
             _test("test_timer_c", "timer = _timer.Timer()\nassert timer.name is None\n")]
    code, _ = lay_out(parts, "", tests)
    b = code.split("def test_timer_b():\n", 1)[1].split("\n\n\n", 1)[0]
    assert b == "    timer = _timer.Timer(name='x')\n    assert timer.stop() > 0", b
    assert code.count("assert timer.name is None") == 2  # the first test's, and test_c's only check
    assert "timer.start()" in code


def test_a_test_that_reads_exactly_as_an_earlier_one_is_written_once() -> None:
    """The demo's calc.py: seeded search found the typical call's ``clamp(value=1.5, low=1.5, high=1.5)`` too."""
    parts = parse_file("import calc\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    same = "assert calc.clamp(value=1.5, low=1.5, high=1.5) == 1.5\n"
    code, laid = lay_out(parts, "", [_test("test_clamp_returns_float_1", same), _test("test_clamp_returns_float_2", same),
                                     _test("test_clamp_raises", "assert calc.clamp(value=1, low=2, high=3) == 2\n")],
                         tables=False)
    assert code.count(same.strip()) == 1 and len(laid) == 2


def test_a_test_that_names_only_builtins_cannot_fail_and_is_not_written() -> None:
    """marshmallow's kept file had ``def test_module_returns_set(): assert set() == set()``."""
    parts = parse_file("import calc\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    code, laid = lay_out(parts, "", [_test("test_module_returns_set", "assert set() == set()\n"),
                                     _test("test_clamp", "assert calc.clamp(value=1, low=2, high=3) == 2\n"),
                                     _test("test_len", "values = [1]\nassert len(values) == 1\n"),
                                     _test("test_low", "low = calc.LOW\nassert low == 2\n")], tables=False)
    assert "set() == set()" not in code and "len(values)" not in code and len(laid) == 2, code
    assert "calc.clamp" in code and "calc.LOW" in code  # what the module gives can differ


def test_tests_of_one_function_are_named_by_the_flag_only_they_set_that_way() -> None:
    """python-slugify 8.0.4: twelve slugify tests, all passing several flags, were test_slugify_returns_str_1 ... _12."""
    parts = parse_file("import slugify\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    tests = [_test("test_slugify_returns_str", f"assert slugify.slugify(text={text!r}, {flags}) == {out!r}\n")
             for text, flags, out in (("M:uX-", "hexadecimal=True, lowercase=False", "M-uX"),
                                      ("H&:^Lds", "hexadecimal=False, lowercase=True", "h-lds"),
                                      ("6D&5E", "hexadecimal=False, lowercase=True, max_length=2", "6d"),
                                      ("wW", "hexadecimal=False, lowercase=True, max_length=1", "w"))]
    code, _ = lay_out(parts, "", tests, tables=False)
    names = [line.split("(")[0].removeprefix("def ") for line in code.splitlines() if line.startswith("def ")]
    assert names == ["test_slugify_returns_str_with_hexadecimal", "test_slugify_returns_str",
                     "test_slugify_returns_str_max_length_2", "test_slugify_returns_str_max_length_1"], names


def test_a_table_column_never_shadows_a_name_its_test_reads() -> None:
    """``age.is_adult(age=age)`` with the module ``age`` imported failed every row: the column is ``age_value``."""
    parts = parse_file("import age\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    tests = [Laid(Distilled("test_is_adult_is_true", ast.parse(f"assert age.is_adult(age={n}) is True\n").body,
                            function="is_adult", stem="test_is_adult_is_true"), [i]) for i, n in enumerate((30, 18))]
    code, laid = lay_out(parts, "", tests)
    assert len(laid) == 1 and '@pytest.mark.parametrize("age_value", [30, 18])' in code.replace("'", '"'), code
    assert "age.is_adult(age=age_value)" in code
    namespace: dict[str, object] = {}
    exec(compile(code.replace("import age\n", ""), "t", "exec"), namespace)  # the table runs against a stand-in
    namespace["age"] = type("M", (), {"is_adult": staticmethod(lambda age: age >= 18)})
    for n in (30, 18):
        namespace["test_is_adult_is_true"](n)  # type: ignore[operator]


def test_tests_no_single_flag_tells_apart_are_named_by_two_flags_before_a_number() -> None:
    parts = parse_file("import slugify\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    tests = [_test("test_slugify_returns_str", f"assert slugify.slugify(text='Hello World', {flags}) == {out!r}\n")
             for flags, out in (("decimal=True, lowercase=True", "hello-world"),
                                ("decimal=True, lowercase=False", "Hello-World"),
                                ("decimal=False, lowercase=True", "hello-world "),
                                ("decimal=False, lowercase=False", "Hello-World "))]
    code, _ = lay_out(parts, "", tests, tables=False)
    names = [line.split("(")[0].removeprefix("def ") for line in code.splitlines() if line.startswith("def ")]
    assert sorted(names) == sorted(["test_slugify_returns_str_with_decimal_with_lowercase",
                                    "test_slugify_returns_str_with_decimal_without_lowercase",
                                    "test_slugify_returns_str_without_decimal_with_lowercase",
                                    "test_slugify_returns_str_without_decimal_without_lowercase"]), names


def test_a_table_column_of_expected_values_is_named_for_the_field_it_checks() -> None:
    """isodate 0.7.2: ``duration.months == Decimal(expected)`` and ``duration.years == Decimal(expected_2)``."""
    parts = parse_file("from isodate import isoduration\n\n\ndef test_case_0():\n    pass\n")
    assert parts is not None
    body = ("duration = isoduration.parse_duration(datestring={text!r})\n"
            "assert duration.months == {months}\nassert duration.years == {years}\nassert len(str(duration)) > {n}\n")
    tests = [Laid(Distilled("test_parse_duration_returns_duration",
                            ast.parse(body.format(text=text, months=m, years=y, n=n)).body,
                            function="parse_duration", stem="test_parse_duration_returns_duration"), [i])
             for i, (text, m, y, n) in enumerate((("P3Y3M", 3, 3, 1), ("P20030201T040506", 2, 2003, 2)))]
    code, laid = lay_out(parts, "", tests)
    assert len(laid) == 1 and laid[0].test.arguments == ["datestring", "months", "years", "expected"], code
    assert "assert duration.months == months\n" in code and "assert len(str(duration)) > expected\n" in code
