"""Parsing from many threads at once (CPython 3.11's AST recursion counter is per interpreter)."""

import ast
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.python_source import parse_source

NESTED = "x = " + "[" * 40 + "1" + "]" * 40 + "\n" + "def f():\n    return {'a': (1, [2, {3: 4}])}\n" * 50


def test_it_parses_as_ast_parse_does() -> None:
    assert ast.dump(parse_source(NESTED)) == ast.dump(ast.parse(NESTED))
    with pytest.raises(SyntaxError):
        parse_source("def f(:\n")


def test_eight_threads_parsing_at_once_all_get_their_tree() -> None:
    """The soak's "SystemError: AST constructor recursion depth mismatch" came from parses in the default pool."""
    with ThreadPoolExecutor(8) as pool:
        trees = list(pool.map(lambda _i: len(parse_source(NESTED).body), range(400)))
    assert trees == [51] * 400
