"""CrossHair's idioms a reader stumbles over, written as a person writes them.

A constructor's test: CrossHair covers ``Email.__init__`` by building an object and calling its
``__init__`` again: ``assert Email(error='').__init__(error='') is None``
(marshmallow's kept tests had four of these, and a reviewer reads each as a
riddle). The object a second ``__init__`` works on is built by the same
``__init__``, so ``Email(error='')`` runs what the test is about; its
assertion ``is None`` said only that nothing raised, which distillation
then says from what the object holds (agents/distil_step.py). A test that
now fails or covers less is simply not kept (agents/keep_per_test.py).

``pytest.raises(ValueError, match='')``: an empty pattern matches every
message, so it says nothing; it goes. A pattern CrossHair escaped where
nothing needed it (``match='Minimum\\ unit\\ is\\ suppressed'``) is
written plain; one of Python's own "``f() missing 1 required positional
argument``" loses the function's name, which is not what the test is about.
"""

from __future__ import annotations

import ast
import re

from engine.python_source import parse_source


def as_constructions(code: str) -> str:
    """``code`` with every ``C(a).__init__(b)`` written ``C(b)`` (an ``assert ... is None`` or ``== None`` around one
    goes), and no ``match=''``.

    Only on a receiver that is itself a call (``C(a)``): ``obj.__init__(b)`` on a named object may be
    what a test means (a re-initialised object, read afterwards). ``code`` unchanged if it does not parse.
    """
    try:
        tree = parse_source(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    rewriter = _Constructions()
    tree = rewriter.visit(tree)
    if not rewriter.changed:
        return code
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def constructions_in(body: list[ast.stmt]) -> list[ast.stmt]:
    """The same rewrite on a distilled test's statements: distillation's own ``C.__init__(C(a), b)`` ->
    ``C(a).__init__(b)`` (a method on the instance made for it) lands on the idiom after CrossHair's output was
    rewritten (arrow's kept ``assert DateTimeFormatter(locale='sv').__init__(locale='es') is None``)."""
    rewriter = _Constructions()
    return [ast.fix_missing_locations(rewriter.visit(stmt)) for stmt in body]


# Python's own message for a call its arguments do not bind to: ``Version.__init__() missing 1 required positional
# argument: 'major'``. The name before it is the function's qualified name, which mutmut's trampolines change
# (``Version.xǁVersionǁ__init____mutmut_orig()``): pinned, semver's whole kept suite failed mutmut's first run and
# the request had no mutation score. What follows the name is what the test is about.
_BINDING = re.compile(r"^[\w.<>]+\(\) ((?:missing|got|takes) .*)$", re.DOTALL)


def _reinit(node: ast.AST, *, through_class: bool = True) -> ast.Call | None:
    """``C(b)`` for ``C(a).__init__(b)`` and, with ``through_class``, for CrossHair's own ``C.__init__(C(a), b)``;
    else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__"):
        return None
    if isinstance(node.func.value, ast.Call):
        return ast.Call(node.func.value.func, node.args, node.keywords)
    made = node.args[0] if node.args and through_class else None
    if isinstance(made, ast.Call) and ast.unparse(made.func) == ast.unparse(node.func.value):
        # Written so, the observed call was ``__init__`` (None) and the object's fields were never read: marshmallow's
        # constructor tests said only "does not raise".
        return ast.Call(node.func.value, node.args[1:], node.keywords)
    return None


class _Constructions(ast.NodeTransformer):
    def __init__(self) -> None:
        self.changed = False
        self.raising = 0  # inside ``pytest.raises``: marshmallow's ``Range.__init__(Range(a), b)`` raises KeyError
        # only as a second initialisation; ``Range(b)`` does not, and the test would be lost

    def visit_With(self, node: ast.With) -> ast.AST:
        raising = any(isinstance(i.context_expr, ast.Call) and ast.unparse(i.context_expr.func) == "pytest.raises"
                      for i in node.items)
        self.raising += raising
        try:
            return self.generic_visit(node)
        finally:
            self.raising -= raising

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        test = node.test
        if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq))
                and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
                and (built := _reinit(test.left)) is not None):
            self.changed = True
            return ast.copy_location(ast.Expr(built), node)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if ast.unparse(node.func) == "pytest.raises":
            kept = [k for k in node.keywords if not (k.arg == "match" and isinstance(k.value, ast.Constant)
                                                     and k.value.value == "")]
            if len(kept) != len(node.keywords):
                node.keywords, self.changed = kept, True
            for k in kept:
                if k.arg == "match" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                    plain = re.sub(r"\\(.)", r"\1", k.value.value)
                    binding = _BINDING.match(plain)
                    if binding is not None:  # the interpreter's words without the function's own name
                        k.value, self.changed = ast.Constant(re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1",
                                                                    binding.group(1))), True
                        continue
                    # "Minimum\\ unit" says "Minimum unit"; "a\\.b" needs its escape. A message escaped whole
                    # (semver's "'major'\\ is\\ negative\\.\\ A\\ version...") is checked by its words up to the first
                    # character a pattern reads otherwise: "'major' is negative".
                    if plain != k.value.value and not re.search(r"\\[A-Za-z0-9]", k.value.value):  # \\n, \\d: its own
                        words = re.split(r"[.^$*+?{}\[\]\\|()]", plain, maxsplit=1)[0].rstrip()
                        if words == plain or len(words.split()) >= 2:
                            k.value, self.changed = ast.Constant(words), True
            return node
        built = _reinit(node, through_class=not self.raising)
        if built is None:
            return node
        self.changed = True
        return ast.copy_location(built, node)
