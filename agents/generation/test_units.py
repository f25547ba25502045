"""A generated test file taken apart: its imports, its helpers, and its tests as units.

Search output packs unrelated calls into one test (Pynguin's
``test_case_5`` calls ``timeparse`` three times and ``OPTSEP`` once, each
on its own literals). A *unit* is one chain of statements that feed each
other: a call, the literals it takes, the objects it builds on, the
assertions about its result. Units are what distillation names, asserts,
shrinks, keeps or drops (agents/generation/distil.py); a test whose body
is not a plain chain (loops, ``if``, helpers) stays one unit, left as
written (``plain``).
"""

from __future__ import annotations

import ast
import builtins
import copy
import re
from dataclasses import dataclass, field

from engine.python_source import parse_source

_MODULE_ALIAS = re.compile(r"^module_\d+$")
_PLAIN_KINDS = (ast.Assign, ast.Expr, ast.Assert, ast.With)


@dataclass
class Unit:
    source: str  # the name of the test it came from
    body: list[ast.stmt]
    decorators: list[ast.expr] = field(default_factory=list)
    plain: bool = False  # left as written: not a chain of calls, literals and assertions

    def code(self, name: str, arguments: list[str] | None = None) -> str:
        args = [ast.arg(a) for a in arguments or []]
        test = ast.FunctionDef(name=name, args=ast.arguments([], args, None, [], [], None, []),
                               body=copy.deepcopy(self.body) or [ast.Pass()],
                               decorator_list=copy.deepcopy(self.decorators), returns=None)
        return ast.unparse(ast.fix_missing_locations(test))


@dataclass
class TestFile:
    __test__ = False  # not a pytest test class

    docstring: str | None
    imports: list[ast.stmt]
    others: list[ast.stmt]  # module aliases, helpers, constants: kept as they are
    units: list[Unit]
    aliases: set[str]  # names bound to the module under test (``module_0``, ``timeparse_``)
    imported: dict[str, str]  # name -> module, for ``from m import f`` (CrossHair's style)
    # Where the repository sits on this machine (agents/generation/machine_paths.py): values holding it are not
    # asserted as they were seen. Set by the distiller, which knows the repository.
    machine_paths: tuple[str, ...] = ()
    # The module under test's source (agents/distil_step.py reads it): a raised message is checked only with
    # words the module itself writes, not the interpreter's (``can only concatenate list``), which change
    # from one Python to the next.
    module_source: str = ""


