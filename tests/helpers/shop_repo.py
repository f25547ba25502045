"""A small repository of six modules, five without tests, and the tests a model would write for each (issue 27)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

UNTESTED = 5
MODULES = [f"shop/m{i}.py" for i in range(UNTESTED)]  # not m5 (it has a test), not __init__ (nothing to test)


def make_shop(root: Path) -> Path:
    repo = root / "shop-repo"
    (repo / "shop").mkdir(parents=True)
    (repo / "shop" / "__init__.py").write_text("")
    for i in range(UNTESTED + 1):
        (repo / "shop" / f"m{i}.py").write_text(f"def twice_{i}(x):\n    if x > {i}:\n        return 2 * x\n    return x\n")
    (repo / "tests").mkdir()
    (repo / "tests" / f"test_m{UNTESTED}.py").write_text(
        f"from shop.m{UNTESTED} import twice_{UNTESTED}\n\n\ndef test_it():\n    assert twice_{UNTESTED}(0) == 0\n")
    return repo


def answer_for_module(request: dict[str, Any]) -> str:
    """What a model would answer for the module in the prompt: two tests that run every line of it."""
    prompt = " ".join(str(m.get("content")) for m in request["messages"])
    i = int(re.search(r"def twice_(\d)", prompt).group(1))
    return (f"```python\nfrom shop.m{i} import twice_{i}\n\n\n"
            f"def test_twice_{i}_doubles_what_is_above_{i}():\n    assert twice_{i}({i + 1}) == {2 * (i + 1)}\n\n\n"
            f"def test_twice_{i}_keeps_{i}():\n    assert twice_{i}({i}) == {i}\n```")
