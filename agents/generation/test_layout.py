"""Distilled tests laid out as one file: grouped by function, uniquely named, tables where values differ.

Tests that differ only in their literals become one
``@pytest.mark.parametrize`` test whose table a reader scans in a glance;
imports are written once, sorted, and only those the tests use.
"""

from __future__ import annotations

import ast
import builtins
import copy
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from agents.generation.distil import Distilled
from agents.generation.test_units import TestFile
from agents.generation.tidy import is_literal
from engine.python_source import parse_source

_MAX_VARYING = 4  # more varying values than this read better as separate tests


@dataclass
class Laid:
    """A test of the file and the units it came from (their indexes), for verification and fallback."""

    test: Distilled
    units: list[int] = field(default_factory=list)


_BUILTINS = frozenset(dir(builtins))


def lay_out(parts: TestFile, header: str, tests: list[Laid], *, tables: bool = True,
            submodules: frozenset[str] = frozenset()) -> tuple[str, list[Laid]]:
    """The file's source and its tests in file order (parametrized where ``tables``).

    ``submodules``: dotted modules that ``from package import leaf`` gives as the module itself
    (agents/generation/import_root.py ``named_by_its_package``)."""
    parts = _plain_module_names(parts, tests, submodules)
    tests = [t for t in _without_twins(tests) if not _about_builtins_only(t)]
    if tables:
        tests = parametrize(tests)
    tests = sorted(tests, key=lambda t: (t.test.function, t.test.name))
    _said_once(tests)
    _unique_names(tests)
    body = "\n\n\n".join(t.test.code() for t in tests)
    others = "\n".join(ast.unparse(n) for n in parts.others)
    imports = "\n".join(line for line in _imports(parts, body + "\n" + others).splitlines()
                        if line not in header.splitlines())
    sections = [header.rstrip("\n")] if header.strip() else []
    if imports:
        sections.append(imports)
    if others:
        sections.append(others)
    return "\n\n".join(sections) + "\n\n\n" + body + "\n", tests


def _without_twins(tests: list[Laid]) -> list[Laid]:
    """A test that reads exactly as an earlier one goes: search seeded with the typical calls finds the same
    ``clamp(value=1.5, low=1.5, high=1.5)`` the typical call makes, and the file showed it twice."""
    seen: set[str] = set()
    out = []
    for laid in tests:
        text = "\n".join(ast.unparse(s) for s in [*laid.test.decorators, *laid.test.body])
        if text in seen:
            continue
        seen.add(text)
        out.append(laid)
    return out


def _about_builtins_only(laid: Laid) -> bool:
    """A test that names nothing but Python's builtins and what it binds itself cannot fail for anything the
    module does: marshmallow's kept ``assert set() == set()``, a unit of search's ``var_0 = set()`` whose calls on
    the module went to other tests. It runs no line of the module either, so the file covers the same without it."""
    nodes = [n for s in [*laid.test.decorators, *laid.test.body] for n in ast.walk(s)]
    names = {n.id for n in nodes if isinstance(n, ast.Name)}
    own = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return bool(laid.test.body) and not laid.test.arguments and names <= _BUILTINS | own and not any(
        isinstance(n, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)) for n in nodes)


def _said_once(tests: list[Laid]) -> None:
    """A field check the file already made is not made again: Pynguin asserts every field of a new object
    (``timer.text == 'Elapsed time: {:0.4f} seconds'``) in every test that makes one. Kept in the first test
    that has it; never a test's last statement, and never its only assertion."""
    seen: set[str] = set()
    for laid in tests:
        body = laid.test.body
        checks = [s for s in body if isinstance(s, ast.Assert)]
        keep: list[ast.stmt] = []
        for index, stmt in enumerate(body):
            key = _field_check(stmt)
            if key is not None and key in seen and index < len(body) - 1 and len(checks) > 1:
                checks.remove(stmt)
                continue
            if key is not None:
                seen.add(key)
            keep.append(stmt)
        laid.test.body = keep


