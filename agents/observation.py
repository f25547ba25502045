"""Observation: checks the repository out and takes stock of it."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agents.base import TaskContext, TaskFailed
from agents.whole_repository import untested_modules
from engine import child_process, sandbox_snapshot, settings_store
from engine.errors import AppError
from engine.interpreter import choose_interpreter

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".mypy_cache"}


def is_git_url(text: str) -> bool:
    if text.startswith("git@") or text.endswith(".git"):
        return True
    return urlsplit(text).scheme in ("http", "https", "ssh", "git", "file")


def is_test_file(rel: str) -> bool:
    name = Path(rel).name
    return name.startswith("test_") or name.endswith("_test.py") or "tests" in Path(rel).parts[:-1]


class ObservationAgent:
    agent_type = "observation"
    capabilities = [{"name": "repository_checkout", "version": "1.0.0"},
                    {"name": "inventory", "version": "1.0.0"}]
    priority = 5

    async def handle(self, ctx: TaskContext) -> dict[str, Any]:
        payload = ctx.task["payload"]
        url = str(payload.get("repository_url") or "").strip()
        if not url:
            raise TaskFailed("repository_url is empty: give a folder on this machine or a git URL.")
        await ctx.progress(f"Checking out {url}")
        repo, source = await checkout(url, ctx.services.workspace)
        if note := await asyncio.to_thread(sandbox_snapshot.private_note, repo):
            await ctx.progress(note)
        found = await asyncio.to_thread(python_files, repo)  # a large tree takes seconds to walk
        tests = [f for f in found if is_test_file(f)]
        targets = [str(t) for t in payload.get("target_files") or []]
        if problem := await asyncio.to_thread(target_problem, repo, targets, url):
            raise TaskFailed(problem)
        if not targets:  # the whole repository: every module without tests (agents/whole_repository.py)
            targets = await asyncio.to_thread(untested_modules, repo, found, tests)
            if not targets:
                raise TaskFailed(f"Every module of {url} has tests (a test file named after it or importing it), "
                                 "or defines nothing to test: name the files to generate tests for.")
            await ctx.progress(f"Whole repository: {len(targets)} module(s) without tests: "
                               f"{', '.join(targets[:8])}{' …' if len(targets) > 8 else ''}")
        await ctx.progress(f"Found {len(found)} Python files, {len(tests)} test files")
        interpreter = choose_interpreter(None)
        added: list[str] = []  # distributions installed for imports the repository declares nowhere, and why
        if ctx.services.envs is not None:
            allow = (await settings_store.load(ctx.services.pool)).allow_unisolated
            try:
                env = await ctx.services.envs.environment_for(repo, allow_unisolated=allow, progress=ctx.progress)
            except AppError as exc:  # DependencyError, SandboxUnavailable: the request's headline
                raise TaskFailed(str(exc)) from None
            if env is not None:
                interpreter = env.python
                added = [a.why for a in env.added]
                await ctx.progress(
                    f"{'Reusing the environment' if env.reused else f'Built an environment in {env.build_s:.1f} s'}"
                    f" with {len(env.requirements)} declared requirement(s)")
        return {"repository": str(repo), "source": source, "python_files": found,
                "test_files": tests, "target_files": targets, "interpreter": interpreter,
                "added_dependencies": added}


def _inside(repo: Path, rel: str) -> bool:
    """Whether ``repo/rel`` is a regular file that stays in ``repo`` once its symlinks are followed."""
    path = repo / rel
    return path.is_file() and path.resolve().is_relative_to(repo)


def python_files(repo: Path) -> list[str]:
    """The repository's Python files, relative, without tool folders or links that leave it. Blocking."""
    return sorted(
        rel for rel in (str(p.relative_to(repo)) for p in repo.rglob("*.py"))
        if not (set(Path(rel).parts[:-1]) & _SKIP_DIRS) and _inside(repo, rel)
    )


def target_problem(repo: Path, targets: list[str], url: str) -> str | None:
    """What is wrong with the chosen targets, in words, or None. Blocking (stats the files).

    A repository is hostile until proven otherwise: a cloned ``calc.py`` can be
    a symlink to ``~/.ssh/id_rsa`` or to our key file, and the model's prompt
    and the analysis read targets in our process, outside the sandbox.
    """
    missing = [t for t in targets if not (repo / t).exists()]
    if missing:
        return f"Target files not found in {url}: {', '.join(missing)}"
    outside = [t for t in targets if not _inside(repo, t)]
    if outside:
        return (f"Target files must be regular files inside the repository; these are not (a folder, or a link "
                f"that leads out of it): {', '.join(outside)}")
    return None


def git_reason(stderr: str) -> str:
    """git's own reason from its error output: the first ``fatal:`` line, not the advice after it.

    The last line was taken, and a folder that is not a repository read "Could not clone
    file:///…/notgit: and the repository exists." (issue 26).
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.removeprefix("fatal:").strip() for line in lines if line.startswith("fatal:")]
    return (fatal or lines or ["git gave no message"])[0]


def clone_folder(url: str, workspace: Path) -> Path:
    """Where ``checkout`` clones a git URL: one folder per URL under the workspace."""
    return workspace / hashlib.sha1(url.encode()).hexdigest()[:12]


def checkout_folder(url: str, workspace: Path) -> Path:
    """The folder ``checkout`` gives for ``url``, worked out here rather than read from a result (results are
    input: app/generate_cli.py writes only here). Reads the file system: callers on the loop use a thread."""
    local = Path(url).expanduser()
    return local.resolve() if local.is_dir() else clone_folder(url, workspace).resolve()


async def checkout(url: str, workspace: Path) -> tuple[Path, str]:
    """(folder, "local" | "git") for a local path or a git URL (cloned shallow)."""
    local = Path(url).expanduser()
    if await asyncio.to_thread(local.is_dir):
        return await asyncio.to_thread(local.resolve), "local"
    if not is_git_url(url):
        raise TaskFailed(
            f"The repository {url!r} does not exist: it is neither a folder on this machine nor a git URL."
        )
    target = clone_folder(url, workspace)
    await asyncio.to_thread(shutil.rmtree, target, True)  # an earlier clone of the same URL
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    # HOME is the workspace: a .gitconfig there (mirrors, insteadOf rules) applies; ours does not leak.
    # "--" ends the options: a URL such as "--upload-pack=CMD x.git" is a repository, never an option
    # (the API refuses a leading "-" too; this holds for any caller). GIT_ALLOW_PROTOCOL keeps
    # transports that run commands (ext::) out, whatever a system gitconfig allows.
    proc = await child_process.start(
        ["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "GIT_TERMINAL_PROMPT": "0", "HOME": str(workspace),
             "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh"},
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 300)
    except TimeoutError:
        proc.kill()
        raise TaskFailed(f"Cloning {url} took more than 5 minutes; check the URL and the network.") from None
    if proc.returncode != 0:
        raise TaskFailed(f"Could not clone {url}: {git_reason(err.decode(errors='replace'))}")
    return target, "git"
