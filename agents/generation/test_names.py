"""What a distilled test is called: ``test_<function>_<outcome>[_for_<case>]``, from what it does.

The function is the last one of the module under test the test calls;
the outcome what that call did (``raises_value_error``, ``returns_none``,
``is_empty``, ``returns_int``); the case a word for its first argument
when the value says something (``empty_string``, ``negative``,
``hello_world``), never a made-up one for search's random strings.
"""

from __future__ import annotations

import ast
import re

from agents.generation.observe import Seen
from agents.generation.test_units import TestFile, call_of, is_raises


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_") or "value"


def function_of(body: list[ast.stmt], parts: TestFile) -> str:
    """The last function, class or method of the module under test that the statements call.

    ``m.label(...)`` is ``label``; ``m.__RomanNumbers.decode(...)`` is
    ``roman_numbers_decode``; ``label(...)`` imported by name is ``label``;
    a method on an object the test made is its own name.
    """
    found = ""
    made: dict[str, str] = {}  # local name -> the class of the module it was made from (``version = m.Version()``)
    for stmt in body:
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute)
                and stmt.value.func.attr[:1].isupper()):
            made[stmt.targets[0].id] = snake(stmt.value.func.attr.strip("_"))
        receivers: set[int] = set()  # constructor calls already named as a method's receiver
        # An expected value is not what the test is about: ``== Decimal('1')`` named isodate's duration
        # test ``test_decimal_returns_str``.
        if isinstance(stmt, ast.Assert) and isinstance(stmt.test, ast.Compare):
            receivers |= {id(n) for c in stmt.test.comparators for n in ast.walk(c)}
        for node in ast.walk(stmt):
            if not isinstance(node, ast.Call) or id(node) in receivers:
                continue
            if (isinstance(node.func, ast.Name) and node.func.id in _TEXT_FORMS and len(node.args) == 1
                    and isinstance(node.args[0], ast.Call)):
                # ``repr(Version(major=1))``: the class's text form (``version_repr``), not the class alone.
                inner = _call_name(node.args[0], parts, made, receivers, weak=False)
                if inner:
                    found = f"{inner}_{node.func.id}"
                    receivers |= {id(n) for n in ast.walk(node.args[0])}
                continue
            name = _call_name(node, parts, made, receivers, weak=not found)
            if name:
                found = name
                # The calls in its arguments are inputs (``v.compare(other=Version(major=1))`` is about ``compare``).
                receivers |= {id(n) for a in [*node.args, *[k.value for k in node.keywords]] for n in ast.walk(a)}
    return found


_TEXT_FORMS = ("repr", "str")


def _call_name(node: ast.Call, parts: TestFile, made: dict[str, str], receivers: set[int], *,
               weak: bool = True) -> str:
    """The name one call gives a test: the module's function or class, with the method called on it; with
    ``weak``, also a method on something else (when nothing better was found)."""
    chain: list[str] = []
    func = node.func
    while isinstance(func, ast.Attribute):
        chain.insert(0, func.attr)
        func = func.value
        # ``DateTimeFormatter().format(...)``: the method of the object made right there
        # (``date_time_formatter_format``), not the class alone.
        if isinstance(func, ast.Call) and isinstance(func.func, (ast.Name, ast.Attribute)):
            receivers.add(id(func))
            func = func.func
    root = func.id if isinstance(func, ast.Name) else ""
    if root in parts.aliases and chain:
        return "_".join(snake(c.strip("_")) for c in chain)
    if root in parts.imported and root not in ("pytest",):
        return snake(root.strip("_")) + "".join("_" + snake(c.strip("_")) for c in chain)
    if chain and root in made:
        # A method on an object the test made: what the test is about (``version_bump_build``).
        return f"{made[root]}_{snake(chain[-1].strip('_'))}"
    if root in made:
        # The object called (a validator given a value): its class, not the class made before it. marshmallow's
        # ``contains_only(value=0.0)`` raising TypeError was "test_contains_none_of_raises_type_error".
        return made[root]
    if weak and chain and root not in ("pytest", "len", "isinstance"):
        return snake(chain[-1].strip("_"))
    return ""


def behaviour(body: list[ast.stmt], values: dict[int, Seen], original: list[ast.stmt],
               parts: TestFile) -> tuple[str, str, str]:
    """(function, outcome, case) for the test's name, from its last call and what that did."""
    function = function_of(body, parts)
    last = body[-1] if body else None
    outcome, case, first = "", "", None
    for stmt in reversed(body):
        if is_raises(stmt):
            kind = stmt.items[0].context_expr.args  # type: ignore[attr-defined]
            outcome = f"raises_{snake(ast.unparse(kind[0]).rsplit('.', 1)[-1])}" if kind else "raises"
            call = call_of(stmt.body[-1]) if stmt.body else None
            first = _first_argument(call)
            break
        if isinstance(stmt, ast.Assert):
            test = stmt.test
            if isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Is):
                value = getattr(test.comparators[0], "value", "")
                outcome = {None: "returns_none", True: "is_true", False: "is_false"}.get(value, "")
            elif isinstance(test, ast.Compare):
                expected = test.comparators[0]
                outcome = _returns(expected)
            subject = test.left if isinstance(test, ast.Compare) else test
            if isinstance(subject, ast.Call) and ast.unparse(subject.func) == "len" and len(subject.args) == 1:
                # ``len(_suppress_lower_units(...)) == 5`` checks a set's size: "returns_int" named the length.
                sized = _type_seen(subject.args[0], values, original)
                outcome = f"returns_{snake(sized)}" if sized else "returns_collection"
            if (made := _returned_type(subject, values, original)) is not None:
                # A field of what the call returned (validators: ``validation_error.value == '4yu{'``) says
                # nothing of what the call returns: "test_cron_returns_str" named a call returning an error.
                outcome = f"returns_{snake(made)}"
            if isinstance(subject, ast.Attribute) and isinstance(subject.value, ast.Call):
                subject = subject.value  # a field of what a call made: that call's argument is the case
            first = _first_argument(subject if isinstance(subject, ast.Call) else None)
            if first is None:
                first = _first_argument(_last_call(body))
            break
    if not outcome and last is not None:
        first = _first_argument(_last_call(body))
    case = case_word(first)
    return function, outcome, case


