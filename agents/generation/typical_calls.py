"""One typical call per public function, with values a person would write, read from the source alone.

Search and symbolic execution find edge cases (``''``, ``-2022``,
``'\\x00'``); a reader also wants to see the function used as meant:
``slugify(text='Hello World')`` gives ``'hello-world'``. The values come
from the function's first docstring example with literal arguments
(``>>> timeparse('1:24')``), else from each parameter's name (``text``,
``email``, ``max_length``), else its annotation, else its default is left
to apply; a function with a parameter
nothing suggests a value for gets no typical call. The module is parsed,
never imported: what the calls return is learnt in the sandbox
(agents/generation/observe.py), and a call that raises is dropped.
"""

from __future__ import annotations

import ast
import re

from agents.generation.test_units import Unit
from engine.python_source import parse_source

# By name first (the strongest hint), then by annotation.
_BY_NAME: list[tuple[str, object]] = [
    (r"e_?mail", "jane.doe@example.com"),
    (r"url|uri|link|href", "https://example.com/docs?page=2"),
    (r"path|file_?name|filename|file", "docs/readme.txt"),
    (r"first_?name", "Ada"),
    (r"last_?name|surname", "Lovelace"),
    (r"user_?name|login", "ada_lovelace"),
    (r"name|title|label", "Ada Lovelace"),
    (r"sep|separator|delimiter", "-"),
    (r"lang|language|locale", "en"),
    (r"date", "2024-03-15"),
    (r"time|duration|period|interval", "1h30m"),
    (r"phone", "+1 555 0100"),
    (r"ip", "192.168.0.1"),
    (r"colou?r", "#ff8800"),
    (r"stop_?words?", "the"),
    (r"word|token", "hello"),
    (r"text|string|str|s|value|input|input_string|message|msg|content|line|sentence|subject|body|description|"
     r"comment|query|q", "Hello World"),
    (r"max_\w+|limit|width|length|size|n|count|num|number|times|k", 20),
    (r"min_\w+|start|offset|index|i|pos|position", 2),
    (r"ratio|rate|factor|scale|weight|percent\w*|x|y", 1.5),
    (r"items|values|numbers|seq|sequence|elements|data|lst|list", [3, 1, 2]),
    (r"flag|strict|verbose|enabled|is_\w+|allow_\w+|use_\w+|lower|lowercase|upper", True),
]
_BY_TYPE = {"str": "Hello World", "int": 20, "float": 1.5, "bool": True, "list": [3, 1, 2], "bytes": b"hello"}