def _field_check(stmt: ast.stmt) -> str | None:
    """``timer.name is None`` or ``isinstance(timer, Timer)`` with the object's name left out, else None."""
    if not isinstance(stmt, ast.Assert):
        return None
    test = stmt.test
    if isinstance(test, ast.Call) and ast.unparse(test.func) == "isinstance" and len(test.args) == 2 \
            and isinstance(test.args[0], ast.Name):
        return f"isinstance(_, {ast.unparse(test.args[1])})"
    if (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Attribute)
            and isinstance(test.left.value, ast.Name) and is_literal(test.comparators[0])):
        return f"_.{test.left.attr} {ast.unparse(test).split(' ', 1)[1]}"
    return None


def _plain_module_names(parts: TestFile, tests: list[Laid], submodules: frozenset[str] = frozenset()) -> TestFile:
    """Pynguin's ``calc_ = sys.modules['calc']`` as ``import calc``: the tests read ``calc.clamp(...)``.

    A dotted one only when its package does not bind the name itself (``submodules``): in
    python-slugify, ``from slugify import slugify`` is the function the
    package exports, not the module ``slugify.slugify`` (a distillation of
    it failed every rerun that way), and ``import a.b as c`` has the same
    trap; such a module keeps Pynguin's alias. Where the plain name would
    clash with a name the file already uses, the alias stays too.
    """
    taken = set(parts.imported) | {n.id for t in tests for s in t.test.body for n in ast.walk(s)
                                   if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    renames: dict[str, str] = {}
    imports = list(parts.imports)
    others: list[ast.stmt] = []
    for node in parts.others:
        module = _sys_modules_key(node)
        if module is None:
            others.append(node)
            continue
        alias = node.targets[0].id  # type: ignore[attr-defined]
        parent, _, leaf = module.rpartition(".")
        if (parent and module not in submodules) or leaf in taken or leaf in renames.values() \
                or not leaf.isidentifier():
            others.append(node)
            continue
        renames[alias] = leaf
        imports.append(ast.ImportFrom(parent, [ast.alias(leaf)], 0) if parent else ast.Import([ast.alias(leaf)]))
    if not renames:
        return parts
    for laid in tests:
        for node in [n for s in laid.test.body + laid.test.decorators for n in ast.walk(s)]:
            if isinstance(node, ast.Name) and node.id in renames:
                node.id = renames[node.id]
    return TestFile(parts.docstring, imports, others, parts.units, parts.aliases, parts.imported)


def _sys_modules_key(node: ast.stmt) -> str | None:
    if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Subscript) and ast.unparse(node.value.value) == "sys.modules"
            and isinstance(node.value.slice, ast.Constant) and isinstance(node.value.slice.value, str)):
        return node.value.slice.value
    return None


def _imports(parts: TestFile, code: str) -> str:
    """Each import once, sorted, and only those the code names (``pytest`` added where it is used)."""
    used = {n.id for n in ast.walk(parse_source(code)) if isinstance(n, ast.Name)}
    plain: set[str] = set()
    froms: set[str] = set()
    for node in parts.imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in used or any(_sys_modules_key(o) == alias.name for o in parts.others):
                    plain.add(ast.unparse(ast.Import([alias])))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) in used:
                    froms.add(ast.unparse(ast.ImportFrom(node.module, [alias], node.level)))
    if "pytest" in used:
        plain.add("import pytest")
    if "sys" in used:
        plain.add("import sys")
    return "\n".join(sorted(plain) + sorted(froms))


