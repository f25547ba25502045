"""Keeping generated tests one by one, and the fewest that hold the coverage."""

from agents.coverage_union import CoverageUnion
from agents.keep_per_test import keep_only, outcome_key, select_minimal, collect_test_keys

CODE = '''import pytest
from calc import f


def test_a():
    assert f(1) == 1


@pytest.mark.skip
def test_b():
    assert f(2) == 3


class TestMore:
    def test_c(self):
        assert f(0) == 0

    def test_d(self):
        assert f(-1) == 1
'''


def test_failing_tests_are_cut_out_with_their_decorators_and_the_rest_stays() -> None:
    assert collect_test_keys(CODE) == ["test_a", "test_b", "TestMore.test_c", "TestMore.test_d"]
    kept = keep_only(CODE, ["test_a", "TestMore.test_d"])
    assert collect_test_keys(kept) == ["test_a", "TestMore.test_d"]
    assert "@pytest.mark.skip" not in kept and "def test_b" not in kept
    compile(kept, "kept.py", "exec")
    assert "class TestMore" not in keep_only(CODE, ["test_a"])  # a class left empty goes too


def test_outcome_keys_match_test_keys() -> None:
    assert outcome_key({"name": "test_a", "classname": "test_generated"}) == "test_a"
    assert outcome_key({"name": "test_c", "classname": "test_generated.TestMore"}) == "TestMore.test_c"


def test_minimization_keeps_the_coverage_with_fewer_tests() -> None:
    def cov(lines: list[int], branches: list[list[int]] = ()) -> dict:
        return {"calc.py": {"lines": lines, "branches": list(branches)}}

    per_test = {
        "<import>": cov([1, 2]),
        "test_small": cov([3]),
        "test_big": cov([3, 4, 5], [[4, 5]]),
        "test_dup": cov([4, 5], [[4, 5]]),
        "test_other": cov([7], [[6, 7]]),
    }
    union = CoverageUnion(["calc.py"])
    chosen = select_minimal(per_test, union, ["test_small", "test_big", "test_dup", "test_other"])
    assert chosen == ["test_big", "test_other"]
    covered = set().union(*(per_test[k]["calc.py"]["lines"] for k in chosen))
    everything = set().union(*(v["calc.py"]["lines"] for k, v in per_test.items() if k != "<import>"))
    assert covered == everything  # same lines, two tests instead of four


def test_a_test_adding_nothing_to_what_the_request_covers_is_not_chosen() -> None:
    union = CoverageUnion(["calc.py"])
    union.add({"files": [{"path": "calc.py", "lines_total": 10, "branches_total": 2, "executed_lines": [3, 4],
                          "executed_branches": [], "missing_lines": [5]}]})
    per_test = {"test_old": {"calc.py": {"lines": [3, 4], "branches": []}}}
    assert select_minimal(per_test, union, ["test_old"]) == []


def test_branch_coverage_of_nothing_is_not_full() -> None:
    union = CoverageUnion(["calc.py"])
    assert union.branch_rate == 0.0 and union.line_rate == 0.0


def test_a_rewrite_counts_as_covering_only_with_every_line_and_branch_it_had() -> None:
    from agents.coverage_union import still_covers

    def run(lines: list[int], branches: list[list[int]]) -> dict:
        return {"files": [{"path": "calc.py", "executed_lines": lines, "executed_branches": branches}]}

    before = run([1, 2, 3], [[2, 3]])
    assert still_covers(run([1, 2, 3, 4], [[2, 3], [3, 4]]), before)
    assert not still_covers(run([1, 2], [[2, 3]]), before)  # a line lost
    assert not still_covers(run([1, 2, 3], []), before)  # a branch lost
    assert not still_covers(None, before)  # no coverage measured: not kept
