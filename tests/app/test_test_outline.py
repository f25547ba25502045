"""Tests grouped by the function they call, with each function's measured coverage."""

from __future__ import annotations

from pathlib import Path

from app.test_outline import OTHER, outline

TARGET = '''def clamp(x, lo, hi):
    if x < lo:
        return lo
    return min(x, hi)


class Box:
    def area(self):
        return 1


def unused():
    return 2
'''
TESTS = '''import calc

def test_clamp_below():
    assert calc.clamp(-1, 0, 5) == 0

def test_area():
    assert calc.Box().area() == 1

def test_nothing_of_ours():
    assert len("ab") == 2
'''


def test_tests_grouped_under_the_functions_they_call_with_coverage(tmp_path: Path) -> None:
    (tmp_path / "calc.py").write_text(TARGET)
    result = {"repository": str(tmp_path), "files": {"tests/test_generated_calc.py": TESTS},
              "coverage_by_file": [{"path": "calc.py", "missing_lines": [4, 13]}]}
    (file,) = outline(result)
    by_name = {f.name: f for f in file.functions}
    assert [t[1] for t in by_name["clamp"].tests] == ["test_clamp_below"]
    assert (by_name["clamp"].lines_covered, by_name["clamp"].lines_total) == (2, 3)  # line 4 missed
    assert [t[1] for t in by_name["Box.area"].tests] == ["test_area"] and by_name["Box.area"].rate == 1.0
    assert by_name["unused"].tests == [] and by_name["unused"].rate == 0.0
    assert [t[1] for t in by_name[OTHER].tests] == ["test_nothing_of_ours"]
    assert by_name["clamp"].tests[0] == ("tests/test_generated_calc.py", "test_clamp_below", 3)


def test_a_broken_file_does_not_break_the_outline(tmp_path: Path) -> None:
    result = {"repository": str(tmp_path), "files": {"t.py": "def test_x(:\n"},
              "coverage_by_file": [{"path": "gone.py", "missing_lines": []}]}
    assert [(f.path, f.functions) for f in outline(result)] == [("gone.py", [])]
