"""A target's kept files merged into one, kept only when the merged file runs and covers what each did."""

from __future__ import annotations

import shutil
from pathlib import Path

from agents.one_file_per_target import one_file_per_target
from tests.conftest import SAMPLE_REPO
from tests.helpers.sandbox_phase2 import SandboxPhase2

CLAMP = "import calc\n\n\ndef test_clamp_high():\n    assert calc.clamp(5, 0, 3) == 3\n"
DIV = "import calc\n\n\ndef test_safe_div():\n    assert calc.safe_div(4, 2) == 2\n"
PATCHED = "import calc\n\ncalc.clamp = lambda *args: 0\n\n\ndef test_patched():\n    assert calc.clamp(1, 2, 3) == 0\n"


async def _kept(phase2: SandboxPhase2, repo: Path, codes: list[str]) -> list[dict]:
    kept = []
    for n, code in enumerate(codes):
        run = await phase2.execute(code, repo, ["calc.py"])
        assert run["status"] == "success", run
        kept.append({"path": f"tests/test_generated_calc{'_' + str(n + 1) if n else ''}.py", "target_file": "calc.py",
                     "code": code, "origin": "search", "generator": f"g{n}", "note": "kept", "test_count": 1,
                     "_coverage": run["coverage"]})
    return kept


async def test_two_files_for_one_target_become_one_that_passes_and_covers_what_both_did(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE_REPO, repo)
    phase2, lines = SandboxPhase2(), []

    async def say(message: str, **_data: object) -> None:
        lines.append(message)

    kept = await one_file_per_target(phase2, repo, await _kept(phase2, repo, [CLAMP, DIV]), say)
    assert len(kept) == 1 and kept[0]["path"] == "tests/test_generated_calc.py" and kept[0]["test_count"] == 2
    assert "def test_clamp_high" in kept[0]["code"] and "def test_safe_div" in kept[0]["code"]
    assert kept[0]["generator"] == "g0, g1" and lines == ["calc.py: writing the 2 kept files as one, checked by a run…"]
    # A module-level patch in one file breaks the other's test once they share a module: they stay apart.
    lines.clear()
    apart = await one_file_per_target(phase2, repo, await _kept(phase2, repo, [CLAMP, PATCHED]), say)
    assert [k["code"] for k in apart] == [CLAMP, PATCHED]
    assert lines[-1].endswith("the kept files stay apart: as one file they did not pass or covered less")
