"""A merged test file written in one style, each check once.

The generators' files each name the module their own way: Pynguin's tests
read ``inflection.camelize(...)``, CrossHair's and the docstring examples'
``camelize(...)`` after ``from inflection import camelize``; merged
(agents/generation/merge_files.py), inflection's kept file used both, and
the typical call every distillation adds came out twice, once per spelling
(``test_camelize_returns_str_for_device_type`` and ``..._2``), beside a
table holding the same row. A reviewer reads that as careless. So, in the
merged file:

* a name imported from the module under test is called through the module's
  name where the file imports the module itself (one spelling);
* a name the module itself imports from elsewhere is imported from there
  (``from decimal import Decimal``, not from ``isodate.isoduration``);
* a test that repeats an earlier one, or one row of a table, goes; a
  numbered name whose first is gone loses its number.

Pure text work: the caller runs the result before it replaces anything
(agents/one_file_per_target.py).
"""

from __future__ import annotations

import ast
import copy
import io
import re
import tokenize

from engine.python_source import parse_source


def one_style(code: str, module: str, module_source: str = "", *, leaf_is_module: bool = False) -> str:
    """``code`` in one style (see the module's docstring). A test or helper the rewrites leave as it was keeps
    its text (a README example's blank lines and comments); unchanged when it or the module does not parse, or
    when a rewrite would touch a definition with a comment (a model's or a person's words, which rewriting from
    the syntax tree would lose)."""
    try:
        tree = parse_source(code)
        source_tree = parse_source(module_source) if module_source else ast.Module([], [])
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return code
    lines = code.splitlines()
    as_written = {ast.dump(n): "\n".join(lines[_first_line(n) - 1:n.end_lineno])
                  for n in tree.body}
    commented = comment_lines(code)
    changed = _from_origin(tree, module, source_tree)
    changed |= _bare_instead_of_lookup(tree, module)
    changed |= _through_module(tree, module, leaf_is_module)
    changed |= _once(tree)
    if not changed:
        return code
    kept = {ast.dump(n) for n in tree.body}
    if commented is None or any(_first_line(n) <= line <= (n.end_lineno or 0) for line in commented
                                for n in parse_source(code).body if ast.dump(n) not in kept):
        return code  # a comment outside any definition kept as written would be lost
    _sorted_imports(tree)
    text = ""
    for i, node in enumerate(tree.body):  # spaced as unparse spaces a module: a blank line around a definition
        if i:
            text += "\n\n" if isinstance(node, _KEPT_AS_WRITTEN) or isinstance(tree.body[i - 1], _KEPT_AS_WRITTEN) else "\n"
        text += as_written.get(ast.dump(node)) or ast.unparse(ast.fix_missing_locations(node))
    return text + "\n"


_KEPT_AS_WRITTEN = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _sorted_imports(tree: ast.Module) -> None:
    """The imports at the file's head as agents/generation/test_layout.py writes them: plain ones, then the rest,
    each sorted (a moved ``from decimal import Decimal`` goes to its place)."""
    start = 1 if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(
        getattr(tree.body[0], "value", None), ast.Constant) else 0
    end = start
    while end < len(tree.body) and isinstance(tree.body[end], (ast.Import, ast.ImportFrom)):
        end += 1
    head = tree.body[start:end]
    if any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in head):
        return
    once = {ast.unparse(n): n for n in head}  # an import written twice (a lookup's names, already imported)
    tree.body[start:end] = sorted(once.values(), key=lambda n: (not isinstance(n, ast.Import), ast.unparse(n)))


