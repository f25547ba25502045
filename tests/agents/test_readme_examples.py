"""A README's examples as plain pytest tests, the values its authors wrote as asserts, run through the engine."""

from pathlib import Path

import pytest

from agents.generation import StrategyError
from agents.generation.readme_blocks import code_blocks, sessions
from agents.generation.readme_examples import (
    generate,
    readme_tests,
    shown_in,
    source_of,
)
from engine.engine import ExecuteRequest, ExecutionEngine

LOUD = '''def shout(text):
    return text.upper() + "!"


def whisper(text):
    if not text:
        raise ValueError("nothing to whisper")
    return text.lower()


def table(text):
    return {"text": text, "size": len(text)}
'''

README = '''# loud

```pycon
>>> import loud
>>> greeting = "hi"
```

## Shouting

```pycon
>>> loud.shout(greeting)
'HI!'
>>> print(loud.shout("a"))
A!
>>> loud.table("ab")
{'text': 'ab', 'size': 2}
>>> loud.shout("") == "!"
True
>>> loud.shout("") == "?" or loud.shout("b") == "b"
False
```

## Whispering

```pycon
>>> loud.whisper("")
Traceback (most recent call last):
ValueError: nothing to whisper
```

## Loosely matched

```pycon
>>> loud.shout("long")
'LO...'
```

## From a TestCase

```python
from loud import whisper

text = """
  Two lines
"""
self.assertEqual(whisper(text), "\\n  two lines\\n")
```

## Wrong today

```python
import loud
assert loud.shout("x") == "x"
```

## Shows only

```python
import loud
loud.shout("y")
```
'''


def _tests(text: str) -> dict[str, str]:
    return {t.name: t.body for t in readme_tests(sessions(text), code_blocks(text))}


def test_outputs_become_asserts_and_what_a_section_uses_from_an_earlier_one_comes_along() -> None:
    tests = _tests(README)
    assert tests["test_readme_shouting"] == (
        'greeting = "hi"\n'
        "assert loud.shout(greeting) == 'HI!'\n"
        'assert str(loud.shout("a")) == \'A!\'\n'
        "assert loud.table(\"ab\") == {'text': 'ab', 'size': 2}\n"
        'assert loud.shout("") == "!"\n'
        'assert not (loud.shout("") == "?" or loud.shout("b") == "b")')
    assert tests["test_readme_whispering"] == 'with pytest.raises(ValueError):\n    loud.whisper("")'


def test_a_loose_output_a_block_without_a_check_and_a_method_body_are_not_written() -> None:
    tests = _tests(README)
    assert "test_readme_loosely_matched" not in tests  # "..." would check less than the README shows
    assert "test_readme_shows_only" not in tests
    assert tests["test_readme_from_a_testcase"].endswith('assert whisper(text) == "\\n  two lines\\n"')
    assert "self" not in _tests("# x\n```python\nassert self.value == 1\n```\n").get("test_readme_x", "")


def test_an_exception_the_example_cannot_name_leaves_its_section_out() -> None:
    text = "# Errors\n\n>>> import loud\n>>> loud.whisper('')\nTraceback (most recent call last):\nloud.Oops: no\n"
    assert _tests(text) == {"test_readme_errors": "with pytest.raises(loud.Oops):\n    loud.whisper('')"}
    assert _tests(text.replace("loud.Oops", "other.Oops")) == {}  # "other" is bound nowhere in the README


async def test_the_examples_run_as_written_and_a_wrong_one_fails_alone(engine: ExecutionEngine,
                                                                     tmp_path: Path) -> None:
    repo = tmp_path / "repo"  # pytest makes tmp_path 0700; as root the sandbox could not read it
    repo.mkdir()
    (repo / "loud.py").write_text(LOUD)
    (repo / "README.md").write_text(README)
    candidate = generate(repo, "loud.py")
    assert candidate.origin == "readme"
    head, _ = candidate.code.split("def test_", 1)
    assert "import pytest\n" in head and "import loud\n" in head and "from loud import whisper\n" in head
    assert '"""The example in README.md, "Shouting"."""' in candidate.code
    assert '    text = """\n  Two lines\n"""' in candidate.code  # a string's lines are not indented with the body
    execution = await engine.execute(ExecuteRequest(candidate.code, strategy="tier1_only",
                                                    repository=repo, target_files=("loud.py",)))
    outcomes = {t["name"]: t["outcome"] for t in execution.outcomes}
    assert outcomes == {"test_readme_shouting": "passed", "test_readme_whispering": "passed",
                        "test_readme_from_a_testcase": "passed", "test_readme_wrong_today": "failed"}


