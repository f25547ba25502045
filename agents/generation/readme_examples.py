"""A README's examples as plain pytest tests: the values its authors wrote, as asserts.

``>>> humanize.intcomma(12345)`` over ``'12,345'`` becomes
``assert humanize.intcomma(12345) == '12,345'``; a code block that checks
what it shows (tomli's ``assert toml_dict == {...}``, python-slugify's
``self.assertEqual(r, "this-is-a-test")``) becomes a test as it stands, its
unittest calls written as asserts. One test per README section, named after
its heading; what a section uses from an earlier one (``import semver``, a
``ver = ...``) comes along. An example this cannot write faithfully (an
output with ``...``, an exception of a type it cannot name) leaves its
section out rather than check less than the README says. Keep-per-test then
keeps the ones that pass and cover the target.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import io
import re
import tokenize
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.generation import Candidate, StrategyError, test_file_header
from agents.generation.doctests import config_saying
from agents.generation.readme_blocks import CodeBlock, Session, code_blocks, sessions
from engine.python_source import literal_eval, parse_source

# Past these a section is no longer an example a reviewer reads at a glance.
_MAX_LINES = 100
_MAX_CHARS = 4000
_MAX_TESTS = 30
# What reads the clock or draws at random: an example shown with today's output is a test that fails on
# another day (humanize's ``naturalday(dt.datetime.now()) == 'today'`` near midnight).
_UNSTEADY = re.compile(r"\b(?:now|utcnow|today|uuid[14]|random|randint|choice|shuffle|perf_counter)\s*\("
                       r"|\btime\.time\s*\(")
_UNITTEST = {"assertEqual": "{0} == {1}", "assertEquals": "{0} == {1}", "assertNotEqual": "{0} != {1}",
             "assertTrue": "{0}", "assertFalse": "not {0}", "assertIn": "{0} in {1}", "assertNotIn": "{0} not in {1}",
             "assertIs": "{0} is {1}", "assertIsNot": "{0} is not {1}", "assertIsNone": "{0} is None",
             "assertIsNotNone": "{0} is not None", "assertIsInstance": "isinstance({0}, {1})"}


class Unwritable(Exception):
    """An example that cannot be written as an assert that checks what the README shows."""


@dataclass(frozen=True)
class ReadmeTest:
    name: str  # the test function's name
    heading: str
    imports: tuple[str, ...]  # import statements, hoisted to the file's head
    body: str  # the statements, unindented
    raises: bool  # uses pytest.raises


def _parse(code: str, mode: str = "exec") -> Any:
    """The house's serialised parse (engine/python_source.py); whatever a README's text does to the parser
    (a null byte, a nesting too deep) is a SyntaxError to the callers, who leave that example out."""
    try:
        return parse_source(code, mode=mode)
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SyntaxError(str(exc)) from None


def _slug(heading: str) -> str:
    words = re.findall(r"[a-z0-9]+", heading.lower())[:6]
    return "_".join(words) or "example"


def _exception(exc_msg: str, bound: set[str]) -> str:
    name = exc_msg.split(":", 1)[0].strip()
    if isinstance(getattr(builtins, name, None), type) and issubclass(getattr(builtins, name), BaseException):
        return name
    if "." in name and name.split(".")[0] in bound and re.fullmatch(r"[\w.]+", name):
        return name
    raise Unwritable(f"an exception of a type the example does not name: {name}")


def _text_literal(text: str) -> str:
    """A printed text as a literal a reviewer reads: one line of it to a line of code (tabulate's tables)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return repr(text)
    pieces = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    return "(\n" + "\n".join(f"    {piece!r}" for piece in pieces if piece) + "\n)"


def _check(source: str, want: str) -> str:
    """The assert for one example with an output."""
    try:
        tree = _parse(source, mode="eval")
    except SyntaxError:
        raise Unwritable("an output after a statement") from None
    text = want.rstrip("\n")
    if "..." in text or "<BLANKLINE>" in text:
        raise Unwritable("an output with ... (matched loosely)")
    call = tree.body
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
            and len(call.args) == 1 and not call.keywords):
        return f"assert str({ast.get_source_segment(source, call.args[0])}) == {_text_literal(text)}"
    try:
        value = literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return f"assert repr({source}) == {_text_literal(text)}"  # the object's repr, as the README prints it
    if isinstance(value, bool) and isinstance(call, (ast.Compare, ast.BoolOp, ast.UnaryOp)):
        return f"assert {source}" if value else f"assert not ({source})"  # ``a == b is True`` chains
    if isinstance(call, (ast.Compare, ast.BoolOp, ast.IfExp, ast.Lambda, ast.NamedExpr, ast.UnaryOp)):
        source = f"({source})"
    if value is None or isinstance(value, bool):
        return f"assert {source} is {value!r}"
    written = repr(value) if "\n" in text else text  # an output over lines, as one literal
    return f"assert {source} == {written}"