def comment_lines(code: str) -> set[int] | None:
    """The lines with a comment; None when the text does not tokenize."""
    try:
        return {t.start[0] for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def _from_origin(tree: ast.Module, module: str, source: ast.Module) -> bool:
    """``from M import N`` where M (the module under test) imports N itself, absolutely: from where M has it."""
    defined = {n.name for n in source.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    origin: dict[str, str] = {}
    for node in source.body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.asname is None and alias.name != "*" and alias.name not in defined:
                    origin[alias.name] = node.module
    changed = False
    for index, node in enumerate(tree.body):
        if not (isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0):
            continue
        moved = [a for a in node.names if a.asname is None and a.name in origin]
        if not moved:
            continue
        changed = True
        rest = [a for a in node.names if a not in moved]
        new = [ast.ImportFrom(origin[a.name], [ast.alias(a.name)], 0) for a in moved]
        tree.body[index:index + 1] = ([ast.ImportFrom(module, rest, 0)] if rest else []) + new  # type: ignore[list-item]
    return changed


def _bare_instead_of_lookup(tree: ast.Module, module: str) -> bool:
    """Pynguin's ``validation_ = sys.modules['string_utils.validation']`` (kept where the package binds the
    leaf name to something else) beside CrossHair's ``from string_utils.validation import is_email``: the
    lookup's names are imported by name too, the lookup and the imports only it needed go."""
    lookups = [n for n in tree.body if isinstance(n, ast.Assign) and len(n.targets) == 1
               and isinstance(n.targets[0], ast.Name) and _lookup_of(n.value) == module]
    if len(lookups) != 1 or not any(isinstance(n, ast.ImportFrom) and n.module == module for n in tree.body):
        return False
    alias = lookups[0].targets[0].id  # type: ignore[union-attr]
    bound = _bound_elsewhere(tree) - {alias}
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == alias and n is not lookups[0].targets[0]]
    attributes = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                  and n.value.id == alias]
    if len(attributes) != len(uses) or any(a.attr in bound or not isinstance(a.ctx, ast.Load) for a in attributes):
        return False  # the module itself is passed somewhere, or a name would clash: left as it is
    names = sorted({a.attr for a in attributes})
    _replace(tree, lambda node: ast.Name(node.attr, ast.Load())
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == alias
             else None)
    tree.body.remove(lookups[0])
    # Beside the file's own import of the module (already where the module can be imported; the lookup sat
    # after a helper, and semver's merged file imported ``Version`` twice, once below ``_run_examples``).
    by_name = [i for i, n in enumerate(tree.body) if isinstance(n, ast.ImportFrom) and n.module == module]
    have = {a.asname or a.name for i in by_name for a in tree.body[i].names}  # type: ignore[attr-defined]
    tree.body[by_name[-1] + 1:by_name[-1] + 1] = [ast.ImportFrom(module, [ast.alias(n)], 0)
                                                  for n in names if n not in have]
    _drop_unused_imports(tree, {"sys", module.split(".")[0]})
    return True


def _lookup_of(value: ast.expr) -> str | None:
    if (isinstance(value, ast.Subscript) and ast.unparse(value.value) == "sys.modules"
            and isinstance(value.slice, ast.Constant) and isinstance(value.slice.value, str)):
        return value.slice.value
    return None


def _replace(tree: ast.AST, new: object) -> None:
    """Each node for which ``new(node)`` gives a replacement, replaced where it sits."""
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST) and (got := new(item)) is not None:  # type: ignore[operator]
                        value[i] = got
            elif isinstance(value, ast.AST) and (got := new(value)) is not None:  # type: ignore[operator]
                setattr(node, field, got)


def _drop_unused_imports(tree: ast.Module, candidates: set[str]) -> None:
    """``import sys`` and ``import pkg.mod`` once nothing reads ``sys`` or ``pkg``."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    keep: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            node.names = [a for a in node.names if a.asname or a.name.split(".")[0] not in candidates
                          or a.name.split(".")[0] in used]
            if not node.names:
                continue
        keep.append(node)
    tree.body = keep


def _through_module(tree: ast.Module, module: str, leaf_is_module: bool) -> bool:
    """Names imported from the module under test called through the module's own name, where the file binds it."""
    alias = _module_alias(tree, module, leaf_is_module)
    if alias is None:
        return False
    bound = _bound_elsewhere(tree)
    moved: set[str] = set()
    for index, node in enumerate(list(tree.body)):
        if isinstance(node, ast.ImportFrom) and node.module == module and node.level == 0:
            names = [a for a in node.names if a.asname is None and a.name not in bound and a.name != alias]
            moved |= {a.name for a in names}
            node.names = [a for a in node.names if a not in names]
    if not moved:
        return False
    tree.body = [n for n in tree.body if not (isinstance(n, ast.ImportFrom) and not n.names)]
    _replace(tree, lambda node: ast.Attribute(ast.Name(alias, ast.Load()), node.id, ast.Load())
             if isinstance(node, ast.Name) and node.id in moved and isinstance(node.ctx, ast.Load) else None)
    return True


