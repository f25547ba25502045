"""The result's figures as the Generate panel writes them."""

from __future__ import annotations

from ui.generate.result_text import mutation_line


def test_the_mutation_line_says_which_suite_went_out_and_on_how_many_shared_mutants() -> None:
    result = {"mutation": {"score": 0.8, "killed": 12, "total": 15, "timed_out": False,
                           "compared": {"mutants": 15, "distilled": 11, "as_generated": 12, "kept": "as_generated"}}}
    assert mutation_line(result) == (" · mutation score <b>80%</b> (12/15; distilled 11 vs as generated 12 of 15 "
                                     "shared mutants: tests as generated kept)")
    result["mutation"]["compared"] |= {"kept": "distilled_unsliced", "unsliced": 12}
    assert mutation_line(result).endswith("shared mutants: distilled without the slice kept (12))")
    assert mutation_line({"mutation": {"score": None, "error": "not measured: <off>"}}) == \
        " · mutation score: not measured: &lt;off&gt;"
    assert mutation_line({}) == ""
