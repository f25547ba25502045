"""The multi-file test text: one writer, one parser, and they agree."""

from engine import multi_file


def test_split_reads_back_what_join_wrote() -> None:
    files = {"tests/test_a.py": "def test_a():\n    assert 1\n", "tests/test_b.py": "def test_b():\n    pass\n\n\nx = 1\n"}
    text = multi_file.join(files)
    assert text.startswith("# ===== tests/test_a.py =====\ndef test_a")
    assert multi_file.split(text) == files


def test_offset_of_finds_a_file_and_says_when_it_is_absent() -> None:
    text = multi_file.join({"a.py": "x = 1\n", "b.py": "y = 2\n"})
    assert text[multi_file.offset_of(text, "b.py"):].startswith("# ===== b.py =====\ny = 2")
    assert multi_file.offset_of(text, "c.py") == -1
