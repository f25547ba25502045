"""Saving generated tests: exact paths, a diff, a fresh name unless overwriting is asked for."""

from __future__ import annotations

from pathlib import Path

from app.save_tests import plan, write


def test_new_same_and_different_files(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_generated_a.py").write_text("def test_a():\n    assert 1\n")
    (tmp_path / "tests" / "test_generated_b.py").write_text("# my edits\n")
    files = {"tests/test_generated_a.py": "def test_a():\n    assert 1\n",
             "tests/test_generated_b.py": "def test_b():\n    assert 2\n",
             "tests/test_generated_c.py": "def test_c():\n    assert 3\n"}
    targets = plan(tmp_path, files)
    assert [t.state for t in targets] == ["same", "differs", "new"]
    assert targets[1].path == tmp_path / "tests" / "test_generated_b.py"
    assert "-# my edits" in targets[1].diff() and "+def test_b():" in targets[1].diff()
    assert targets[1].fresh_path.name == "test_generated_b_2.py"

    written = write(targets, overwrite=False)
    assert [p.name for p in written] == ["test_generated_b_2.py", "test_generated_c.py"]
    assert (tmp_path / "tests" / "test_generated_b.py").read_text() == "# my edits\n"  # kept
    again = plan(tmp_path, files)
    assert again[1].fresh_path.name == "test_generated_b_3.py"  # _2 is taken now
    assert write(again, overwrite=True) == [tmp_path / "tests" / "test_generated_b.py"]  # c is the same now
    assert (tmp_path / "tests" / "test_generated_b.py").read_text().startswith("def test_b")


def test_a_result_naming_a_file_outside_the_folder_saves_nothing(tmp_path: Path) -> None:
    """The names come from a result row, which a shared database's other writers can set (issue 28)."""
    import pytest

    from engine.errors import BadResult

    folder = tmp_path / "repo"
    folder.mkdir()
    files = {"tests/test_generated_a.py": "def test_a():\n    assert 1\n", "../../outside.py": "import os\n"}
    with pytest.raises(BadResult, match="outside.py"):
        plan(folder, files)
    assert not (folder / "tests").exists() and not (tmp_path / "outside.py").exists()
