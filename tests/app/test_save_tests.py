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
