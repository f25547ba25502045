"""Imports a repository makes and declares nowhere, and the distribution that provides each.

Real repositories import what they never declare (scripts, apps, notebooks laid out as
packages): ``pypara`` 0.1.1 imports ``dateutil``, declared only in its wheel's METADATA;
a repository without any metadata fails every test with "No module named dateutil"
(issue 27). The names come from the source, read, never run: top-level ``import`` and
``from ... import`` statements outside ``try`` blocks that catch ``ImportError`` (an
optional dependency is the repository's choice) and outside ``if TYPE_CHECKING:``. The
standard library, the repository's own modules and ``__future__`` are not candidates.

Which of them are really missing is asked of the environment's interpreter, in the sandbox
(``PROBE``): a declared distribution may provide a name we would not guess. Each missing
name is mapped to a distribution by ``DISTRIBUTIONS`` (import names that differ from their
distribution's, written here from each project's own documentation), else taken as the
distribution's own name, as most are. Installing runs in the sandbox like every other
install of the repository's dependencies.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.python_source import parse_source
from engine.sandbox import SandboxLimits, clean_env, run_sandboxed

_LARGEST_SOURCE = 2_000_000
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", "docs", "doc"}
# Names the sandboxed test run provides itself (engine/repo_env.py TEST_TOOLS and what they bring).
_PROVIDED = {"pytest", "_pytest", "coverage", "pluggy", "py"}

# Import name -> distribution, where they differ. Only names whose projects say so in their own install
# instructions; anything else is looked up by its own name.
DISTRIBUTIONS: dict[str, str] = {
    "attr": "attrs", "bs4": "beautifulsoup4", "Crypto": "pycryptodome", "cv2": "opencv-python-headless",
    "dateutil": "python-dateutil", "dotenv": "python-dotenv", "git": "GitPython", "jwt": "PyJWT",
    "magic": "python-magic", "OpenSSL": "pyOpenSSL", "PIL": "Pillow", "serial": "pyserial",
    "sklearn": "scikit-learn", "skimage": "scikit-image", "yaml": "PyYAML", "usb": "pyusb",
    "google.protobuf": "protobuf", "dns": "dnspython", "Levenshtein": "python-Levenshtein",
    "slugify": "python-slugify", "jose": "python-jose", "multipart": "python-multipart",
    "docx": "python-docx", "pptx": "python-pptx", "fitz": "PyMuPDF", "win32api": "pywin32",
    "MySQLdb": "mysqlclient", "psycopg2": "psycopg2-binary", "zmq": "pyzmq", "nacl": "PyNaCl",
    "gi": "PyGObject", "wx": "wxPython", "lxml": "lxml", "markdown": "Markdown", "jinja2": "Jinja2",
    "typing_extensions": "typing-extensions", "pkg_resources": "setuptools", "setuptools": "setuptools",
    "tomli_w": "tomli-w", "ruamel": "ruamel.yaml", "pydantic_core": "pydantic-core", "Bio": "biopython",
    "faker": "Faker", "flask_sqlalchemy": "Flask-SQLAlchemy", "socks": "PySocks", "websocket": "websocket-client",
}

# Asks the interpreter which names it cannot find: prints one JSON list. Run in the sandbox with its path.
PROBE = (
    "import importlib.util, json, sys\n"
    "missing = []\n"
    "for name in sys.argv[1:]:\n"
    "    try:\n"
    "        found = importlib.util.find_spec(name) is not None\n"
    "    except (ImportError, ValueError):\n"
    "        found = False\n"
    "    if not found:\n"
    "        missing.append(name)\n"
    "print('AIWEBTEST-MISSING ' + json.dumps(missing))\n"
)


@dataclass(frozen=True)
class Added:
    """A distribution installed for an import the repository makes and declares nowhere."""

    import_name: str
    distribution: str
    files: tuple[str, ...]  # where the import is (the first few)

    @property
    def why(self) -> str:
        where = ", ".join(self.files[:3]) + (" …" if len(self.files) > 3 else "")
        return f"{self.distribution} for 'import {self.import_name}' ({where}), declared nowhere"


async def missing_imports(repo: Path, python: str, *, allow_unisolated: bool) -> tuple[Added, ...]:
    """The imports ``python`` cannot find (asked in the sandbox), each with the distribution to install."""
    names = await asyncio.to_thread(imported_names, repo)
    if not names:
        return ()
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-imports-"))
    try:
        result = await run_sandboxed([python, "-I", "-c", PROBE, *sorted(names)], python=python, cwd=scratch,
                                     limits=SandboxLimits(timeout_s=60, memory_mb=1024), env=clean_env(scratch),
                                     allow_unisolated=allow_unisolated)
    finally:
        await asyncio.to_thread(_remove, scratch)
    missing = missing_from(result.stdout) or []
    return tuple(Added(name, distribution_for(name), tuple(names[name])) for name in missing if name in names)


def sources_state(repo: Path) -> str:
    """A digest of the repository's Python files (names, sizes, times): the scan is done again when it changes."""
    digest = hashlib.sha256()
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo)
        if set(rel.parts[:-1]) & _SKIP_DIRS:
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def imported_names(repo: Path) -> dict[str, list[str]]:
    """Top-level names the repository imports that are neither standard library nor its own -> the files. Blocking."""
    own = own_names(repo)
    found: dict[str, list[str]] = {}
    for path in sorted(repo.rglob("*.py")):
        rel = path.relative_to(repo)
        if set(rel.parts[:-1]) & _SKIP_DIRS or not path.is_file():
            continue
        try:
            if path.stat().st_size > _LARGEST_SOURCE:
                continue
            tree = parse_source(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        for name in _required_imports(tree):
            top = name.split(".")[0]
            if top in own or top in sys.stdlib_module_names or top in _PROVIDED or top == "__future__":
                continue
            key = name if name in DISTRIBUTIONS else top
            found.setdefault(key, []).append(str(rel))
    return found


def own_names(repo: Path) -> set[str]:
    """Every module or package name the repository itself has, wherever it is (src/, top level, nested)."""
    names: set[str] = set()
    for path in repo.rglob("*.py"):
        rel = path.relative_to(repo)
        if set(rel.parts[:-1]) & {".git", ".venv", "venv", "node_modules"}:
            continue
        names.add(path.stem)
        names.update(rel.parts[:-1])
    return names


def distribution_for(import_name: str) -> str:
    return DISTRIBUTIONS.get(import_name) or DISTRIBUTIONS.get(import_name.split(".")[0]) or import_name.split(".")[0]


def missing_from(probe_output: str) -> list[str] | None:
    """The names the probe could not find, or None when it did not answer."""
    import json

    marker = re.search(r"^AIWEBTEST-MISSING (.*)$", probe_output, re.MULTILINE)
    if marker is None:
        return None
    try:
        names = json.loads(marker.group(1))
    except ValueError:
        return None
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else None


def _required_imports(tree: ast.Module) -> list[str]:
    """Absolute imports the module cannot do without (not guarded by ``except ImportError``, not typing-only)."""
    names: list[str] = []

    def visit(nodes: list[ast.stmt], guarded: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.Import) and not guarded:
                names.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not guarded and node.module and not node.level:
                names.append(node.module)
            elif isinstance(node, ast.Try):
                optional = any(_catches_import_error(h) for h in node.handlers)
                visit(node.body, guarded or optional)
                for handler in node.handlers:
                    visit(handler.body, guarded)
                visit(node.orelse, guarded)
                visit(node.finalbody, guarded)
            elif isinstance(node, ast.If):
                typing_only = "TYPE_CHECKING" in ast.unparse(node.test)
                visit(node.body, guarded or typing_only)
                visit(node.orelse, guarded)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.With)):
                visit(node.body, guarded)

    visit(tree.body, False)
    return names


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    text = ast.unparse(handler.type)
    return any(name in text for name in ("ImportError", "ModuleNotFoundError", "Exception"))
