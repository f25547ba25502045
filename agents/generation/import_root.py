"""The repository's modules made importable once, by a ``tests/conftest.py``, not by a line in every file.

pytest puts a test file's own folder on ``sys.path``, not the repository
root, so each generated file used to start with ``sys.path.insert(0, ...)``
(agents/generation/__init__.py): four lines of plumbing above every file a
reviewer opens. A ``tests/conftest.py`` written once does the same for all
of them. The sandboxed runs never needed either (the engine puts the
repository on ``PYTHONPATH``), so taking the lines out changes no verdict.

The repository's own ``tests/conftest.py`` is its code: when there is one,
nothing is added to it and the files keep their own lines.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from agents.generation import module_of
from engine.python_source import parse_source

CONFTEST = "tests/conftest.py"
_MAX_INIT_BYTES = 1 << 20


def conftest_code(targets: list[str]) -> str:
    roots = sorted({module_of(t)[0] for t in targets})
    lines = [f"sys.path.insert(0, str(Path(__file__).resolve().parents[1]{f' / {root!r}' if root else ''}))"
             for root in roots]
    return (
        '"""Makes the repository\'s modules importable from its tests under plain pytest.\n\n'
        "Written once by AI Web Test Control Center, instead of a sys.path line in every generated file.\n"
        '"""\n'
        "import sys\n"
        "from pathlib import Path\n\n" + "\n".join(lines) + "\n"
    )


def without_path_edit(code: str) -> str:
    """``code`` without its top-level ``sys.path.insert`` line, and its ``sys``/``Path`` imports if nothing
    else uses them. Unparsable code comes back as it was."""
    try:
        tree = parse_source(code)
    except SyntaxError:
        return code
    edits = [n for n in tree.body if isinstance(n, ast.Expr) and ast.unparse(n.value).startswith("sys.path.insert(")]
    if not edits:
        return code
    rest = [n for n in tree.body if n not in edits]
    used = {n.id for stmt in rest if not isinstance(stmt, ast.Import | ast.ImportFrom)
            for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    drop = list(edits)
    for node in rest:
        if isinstance(node, ast.Import) and [a.name for a in node.names] == ["sys"] and "sys" not in used:
            drop.append(node)
        if (isinstance(node, ast.ImportFrom) and node.module == "pathlib"
                and [a.name for a in node.names] == ["Path"] and "Path" not in used):
            drop.append(node)
    lines = code.splitlines(keepends=True)
    gone = {i for node in drop for i in range(node.lineno - 1, (node.end_lineno or node.lineno))}
    kept = "".join(line for i, line in enumerate(lines) if i not in gone)
    kept = re.sub(r"\n{3,}(?=(?:import|from) )", "\n\n", kept)  # one blank line above the imports
    return re.sub(r"\n{4,}", "\n\n\n", kept)


def importable_once(repository: Path, files: dict[str, str], targets: list[str]) -> dict[str, str]:
    """``files`` without their per-file path lines, and a ``tests/conftest.py`` after them; unchanged when the
    repository has its own ``tests/conftest.py``, when a file does not sit in ``tests/``, or when nothing
    has the lines. Reads one path: call it from a thread."""
    if not files or CONFTEST in files or (repository / CONFTEST).exists():
        return files
    if not all(name.startswith("tests/") and name.count("/") == 1 for name in files):
        return files  # the lines count parents from the file: only tests/NAME.py shares the conftest's root
    stripped = {name: without_path_edit(code) for name, code in files.items()}
    if stripped == files:
        return files
    return {**stripped, CONFTEST: conftest_code(targets)}  # last: a reviewer opens the tests first


def named_by_its_package(repository: Path, target: str) -> bool:
    """Whether ``from package import leaf`` gives the target's module itself, read from the package's
    ``__init__.py`` without running it: true when nothing there binds ``leaf`` (no import, assignment,
    definition of that name, and no ``import *`` that could). Reads files: call it from a thread."""
    root, module = module_of(target)
    package, _, leaf = module.rpartition(".")
    if not package:
        return False
    init = repository / root / Path(*package.split(".")) / "__init__.py"
    try:
        if init.stat().st_size > _MAX_INIT_BYTES:
            return False  # the repository's code is input: a huge file is not read, the alias stays
        tree = parse_source(init.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return True  # a namespace package binds nothing
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if alias.name == "*" or bound == leaf:
                    return False
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == leaf or isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == leaf:
            return False
    return True