def typical_units(module_source: str, call_prefix: str | None, imported: set[str]) -> list[Unit]:
    """A unit calling each public top-level function once with typical values.

    ``call_prefix``: the name the test file binds the module to (``slugify_``),
    or None when it imports functions by name (``imported``).
    """
    try:
        tree = parse_source(module_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the repository's code is input
        return []
    units = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if call_prefix is None and node.name not in imported:
            continue
        keywords = _from_examples(node, tree) or _arguments(node.args, _documented_types(node))
        if keywords is None:
            continue
        func: ast.expr = (ast.Attribute(ast.Name(call_prefix, ast.Load()), node.name, ast.Load())
                          if call_prefix else ast.Name(node.name, ast.Load()))
        # A positional-only parameter (validators' ``cron(value, /)``) is passed by position.
        only = {a.arg for a in node.args.posonlyargs}
        call = ast.Call(func, [_literal(v) for k, v in keywords if k in only],
                        [ast.keyword(k, _literal(v)) for k, v in keywords if k not in only])
        units.append(Unit(f"test_typical_{node.name}", [ast.Assign([ast.Name("typical", ast.Store())], call,
                                                                    lineno=0)]))
    return units


def _literal(value: object) -> ast.expr:
    return ast.List([ast.Constant(x) for x in value], ast.Load()) if isinstance(value, list) else ast.Constant(value)


def _from_examples(function: ast.FunctionDef, module: ast.Module) -> list[tuple[str, object]] | None:
    """The arguments of the first docstring example that calls ``function`` with literals only.

    ``>>> timeparse('1:24')`` in pytimeparse's docstring is the typical call
    its author had in mind; it beats any value guessed from a name.
    """
    docs = [ast.get_docstring(function) or "", ast.get_docstring(module) or ""]
    params = [a.arg for a in [*function.args.posonlyargs, *function.args.args]]
    for line in "\n".join(docs).splitlines():
        text = line.strip()
        if not text.startswith(">>> ") or f"{function.name}(" not in text:
            continue
        try:
            call = parse_source(text[4:], mode="eval").body
        except SyntaxError:
            continue
        if not (isinstance(call, ast.Call) and ast.unparse(call.func).split(".")[-1] == function.name):
            continue
        if len(call.args) > len(params) or any(k.arg is None for k in call.keywords):
            continue
        try:
            values = [(params[i], ast.literal_eval(a)) for i, a in enumerate(call.args)]
            values += [(k.arg, ast.literal_eval(k.value)) for k in call.keywords if k.arg]
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if values and all(isinstance(v, (str, int, float, bool, list)) for _, v in values):
            return values
    return None


def _documented_types(function: ast.FunctionDef) -> dict[str, str]:
    """Types a Sphinx docstring gives its parameters (``:type str_or_iter: Union[list, dict, str]``), as the
    one a typical value is written for: ``str`` when it is among them (the most readable), else the first."""
    out: dict[str, str] = {}
    for name, text in re.findall(r":type\s+(\w+)\s*:\s*([^\n]+)", ast.get_docstring(function) or ""):
        kinds = re.findall(r"\b(str|int|float|bool|list|bytes)\b", text)
        if kinds:
            out[name] = "str" if "str" in kinds else kinds[0]
    return out


def _arguments(args: ast.arguments, documented: dict[str, str] | None = None) -> list[tuple[str, object]] | None:
    """Keyword values for the parameters without a default; None if one of them suggests nothing."""
    if args.posonlyargs:
        return None
    positional = args.args[1:] if args.args and args.args[0].arg in ("self", "cls") else args.args
    required = positional[:len(positional) - len(args.defaults)]
    required += [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    if not required:
        return None  # nothing to show: a call with no arguments is what search already makes
    out = []
    for arg in required:
        value = _value_for(arg, (documented or {}).get(arg.arg, ""))
        if value is None:
            return None
        out.append((arg.arg, value))
    return out


def _value_for(arg: ast.arg, documented: str = "") -> object | None:
    """From the annotation (or the docstring's type) and the name: the whole name first, then its words
    (``str_or_iter`` is a ``str``), so the strongest hint wins."""
    kind = ast.unparse(arg.annotation).split("|")[0].strip() if arg.annotation is not None else documented
    if kind and kind not in _BY_TYPE and kind not in ("Any", "typing.Any", "object"):
        return None  # a class we cannot make from a literal
    name = arg.arg.lower()
    for candidate in [name, *[w for w in name.split("_") if w and w != name]]:
        for pattern, value in _BY_NAME:
            if re.fullmatch(pattern, candidate) and (not kind or type(value).__name__ == kind):
                return value
    return _BY_TYPE.get(kind)


def typical_text(name: str) -> str | None:
    """The text a person would pass as ``name`` (``separator`` -> ``'-'``, ``email`` -> an address), if its name
    suggests one (agents/generation/readable_text.py tries it first)."""
    value = _value_for(ast.arg(name.lstrip("_") or "text"), "str")
    return value if isinstance(value, str) else None


def search_seeds(module_source: str, module: str) -> str | None:
    """The typical calls as a test module Pynguin seeds its first population with, or None when there are none.

    Without seeds Pynguin draws its inputs at random and from the module's
    own constants (its docstrings, hex-escaped, as a version's prerelease
    tag); seeded, part of its first population calls each function as a
    person would (``slugify(text='Hello World')``) and search mutates from
    there. Pynguin finds the file by its name: ``test_`` and the module's
    last part (pynguin/analyses/seeding.py, 0.48).
    """
    units = typical_units(module_source, "module_0", set())
    if not units:
        return None
    tests = [f"def test_seed_{i}():\n    var_0 = {ast.unparse(u.body[0].value)}\n"  # type: ignore[attr-defined]
             for i, u in enumerate(units)]
    return f"import {module} as module_0\n\n\n" + "\n\n".join(tests)
