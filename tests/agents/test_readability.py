"""What a reviewer notices first, counted: on Pynguin's own output and on a file a person would keep."""

from __future__ import annotations

from agents.generation.readability import measure
from tests.helpers.generated_samples import TEXTBOX_PYNGUIN

KEPT = '''import pytest
import textbox


def test_checked_name_raises_value_error_for_empty_string():
    with pytest.raises(ValueError):
        textbox.checked_name(name='')


@pytest.mark.parametrize('text, expected', [('ab', 'ab'), ('Hello World', 'Hello World')])
def test_label_returns_str(text, expected):
    assert textbox.label(text=text) == expected


def test_roman_numbers_decode_returns_int():
    assert textbox.__RomanNumbers.decode(input_string='II') == 2
'''


def test_raw_search_output_shows_what_a_reviewer_deletes() -> None:
    raw = measure(TEXTBOX_PYNGUIN)
    assert raw.tests == 6 and raw.placeholder_share == 1 and raw.misnamed == 6  # test_0 ... test_5
    assert raw.longest_literal > 300 and raw.duplicate_imports == 1  # 'import sys' twice
    assert raw.median_statements > 4


def test_a_file_a_person_keeps_scores_clean() -> None:
    kept = measure(KEPT)
    assert (kept.tests, kept.placeholder_share, kept.unused_names, kept.duplicate_imports, kept.misnamed) == \
        (3, 0, 0, 0, 0)
    assert kept.assert_share == 1 and kept.median_statements == 1 and kept.longest_literal == len('text, expected')