def _module_alias(tree: ast.Module, module: str, leaf_is_module: bool) -> str | None:
    """The name the file binds the module under test to: ``import inflection``, ``import a.b as b_``,
    ``from arrow import formatter`` (only where the package binds the leaf to the module: python-slugify's
    ``from slugify import slugify`` is the function it exports; agents/generation/import_root.py)."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == module and (a.asname or "." not in a.name):
                    return a.asname or a.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and leaf_is_module:
            for a in node.names:
                if f"{node.module}.{a.name}" == module:
                    return a.asname or a.name
    return None


def _bound_elsewhere(tree: ast.Module) -> set[str]:
    """Names something in the file binds besides an import: a helper, a parameter, a local."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            out.add(node.id)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
    for node in ast.walk(tree):  # a parametrize's argument names bind too
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("mark.parametrize") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out |= {n.strip() for n in node.args[0].value.split(",")}
    return out


def _once(tree: ast.Module) -> bool:
    """Tests that repeat an earlier test or a table's row go; ``test_x_2`` is ``test_x`` once that is free."""
    seen: set[str] = set()
    rows: set[str] = set()
    for node in tree.body:
        if _is_test(node):
            rows |= _row_keys(node)  # type: ignore[arg-type]
    keep: list[ast.stmt] = []
    dropped = False
    for node in tree.body:
        if _is_test(node):
            key = _key(node)  # type: ignore[arg-type]
            plain = not node.decorator_list  # type: ignore[attr-defined]
            if key in seen or (plain and _body_key(node.body) in rows):  # type: ignore[attr-defined]
                dropped = True
                continue
            seen.add(key)
        keep.append(node)
    if not dropped:
        return False
    tree.body = keep
    names = {n.name for n in keep if _is_test(n)}  # type: ignore[attr-defined]
    for node in keep:
        if _is_test(node):
            # A counter only: ``_for_0`` is the case's own word (python-slugify's ``text="0"``), not a number to drop.
            base = re.sub(r"(?<!_for)_\d+$", "", node.name)  # type: ignore[attr-defined]
            if base != node.name and base not in names:  # type: ignore[attr-defined]
                names.discard(node.name)  # type: ignore[attr-defined]
                node.name = base  # type: ignore[attr-defined]
                names.add(base)
    return True


def _is_test(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name.startswith("test")


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _body_key(body: list[ast.stmt]) -> str:
    return "\n".join(ast.dump(s) for s in _without_docstring(body))


def _key(node: ast.FunctionDef) -> str:
    return "|".join([ast.dump(node.args), *(ast.dump(d) for d in node.decorator_list), _body_key(node.body)])


def _row_keys(node: ast.FunctionDef) -> set[str]:
    """The body of each row of the test's one parametrize table, its names replaced by the row's values."""
    if len(node.decorator_list) != 1:
        return set()
    table = node.decorator_list[0]
    if not (isinstance(table, ast.Call) and ast.unparse(table.func).endswith("mark.parametrize")
            and len(table.args) == 2 and isinstance(table.args[0], ast.Constant)
            and isinstance(table.args[0].value, str) and isinstance(table.args[1], (ast.List, ast.Tuple))):
        return set()
    names = [n.strip() for n in table.args[0].value.split(",") if n.strip()]
    out: set[str] = set()
    for row in table.args[1].elts:
        values = row.elts if isinstance(row, ast.Tuple) and len(names) > 1 else [row]
        if len(values) != len(names):
            continue
        given = dict(zip(names, values))
        body = [_Substitute(given).visit(copy.deepcopy(s)) for s in _without_docstring(node.body)]
        out.add(_body_key(body))
    return out


class _Substitute(ast.NodeTransformer):
    def __init__(self, given: dict[str, ast.expr]) -> None:
        self.given = given

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.given and isinstance(node.ctx, ast.Load):
            return copy.deepcopy(self.given[node.id])
        return node
