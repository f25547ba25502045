"""Chains of calls cut where a result is a short literal; objects keep their calls together."""

from __future__ import annotations

import ast

from agents.generation.chain_cut import cut_at_values
from agents.generation.observe import Seen
from agents.generation.test_units import parse_file

# What Pynguin kept for pyhumps 3.8.0 (test_dekebabize_returns_str once distilled), plus an object's calls.
CHAIN = (
    "from humps import main\n\n\ndef test_case_1():\n"
    "    var_0 = ()\n"
    "    var_1 = main.pascalize(str_or_iter=var_0)\n"
    "    assert var_1 == '()'\n"
    "    var_2 = main.pascalize(str_or_iter=var_1)\n"
    "    var_3 = main.is_snakecase(str_or_iter=var_1)\n"
    "    var_4 = main.dekebabize(str_or_iter=var_3)\n"
    "    thing = main.Thing(name=var_4)\n"
    "    thing.go(times=var_4)\n"
)


def _pieces(seen: dict[str, Seen]) -> list[list[str]]:
    parts = parse_file(CHAIN)
    assert parts is not None and len(parts.units) == 1
    return [[ast.unparse(s) for s in u.body] for u in cut_at_values(parts.units[0], seen)]


def test_each_call_on_a_short_literal_result_becomes_its_own_piece_and_an_object_keeps_its_calls() -> None:
    # Keyed by the statement's place in the unit (0 is the literal ``var_0 = ()``, 2 the assertion).
    seen = {"1": Seen(returned=True, repr="'()'"), "3": Seen(returned=True, repr="'()'"),
            "4": Seen(returned=True, repr="True"), "5": Seen(returned=True, repr="'True'"),
            "6": Seen(returned=True, type="Thing")}
    assert _pieces(seen) == [
        ["var_1 = main.pascalize(str_or_iter=())", "assert var_1 == '()'"],
        ["var_2 = main.pascalize(str_or_iter='()')"],
        ["var_3 = main.is_snakecase(str_or_iter='()')"],
        ["var_4 = main.dekebabize(str_or_iter=True)"],
        ["thing = main.Thing(name='True')", "thing.go(times='True')"],
    ]


def test_a_long_or_unwritable_result_keeps_the_chain_together() -> None:
    long = repr("x" * 200)
    seen = {"1": Seen(returned=True, repr=long), "3": Seen(returned=True, repr="'()'"),
            "4": Seen(returned=True, type="Weird"), "5": Seen(returned=True, repr="'True'")}
    pieces = _pieces(seen)
    assert pieces[0][:2] == ["var_1 = main.pascalize(str_or_iter=())", "assert var_1 == '()'"]
    assert "var_3 = main.is_snakecase(str_or_iter=var_1)" in pieces[0]  # tied to var_1 by its long value
    assert "var_4 = main.dekebabize(str_or_iter=var_3)" in pieces[0]  # tied to var_3, an object
    assert pieces[-1] == ["thing = main.Thing(name='True')", "thing.go(times='True')"]


def test_a_unit_left_as_written_is_not_cut() -> None:
    parts = parse_file("import calc\n\n\ndef test_loop():\n    for x in range(3):\n        calc.double(x)\n")
    assert parts is not None
    unit = parts.units[0]
    assert cut_at_values(unit, {}) == [unit]
