"""A whole-repository request: the modules without tests, and the budget split by what is left to cover."""

from __future__ import annotations

from pathlib import Path

from agents.whole_repository import left_to_cover, split_budget, untested_modules

FUNCTION = "def f(x):\n    if x:\n        return 1\n    return 2\n"


def _repo(tmp_path: Path, files: dict[str, str]) -> tuple[Path, list[str]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path, sorted(files)


def test_modules_a_test_is_named_after_or_imports_are_tested_and_the_rest_are_not(tmp_path: Path) -> None:
    repo, files = _repo(tmp_path, {
        "src/pkg/__init__.py": "from pkg.alpha import f\n",  # re-exports only: nothing to test
        "src/pkg/alpha.py": FUNCTION,  # imported by a test
        "src/pkg/beta.py": FUNCTION,  # a test named after it
        "src/pkg/gamma.py": FUNCTION,  # untested
        "src/pkg/sub/delta.py": "class D:\n    pass\n",  # untested, a class
        "src/pkg/constants.py": "LIMIT = 3\n",  # defines nothing to test
        "setup.py": FUNCTION, "docs/conf.py": FUNCTION,  # the build's and the docs' own
        "tests/test_alpha_usage.py": "from pkg.alpha import f\n\ndef test_f():\n    assert f(1) == 1\n",
        "tests/test_beta.py": "def test_nothing():\n    pass\n",
    })
    tests = [f for f in files if f.startswith("tests/")]
    assert untested_modules(repo, files, tests) == ["src/pkg/gamma.py", "src/pkg/sub/delta.py"]


def test_an_import_of_the_package_does_not_count_for_its_other_modules(tmp_path: Path) -> None:
    repo, files = _repo(tmp_path, {"pkg/__init__.py": FUNCTION, "pkg/util.py": FUNCTION,
                                   "test_pkg.py": "import pkg\n"})
    assert untested_modules(repo, files, ["test_pkg.py"]) == ["pkg/util.py"]


def test_what_is_left_comes_from_the_baseline_else_from_the_parser(tmp_path: Path) -> None:
    repo, _ = _repo(tmp_path, {"a.py": FUNCTION, "b.py": FUNCTION})
    baseline = {"files": [{"path": "a.py", "lines_total": 4, "lines_covered": 3}]}
    assert left_to_cover(repo, ["a.py", "b.py"], baseline) == {"a.py": 1, "b.py": 4}


def test_the_budget_follows_what_is_left_with_a_floor_for_each_module() -> None:
    plan = split_budget({"big.py": 300, "small.py": 20, "done.py": 0, "mid.py": 80}, 100)
    shares = {s.target: s.search_s for s in plan.shares}
    assert set(shares) == {"big.py", "small.py", "mid.py"}  # nothing left: no share
    assert shares["big.py"] > shares["mid.py"] > shares["small.py"] >= 100 // 6  # at least half an equal share
    assert sum(shares.values()) <= 100 and plan.skipped == []
    assert "big.py" in plan.note


def test_a_budget_too_small_for_every_module_goes_to_the_ones_with_most_left_and_names_the_rest() -> None:
    plan = split_budget({f"m{i}.py": 10 + i for i in range(5)}, 12)
    assert [s.target for s in plan.shares] == ["m4.py", "m3.py"]
    assert plan.skipped == ["m2.py", "m1.py", "m0.py"]
    assert "3 module(s) skipped" in plan.note


def test_without_a_search_no_module_is_skipped() -> None:
    plan = split_budget({f"m{i}.py": 10 for i in range(5)}, 12, searching=False)
    assert len(plan.shares) == 5 and plan.skipped == []