def _unique_names(tests: list[Laid]) -> None:
    """Tests that would share a name are told apart by an argument only one of them passes
    (``test_parameterize_returns_str_with_separator``), else numbered."""
    # The last call's keywords first, then those of every call (the object's constructor: marshmallow's
    # ``Range(max_inclusive=True)(value=...)`` beside ``Range()(value=...)`` were ``..._1`` and ``..._2``).
    for every_call in (False, True):
        seen: Counter[str] = Counter(t.test.name for t in tests)
        for name in [n for n, c in seen.items() if c > 1]:
            same = [t for t in tests if t.test.name == name]
            keywords = [_keywords_of(t.test, every_call=every_call) for t in same]
            for t, own in zip(same, keywords):
                others = set().union(*(k for k in keywords if k is not own))
                # A keyword the name says already (the first pass's) is not said twice.
                if unique := [k for k in sorted(own - others) if f"_with_{k}" not in name]:
                    t.test.name = f"{name}_with_{unique[0]}"
    # Then by a flag or a small number only it sets that way (python-slugify: twelve tests of slugify, all
    # passing several flags, were test_slugify_returns_str_1 ... _12): "_with_hexadecimal",
    # "_without_lowercase", "_max_length_3".
    seen = Counter(t.test.name for t in tests)
    for name in [n for n, c in seen.items() if c > 1]:
        same = [t for t in tests if t.test.name == name]
        settings = [_settings_of(t.test) for t in same]
        taken: set[str] = set()
        for t, own in zip(same, settings):
            others = [o for o in settings if o is not own]
            words = sorted(word for key, (value, word) in own.items()
                           if all(key not in o or o[key][0] != value for o in others)
                           and not name.endswith(f"_{word}"))  # not said twice (``..._with_decimal_with_decimal``)
            if words and f"{name}_{words[0]}" not in taken:
                t.test.name = f"{name}_{words[0]}"
                taken.add(t.test.name)
    # Then by two of them together (python-slugify's five tests of ``slugify`` that each set four flags, none
    # alone its own, were _1 ... _5): "_with_decimal_max_length_3".
    seen = Counter(t.test.name for t in tests)
    for name in [n for n, c in seen.items() if c > 1]:
        same = [t for t in tests if t.test.name == name]
        settings = [_settings_of(t.test) for t in same]
        taken = {t.test.name for t in tests}
        for t, own in zip(same, settings):
            others = [o for o in settings if o is not own]
            for a, b in itertools.combinations(sorted(own), 2):
                if any(all(k in o and o[k][0] == own[k][0] for k in (a, b)) for o in others):
                    continue
                pair = f"{name}_{own[a][1]}_{own[b][1]}"
                if pair not in taken:
                    t.test.name = pair
                    taken.add(pair)
                    break
    seen = Counter(t.test.name for t in tests)
    count: Counter[str] = Counter()
    for t in tests:
        if seen[t.test.name] > 1:
            count[t.test.name] += 1
            t.test.name = f"{t.test.name}_{count[t.test.name]}"


def _settings_of(test: Distilled) -> dict[str, tuple[object, str]]:
    """The last call's flags and small whole numbers: keyword -> (value, the words that name it)."""
    calls = [n for s in test.body for n in ast.walk(s) if isinstance(n, ast.Call) and n.keywords]
    found: dict[str, tuple[object, str]] = {}
    for keyword in calls[-1].keywords if calls else []:
        value = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
        if keyword.arg is None or value is None:
            continue
        if isinstance(value, bool):
            found[keyword.arg] = (value, f"{'with' if value else 'without'}_{keyword.arg}")
        elif isinstance(value, int) and 0 <= value <= 999:
            found[keyword.arg] = (value, f"{keyword.arg}_{value}")
    return found


def _keywords_of(test: Distilled, *, every_call: bool = False) -> set[str]:
    """The keyword arguments the test's last call passes (``every_call``: any of its calls)."""
    calls = [n for s in test.body for n in ast.walk(s) if isinstance(n, ast.Call) and n.keywords]
    return {k.arg for c in (calls if every_call else calls[-1:]) for k in c.keywords if k.arg}


def _constants(body: list[ast.stmt]) -> list[tuple[ast.AST, str, int | None, ast.Constant, str]]:
    """Every literal of ``body`` in one fixed order: (parent, field, list index, node, a name for its column).

    The column name is the keyword the value is passed as, ``expected:<field>``
    for the right side of a comparison (``expected:months`` for ``duration.months
    == Decimal(...)``, ``expected`` when no public field is compared), else ``value``.
    """
    found: list[tuple[ast.AST, str, int | None, ast.Constant, str]] = []

    def visit(node: ast.AST, context: str) -> None:
        for fname, value in ast.iter_fields(node):
            items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for position, item in items:
                if isinstance(item, ast.Constant):
                    here = _expected(node) if isinstance(node, ast.Compare) and fname == "comparators" else context
                    if isinstance(node, ast.keyword):
                        here = node.arg or context
                    found.append((node, fname, position, item, here))
                elif isinstance(item, ast.keyword):
                    visit(item, item.arg or context)
                elif isinstance(item, ast.AST):
                    here = _expected(node) if isinstance(node, ast.Compare) and fname == "comparators" else context
                    visit(item, here)

    for stmt in body:
        visit(stmt, "value")
    return found