def _type_seen(node: ast.expr, values: dict[int, Seen], original: list[ast.stmt]) -> str | None:
    """The type a call of the test was seen to return, for the call itself (inlined) or the name it was bound to."""
    for index, stmt in enumerate(original):
        seen, call = values.get(index), call_of(stmt)
        if seen is None or call is None or not seen.type.isidentifier():
            continue
        if isinstance(node, ast.Call) and ast.unparse(call.func) == ast.unparse(node.func):
            return seen.type
        if (isinstance(node, ast.Name) and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == node.id):
            return seen.type
    return None


def _returned_type(subject: ast.expr, values: dict[int, Seen], original: list[ast.stmt]) -> str | None:
    """The class of the object whose field (or type) the assertion reads, when a call of the test returned it."""
    node = subject
    if isinstance(node, ast.JoinedStr):  # f"{type(x).__module__}.{type(x).__qualname__}" == "pkg.Error"
        names = [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id != "type"]
        node = ast.Name(names[0], ast.Load()) if names else node
    elif isinstance(node, ast.Attribute):
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "type" and len(node.args) == 1:
            node = node.args[0]  # type(x).__qualname__ == "ValidationError"
            while isinstance(node, ast.Attribute):  # type(duration.tdelta): a field of the duration returned
                node = node.value
    else:
        return None
    if isinstance(node, ast.Call):  # inlined: ``module_0.cron('4yu{').value``
        called = ast.unparse(node.func)
        for index, stmt in enumerate(original):
            seen, call = values.get(index), call_of(stmt)
            if (seen is not None and call is not None and ast.unparse(call.func) == called
                    and seen.type.isidentifier() and seen.module != "builtins"):
                return seen.type
        return None
    if not isinstance(node, ast.Name):
        return None
    # Locals are named after what they hold (``validation_error``), or still as the generator named them.
    for index, stmt in enumerate(original):
        seen = values.get(index)
        if seen is None or not seen.type.isidentifier() or seen.module == "builtins":
            continue
        named = (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                 and stmt.targets[0].id == node.id)
        if named or node.id.rstrip("_0123456789") == snake(seen.type):
            return seen.type
    return None


def _last_call(body: list[ast.stmt]) -> ast.Call | None:
    calls = [call_of(s) for s in body if call_of(s) is not None]
    return calls[-1] if calls else None


def _first_argument(call: ast.Call | None) -> ast.expr | None:
    if call is None or ast.unparse(call.func) in ("len", "isinstance"):
        return None
    if call.args:
        return call.args[0]
    return call.keywords[0].value if call.keywords else None


def _returns(expected: ast.expr) -> str:
    if isinstance(expected, ast.Call) and ast.unparse(expected.func) == "pytest.approx":
        return "returns_float"
    try:
        value = ast.literal_eval(expected)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ""
    if value in ("", b"", [], (), {}) and not isinstance(value, bool):
        return "is_empty"
    if isinstance(value, int) and not isinstance(value, bool) and value == 0:
        return "is_zero"
    return f"returns_{type(value).__name__}"


def case_word(arg: ast.expr | None, *, generic: bool = False) -> str:
    """A word for a test's first argument: ``empty_string``, ``negative``, ``hello_world``.

    ``generic`` (agents/generation/tidy.py, for tests left as generated):
    a word for every kind of value (``string``, ``positive``,
    ``no_arguments``), where distillation says nothing rather than something vague.
    """
    if arg is None:
        return "no_arguments" if generic else ""
    if isinstance(arg, ast.Constant):
        value = arg.value
        if value is None:
            return "none"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (str, bytes)):
            if not value:
                return "empty_string"
            if generic:
                return "string"
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            # Words say what the input is ("hello_world", "8s"); search's random strings would not.
            if re.fullmatch(r"[+-]?\d+(\.\d+)?\s*[A-Za-z]{0,8}|[A-Za-z][a-z]{1,}([ _-][A-Za-z][a-z]+){0,3}", text.strip()):
                sign = "minus_" if re.match(r"-\d", text.strip()) else ""  # "-3m" is not "3m"
                return sign + re.sub(r"[^0-9a-zA-Z]+", "_", text.strip()).strip("_").lower()[:32]
            return ""
        if isinstance(value, (int, float)):
            return "zero" if value == 0 else ("negative" if value < 0 else ("positive" if generic else ""))
    if isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub):
        return "negative"
    if isinstance(arg, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        empty = not getattr(arg, "elts", getattr(arg, "keys", None))
        return "empty_collection" if empty else ("collection" if generic else "")
    return ""
