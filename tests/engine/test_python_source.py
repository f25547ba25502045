"""Parsing from many threads at once (CPython 3.11's AST recursion counter is per interpreter)."""

import ast
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.python_source import literal_eval, parse_source

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


def test_a_parse_interleaved_with_one_we_do_not_make_is_made_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.11's traceback formatter parses outside our lock; the error it causes in our parse is transient."""
    real_parse, calls = ast.parse, []

    def interleaved(source, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        calls.append(source)
        if len(calls) == 1:
            raise SystemError("AST constructor recursion depth mismatch (before=51, after=27)")
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", interleaved)
    assert len(parse_source(NESTED).body) == 51
    assert len(calls) == 2


def test_another_system_error_is_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise SystemError("something else")

    monkeypatch.setattr(ast, "parse", broken)
    with pytest.raises(SystemError, match="something else"):
        parse_source("x = 1\n")


def test_literal_eval_reads_literals_through_the_same_parse() -> None:
    assert literal_eval("  {'a': (1, [2.5, None])}") == {"a": (1, [2.5, None])}
    with pytest.raises(ValueError):
        literal_eval("__import__('os')")
