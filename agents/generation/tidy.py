"""Make search output into tests a person keeps.

Pynguin's files re-assert what they just assigned (``var_0 = 0; assert
var_0 == 0``), snapshot the module's constant tables, mark tests that raise
with a bare ``xfail(strict=True)`` and name everything ``test_case_N``. On
``inflection`` that made a 1,457-line file nobody would keep. This pass:

* drops tautologies: an ``assert`` comparing a name with the literal it was
  last assigned;
* drops constant snapshots: an ``assert`` whose subject is a module-level
  attribute (``module_0.TABLE == [...]``), not the result of a call;
* turns ``@pytest.mark.xfail(strict=True)`` into ``with pytest.raises(...)``
  around the last statement, where Pynguin stopped because it raised:
  the candidate's first run has the mark taken off (``unmark_xfails``),
  so each such test fails with the exception it raises, and
  ``expect_raises`` names that exception (a builtin one; else
  ``Exception``);
* names tests after the function they call last and the case
  (``test_pluralize_empty_string``), and orders them by function.

Whatever it produces is run again before anything is kept (keep per test),
so a wrong guess costs that test, never a red file.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections import defaultdict

from agents.generation.test_names import case_word
from engine.python_source import parse_source

_MODULE_ALIAS = re.compile(r"^module_\d+$")


def tidy(code: str, raised: dict[str, str] | None = None) -> str:
    """The tidied source.

    ``raised`` maps an xfail test's name to the exception it raised; with
    it, every strict xfail becomes ``pytest.raises`` (``Exception`` where the
    name is missing). Without it the xfails stay, for ``unmark_xfails`` and
    ``expect_raises`` to resolve against a real run (agents/evolution.py).
    """
    try:
        tree = parse_source(code)
    except SyntaxError:
        return code
    aliases = _module_aliases(tree)
    tests = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    for test in tests:
        test.body = _without_empty_asserts(test.body, aliases) or [ast.Pass()]
        if raised is not None:
            _xfail_to_raises(test, raised.get(test.name, "Exception"))
    _rename(tests, aliases)
    others = [n for n in tree.body if n not in tests]
    tree.body = others + sorted(tests, key=_natural)
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    # One blank line between tests reads better than unparse's none.
    return re.sub(r"\n(@pytest|def test)", r"\n\n\n\1", text).replace("\n\n\n\n", "\n\n\n") + "\n"


def _module_aliases(tree: ast.Module) -> set[str]:
    """Names bound to the module under test: ``import m as module_0`` or ``m_ = sys.modules["m"]``."""
    aliases = {a.asname for node in tree.body if isinstance(node, ast.Import)
               for a in node.names if a.asname and _MODULE_ALIAS.match(a.asname)}
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Subscript) and ast.unparse(node.value.value) == "sys.modules"):
            aliases.add(node.targets[0].id)
    return aliases


def _natural(test: ast.FunctionDef) -> list[object]:
    """test_f_2 before test_f_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", test.name)]


def _without_empty_asserts(body: list[ast.stmt], aliases: set[str]) -> list[ast.stmt]:
    assigned: dict[str, str] = {}
    kept: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            if is_literal(stmt.value):
                assigned[name] = ast.dump(stmt.value)
            else:
                assigned.pop(name, None)
        if isinstance(stmt, ast.Assert) and (_tautology(stmt.test, assigned) or _snapshot(stmt.test, aliases)):
            continue
        kept.append(stmt)
    return kept


def is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _tautology(test: ast.expr, assigned: dict[str, str]) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is))):
        return False
    left, right = test.left, test.comparators[0]
    if (isinstance(right, ast.Call) and ast.unparse(right.func).endswith("approx") and right.args):
        right = right.args[0]  # var_0 = -708.3; assert var_0 == pytest.approx(-708.3, abs=0.01)
    return isinstance(left, ast.Name) and assigned.get(left.id) == ast.dump(right)


_HARMLESS = {"type", "str", "repr", "len", "isinstance", "getattr"}


