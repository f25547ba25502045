"""Where the repository sits on this machine is never pinned by a kept test."""

from __future__ import annotations

import shutil
from pathlib import Path

from agents.distil_step import Distiller
from agents.generation.machine_paths import machine_paths, pinning_machine_paths, relative_tail
from tests.helpers.sandbox_phase2 import SandboxPhase2

# humanize 4.9.0's i18n._get_default_locale_path, in short.
_MODULE = ("import os\n\n\ndef locale_path():\n    return os.path.join(os.path.dirname(__file__), 'locale')\n\n\n"
           "def twice(x):\n    return 2 * x\n")


def test_a_value_under_the_repository_is_told_by_what_follows_its_path(tmp_path: Path) -> None:
    paths = machine_paths(tmp_path)
    assert relative_tail(f"{tmp_path}/src/pkg/locale", paths) == "/src/pkg/locale"
    assert relative_tail("/elsewhere/src/pkg/locale", paths) is None
    assert machine_paths(Path("/tmp")) == ()  # too short: ordinary text contains it
    code = (f"def test_a():\n    assert f() == '{tmp_path}/locale'\n\n\ndef test_b():\n    assert f() == 2\n")
    assert pinning_machine_paths(code, paths) == ["test_a"]


async def test_a_distilled_test_of_a_path_under_the_repository_passes_in_another_checkout(tmp_path: Path) -> None:
    repo = tmp_path / "here"
    repo.mkdir()
    (repo / "paths.py").write_text(_MODULE)
    # Pynguin's form: the value as it was seen here, this checkout's path in it.
    generated = ("import paths as module_0\n\n\n"
                 f"def test_case_0():\n    var_0 = module_0.locale_path()\n    assert var_0 == '{repo}/locale'\n\n\n"
                 "def test_case_1():\n    var_0 = module_0.twice(3)\n    assert var_0 == 6\n")
    result = await Distiller(SandboxPhase2(), repo, "paths.py").distil(generated)
    assert result.changed, result.note
    assert str(repo) not in result.code
    assert ".endswith('/locale')" in result.code.replace('"', "'")
    elsewhere = tmp_path / "a-copy-elsewhere"
    shutil.copytree(repo, elsewhere)
    assert (await SandboxPhase2().execute(result.code, elsewhere, ["paths.py"]))["status"] == "success"
