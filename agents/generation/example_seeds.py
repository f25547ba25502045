"""The calls a module's authors show (docstring and README examples) as seeds for the search.

A search starts from random values and the module's own constants. A
parser's deep rules need an input that already gets past its first ones:
tomli's README parses a ``[[players]]`` table, a text no random string
comes near. Seeded with it, Pynguin mutates from there: on
``tomli._parser`` (40 s, seeds 1-3, Pynguin's own branch figure) its
coverage went from 0.53 / 0.43 / 0.49 with the typical calls alone to
0.59 / 0.58 / 0.57 with the README's two calls added.

Only what Pynguin's seed parser reads is written (literals, calls of the
module's names, calls on what those returned), one seed test per example
session. Everything is read from the parse tree: nothing of the README or
the module runs here, and each value written is a literal re-printed from
the tree, never the README's text.
"""

from __future__ import annotations

import ast
import doctest
from dataclasses import dataclass, field

from agents.generation.doc_formats import formats_shown
from agents.generation.readme_blocks import code_blocks, literal_blocks, sessions
from engine.python_source import parse_source

_MAX_SEEDS = 40
_MAX_CALLS = 30  # per seed test
_MAX_LITERAL = 4000  # characters of one re-printed value


def _parse(code: str) -> ast.Module | None:
    try:
        return parse_source(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _takes_varargs(node: ast.stmt) -> bool:
    """A function with ``*args``, or a class whose ``__init__`` has them (marshmallow's ``And(*validators)``)."""
    if isinstance(node, ast.ClassDef):
        node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), node)
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.args.vararg is not None


def top_names(module_source: str) -> set[str]:
    """The functions and classes the module defines at its top level (what Pynguin's test cluster holds)."""
    tree = _parse(module_source)
    return _top_of(tree) if tree is not None else set()


def _top_of(tree: ast.Module) -> set[str]:
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith("__")}


@dataclass
class _Scope:
    """What an example's names stand for: a dotted path (``tomllib`` -> ``tomli``) or a literal's text."""

    paths: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


