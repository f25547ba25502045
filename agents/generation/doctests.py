"""The ``doctest`` generator: the module's own docstring examples, one test per docstring.

Examples a maintainer wrote are the most readable tests there are, and
they cost no search time. They run with the package's top-level name
defined, as its own doctest set-up defines it (semver's examples call
``semver.Version.parse``: 12 of its 14 docstrings failed without it). Each docstring with examples becomes a test
that runs just those examples, so keep-per-test can keep or drop them one
by one and minimization sees each one's coverage. Found by parsing (no
import here; the tests import the module when they run, in the sandbox).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

from agents.generation import Candidate, StrategyError, module_of, test_file_header
from engine.python_source import parse_source

_PROMPT = re.compile(r"^\s*>>> ", re.MULTILINE)

_HELPER = '''import doctest
import importlib


def _run_examples(module_name: str, qualname: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(recurse=True)
    wanted = [t for t in finder.find(module, module_name) if t.name == f"{module_name}.{qualname}" or
              (qualname == "" and t.name == module_name)]
    assert wanted, f"no examples found for {qualname or module_name}"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    package = module_name.split(".")[0]
    for test in wanted:
        # Examples written as a user calls them (``semver.Version.parse("3.4.5")``) rely on the package's own
        # doctest set-up importing it (a conftest's ``doctest_namespace``): imported here the same way.
        test.globs.setdefault(package, importlib.import_module(package))
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} example(s) of {qualname or module_name} failed"
'''


def documented(source: str) -> list[str]:
    """Qualified names (``""`` for the module) whose docstrings hold ``>>>`` examples."""
    tree = parse_source(source)
    found: list[str] = []
    if _PROMPT.search(ast.get_docstring(tree) or ""):
        found.append("")

    def visit(node: ast.AST, prefix: str) -> None:
        for child in getattr(node, "body", []):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if _PROMPT.search(ast.get_docstring(child) or ""):
                    found.append(name)
                if isinstance(child, ast.ClassDef):
                    visit(child, f"{name}.")

    visit(tree, "")
    return found


_CONFIGS = ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini")


def config_saying(repository: Path, says: Callable[[str], bool], names: tuple[str, ...] = _CONFIGS) -> str | None:
    """The first of the repository's configuration files ``names`` whose text ``says`` so."""
    for name in names:
        path = repository / name
        try:
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
        except OSError:
            continue
        if says(text):
            return name
    return None


def runs_doctests(repository: Path) -> str | None:
    """The configuration file in which the repository's pytest already runs doctests (``--doctest-modules``)."""
    return config_saying(repository, lambda text: "--doctest-modules" in text
                         or "doctest_optionflags" in text and "--doctest" in text)


def generate(repository: Path, target_file: str) -> Candidate:
    """A test file with one test per docstring that has examples (blocking: reads one file).

    Not when the repository's own pytest runs them already: they would be
    counted as generated tests that the repository had all along.
    """
    if config := runs_doctests(repository):
        raise StrategyError(f"the repository's pytest already runs its doctest examples ({config} has "
                            "--doctest-modules); they are its own tests, not generated ones")
    source = (repository / target_file).read_text(encoding="utf-8", errors="replace")
    try:
        names = documented(source)
    except SyntaxError as exc:
        raise StrategyError(f"{target_file} does not parse: line {exc.lineno}: {exc.msg}") from None
    if not names:
        raise StrategyError(f"{target_file} has no docstring examples")
    _, module = module_of(target_file)
    tests = []
    for name in names:
        slug = re.sub(r"\W+", "_", name).strip("_").lower() or "module"
        tests.append(f"def test_{slug}_docstring_examples():\n    _run_examples({module!r}, {name!r})\n")
    code = test_file_header(target_file, "doctest examples") + _HELPER + "\n\n" + "\n\n".join(tests)
    return Candidate(target_file, code, "doctest")
