"""One tests/conftest.py instead of a sys.path line atop every generated file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agents.generation import test_file_header
from agents.generation.import_root import CONFTEST, importable_once, without_path_edit


def _generated(target: str, body: str) -> str:
    return test_file_header(target, "search: Pynguin") + body


def test_files_lose_their_path_lines_and_the_conftest_makes_them_pass_under_plain_pytest(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "__init__.py").write_text("")
    (tmp_path / "src" / "pkg" / "words.py").write_text("def shout(s):\n    return s.upper()\n")
    files = {
        "tests/test_generated_calc.py": _generated("calc.py", "import calc\n\n\ndef test_double():\n"
                                                   "    assert calc.double(x=2) == 4\n"),
        "tests/test_generated_pkg_words.py": _generated("src/pkg/words.py", "from pkg import words\n\n\n"
                                                        "def test_shout():\n    assert words.shout(s='a') == 'A'\n"),
    }
    out = importable_once(tmp_path, files, ["calc.py", "src/pkg/words.py"])
    assert list(out)[-1] == CONFTEST
    for name in files:
        assert "sys" not in out[name] and "Path" not in out[name], out[name]
        assert out[name].startswith('"""Tests for ')
    for name, code in out.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(code)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout + run.stderr


def test_the_repositorys_own_conftest_is_never_touched_and_files_keep_their_lines(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / CONFTEST).write_text("# theirs\n")
    files = {"tests/test_generated_calc.py": _generated("calc.py", "def test_x():\n    assert 1\n")}
    assert importable_once(tmp_path, files, ["calc.py"]) == files


def test_a_file_that_uses_sys_itself_keeps_the_import() -> None:
    code = _generated("calc.py", "def test_argv():\n    assert isinstance(sys.argv, list)\n")
    stripped = without_path_edit(code)
    assert "sys.path" not in stripped and "import sys" in stripped and "from pathlib" not in stripped
    assert without_path_edit("def broken(:\n") == "def broken(:\n"


def test_a_submodule_is_imported_by_its_own_name_only_when_its_package_does_not_rebind_it(tmp_path: Path) -> None:
    from agents.generation.import_root import named_by_its_package

    # pyhumps: the package re-exports functions, not the name "main".
    (tmp_path / "humps").mkdir()
    (tmp_path / "humps" / "__init__.py").write_text("from humps.main import (\n    camelize,\n    decamelize,\n)\n")
    (tmp_path / "humps" / "main.py").write_text("def camelize(s):\n    return s\n")
    assert named_by_its_package(tmp_path, "humps/main.py")
    # python-slugify: "from slugify import slugify" is the function.
    (tmp_path / "slugify").mkdir()
    (tmp_path / "slugify" / "__init__.py").write_text("from .slugify import *\nfrom .slugify import slugify\n")
    assert not named_by_its_package(tmp_path, "slugify/slugify.py")
    (tmp_path / "star").mkdir()
    (tmp_path / "star" / "__init__.py").write_text("from .parts import *\n")
    assert not named_by_its_package(tmp_path, "star/parts.py")  # it might: left as generated
    assert not named_by_its_package(tmp_path, "calc.py")  # a top-level module has no package
    # The repository's code is input: nesting that breaks the parser, or a huge file, keeps the alias.
    (tmp_path / "deep").mkdir()
    (tmp_path / "deep" / "__init__.py").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert not named_by_its_package(tmp_path, "deep/parts.py")
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "__init__.py").write_text("# padding\n" * 200_000)
    assert not named_by_its_package(tmp_path, "big/parts.py")


def test_the_imports_follow_the_docstring_after_one_blank_line() -> None:
    code = _generated("calc.py", "\nimport calc\n\n\ndef test_x():\n    assert calc\n")
    assert without_path_edit(code).splitlines()[1:3] == ["", "import calc"]