def _bound(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
    return names


def _used(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _statements(examples: tuple[doctest.Example, ...], bound: set[str]) -> list[tuple[str, bool]]:
    """(statement, raises) for each example of a session."""
    out: list[tuple[str, bool]] = []
    for example in examples:
        source = example.source.rstrip("\n")
        try:
            tree = _parse(source)
        except SyntaxError:
            raise Unwritable("an example that does not parse") from None
        if example.exc_msg is not None:
            kind = _exception(example.exc_msg, bound)
            out.append(("with pytest.raises(" + kind + "):\n" + _indent(source), True))
        elif example.want.strip():
            out.append((_check(source, example.want), False))
        else:
            out.append((source, False))
        bound |= _bound(tree)
    return out


def _inside_strings(code: str) -> set[int]:
    """1-based lines that continue a multi-line string: indenting them would change the string."""
    inside: set[int] = set()
    starts: list[int] = []  # f-strings (3.12+) come as start, middle and end tokens
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            name = tokenize.tok_name[token.type]
            if name == "FSTRING_START":
                starts.append(token.start[0])
            elif name == "FSTRING_END" and starts:
                inside |= set(range(starts.pop() + 1, token.end[0] + 1))
            elif token.type == tokenize.STRING:
                inside |= set(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        pass
    return inside


def _indent(code: str) -> str:
    keep = _inside_strings(code)
    return "\n".join(line if n in keep or not line.strip() else "    " + line
                     for n, line in enumerate(code.splitlines(), 1))


def _from_unittest(code: str) -> str:
    """``self.assertEqual(a, b)`` -> ``assert a == b`` (README blocks copied from a TestCase)."""
    tree = _parse(code)
    lines = code.splitlines()
    for node in sorted(ast.walk(tree), key=lambda n: -getattr(n, "lineno", 0)):
        if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
                and func.attr in _UNITTEST and not node.value.keywords):
            continue
        args = [ast.get_source_segment(code, a) or "" for a in node.value.args]
        form = _UNITTEST[func.attr]
        if len(args) != form.count("{") or node.end_lineno is None:
            continue
        start = lines[node.lineno - 1]
        lines[node.lineno - 1:node.end_lineno] = [start[:node.col_offset] + "assert " + form.format(*args)]
    return "\n".join(lines)


def _needed(setup: list[tuple[str, set[str], set[str]]], used: set[str]) -> list[str]:
    """The earlier sessions' statements (with no output) that bind what a section uses, and theirs in turn."""
    wanted, taken = set(used), set()
    for i in range(len(setup) - 1, -1, -1):
        _, binds, uses = setup[i]
        if binds & wanted:
            taken.add(i)
            wanted = (wanted - binds) | uses
    return [setup[i][0] for i in sorted(taken)]


def readme_tests(sessions: list[Session], blocks: list[CodeBlock]) -> list[ReadmeTest]:
    """Each section that can be written faithfully, in README order."""
    written: list[tuple[int, ReadmeTest]] = []
    setup: list[tuple[str, set[str], set[str]]] = []  # earlier statements without output: what they bind, use
    for session in sessions:
        try:
            rows = _statements(session.examples, set().union(*(b for _, b, _ in setup)))
        except Unwritable:
            rows = []
        sources = [s for s, _ in rows]
        if rows and any(s.startswith(("assert ", "with pytest.raises")) for s in sources):
            code = "\n".join(sources)
            tree = _parse(code)
            before = _needed(setup, _used(tree) - _bound(tree))
            written.append((session.line, _test(session.heading, [*before, *sources], any(r for _, r in rows))))
        for example in session.examples:
            if not example.want.strip() and example.exc_msg is None:
                try:
                    tree = _parse(example.source)
                except SyntaxError:
                    continue
                setup.append((example.source.rstrip("\n"), _bound(tree), _used(tree)))
    for block in blocks:
        try:
            code = _from_unittest(block.code)
            tree = _parse(code)
        except SyntaxError:
            continue
        if "self" in _used(tree) or not any(isinstance(n, ast.Assert) for n in ast.walk(tree)):
            continue  # a method's body, or a block that shows without checking
        written.append((block.line, _test(block.heading, [code], False)))
    tests: list[ReadmeTest] = []
    seen: dict[str, int] = {}
    for _, test in sorted(written, key=lambda pair: pair[0]):
        if len(test.body.splitlines()) > _MAX_LINES or len(test.body) > _MAX_CHARS or _UNSTEADY.search(test.body):
            continue
        seen[test.name] = seen.get(test.name, 0) + 1
        name = test.name if seen[test.name] == 1 else f"{test.name}_{seen[test.name]}"
        tests.append(ReadmeTest(name, test.heading, test.imports, test.body, test.raises))
    return tests[:_MAX_TESTS]


def _test(heading: str, statements: list[str], raises: bool) -> ReadmeTest:
    """A test of these statements, their top-level imports moved to the file's head (a code block's lines
    otherwise as written, comments and blank lines too)."""
    imports: list[str] = []
    rest: list[str] = []
    for statement in statements:
        lines = statement.splitlines()
        nodes = _parse(statement).body
        spans = {n: set(range(n.lineno, (n.end_lineno or n.lineno) + 1)) for n in nodes}
        hoisted = [n for n in nodes if isinstance(n, (ast.Import, ast.ImportFrom))
                   and not any(spans[n] & spans[o] for o in nodes if not isinstance(o, (ast.Import, ast.ImportFrom)))]
        imports += [ast.unparse(n) for n in hoisted]  # ``import csv; from io import StringIO``: one a line
        gone = set().union(*(spans[n] for n in hoisted))
        text = "\n".join(line for number, line in enumerate(lines, 1) if number not in gone)
        rest.append(re.sub(r"\n{3,}", "\n\n", text).strip("\n"))
    return ReadmeTest(f"test_readme_{_slug(heading)}", heading, tuple(dict.fromkeys(imports)),
                      "\n".join(r for r in rest if r), raises)


def source_of(test: ReadmeTest, readme: str) -> str:
    """The test function, its docstring naming where the expected values come from."""
    where = f'{readme}, "{test.heading}"' if test.heading else readme
    doc = "".join(c for c in f"The example in {where}." if c.isprintable())
    doc = doc.replace("\\", "/").replace('"""', "'''")  # a heading cannot end the docstring
    return f'def {test.name}() -> None:\n    """{doc}"""\n{_indent(test.body)}\n'


_README = re.compile(r"^readme(\.(md|markdown|rst|txt))?$", re.IGNORECASE)
_MAX_README_BYTES = 256_000


def readmes(repository: Path) -> list[Path]:
    """The repository's READMEs at its root, of a readable size: Markdown and reStructuredText first
    (tabulate ships a one-line ``README`` pointing at ``README.md``)."""
    try:
        found = [p for p in repository.iterdir() if _README.match(p.name) and p.is_file() and not p.is_symlink()
                 and p.stat().st_size <= _MAX_README_BYTES]
    except OSError:
        return []
    order = {".md": 0, ".markdown": 0, ".rst": 1, ".txt": 2, "": 3}
    return sorted(found, key=lambda p: (order.get(p.suffix.lower(), 4), p.name))


def runs_readme(repository: Path) -> str | None:
    """The configuration in which the repository's pytest already runs text files as doctests."""
    # semver keeps its options in ``.pytest.ini``.
    return config_saying(repository, lambda text: "--doctest-glob" in text,
                         ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", ".pytest.ini"))


def shown_in(codes: Collection[str]) -> frozenset[str]:
    """The README tests these kept files hold (blocking: parses them)."""
    names: set[str] = set()
    for code in codes:
        try:
            names |= {n.name for n in _parse(code).body if isinstance(n, ast.FunctionDef)
                      and n.name.startswith("test_readme")}
        except SyntaxError:
            continue
    return frozenset(names)


def generate(repository: Path, target_file: str, shown: Collection[str] = ()) -> Candidate:
    """A test file of the README's examples (blocking: reads one file). Every test is kept or dropped on its
    own run: an example that fails today, or covers none of the target, goes. ``shown``: the tests a request
    kept for an earlier target (the user gets each example once)."""
    found = readmes(repository)
    if not found:
        raise StrategyError("the repository has no README at its root")
    if config := runs_readme(repository):
        raise StrategyError(f"the repository's pytest already runs its text files as doctests ({config} has "
                            "--doctest-glob); they are its own tests, not generated ones")
    for readme in found:
        text = readme.read_text(encoding="utf-8", errors="replace")
        if tests := readme_tests(sessions(text), code_blocks(text)):
            break
    else:
        raise StrategyError(f"{' and '.join(p.name for p in found)} show no example that checks what it shows")
    if not (tests := [t for t in tests if t.name not in shown]):
        raise StrategyError(f"{readme.name}'s examples are kept for another target of this request already")
    imports = dict.fromkeys(i for t in tests for i in t.imports)
    if any(t.raises for t in tests):
        imports = {"import pytest": None, **imports}
    head = test_file_header(target_file, f"examples of {readme.name}")
    code = head + "".join(f"{i}\n" for i in imports) + "\n\n" + "\n\n".join(source_of(t, readme.name)
                                                                             for t in tests)
    return Candidate(target_file, code, "readme")
