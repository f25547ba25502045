"""A result's file names are input: each must stay inside the folder it is written to (issue 28)."""

from pathlib import Path

import pytest

from engine.errors import BadResult
from engine.result_paths import all_inside, inside


@pytest.mark.parametrize("name", [
    "tests/test_generated_calc.py", "tests/conftest.py", "test_x.py", "tests/sub/test_generated_a_b.py"])
def test_the_names_our_generators_write_are_accepted(tmp_path: Path, name: str) -> None:
    assert inside(tmp_path, name) == tmp_path.resolve() / name


@pytest.mark.parametrize("name", [
    "../escape.py", "tests/../../escape.py", "/etc/cron.d/x.py", "tests/x.sh", "tests/.bashrc", ".x.py",
    "tests\\..\\x.py", "tests/x.py\x00.txt", "", "tests/", "a/" * 9 + "x.py", "tests/x" + "y" * 200 + ".py"])
def test_a_name_that_could_write_elsewhere_is_refused_with_its_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(BadResult, match="the result was not written") as refused:
        inside(tmp_path, name)
    assert repr(name)[:20] in str(refused.value)


def test_a_link_inside_the_folder_that_leads_out_is_refused(tmp_path: Path) -> None:
    folder, outside = tmp_path / "repo", tmp_path / "elsewhere"
    folder.mkdir()
    outside.mkdir()
    (folder / "tests").symlink_to(outside)
    with pytest.raises(BadResult, match="leads out of"):
        inside(folder, "tests/test_generated_x.py")


@pytest.mark.parametrize("files", [["tests/a.py"], {"tests/a.py": b"bytes"}, {"tests/a.py": "x", "../b.py": "y"}])
def test_a_bad_mapping_refuses_the_whole_result(tmp_path: Path, files: object) -> None:
    with pytest.raises(BadResult):
        all_inside(tmp_path, files)
