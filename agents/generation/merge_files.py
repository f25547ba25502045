"""Several kept test files for one target, written as one file: what a reviewer expects to open.

The agents keep each generator's tests as its own file (Pynguin's, CrossHair's, the docstring
examples', a second Pynguin configuration's), and pytimeparse's one module came back as
``test_generated_..._timeparse.py``, ``..._2.py`` and ``..._3.py``. Merged: the first file's
header, every import once, each module-level helper once, then the tests (a name taken twice
gets a number). Pure text work; agents/one_file_per_target.py runs the result before it
replaces anything.
"""

from __future__ import annotations

import ast

from agents.generation.one_style import comment_lines
from engine.python_source import parse_source


def merge(codes: list[str]) -> str | None:
    """The files as one, or None when they cannot share a module (unparsable, or one helper name bound
    to two different things)."""
    try:
        trees = [parse_source(code) for code in codes]
        clash = set().union(*map(_as_module, trees)) & set().union(*map(_as_member, trees))
        for name in sorted(clash):
            codes = [_through_members(c, t, name) if name in _as_module(t) else c for c, t in zip(codes, trees)]
            if None in codes:
                return None
            trees = [parse_source(code) for code in codes]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    header = _header([ast.get_docstring(t, clean=False) or "" for t in trees if _docstring(t)])
    imports: list[str] = []
    others: dict[str, str] = {}  # the name a helper binds (or its text) -> its text
    tests: list[str] = []
    taken: set[str] = set()
    for code, tree in zip(codes, trees, strict=True):
        lines = code.splitlines()
        body = tree.body[1:] if _docstring(tree) else tree.body
        for node in body:
            # As written (comments, quotes and all): a model's or a person's text is not re-printed.
            text = _source(lines, node)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for one in _one_per_name(node):
                    if one not in imports:
                        imports.append(one)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                name = _free(node.name, taken)
                taken.add(name)
                tests.append(text.replace(f"def {node.name}(", f"def {name}(", 1))
            else:
                key = _binds(node) or text
                if key in others and others[key] != text:
                    return None  # two files bind the same helper name differently
                others[key] = text
    imports = _last_binding(imports)
    # ``import sys`` and the path line of a file not yet under a conftest stay together, before the rest.
    path_lines = [t for t in others.values() if t.startswith("sys.path.insert(")]
    rest = [t for t in others.values() if t not in path_lines]
    sections = [header] if header else []
    sections.append("\n".join(sorted(imports, key=lambda t: (not t.startswith("import"), t))))
    if path_lines:
        sections.append("\n".join(path_lines))
    if rest:
        sections.append("\n\n".join(rest))
    return "\n\n".join(sections) + "\n\n\n" + "\n\n\n".join(tests) + "\n"


def _as_module(tree: ast.Module) -> set[str]:
    """Names a file binds to a module by ``import m`` (``import tabulate``)."""
    return {a.asname or a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names
            if "." not in a.name or a.asname}


def _as_member(tree: ast.Module) -> set[str]:
    """Names a file binds to something a module holds (``from tabulate import tabulate``)."""
    return {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}


def _through_members(code: str, tree: ast.Module, name: str) -> str | None:
    """``code`` that reads ``name.f(...)`` where another file binds ``name`` to a member of that module
    (tabulate's README imports the function ``tabulate``, Pynguin's file the module): ``f(...)`` after
    ``from name import f``, so both files can share one head. None where it cannot be said so safely: the
    module used bare, a member's name taken in the file, or a comment the rewrite would lose."""
    if comment_lines(code) != set():
        return None
    imported = next(n for n in tree.body if isinstance(n, ast.Import) and any((a.asname or a.name) == name
                                                                              for a in n.names))
    module = next(a.name for a in imported.names if (a.asname or a.name) == name)
    members: set[str] = set()
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name:
            parent = parents.get(id(node))
            if not (isinstance(parent, ast.Attribute) and parent.value is node):
                return None  # the module itself is used: a call's argument, a lookup
            members.add(parent.attr)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))} | {
        a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    if members & (taken - {name}):
        return None

    class Bare(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
            if isinstance(node.value, ast.Name) and node.value.id == name:
                return ast.copy_location(ast.Name(node.attr, node.ctx), node)
            return self.generic_visit(node)

    tree = Bare().visit(tree)
    body = [n for n in tree.body if n is not imported]
    if len(imported.names) > 1:
        body.insert(0, ast.Import([a for a in imported.names if (a.asname or a.name) != name]))
    at = 1 if _docstring(tree) else 0
    body[at:at] = [ast.ImportFrom(module, [ast.alias(m)], 0) for m in sorted(members)]
    return ast.unparse(ast.fix_missing_locations(ast.Module(body, []))) + "\n"


def _one_per_name(node: ast.Import | ast.ImportFrom) -> list[str]:
    """``from m import a, b`` as one line per name, so the same name imported by two files is written once."""
    if isinstance(node, ast.Import):
        return [ast.unparse(ast.Import([alias])) for alias in node.names]
    return [ast.unparse(ast.ImportFrom(node.module, [alias], node.level)) for alias in node.names]


def _last_binding(imports: list[str]) -> list[str]:
    """One import per bound name: the last, as Python binds it at the module's import (bidict's merged file
    imported ``BidictBase`` from ``bidict`` and from ``bidict._base``, four lines in all)."""
    bound: dict[str, str] = {}
    for text in imports:
        node = parse_source(text).body[0]
        alias = node.names[0]  # type: ignore[attr-defined]
        # ``import a.b`` and ``import a.c`` both bind ``a`` and each loads its own module: both stay.
        name = alias.asname or (alias.name if isinstance(node, ast.Import) else alias.name.split(".")[0])
        bound.pop(name, None)
        bound[name] = text
    return [t for t in imports if t in bound.values()]


def _source(lines: list[str], node: ast.stmt) -> str:
    """The statement's own lines, its decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1:node.end_lineno]).rstrip()


def _docstring(tree: ast.Module) -> bool:
    first = tree.body[0] if tree.body else None
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _header(docstrings: list[str]) -> str:
    """The first file's docstring, naming every generator: "generated by ... (doctest examples, search: Pynguin)"."""
    if not docstrings:
        return ""
    first = docstrings[0]
    stem, _, _ = first.rpartition(" (")
    sources = [d.rpartition(" (")[2].removesuffix(".").removesuffix(")") for d in docstrings
               if d.rpartition(" (")[0] == stem]
    if stem and len(sources) == len(docstrings) and first.endswith(").") and "\n" not in first:
        first = f"{stem} ({', '.join(dict.fromkeys(sources))})."
    return f'"""{first}"""'


def _binds(node: ast.stmt) -> str | None:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def _free(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"
