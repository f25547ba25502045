"""CrossHair's idioms written as a person writes them (agents/generation/crosshair_idioms.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agents.generation.crosshair_idioms import as_constructions

# What CrossHair 0.0.113's cover wrote for marshmallow.validate's constructors.
_CROSSHAIR = (
    "import pytest\nfrom box import Box\n\n"
    "def test___init__():\n    assert Box(error='').__init__(error='x') == None\n\n"
    "def test___init___2():\n    with pytest.raises(ValueError, match=''):\n        Box(size=0).__init__(size=-1)\n\n"
    "def test_reinit_a_named_box():\n    box = Box(size=1)\n    box.__init__(size=2)\n    assert box.size == 2\n\n"
    # The form CrossHair 0.0.113's cover writes through the class (marshmallow.validate, session 15).
    "def test___init___3():\n    assert Box.__init__(Box(error=''), error='y') == None\n\n"
    "def test___init___4():\n    with pytest.raises(ValueError):\n        Box.__init__(Box(size=1), size=-1)\n"
)
# CrossHair escapes the whole message it saw (``re.escape``): semver's negative major.
_SEMVER_RAISES = ("import pytest\n\ndef test_v():\n    with pytest.raises(ValueError, match="
                  + repr(r"'major'\ is\ negative\.\ A\ version\ can\ only\ be\ positive\.") + "):\n        f()\n")
_BOX = ("class Box:\n    def __init__(self, size=0, error=''):\n        if size < 0:\n"
        "            raise ValueError('size')\n        self.size, self.error = size, error\n")


def test_a_second_init_on_a_fresh_object_is_the_construction_and_still_passes(tmp_path: Path) -> None:
    code = as_constructions(_CROSSHAIR)
    assert "Box(error='x')\n" in code and "None" not in code
    assert "pytest.raises(ValueError):" in code  # an empty pattern matches any message: it said nothing
    assert "        Box(size=-1)\n" in code  # the raise stays with the arguments that raise
    assert "box.__init__(size=2)" in code  # a named object re-initialised is the test's own point
    assert "    Box(error='y')\n" in code and "Box.__init__(Box(error=''" not in code
    # Under ``pytest.raises`` a second initialisation may be what raises: written as CrossHair wrote it.
    assert "Box.__init__(Box(size=1), size=-1)" in code
    (tmp_path / "box.py").write_text(_BOX)
    (tmp_path / "test_box.py").write_text(code)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_box.py"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "5 passed" in done.stdout, done.stdout[-1500:]


def test_a_pattern_escaped_where_nothing_needed_it_is_written_plain() -> None:
    """humanize: CrossHair wrote ``match="Minimum\\ unit\\ is\\ suppressed"``; a pattern that needs its escapes keeps them."""
    code = as_constructions("import pytest\n\ndef test_x():\n"
                            "    with pytest.raises(ValueError, match='Minimum\\\\ unit\\\\ is\\\\ suppressed'):\n"
                            "        f()\n\n"
                            "def test_y():\n    with pytest.raises(ValueError, match='a\\\\.b'):\n        f()\n\n"
                            "def test_z():\n    with pytest.raises(ValueError, match='line\\\\ 1\\\\d'):\n        f()\n")
    assert "match='Minimum unit is suppressed'" in code
    semver = as_constructions(_SEMVER_RAISES)
    assert "match=\"'major' is negative\")" in semver, semver  # its words, up to the first character a pattern reads
    assert "match='a\\\\.b'" in code and "match='line\\\\ 1\\\\d'" in code


def test_pythons_own_binding_message_is_matched_without_the_functions_name(tmp_path: Path) -> None:
    """semver: ``match="Version\\.__init__\\(\\)\\ missing ..."`` pinned the qualified name mutmut's trampolines
    rename, the kept suite failed mutmut's first run, and the request had no mutation score."""
    code = as_constructions("import pytest\nfrom box import Box\n\n\ndef test_x():\n"
                            "    with pytest.raises(TypeError, match=\"Box\\\\.__init__\\\\(\\\\)\\\\ got\\\\ an\\\\ "
                            "unexpected\\\\ keyword\\\\ argument\\\\ 'colour'\"):\n        Box(colour=1)\n")
    assert "match=\"got an unexpected keyword argument 'colour'\"" in code, code
    (tmp_path / "box.py").write_text(_BOX)
    (tmp_path / "test_box.py").write_text(code)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_box.py"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-1500:]


def test_code_without_a_reinit_or_that_does_not_parse_comes_back_as_it_was() -> None:
    plain = "def test_x():\n    assert 1 == 1  # kept as written\n"
    assert as_constructions(plain) == plain
    assert as_constructions("def test_x(:\n") == "def test_x(:\n"
