"""CrossHair's cover as a generator: which functions it is given, how its output is cleaned, a real run."""

import ast
import asyncio
from pathlib import Path

import pytest

from agents.generation import StrategyError
from agents.generation.crosshair_driver import merge, parsable
from agents.generation.symbolic import CrossHairRunner, functions_of

SOURCE = '''
def top(a: int) -> int:
    return a

class Box:
    def __init__(self, v: int) -> None:
        self.v = v

    @property
    def value(self) -> int:
        return self.v

    @value.setter
    def value(self, v: int) -> None:
        self.v = v

    def grow(self, by: int) -> "Box":
        return Box(self.v + by)

    def __repr__(self) -> str:
        return "Box"
'''


def test_functions_are_module_functions_and_methods_without_properties_or_operators() -> None:
    assert functions_of(SOURCE) == ["top", "Box.__init__", "Box.grow"]


def test_a_test_that_does_not_parse_is_dropped_and_its_neighbours_kept() -> None:
    output = ("from m import f\nimport pytest\n\n"
              "def test_f():\n    assert f(x=1) == 1\n\n"
              "def test_f_2():\n    assert f(x=v1:=b'', y=v1) == 2\n\n"  # CrossHair 0.0.113's unparenthesized walrus
              "def test_f_3():\n    assert f(x=1) == 1\n")  # the same test as the first
    kept = parsable(output)
    assert [n.name for n in ast.parse(kept).body if isinstance(n, ast.FunctionDef)] == ["test_f"]


def test_merged_parts_import_once_and_never_reuse_a_name() -> None:
    part = "from m import f\n\ndef test_f():\n    assert f(1) == 1\n"
    merged = ast.parse(merge([part, part.replace("f(1) == 1", "f(2) == 2")]))
    assert sum(isinstance(n, ast.ImportFrom) for n in merged.body) == 1
    assert [n.name for n in merged.body if isinstance(n, ast.FunctionDef)] == ["test_f", "test_f_2"]


@pytest.mark.slow
def test_a_real_run_names_the_exception_a_path_raises(crosshair_runner: CrossHairRunner, sample_repo: Path) -> None:
    candidate = asyncio.run(crosshair_runner.generate(sample_repo, "calc.py", search_time_s=20))
    assert candidate.origin == "crosshair"
    assert "pytest.raises(ValueError" in candidate.code  # clamp's low > high path, with its real exception
    assert "classify(" in candidate.code and "safe_div(" in candidate.code
    ast.parse(candidate.code)


@pytest.mark.slow
def test_a_module_with_nothing_to_cover_is_a_strategy_error(crosshair_runner: CrossHairRunner,
                                                            sample_repo: Path) -> None:
    (sample_repo / "consts.py").write_text("LIMIT = 3\n")
    with pytest.raises(StrategyError, match="no functions"):
        asyncio.run(crosshair_runner.generate(sample_repo, "consts.py", search_time_s=5))