def parse_file(code: str) -> TestFile | None:
    """``code`` taken apart, or None when it does not parse or holds a test class."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return None
    docstring = ast.get_docstring(tree, clean=False)
    body = tree.body[1:] if docstring is not None else tree.body
    imports: list[ast.stmt] = []
    others: list[ast.stmt] = []
    tests: list[ast.FunctionDef] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            tests.append(node)
        elif isinstance(node, (ast.ClassDef, ast.AsyncFunctionDef)) and node.name.lower().startswith("test"):
            return None
        elif _is_path_edit(node):
            continue  # sys.path.insert(...): the header is written again (agents/generation/__init__.py)
        else:
            others.append(node)
    aliases = _module_aliases(imports, others)
    imported = {a.asname or a.name: node.module for node in imports if isinstance(node, ast.ImportFrom)
                and node.module for a in node.names}
    units = [u for test in tests for u in split_test(test, aliases)]
    return TestFile(docstring, imports, others, units, aliases, imported)


def _is_path_edit(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and ast.unparse(node.value).startswith("sys.path.insert(")


def _module_aliases(imports: list[ast.stmt], others: list[ast.stmt]) -> set[str]:
    aliases = {a.asname for node in imports if isinstance(node, ast.Import)
               for a in node.names if a.asname and _MODULE_ALIAS.match(a.asname)}
    for node in others:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Subscript) and ast.unparse(node.value.value) == "sys.modules"):
            aliases.add(node.targets[0].id)
    return aliases


def is_raises(node: ast.stmt) -> bool:
    """``with pytest.raises(...):``."""
    return (isinstance(node, ast.With) and len(node.items) == 1 and isinstance(node.items[0].context_expr, ast.Call)
            and ast.unparse(node.items[0].context_expr.func) == "pytest.raises")


def _plain_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        return len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
    if isinstance(node, ast.With):
        return is_raises(node) and all(_plain_statement(s) and not isinstance(s, ast.With) for s in node.body)
    return isinstance(node, _PLAIN_KINDS)


def split_test(test: ast.FunctionDef, aliases: set[str]) -> list[Unit]:
    """The test's independent chains, in order; the whole test as one plain unit when it is not a chain."""
    decorators = [d for d in test.decorator_list if not _is_xfail(d)]
    body = [s for s in test.body if not _is_docstring(s)]
    if test.args.args or test.decorator_list or not all(map(_plain_statement, body)):
        return [Unit(test.name, body, list(test.decorator_list), plain=True)]
    body = normalise(body)
    local = {s.targets[0].id for s in body if isinstance(s, ast.Assign)}
    parent = list(range(len(body)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    last_def: dict[str, int] = {}
    # An immutable literal (``a = -710.24``) or a builtin (``f = repr``) ties nothing together: each chain
    # that reads it gets its own copy, so two calls sharing a number are two tests, not one long one.
    free_def: dict[str, int] = {}
    needs: dict[int, set[int]] = {}
    dropped: set[int] = set()
    free: set[int] = set()
    for i, stmt in enumerate(body):
        used = _names(stmt, local) - ({stmt.targets[0].id} if isinstance(stmt, ast.Assign) else set())
        if isinstance(stmt, ast.Assign):
            used |= _names(stmt.value, local)
        if isinstance(stmt, ast.Assert) and not used and not _calls(stmt):
            dropped.add(i)  # a check of the module's own data (``isinstance(m.TABLE, list)``): tests nothing made
            continue
        for name in used:
            if name in free_def:
                needs.setdefault(i, set()).add(free_def[name])
            elif name in last_def:
                parent[find(i)] = find(last_def[name])
        if isinstance(stmt, ast.Assign):
            name = stmt.targets[0].id
            if not used and _free_value(stmt.value, local):
                free.add(i)
                free_def[name] = i
                last_def.pop(name, None)
            else:
                last_def[name] = i
                free_def.pop(name, None)
    groups: dict[int, set[int]] = {}
    for i in range(len(body)):
        if i not in dropped and i not in free:
            groups.setdefault(find(i), set()).update({i, *needs.get(i, ())})
    units = []
    for members in sorted(groups.values(), key=min):
        stmts = [copy.deepcopy(body[i]) if i in free else body[i] for i in sorted(members)]
        if not any(_calls(s) for s in stmts):
            continue  # literals nobody uses
        units.append(Unit(test.name, stmts, decorators))
    if not units and not any(_calls(s) for s in body):
        return []  # literals and nothing else: it tests nothing (a Pynguin test left with ``var_0 = '...'``)
    return units or [Unit(test.name, body, decorators, plain=True)]


def normalise(body: list[ast.stmt]) -> list[ast.stmt]:
    """``assert f(x) == v`` becomes ``_r0 = f(x)`` followed by ``assert _r0 == v``: every call's result has a name.

    CrossHair writes its checks that way; with the call named, its value is
    observed and asserted like any other (agents/generation/distil.py).
    """
    out: list[ast.stmt] = []
    count = 0
    for stmt in body:
        test = stmt.test if isinstance(stmt, ast.Assert) else None
        if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Call)
                and not _is_builtin_call(test.left)):
            name = f"_r{count}"
            count += 1
            out.append(ast.Assign([ast.Name(name, ast.Store())], test.left, lineno=0))
            out.append(ast.Assert(ast.Compare(ast.Name(name, ast.Load()), test.ops, test.comparators), stmt.msg))
        else:
            out.append(stmt)
    return out


_IMMUTABLE = (int, float, complex, str, bytes, bool, type(None))


def _free_value(node: ast.expr, local: set[str]) -> bool:
    """An immutable literal, or a builtin named bare: copying it into two chains changes nothing."""
    if isinstance(node, ast.Name):
        return node.id not in local and node.id in vars(builtins)
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False

    def immutable(v: object) -> bool:
        return isinstance(v, _IMMUTABLE) or (isinstance(v, tuple | frozenset) and all(map(immutable, v)))

    return immutable(value)


def _is_builtin_call(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id in {"len", "isinstance", "type", "str", "repr",
                                                                "bool", "int", "float", "list", "set", "sorted"}


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_xfail(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "xfail"


def _names(node: ast.AST, local: set[str]) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in local}


def _calls(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) and not _is_builtin_call(n)
               and not ast.unparse(n.func).startswith("pytest.") for n in ast.walk(node))


def call_of(stmt: ast.stmt) -> ast.Call | None:
    if isinstance(stmt, (ast.Assign, ast.Expr)) and isinstance(stmt.value, ast.Call):
        return stmt.value
    return None
