"""The code's shape, read from its imports: layers point down only, and one request type.

ui → app → agents → engine. Every import counts, also those inside a
function (a lazy import is still an arrow), so the graph is read with
``ast``, not by importing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
LAYERS = ("engine", "agents", "app", "ui")  # bottom to top
MAX_UI_LINES = 400
REQUEST_FIELDS = {"repository_url", "target_files", "coverage_target", "search_time_s", "max_rounds"}


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", LAYERS)
def test_no_layer_imports_one_above_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1:])
    upward = {str(path.relative_to(ROOT)): sorted(_imported_packages(path) & above) for path in _modules(layer)}
    assert {name: up for name, up in upward.items() if up} == {}


def test_no_file_in_ui_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules("ui")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_UI_LINES}
    assert long == {}


def test_only_one_class_declares_the_requests_fields() -> None:
    """``GenerateRequest`` says every field once; a subclass may add its own (the v1 body's use_agents)."""
    declaring = []
    for layer in LAYERS:
        for path in _modules(layer):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    names = {t.target.id for t in node.body if isinstance(t, ast.AnnAssign) and
                             isinstance(t.target, ast.Name)}
                    if len(names & REQUEST_FIELDS) >= 2:
                        declaring.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert declaring == ["engine/generate_request.py:GenerateRequest"]


def test_the_graph_reader_sees_an_upward_import(tmp_path: Path) -> None:
    """The check above can fail: a lazy import inside a function is an arrow too."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from app.errors import AppError\n    import ui.gui_app\n")
    assert _imported_packages(module) == {"app", "ui"}
