"""The value a person would pass for one parameter."""

from __future__ import annotations

import ast

import pytest

from agents.generation.typical_values import (
    Code,
    as_expr,
    hints_for,
    kind_of,
    module_patterns,
    value_for,
)


@pytest.mark.parametrize("annotation, kind", [
    ("Optional[datetime]", "datetime"), ("'datetime'", "datetime"), ("dt.datetime | None", "datetime"),
    ("List[str]", "List"), ("Union[int, str]", "int"), ("None | str", "str"),
])
def test_an_annotation_reads_as_the_one_type_a_value_is_written_for(annotation: str, kind: str) -> None:
    assert kind_of(ast.parse(annotation, mode="eval").body) == kind


def test_a_name_beats_the_code_s_hints_and_the_hints_beat_the_type() -> None:
    def arg(text: str) -> ast.arg:
        return ast.parse(f"def f({text}): pass").body[0].args.args[0]  # type: ignore[attr-defined]

    assert value_for(arg("email: str"), hints=["YYYY"]) == "jane.doe@example.com"
    assert value_for(arg("fmt: str"), hints=["YYYY"]) == "YYYY"
    assert value_for(arg("fmt: str")) == "Hello World"
    assert value_for(arg("dt")) == Code("datetime.datetime(2024, 3, 15, 13, 45, 30, tzinfo=datetime.timezone.utc)", "datetime")
    assert value_for(arg("when: date")) == Code("datetime.date(2024, 3, 15)", "datetime")
    assert value_for(arg("template: Template")) is None  # a class no literal makes
    assert ast.unparse(as_expr({"name": "Ada", "tags": (1, 2)})) == "{'name': 'Ada', 'tags': (1, 2)}"


def test_hints_are_the_pattern_s_examples_then_the_literals_compared_in_the_function_then_in_its_class() -> None:
    module = ast.parse(
        "import re\nWORD = re.compile(r'[a-z]+!')\n"
        "class Parser:\n"
        "    def parse(self, text, mode):\n"
        "        if mode == 'strict' or mode in ('lax', 'loose'):\n"
        "            return WORD.match(text)\n"
        "    def _token(self, token):\n"
        "        return token == 'YYYY'\n")
    parse = module.body[2].body[0]  # type: ignore[attr-defined]
    patterns = module_patterns(module)
    assert patterns == {"WORD": "[a-z]+!"}
    assert hints_for("text", parse, module.body[2], patterns) == ["a!", "strict", "lax", "loose", "YYYY"]
    assert hints_for("mode", parse, parse, patterns) == ["strict", "lax", "loose"]
