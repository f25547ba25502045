"""One typical call per public function and method, with values a person would write, read from the source alone.

Search and symbolic execution find edge cases (``''``, ``-2022``,
``'\\x00'``); a reader also wants to see the function used as meant:
``slugify(text='Hello World')`` gives ``'hello-world'``. The values come
from the function's first docstring example with literal arguments
(``>>> timeparse('1:24')``), else from each parameter
(agents/generation/typical_values.py: its name, its annotation, the pattern
it is matched against, the literals it is compared with); a function with a
parameter nothing suggests a value for gets no typical call. A public class
is made with its constructor's typical values and each public method that
returns something is called on it (arrow's ``DateTimeFormatter().format(
dt=datetime.datetime(2024, 3, 15, 13, 45, 30), fmt='YYYY')``): search and
symbolic execution rarely make a ``datetime``, and arrow's formatter had
one kept test, 23.5 % of its lines, from both Pynguin and the product.

Beside each call, its *rows*: the same call with each other literal the code
compares a parameter with (``fmt='MMMM'``, ``fmt='Do'``); distillation keeps
a row only when it runs a line or branch nothing else kept runs, and lays
the kept ones out as a table.

The module is parsed, never imported: what the calls return is learnt in the
sandbox (agents/generation/observe.py), and a call that raises is dropped.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field, replace

from agents.generation.test_units import Unit
from agents.generation.typical_values import (
    Code,
    as_expr,
    class_value,
    hints_for,
    module_aliases,
    module_patterns,
    modules_of,
    names_of,
    value_for,
)
from engine.python_source import parse_source

# A method that may block or reach out (``run()``, ``serve_forever()``) is not called without arguments.
_BLOCKING = re.compile(r"run|start|serve\w*|wait|join|loop|listen|connect|open|close|sleep|main|forever|send|"
                       r"recv\w*|read\w*|write\w*|flush|shutdown|stop|kill|exit|quit|reset|clear|delete|remove")


@dataclass
class Typical:
    """The typical calls of a module: one per callable, its rows, and what the file must import for them."""

    units: list[Unit] = field(default_factory=list)
    rows: list[Unit] = field(default_factory=list)
    modules: set[str] = field(default_factory=set)  # standard modules the values name (``datetime``)
    names: set[str] = field(default_factory=set)  # the module's own names the calls use bare


@dataclass
class _Source:
    """What the calls are read from: the module's tree, its compiled patterns and type aliases, and the
    typical construction of each of its public classes (for a parameter that takes one)."""

    tree: ast.Module
    patterns: dict[str, str]
    aliases: dict[str, str]
    made: dict[str, Code] = field(default_factory=dict)


def typical_units(module_source: str, call_prefix: str | None, imported: set[str], *,
                  blocked: frozenset[str] = frozenset(), objects: bool = True) -> Typical:
    """The typical calls of the module's public functions and, with ``objects``, of its classes' methods.

    ``call_prefix``: the name the test file binds the module to (``slugify_``),
    or None to call the module's names bare (those in ``imported`` are
    imported already; the others are listed in ``names`` to import).
    ``blocked``: names the file binds to something else, which the calls
    must not use (a class called ``pytest``, ``datetime`` bound to the class).
    ``objects=False``: literals only and functions only (a seed module for
    Pynguin, whose parser reads nothing else).
    """
    try:
        tree = parse_source(module_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # the repository's code is input
        return Typical()
    out = Typical()
    source = _Source(tree, module_patterns(tree), module_aliases(tree))
    blocked = frozenset(blocked) - set(imported)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    public = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
              and not n.name.startswith("_") and n.name not in blocked]
    if objects:
        source.made = _constructions([n for n in public if isinstance(n, ast.ClassDef)], classes, call_prefix,
                                     source, blocked)
    for node in public:
        if isinstance(node, ast.FunctionDef):
            _add(out, _name(node.name, call_prefix), node, node, source, blocked, objects,
                 source=f"test_typical_{node.name}", bare=node.name if call_prefix is None else None)
        elif objects:
            _add_class(out, node, classes, call_prefix, source, blocked)
    if call_prefix is None:
        out.names -= set(imported)
    return out


def _name(name: str, prefix: str | None) -> ast.expr:
    return ast.Attribute(ast.Name(prefix, ast.Load()), name, ast.Load()) if prefix else ast.Name(name, ast.Load())


def _add(out: Typical, func: ast.expr, node: ast.FunctionDef, scope: ast.AST, known: _Source,
         blocked: frozenset[str], objects: bool, *, source: str,
         method: bool = False, modules: set[str] | None = None, bare: str | None = None,
         called_as: str = "") -> None:
    """The typical call of ``node`` through ``func``, and its rows."""
    keywords = None if method else _from_examples(node, known.tree)
    rows: list[tuple[str, object]] = []
    if keywords is None:
        found = _arguments(node, scope, known, method=method, called_as=called_as)
        if found is None:
            return
        keywords, rows = found
    needed = modules_of([v for _, v in keywords]) | set(modules or ())
    if not objects and (needed or any(not _literal_only(v) for _, v in keywords)):
        return
    if needed & blocked:
        return
    only = {a.arg for a in node.args.posonlyargs}
    if not keywords and not method:
        return  # nothing to show: a call with no arguments is what search already makes
    out.units.append(_unit(source, func, keywords, only))
    for param, kind, value in _text_kinds(node, keywords):
        # The same call with the kind of text the code visibly treats apart: a test a person writes beside the
        # first (python-slugify decodes bytes and transliterates accents; Pynguin alone found the bytes).
        out.units.append(_unit(f"{source}_{kind}", func, [(p, value if p == param else v) for p, v in keywords],
                               only))
    out.modules |= needed
    out.names |= names_of([v for _, v in keywords])
    if bare:
        out.names.add(bare)
    for k, (param, value) in enumerate(rows):
        changed = [(p, value if p == param else v) for p, v in keywords]
        out.rows.append(_unit(f"{source}_row_{k}", func, changed, only))


# A text with accents a transliteration changes, beside the typical ``Hello World``.
_ACCENTED = {"Hello World": "Héllo Wörld"}
_NORMALISING = ("normalize", "unidecode", "anyascii", "transliterate")


def _text_kinds(function: ast.FunctionDef, keywords: list[tuple[str, object]]) -> list[tuple[str, str, object]]:
    """(parameter, kind, value) for each typical text the function treats apart by kind: a parameter it decodes
    (``str(text, 'utf-8', 'ignore')``, ``text.decode()``) given as bytes, one it normalises or transliterates
    (``unicodedata.normalize('NFKD', text)``, ``unidecode(text)``) given with accents."""
    out: list[tuple[str, str, object]] = []
    calls = [n for n in ast.walk(function) if isinstance(n, ast.Call)]
    for param, value in keywords:
        if not isinstance(value, str) or not value.isascii():
            continue
        named = [c for c in calls if any(isinstance(a, ast.Name) and a.id == param for a in c.args)]
        if any(isinstance(c.func, ast.Name) and c.func.id == "str" and len(c.args) > 1 for c in named) or any(
                isinstance(c.func, ast.Attribute) and c.func.attr == "decode" and isinstance(c.func.value, ast.Name)
                and c.func.value.id == param for c in calls):
            out.append((param, "bytes", value.encode()))
        if any(ast.unparse(c.func).rsplit(".", 1)[-1] in _NORMALISING for c in named) and value in _ACCENTED:
            out.append((param, "accented", _ACCENTED[value]))
    return out


def _unit(source: str, func: ast.expr, keywords: list[tuple[str, object]], only: set[str]) -> Unit:
    call = ast.Call(copy.deepcopy(func), [as_expr(v) for k, v in keywords if k in only],
                    [ast.keyword(k, as_expr(v)) for k, v in keywords if k not in only])
    return Unit(source, [ast.Assign([ast.Name("typical", ast.Store())], call, lineno=0)])


def _construction(node: ast.ClassDef, classes: dict[str, ast.ClassDef], prefix: str | None,
                  known: _Source) -> tuple[ast.Call, set[str]] | None:
    """The class made with its constructor's typical values, and the modules they need; None when a
    constructor argument suggests nothing (its own class's objects are not made for it: no recursion)."""
    if _abstract(node):
        return None
    init = _find_method(node, "__init__", classes)
    made: list[tuple[str, object]] = []
    if init is not None:
        found = _arguments(init, init, replace(known, made={}), method=True)
        if found is None:
            return None
        made = found[0]
    return (ast.Call(_name(node.name, prefix), [], [ast.keyword(k, as_expr(v)) for k, v in made]),
            modules_of([v for _, v in made]))


def _constructions(nodes: list[ast.ClassDef], classes: dict[str, ast.ClassDef], prefix: str | None,
                   known: _Source, blocked: frozenset[str]) -> dict[str, Code]:
    """Each public class's typical construction as a value for a parameter that takes one (semver's
    ``compare(other: Comparable)``, ``is_compatible(other: 'Version')``: ``Version(major=1)``)."""
    out: dict[str, Code] = {}
    for node in nodes:
        made = _construction(node, classes, prefix, known)
        if made is None or len(made[1]) > 1 or made[1] & blocked:
            continue
        call, needed = made
        out[node.name] = Code(ast.unparse(call), next(iter(needed), ""),
                              frozenset({node.name}) if prefix is None else frozenset())
    return out


def _add_class(out: Typical, node: ast.ClassDef, classes: dict[str, ast.ClassDef], prefix: str | None,
               known: _Source, blocked: frozenset[str]) -> None:
    """Each public method that returns a value, called on an object its constructor's typical values make
    (class and static methods on the class)."""
    made = _construction(node, classes, prefix, known)
    if made is None:
        return  # a constructor argument nothing suggests a value for
    obj, needed = made
    if needed & blocked:
        return
    cls = _name(node.name, prefix)
    for dunder, builtin in (("__repr__", "repr"), ("__str__", "str")):
        # What a person prints: the class's own text form (semver's ``repr`` and ``str`` of a version).
        if any(isinstance(i, ast.FunctionDef) and i.name == dunder for i in node.body):
            call = ast.Call(ast.Name(builtin, ast.Load()), [copy.deepcopy(obj)], [])
            out.units.append(Unit(f"test_typical_{node.name}_{builtin}",
                                  [ast.Assign([ast.Name("typical", ast.Store())], call, lineno=0)]))
            out.modules |= needed
            if prefix is None:
                out.names.add(node.name)
    call = _find_method(node, "__call__", classes)
    if call is not None and _has_required(call) and _returns_a_value(call):
        # The object called as its class is meant to be (a validator given a value): the object is the function.
        _add(out, obj, call, node, known, blocked, True, source=f"test_typical_{node.name}_call", method=True,
             modules=needed, bare=node.name if prefix is None else None, called_as=node.name)
    for item in node.body:
        if not isinstance(item, ast.FunctionDef) or item.name.startswith("_") or not _returns_a_value(item):
            continue
        decorators = {ast.unparse(d) for d in item.decorator_list}
        if decorators - {"staticmethod", "classmethod"}:
            continue  # a property, a cached or wrapped method: not a plain call
        on_class = bool(decorators)
        if not on_class and not _has_required(item) and _BLOCKING.fullmatch(item.name.lower()):
            continue
        func = ast.Attribute(cls if on_class else obj, item.name, ast.Load())
        _add(out, func, item, node, known, blocked, True, source=f"test_typical_{node.name}_{item.name}",
             method="staticmethod" not in decorators, modules=set() if on_class else needed,
             bare=node.name if prefix is None else None)


def _abstract(node: ast.ClassDef) -> bool:
    """An abstract base (``ABC``, or a method marked ``abstractmethod``): Python refuses to make one."""
    return any(ast.unparse(b).split(".")[-1] in ("ABC", "Protocol") for b in node.bases) or any(
        isinstance(i, ast.FunctionDef) and any(ast.unparse(d).split(".")[-1] == "abstractmethod"
                                               for d in i.decorator_list) for i in node.body)


def _find_method(node: ast.ClassDef, name: str, classes: dict[str, ast.ClassDef],
                 depth: int = 0) -> ast.FunctionDef | None:
    """The method as the class has it, or as a base class of the same module has it."""
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == name:
            return item
    for base in node.bases:
        if isinstance(base, ast.Name) and base.id in classes and depth < 8:
            return _find_method(classes[base.id], name, classes, depth + 1)
    return None


def _returns_a_value(function: ast.FunctionDef) -> bool:
    """``return <something>`` in its own body (not a nested function's), and no ``yield``."""
    found = False
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return False
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            found = True
        stack.extend(ast.iter_child_nodes(node))
    return found


def _has_required(function: ast.FunctionDef) -> bool:
    args = function.args
    positional = [*args.posonlyargs, *args.args][1:]
    return len(positional) > len(args.defaults) or any(d is None for d in args.kw_defaults)


def _literal_only(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_literal_only(v) for v in value)
    return isinstance(value, (str, int, float, bool, bytes))


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


def _arguments(function: ast.FunctionDef, scope: ast.AST, known: _Source, *, method: bool = False,
               called_as: str = "") -> tuple[list[tuple[str, object]], list[tuple[str, object]]] | None:
    """Keyword values for the parameters without a default, and the rows (parameter, other value); None if a
    parameter suggests nothing. A parameter annotated with one of the module's classes gets its typical
    construction. ``called_as``: a name that says more about the first parameter than its own (the class of
    a ``__call__``: marshmallow's ``Email()(value)`` takes an address)."""
    args = function.args
    if args.posonlyargs and not method:
        return None
    positional = [*args.posonlyargs, *args.args]
    if method or (positional and positional[0].arg in ("self", "cls")):
        positional = positional[1:]
    required = positional[:len(positional) - len(args.defaults)] if args.defaults else positional
    required += [a for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    documented = _documented_types(function)
    out: list[tuple[str, object]] = []
    rows: list[tuple[str, object]] = []
    for index, arg in enumerate(required):
        hints = hints_for(arg.arg, function, scope, known.patterns)
        value = class_value(arg.annotation, known.made, known.aliases) or value_for(
            _aliased(arg, known.aliases), documented.get(arg.arg, ""), hints)
        if index == 0 and called_as:  # a text the class's name asks for (``URL``: an address); not a count
            named = value_for(ast.arg(re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", called_as).lower()))
            value = named if isinstance(named, str) else value
        if value is None:
            return None
        out.append((arg.arg, value))
        if isinstance(value, str):
            rows += [(arg.arg, h) for h in hints if h != value]
    return out, rows


def _aliased(arg: ast.arg, aliases: dict[str, str]) -> ast.arg:
    """The parameter with a module alias in its annotation read as what it stands for (semver's ``String``
    is ``Union[str, bytes]``: a text)."""
    if isinstance(arg.annotation, ast.Name) and arg.annotation.id in aliases:
        try:
            return ast.arg(arg.arg, parse_source(aliases[arg.annotation.id], mode="eval").body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return arg
    return arg


def search_seeds(module_source: str, module: str) -> str | None:
    """The typical calls as a test module Pynguin seeds its first population with, or None when there are none.

    Without seeds Pynguin draws its inputs at random and from the module's
    own constants (its docstrings, hex-escaped, as a version's prerelease
    tag); seeded, part of its first population calls each function as a
    person would (``slugify(text='Hello World')``) and search mutates from
    there. Pynguin finds the file by its name: ``test_`` and the module's
    last part (pynguin/analyses/seeding.py, 0.48). Literals and functions only: its seed parser reads no more.
    """
    units = typical_units(module_source, "module_0", set(), objects=False).units
    if not units:
        return None
    tests = [f"def test_seed_{i}():\n    var_0 = {ast.unparse(u.body[0].value)}\n"  # type: ignore[attr-defined]
             for i, u in enumerate(units)]
    return f"import {module} as module_0\n\n\n" + "\n\n".join(tests)
