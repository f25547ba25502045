"""Imports a repository declares nowhere: read from its source, mapped to the distribution that provides them."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.undeclared_imports import Added, distribution_for, imported_names, missing_from, missing_imports


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_only_required_third_party_imports_are_candidates(tmp_path: Path) -> None:
    repo = _write(tmp_path, {
        "app/__init__.py": "",
        "app/dates.py": (
            "import os, json\n"  # the standard library
            "import dateutil.parser\n"  # third party, required
            "from yaml import safe_load\n"
            "from . import helpers\n"  # relative: its own
            "from app import helpers as h\n"  # its own package
            "import helpers\n"  # its own module, wherever it is
            "try:\n    import ujson\nexcept ImportError:\n    ujson = None\n"  # optional: its choice
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import pandas\n"  # for the type checker only
            "def later():\n    import requests\n    return requests\n"),
        "app/helpers.py": "import pytest\n",  # the test run provides it
    })
    assert imported_names(repo) == {"dateutil": ["app/dates.py"], "yaml": ["app/dates.py"],
                                    "requests": ["app/dates.py"]}


def test_names_that_differ_from_their_distribution_are_mapped_and_the_rest_are_their_own() -> None:
    assert distribution_for("dateutil") == "python-dateutil"
    assert distribution_for("yaml") == "PyYAML" and distribution_for("PIL") == "Pillow"
    assert distribution_for("requests") == "requests"
    assert distribution_for("google.protobuf") == "protobuf"


def test_the_probe_answer_is_read_and_a_garbled_one_is_no_answer() -> None:
    assert missing_from("noise\nAIWEBTEST-MISSING [\"dateutil\"]\n") == ["dateutil"]
    assert missing_from("AIWEBTEST-MISSING {not json") is None
    assert missing_from("nothing") is None
    assert Added("dateutil", "python-dateutil", ("a.py",)).why == \
        "python-dateutil for 'import dateutil' (a.py), declared nowhere"


async def test_the_environment_is_asked_which_names_it_lacks(tmp_path: Path) -> None:
    """In the sandbox, with the interpreter the tests will use: ours has httpx, not dateutil."""
    repo = _write(tmp_path, {"dates.py": "import httpx\nimport dateutil\n"})
    added = await missing_imports(repo, sys.executable, allow_unisolated=False)
    assert [(a.import_name, a.distribution, a.files) for a in added] == [("dateutil", "python-dateutil",
                                                                          ("dates.py",))]