def _expected(compare: ast.Compare) -> str:
    """What a comparison expects, named for the public field it compares (isodate's ``duration.months``: a
    table column ``months`` beside ``years``, where ``expected`` and ``expected_2`` said nothing)."""
    left = compare.left
    if isinstance(left, ast.Attribute) and not left.attr.startswith("_"):
        return f"expected:{left.attr}"
    return "expected"


def _skeleton(test: Distilled) -> tuple[str, list[ast.Constant]]:
    body = copy.deepcopy(test.body)
    constants = []
    for _parent, _field, _pos, node, _ctx in _constants(body):
        constants.append(copy.deepcopy(node))
        node.value = "\0"
    shape = "\n".join(ast.dump(s) for s in body) + "|" + "".join(ast.dump(d) for d in test.decorators)
    return shape, constants


def parametrize(tests: list[Laid]) -> list[Laid]:
    """Tests with the same shape and name but other literals, merged into one table-driven test."""
    groups: dict[tuple[str, str], list[tuple[Laid, list[ast.Constant]]]] = defaultdict(list)
    for laid in tests:
        shape, constants = _skeleton(laid.test)
        groups[(laid.test.stem or laid.test.name, shape)].append((laid, constants))
    out: list[Laid] = []
    for members in groups.values():
        first = members[0][0].test
        docstring = any(isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in first.body)
        if len(members) < 2 or first.decorators or docstring:
            out += [m[0] for m in members]
            continue
        columns = list(zip(*(c for _, c in members)))
        varying = [i for i, col in enumerate(columns) if len({repr(c.value) for c in col}) > 1]
        if not varying or len(varying) > _MAX_VARYING:
            out += [m[0] for m in members]
            continue
        out.append(_table(members, varying))
    return out


def _table(members: list[tuple[Laid, list[ast.Constant]]], varying: list[int]) -> Laid:
    first = members[0][0].test
    body = copy.deepcopy(first.body)
    spots = _constants(body)
    # Inputs first, then what they give: ``pytest.raises(match=...)`` comes before its call in the source.
    varying = sorted(varying, key=lambda i: spots[i][4].split(":")[0] in ("expected", "match"))
    # A column named like a name the test reads would shadow it: ``is_adult(age=age)`` with the module ``age``
    # imported made every row fail (``age.is_adult`` looked up on an int).
    read = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name)}
    counts: Counter[str] = Counter()
    names: list[str] = []
    for i in varying:
        column = spots[i][4].split(":")[-1]
        base = column if column not in read else f"{column}_value"
        counts[base] += 1
        names.append(base if counts[base] == 1 else f"{base}_{counts[base]}")
    for i, name in zip(varying, names):
        parent, fname, position, _node, _ctx = spots[i]
        replacement = ast.Name(name, ast.Load())
        if position is None:
            setattr(parent, fname, replacement)
        else:
            getattr(parent, fname)[position] = replacement
    rows = [ast.Tuple([copy.deepcopy(c[i]) for i in varying], ast.Load()) if len(varying) > 1
            else copy.deepcopy(c[varying[0]]) for _, c in members]
    mark = ast.Call(parse_source("pytest.mark.parametrize", mode="eval").body,
                    [ast.Constant(", ".join(names)), ast.List(rows, ast.Load())], [])
    notes = sorted({n for m, _ in members for n in m.test.notes})
    test = Distilled(first.stem or first.name, body, [mark], first.function, notes, stem=first.stem)
    test.arguments = names
    return Laid(test, sorted(u for m, _ in members for u in m.units))
