"""The search strategy: Pynguin in its sandbox, and what it does when Pynguin ends with nothing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agents.generation import StrategyError


def _repo(tmp_path: Path, source: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "subject.py").write_text(source)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return repo


@pytest.mark.slow
async def test_a_search_that_crashes_is_tried_again_with_another_seed(tmp_path: Path, pynguin_runner) -> None:
    # Pynguin 0.48 runs the calls in a worker and restarts a worker that dies; killing the worker's
    # parent ends the whole run past the import, as Pynguin's own OverflowError on some drawn inputs
    # did. Here it happens on every seed.
    repo = _repo(tmp_path, "import os\nimport signal\n\n\ndef explode(n: int) -> int:\n"
                           "    os.kill(os.getppid(), signal.SIGKILL)\n    return n\n")
    with pytest.raises(StrategyError) as caught:
        await pynguin_runner.generate(repo, "subject.py", search_time_s=5, seed=40)
    assert "Pynguin produced no tests for subject" in str(caught.value)
    assert "twice, with seeds 40 and 41" in str(caught.value)


@pytest.mark.slow
async def test_a_worker_that_dies_while_writing_assertions_is_tried_again_without_them(
        tmp_path: Path, pynguin_runner) -> None:
    """bidict._base: Pynguin's worker died generating assertions after its search time was used, and Pynguin
    wrote nothing (0 tests twice). Here the module kills the process that runs it while Pynguin's assertion
    generator is on the stack; the retry asks for none, and the search's tests come back."""
    # Pynguin runs each call in a thread of its own: the assertion generator waits in another one.
    repo = _repo(tmp_path, "import os\nimport signal\nimport sys\nimport traceback\n\n\n"
                           "def double(n: int) -> int:\n"
                           "    stacks = [traceback.extract_stack(f) for f in sys._current_frames().values()]\n"
                           "    if any('assertion' in f.filename for stack in stacks for f in stack):\n"
                           "        os.kill(os.getpid(), signal.SIGKILL)\n"
                           "    return 2 * n\n")
    found = await pynguin_runner.generate(repo, "subject.py", search_time_s=3, seed=40)
    assert "double(" in found.code, found.code


@pytest.mark.slow
async def test_a_module_that_does_not_import_is_not_searched_twice(tmp_path: Path, pynguin_runner) -> None:
    repo = _repo(tmp_path, "raise RuntimeError('needs a licence server')\n")
    with pytest.raises(StrategyError) as caught:
        await pynguin_runner.generate(repo, "subject.py", search_time_s=5, seed=40)
    assert "needs a licence server" in str(caught.value)
    assert "twice" not in str(caught.value)


@pytest.mark.slow
async def test_search_starts_from_typical_calls_a_person_would_write(tmp_path: Path, pynguin_runner) -> None:
    """Issue 25, item 8: without seeds every kept input was drawn at random or from the module's own text."""
    repo = _repo(tmp_path, "def shout(text: str) -> str:\n    return text.upper() + '!'\n")
    found = await pynguin_runner.generate(repo, "subject.py", search_time_s=3, seed=40)
    assert "shout(text='Hello World')" in found.code, found.code


@pytest.mark.slow
async def test_search_starts_from_the_calls_the_readme_shows(tmp_path: Path, pynguin_runner) -> None:
    """A text only the README shows gets the search past the rule that wants a whole document."""
    repo = _repo(tmp_path, "def kind(text: str) -> str:\n"
                           "    if text.count('\\n') >= 3 and text.count('=') >= 3 and '[[' in text:\n"
                           "        return 'document'\n"
                           "    return 'line'\n")
    (repo / "README.md").write_text("# subject\n\n```python\nfrom subject import kind\n\n"
                                    "kind('[[players]]\\nname = 1\\nnumber = 2\\nteam = 3\\n')\n```\n")
    found = await pynguin_runner.generate(repo, "subject.py", search_time_s=3, seed=40)
    assert "'document'" in found.code, found.code
