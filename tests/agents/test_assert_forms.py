"""A generator's own assertion as a person writes it, and by length where a set's order decides it."""

from __future__ import annotations

import ast

from agents.generation.assert_forms import as_length, hash_ordered, tidy_assert


def _stmt(code: str) -> ast.Assert:
    node = ast.parse(code).body[0]
    assert isinstance(node, ast.Assert)
    return node


def test_none_reads_is_none_and_a_qualified_type_reads_its_name() -> None:
    assert ast.unparse(tidy_assert(_stmt("assert x == None"))) == "assert x is None"
    qualified = _stmt("assert f'{type(e).__module__}.{type(e).__qualname__}' == 'validators.utils.ValidationError'")
    assert ast.unparse(tidy_assert(qualified)) == "assert type(e).__qualname__ == 'ValidationError'"


def test_a_unit_passing_a_set_of_texts_compares_what_it_made_by_length() -> None:
    assert hash_ordered(ast.parse("v = m.OneOf(choices={'to', 865.44})").body)
    assert hash_ordered(ast.parse("v = m.f(x=frozenset(['a', 'b']))").body)
    assert not hash_ordered(ast.parse("v = m.f(x={2, 1})\nw = m.f(x={'one'})").body)  # numbers; a single text
    assert ast.unparse(as_length(_stmt("assert v.text == '865.44, to'"))) == "assert len(v.text) == 10"
    assert ast.unparse(as_length(_stmt("assert v.items == ['a', 'b']"))) == "assert len(v.items) == 2"
    assert ast.unparse(as_length(_stmt("assert v is None"))) == "assert v is None"  # nothing ordered in it
