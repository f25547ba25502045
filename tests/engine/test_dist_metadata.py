"""Dependencies declared only in a checkout's built metadata (a wheel unpacked, an sdist's egg-info) are read."""

from __future__ import annotations

from pathlib import Path

from engine.dist_metadata import metadata_requirements
from engine.repo_env import declared_requirements

TEST_EXTRAS = ("test", "tests", "testing", "dev")

METADATA = """Metadata-Version: 2.1
Name: pypara
Version: 0.1.1
Requires-Python: >=3.6
Requires-Dist: python-dateutil (>=2.8)
Requires-Dist: pytest ; extra == "test"
Requires-Dist: sphinx ; extra == "docs"
Requires-Dist: tomli ; python_version < "3.11"
Requires-Dist: --index-url=http://evil
Description-Content-Type: text/markdown

Requires-Dist: not-a-header-this-is-the-description
"""


def test_a_wheel_layout_declares_in_metadata_its_base_and_test_extra_requirements(tmp_path: Path) -> None:
    (tmp_path / "pypara").mkdir()
    (tmp_path / "pypara-0.1.1.dist-info").mkdir()
    (tmp_path / "pypara-0.1.1.dist-info" / "METADATA").write_text(METADATA)
    found, sources = metadata_requirements(tmp_path, TEST_EXTRAS)
    # docs extra out, the bad line out, the body's text not read as a header
    assert found == ["python-dateutil>=2.8", "pytest", 'tomli; python_version < "3.11"']
    assert sources == ["pypara-0.1.1.dist-info/METADATA"]
    declared = declared_requirements(tmp_path)
    assert declared.requirements == tuple(found) and declared.sources == ("pypara-0.1.1.dist-info/METADATA",)


def test_an_sdists_egg_info_requires_txt_is_read_with_its_sections(tmp_path: Path) -> None:
    info = tmp_path / "src" / "pkg.egg-info"
    info.mkdir(parents=True)
    (info / "requires.txt").write_text("attrs>=20\n\n[:python_version < \"3.8\"]\nimportlib-metadata\n\n"
                                       "[docs]\nsphinx\n\n[testing]\nhypothesis\n")
    found, sources = metadata_requirements(tmp_path, TEST_EXTRAS)
    assert found == ["attrs>=20", 'importlib-metadata; python_version < "3.8"', "hypothesis"]
    assert sources == ["src/pkg.egg-info/requires.txt"]


def test_metadata_is_not_read_when_the_repository_declares_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\ndependencies = ["six"]\n')
    (tmp_path / "x-0.dist-info").mkdir()
    (tmp_path / "x-0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: x\nRequires-Dist: attrs\n")
    assert declared_requirements(tmp_path).requirements == ("six",)