class _Seed:
    """One example session written as Pynguin's seed statements (``var_0 = module_0.loads('a = 1')``)."""

    def __init__(self, module: str, top: set[str], varargs: set[str], scope: _Scope) -> None:
        self.module, self.top, self.varargs, self.scope = module, top, varargs, scope
        self.lines: list[str] = []
        self.vars: dict[str, str] = {}  # the example's name -> the seed's variable
        self.made: dict[str, str] = {}  # a call of the module's already written -> its variable

    def _dotted(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.scope.paths:
            return None
        return ".".join([self.scope.paths[node.id], *reversed(parts)])

    def _callee(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.vars:
            return f"{self.vars[node.value.id]}.{node.attr}"  # a method of what an earlier call returned
        if isinstance(node, ast.Name) and node.id in self.vars:
            return f"{self.vars[node.id]}.__call__"  # what a call returned, called (a validator)
        path = self._dotted(node)
        if path is None:
            return None
        # The module itself or a package above it (``tomli.loads`` for ``tomli._parser``), then one of its names.
        for package in (self.module, *(self.module.rsplit(".", n)[0] for n in range(1, self.module.count(".") + 1))):
            if path.startswith(package + "."):
                rest = path[len(package) + 1:]
                return f"module_0.{rest}" if rest.split(".")[0] in self.top else None
        return None

    def _value(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name):
            return self.vars.get(node.id) or self.scope.values.get(node.id)
        try:
            ast.literal_eval(node)  # a tree already parsed: a walk, no parse
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None
        text = ast.unparse(node)
        return text if len(text) <= _MAX_LITERAL else None

    def call(self, node: ast.Call) -> str | None:
        """The call as a seed statement (its arguments' calls first); its variable, or None if it cannot be."""
        callee = self._callee(node.func)
        if callee is None or len(self.lines) >= _MAX_CALLS:
            return None
        args: list[str] = []
        for arg in node.args:
            value = None if isinstance(arg, ast.Starred) else self._value(arg)
            if value is None and callee.removeprefix("module_0.") in self.varargs:
                break  # the ``*args`` the seed can write (``And(Range(min=0))`` without the example's own function)
            if value is None:
                return None
            args.append(value)
        for keyword in node.keywords:  # one the seed cannot write (``parse_float=Decimal``) is left out
            if keyword.arg is not None and (value := self._value(keyword.value)) is not None:
                args.append(f"{keyword.arg}={value}")
        text = f"{callee}({', '.join(args)})"
        if text in self.made:  # the same call again (a README comparing two parses of one text)
            return self.made[text]
        var = f"var_{len(self.lines)}"
        self.lines.append(f"{var} = {text}")
        if callee.startswith("module_0."):  # a method may change its object: called again, it is another call
            self.made[text] = var
        return var

    def visit(self, node: ast.AST) -> None:
        """Every call of the module's names in ``node``, outermost first (a nested one is its argument)."""
        if isinstance(node, ast.Call) and self._callee(node.func) is not None and self.call(node) is not None:
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                self.scope.paths[name] = alias.name if alias.asname else name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                self.scope.paths[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            self.vars.pop(name, None)
            self.scope.values.pop(name, None)
            if isinstance(node.value, ast.Call):
                if (var := self.call(node.value)) is not None:
                    self.vars[name] = var
                else:
                    self.visit(node.value)
            elif (value := self._value(node.value)) is not None:
                self.scope.values[name] = value
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return  # a definition's body runs only when called, with names the seed does not have
        else:
            self.visit(node)

    def test(self, number: int) -> str | None:
        if not self.lines:
            return None
        return f"def test_example_{number}():\n" + "".join(f"    {line}\n" for line in self.lines)


def _docstring_examples(tree: ast.Module) -> list[str]:
    """Each docstring's ``>>>`` examples as one piece of code, and each of its literal blocks (``Example: ::``)."""
    found: list[str] = []
    parser = doctest.DocTestParser()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True) or ""
            try:
                examples = parser.get_examples(doc) if ">>>" in doc else []
            except ValueError:  # a malformed example (doctest's own complaint): the docstring gives none
                examples = []
            if examples:
                found.append("".join(e.source for e in examples))
            found += literal_blocks(doc) if "::" in doc else []
    return found


def _template_calls(tree: ast.Module, top: set[str]) -> list[str]:
    """A call per format a top-level function's docstring shows, filled in, bare and signed (``-P3W``)."""
    tests: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name not in top or not node.args.args:
            continue
        if texts := formats_shown(ast.get_docstring(node, clean=True) or ""):
            tests.append("".join(f"    var_{i} = module_0.{node.name}({t!r})\n" for i, t in enumerate(texts)))
    return tests


def example_seed_tests(module_source: str, module: str, readme_texts: list[str]) -> list[str]:
    """Seed tests (``def test_example_N(): var_0 = module_0.f(...)``) from the module's docstring examples and
    the READMEs' examples, in that order; none when no example calls one of the module's names."""
    tree = _parse(module_source)
    if tree is None:
        return []
    top = _top_of(tree)
    varargs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
               and n.name in top and _takes_varargs(n)}
    pieces: list[tuple[str, _Scope]] = []
    root = module.split(".")[0]
    own = {root: root, **{name: f"{module}.{name}" for name in top}}  # the module's names, and its package's
    pieces += [(code, _Scope(paths=dict(own))) for code in _docstring_examples(tree)]
    for text in readme_texts:
        shared = _Scope()  # a README's imports and values carry from one section to the next
        found = [(s.line, "".join(e.source for e in s.examples)) for s in sessions(text)]
        found += [(b.line, b.code) for b in code_blocks(text)]
        pieces += [(code, shared) for _, code in sorted(found)]
    tests: list[str] = []
    for code, scope in pieces:
        parsed = _parse(code)
        if parsed is None:
            continue
        seed = _Seed(module, top, varargs, scope)
        for node in parsed.body:
            seed.statement(node)
        if (test := seed.test(len(tests))) is not None:
            tests.append(test)
        if len(tests) >= _MAX_SEEDS:
            break
    for body in _template_calls(tree, top)[:_MAX_SEEDS - len(tests)]:
        tests.append(f"def test_example_{len(tests)}():\n{body}")
    return tests
