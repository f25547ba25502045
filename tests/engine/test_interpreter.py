import subprocess
import sys
from pathlib import Path

import pytest

from engine.interpreter import InterpreterError, choose_interpreter, ensure_test_tools


def test_the_repository_venv_is_never_chosen() -> None:
    # Its interpreter and .pth files are the repository's code: only the configured one or ours.
    assert choose_interpreter("/opt/py") == "/opt/py"
    assert choose_interpreter(None) == sys.executable


async def test_missing_pytest_is_said_plainly_with_the_fix(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    python = str(tmp_path / "bare" / "bin" / "python")
    with pytest.raises(InterpreterError) as err:
        await ensure_test_tools(python)
    assert "pytest and coverage are not installed" in str(err.value)
    assert f"{python} -m pip install pytest coverage" in str(err.value)


async def test_missing_interpreter_is_said_plainly() -> None:
    with pytest.raises(InterpreterError, match="was not found"):
        await ensure_test_tools("/no/such/python3")


async def test_our_interpreter_has_the_tools() -> None:
    assert (await ensure_test_tools(sys.executable)).startswith("3.")
