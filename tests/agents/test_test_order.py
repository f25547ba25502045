"""A kept test must pass in any order and alone (issue 27: a flaky test was kept on boltons.strutils)."""

from __future__ import annotations

from pathlib import Path

from agents.test_order import REVERSED, order_dependent, reordered
from tests.helpers.sandbox_phase2 import SandboxPhase2

CODE = ("import registry\n\n\ndef _name():\n    return 'ada'\n\n\n"
        "def test_add():\n    registry.add(_name())\n    assert registry.count() == 1\n\n\n"
        "@registry_marker\ndef test_seen_after_add():\n    assert registry.seen(_name())\n\n\n"
        "class TestCount:\n    def test_count_is_a_number(self):\n        assert registry.count() >= 0\n")


def test_tests_swap_places_and_everything_else_stays_where_it_was() -> None:
    back = reordered(CODE, REVERSED)
    assert back.index("class TestCount") < back.index("def test_seen_after_add") < back.index("def test_add")
    assert back.index("@registry_marker") < back.index("def test_seen_after_add")  # decorators travel along
    assert back.index("def _name") < back.index("class TestCount")  # the helper stays above every test
    assert sorted(back.splitlines()) == sorted(CODE.splitlines())
    assert reordered(CODE, 3) == reordered(CODE, 3)  # seeded: a failing order can be run again


async def test_a_test_that_passes_only_after_another_is_found_and_named(tmp_path: Path) -> None:
    (tmp_path / "registry.py").write_text("_names = []\n\n\ndef add(name):\n    _names.append(name)\n\n\n"
                                          "def seen(name):\n    return name in _names\n\n\n"
                                          "def count():\n    return len(_names)\n")
    code = CODE.replace("@registry_marker\n", "")
    phase2 = SandboxPhase2()
    assert (await phase2.execute(code, tmp_path, ["registry.py"]))["status"] == "success"  # in file order: green
    assert await order_dependent(phase2, code, tmp_path, "registry.py") == ["test_seen_after_add"]
    steady = code.replace("    assert registry.seen(_name())\n", "    registry.add('x')\n    assert registry.seen('x')\n"
                          ).replace("assert registry.count() == 1", "assert registry.count() >= 1")
    assert await order_dependent(phase2, steady, tmp_path, "registry.py") == []


async def test_a_test_that_passes_only_after_others_in_either_order_is_found_alone(tmp_path: Path) -> None:
    (tmp_path / "registry.py").write_text("_names = []\n\n\ndef add(name):\n    _names.append(name)\n\n\n"
                                          "def count():\n    return len(_names)\n")
    # Reversed, the last test adds before the middle one reads: only a run of the middle one alone fails it.
    code = ("import registry\n\n\ndef test_adds_ada():\n    registry.add('ada')\n\n\n"
            "def test_has_someone():\n    assert registry.count() >= 1\n\n\n"
            "def test_adds_bob():\n    registry.add('bob')\n")
    phase2 = SandboxPhase2()
    assert await order_dependent(phase2, code, tmp_path, "registry.py", alone=False) == []
    assert await order_dependent(phase2, code, tmp_path, "registry.py") == ["test_has_someone"]
    assert phase2.runs == 3  # reversed, then reversed and alone: one run each, not one per test