def test_no_readme_or_one_the_repository_already_runs_says_why(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text(LOUD)
    with pytest.raises(StrategyError, match="no README"):
        generate(tmp_path, "loud.py")
    (tmp_path / "README.rst").write_text("Loud\n====\n\nNothing to run.\n")
    with pytest.raises(StrategyError, match="no example that checks"):
        generate(tmp_path, "loud.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = --doctest-glob=*.rst\n")
    with pytest.raises(StrategyError, match="already runs"):
        generate(tmp_path, "loud.py")


def test_an_example_that_reads_the_clock_is_not_written() -> None:
    """humanize's README shows ``naturalday(dt.datetime.now())`` as 'today': not on every day a suite runs."""
    text = ("# Dates\n\n>>> import humanize, datetime as dt\n>>> humanize.naturalday(dt.datetime.now())\n'today'\n"
            "\n# Sizes\n\n>>> humanize.naturalsize(1_000_000)\n'1.0 MB'\n")
    assert list(_tests(text)) == ["test_readme_sizes"]


def test_a_printed_table_is_one_line_of_code_a_line_and_imports_on_one_line_are_one_each(tmp_path: Path) -> None:
    """tabulate's README prints tables, and ships a one-line ``README`` that points at ``README.md``."""
    (tmp_path / "README").write_text("See README.md\n")
    (tmp_path / "README.md").write_text("# Tables\n\n>>> import csv; from io import StringIO\n"
                                        ">>> print(show([['a', 1]]))\n-  -\na  1\n-  -\n")
    code = generate(tmp_path, "show.py").code
    assert "\nimport csv\nfrom io import StringIO\n" in code
    assert "    assert str(show([['a', 1]])) == (\n        '-  -\\n'\n        'a  1\\n'\n        '-  -'\n    )\n" in code


def test_hostile_readme_text_gives_no_test_and_no_error() -> None:
    """A README is the repository's text: a nesting too deep for the parser or a null byte leaves its example out."""
    hostile = ("# A\n\n>>> x = " + "(" * 300_000 + "\n1\n\n```python\nassert f('\x00')\n```\n\n# B\n\n>>> 1\n1\n"
               + '\n# C """\\\n\n>>> 2\n2\n')
    tests = readme_tests(sessions(hostile), code_blocks(hostile))
    assert [t.name for t in tests] == ["test_readme_b", "test_readme_c"]
    assert source_of(tests[1], "README.md").startswith('def test_readme_c() -> None:\n    """The example in README.md, "C \'\'\'/".')


def test_an_example_kept_for_an_earlier_target_is_not_offered_again(tmp_path: Path) -> None:
    """One request, two ticked modules: the README example is the first module's, not in both files."""
    (tmp_path / "README.md").write_text("# Sizes\n\n>>> import loud\n>>> loud.shout('a')\n'A!'\n\n"
                                        "# Quiet\n\n>>> loud.whisper('A')\n'a'\n")
    first = generate(tmp_path, "loud.py")
    shown = shown_in([first.code.replace("def test_readme_quiet", "def helper")])
    assert shown == {"test_readme_sizes"}
    second = generate(tmp_path, "other.py", shown)
    assert "def test_readme_quiet" in second.code and "test_readme_sizes" not in second.code
    with pytest.raises(StrategyError, match="kept for another target"):
        generate(tmp_path, "other.py", {"test_readme_sizes", "test_readme_quiet"})