def _snapshot(test: ast.expr, aliases: set[str]) -> bool:
    """``assert module_0.CONST == ...`` or a check of its type: restates the module's data, tests nothing.

    The subject reads the module's attributes and nothing the test made
    (no local variable), and calls none of the module's functions.
    """
    subject = test.left if isinstance(test, ast.Compare) else test
    names = {n.id for n in ast.walk(subject) if isinstance(n, ast.Name)}
    reads_module = any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in aliases
                       for n in ast.walk(subject))
    calls_module = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                       and isinstance(n.func.value, ast.Name) and n.func.value.id in aliases
                       for n in ast.walk(subject))
    return reads_module and not calls_module and names <= aliases | _HARMLESS


def _xfail_to_raises(test: ast.FunctionDef, exception: str) -> None:
    strict = [d for d in test.decorator_list if _is_xfail(d)]
    if not strict or not test.body:
        return
    test.decorator_list = [d for d in test.decorator_list if d not in strict]
    last = test.body[-1]
    kind = parse_source(exception, mode="eval").body if re.fullmatch(r"[\w.]+", exception) else ast.Name("Exception")
    call = ast.Call(ast.Attribute(ast.Name("pytest"), "raises"), [kind], [])
    test.body[-1] = ast.With([ast.withitem(call)], [last])


def unmark_xfails(code: str) -> tuple[str, set[str]]:
    """``code`` with the xfail marks taken off, and the names of the tests that had one."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return code, set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(map(_is_xfail, node.decorator_list)):
            node.decorator_list = [d for d in node.decorator_list if not _is_xfail(d)]
            names.add(node.name)
    if not names:
        return code, names
    return ast.unparse(tree) + "\n", names


_RAISED = re.compile(r"^\s*([A-Za-z_][\w.]*)(?::|\s*$)")


def exception_of(message: str) -> str | None:
    """The builtin exception a junit failure message names (``TypeError: ...`` -> ``TypeError``).

    A failing ``assert`` is not an expected raise; an exception of the
    package's own is answered ``Exception``, since the test file would
    need to import it by a path we cannot be sure of.
    """
    match = _RAISED.match(message or "")
    if not match:
        return None
    name = match.group(1).rsplit(".", 1)[-1]
    if name == "AssertionError" or name == "assert":
        return None
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, BaseException):
        return name
    return "Exception" if name[:1].isupper() else None


def expect_raises(code: str, raised: dict[str, str]) -> str:
    """Each named test with its last statement wrapped in ``pytest.raises(<the exception>)``."""
    tree = parse_source(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in raised and node.body:
            node.decorator_list.append(parse_source("pytest.mark.xfail(strict=True)", mode="eval").body)
            _xfail_to_raises(node, raised[node.name])
    if not any(isinstance(n, ast.Import) and any(a.name == "pytest" for a in n.names) for n in tree.body):
        tree.body.insert(0, ast.Import([ast.alias("pytest")]))
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


def _is_xfail(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "xfail"


def _rename(tests: list[ast.FunctionDef], aliases: set[str]) -> None:
    used: dict[str, int] = defaultdict(int)
    for test in tests:
        function, case = _subject(test, aliases)
        base = f"test_{function}_{case}" if case else f"test_{function}"
        used[base] += 1
        test.name = base if used[base] == 1 else f"{base}_{used[base]}"


def _subject(test: ast.FunctionDef, aliases: set[str]) -> tuple[str, str]:
    """The last module function the test calls, and a word for its first argument."""
    function, case = "module", ""
    literals = {stmt.targets[0].id: stmt.value for stmt in test.body
                if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and is_literal(stmt.value)}
    for node in ast.walk(test):
        if isinstance(node, ast.Call):
            target = node.func
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id in aliases):
                function = re.sub(r"\W", "_", target.attr).strip("_").lower() or "call"
                first = node.args[0] if node.args else (node.keywords[0].value if node.keywords else None)
                if isinstance(first, ast.Name) and first.id in literals:
                    first = literals[first.id]
                case = case_word(first, generic=True)
    return function, case
