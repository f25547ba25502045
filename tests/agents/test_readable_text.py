"""Search's random short strings read as text a person writes; ones a person would write are left alone."""

from __future__ import annotations

import ast

import pytest

from agents.generation.readable_text import candidate, has_noisy_text, noisy, readable_at
from agents.generation.test_units import Unit


@pytest.mark.parametrize("text", ["G|Sck`x#8JR:~", "\x0cZXT~.yFvbzVv\nX+;", "WfSg", "2\r^Syw", "5Z1I", "q(I"])
def test_search_draws_read_as_noise(text: str) -> None:
    assert noisy(text)


@pytest.mark.parametrize("text", ["Hello World", "hello-world", "Ada Lovelace", "v2", "utf8", "1.2.3", "a", "",
                                  "x" * 81])
def test_what_a_person_writes_and_long_texts_are_not_this_steps(text: str) -> None:
    assert not noisy(text)


def test_each_input_becomes_what_its_parameter_suggests_and_assertions_repeat_it() -> None:
    unit = Unit("test_case_0", ast.parse(
        "var_0 = 'G|Sck`x#8JR:~'\n"
        "var_1 = slugify_.slugify(text=var_0, separator='n6bSH\\nCl', stopwords=['WfSg'])\n"
        "assert var_1 == 'G|Sck`x#8JR:~'\n"
        "with pytest.raises(ValueError, match='a|b('):\n"
        "    slugify_.slugify(text='q(I')\n").body)
    assert has_noisy_text(unit)
    code = "\n".join(ast.unparse(s) for s in readable_at(unit, 0).body)
    assert code == ("var_0 = 'Hello World'\n"
                    "var_1 = slugify_.slugify(text=var_0, separator='-', stopwords=['the'])\n"
                    "assert var_1 == 'Hello World'\n"
                    "with pytest.raises(ValueError, match='a|b('):\n"  # the expected message is not an input
                    "    slugify_.slugify(text='Hello World')")
    assert "(text=var_0, separator='_'" in "\n".join(ast.unparse(s) for s in readable_at(unit, 1).body)
    assert "G|Sck" in ast.unparse(unit.body[0])  # the unit itself is left as it was


def test_later_steps_offer_punctuation_digits_accents_and_a_line_break_then_stay_on_the_last() -> None:
    tried = [candidate("text", step) for step in range(12)]
    assert tried[:2] == ["Hello World", "hello"]
    assert {"Hello, World!", "Hello World 42", "Héllo Wörld", "Hello\nWorld"} <= set(tried)
    assert tried[-1] == tried[-2]
    assert candidate("email", 0) == "jane.doe@example.com"


def test_noisy_bytes_read_as_a_phrase_in_the_input_and_in_the_generators_check() -> None:
    """marshmallow's kept ``Equal(comparable=b"\\x19q|\\r\\xc4 e\\xd7{")``; plain ASCII bytes a person wrote stay."""
    assert noisy(b"\x19q|\r\xc4 e") and not noisy(b"hello") and not noisy(b"Hello World")
    unit = Unit("test_case_0", ast.parse("var_0 = m.Equal(comparable=b'\\x19q|\\r\\xc4 e')\n"
                                         "assert var_0.comparable == b'\\x19q|\\r\\xc4 e'\n").body)
    assert has_noisy_text(unit)
    assert ast.unparse(readable_at(unit, 0).body) == ("var_0 = m.Equal(comparable=b'Hello World')\n"
                                                      "assert var_0.comparable == b'Hello World'")
