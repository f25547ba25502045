"""An environment per repository, with the dependencies it declares, built with uv in the sandbox.

Generation on real packages failed for want of their dependencies
(``No module named 'dateutil'`` from Pynguin, ``text_unidecode`` for
python-slugify), and the repository's own ``.venv`` is its code, not
ours to run. So we read what the repository declares (``pyproject.toml``
dependencies and test extras, ``requirements*.txt``, ``setup.cfg``,
``setup.py``), and build ``DATA/envs/<hash>`` with those plus pytest and
coverage, cached by the hash of the declaration (and the Python version).

Reading never runs the repository's code when it can be avoided:
``setup.py`` is parsed, and only run (sandboxed, no network, to print its
metadata) when its ``install_requires`` is not a literal. Installing runs
third-party build code, so uv runs in the sandbox too, with the network
on for the package index, nothing of ours visible and no secrets. Every
requirement is checked as a PEP 508 requirement before it reaches uv, so
a declared "dependency" cannot smuggle in an option (``--index-url``) or a
local path.
"""

from __future__ import annotations

import ast
import asyncio
import configparser
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from engine.dist_metadata import metadata_requirements
from engine.errors import AppError
from engine.own_metadata import own_distribution, write_stub
from engine.python_source import parse_source
from engine.sandbox import SandboxLimits, clean_env, default_python, run_sandboxed
from engine.setup_probe import SETUP_PROBE
from engine.undeclared_imports import Added, missing_imports, sources_state

TEST_TOOLS = ("pytest>=7", "coverage>=7", "mutmut>=3.2")
_TEST_EXTRAS = ("test", "tests", "testing", "dev")
# What a package install may need from our environment: the index and proxies, nothing else.
_INDEX_VARS = ("UV_INDEX_URL", "UV_DEFAULT_INDEX", "UV_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
               "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
               "SSL_CERT_FILE", "SSL_CERT_DIR")


class DependencyError(AppError):
    """The repository's dependencies could not be read or installed; the message says which and why."""


@dataclass(frozen=True)
class Declared:
    requirements: tuple[str, ...]
    sources: tuple[str, ...]  # the files they came from, relative to the repository
    needs_setup_py: bool = False  # install_requires is computed: ask setup.py itself (sandboxed)
    own: tuple[str, str] | None = None  # its own name and version, when its code reads them (engine/own_metadata.py)

    def digest(self, python_version: str) -> str:
        text = json.dumps([python_version, sorted(self.requirements), TEST_TOOLS, *([list(self.own)] if self.own
                                                                                    else [])])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Environment:
    python: str
    site_packages: Path
    reused: bool
    requirements: tuple[str, ...] = field(default=())
    build_s: float = 0.0
    added: tuple[Added, ...] = ()  # installed for imports the repository declares nowhere


def declared_requirements(repo: Path) -> Declared:
    """What the repository declares it needs (blocking: reads a few small files)."""
    found: list[str] = []
    sources: list[str] = []
    needs_setup = False
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DependencyError(f"pyproject.toml does not parse: {exc}") from None
        project = data.get("project") or {}
        deps = list(project.get("dependencies") or [])
        extras = project.get("optional-dependencies") or {}
        for name in _TEST_EXTRAS:
            deps += list(extras.get(name) or [])
        for group in _TEST_EXTRAS:  # PEP 735 dependency groups (strings only; includes skipped)
            deps += [d for d in (data.get("dependency-groups") or {}).get(group, []) if isinstance(d, str)]
        if deps:
            found += deps
            sources.append("pyproject.toml")
    for req_file in sorted(repo.glob("requirements*.txt")) + sorted(repo.glob("requirements/*.txt")):
        lines = _requirement_lines(req_file)
        if lines:
            found += lines
            sources.append(str(req_file.relative_to(repo)))
    setup_cfg = repo / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(setup_cfg.read_text(encoding="utf-8"))
        except (configparser.Error, UnicodeDecodeError):
            parser = configparser.ConfigParser()
        deps = _cfg_list(parser.get("options", "install_requires", fallback=""))
        for name in _TEST_EXTRAS:
            deps += _cfg_list(parser.get("options.extras_require", name, fallback=""))
        if deps:
            found += deps
            sources.append("setup.cfg")
    setup_py = repo / "setup.py"
    if setup_py.is_file() and "setup.cfg" not in sources and "pyproject.toml" not in sources:
        literal = _literal_install_requires(setup_py)
        if literal is None:
            needs_setup = True
        elif literal:
            found += literal
            sources.append("setup.py")
    if not found and not needs_setup:
        # A wheel unpacked as a checkout, or an sdist: its dependencies are in its metadata alone.
        from_metadata, metadata_sources = metadata_requirements(repo, _TEST_EXTRAS)
        found += from_metadata
        sources += metadata_sources
    return Declared(tuple(dict.fromkeys(r.strip() for r in found if r.strip())), tuple(sources), needs_setup,
                    own_distribution(repo))


def _requirement_lines(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            # -r other.txt / -e . / --index-url: options are never passed on; say so if it matters.
            continue
        lines.append(line)
    return lines


def _cfg_list(value: str) -> list[str]:
    return [line.strip() for line in value.replace(";\n", "\n").splitlines() if line.strip()
            and not line.strip().startswith("#")]


def _literal_install_requires(setup_py: Path) -> list[str] | None:
    """``install_requires=[...]`` when it is a literal; None when computed (or unparsable)."""
    try:
        tree = parse_source(setup_py.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "setup":
            for kw in node.keywords:
                if kw.arg == "install_requires":
                    try:
                        value = ast.literal_eval(kw.value)
                    except ValueError:
                        return None
                    return [str(v) for v in value]
            return []
    return None


def checked(requirements: tuple[str, ...], sources: tuple[str, ...]) -> list[str]:
    """PEP 508 names with versions and markers only: no options, URLs or paths reach uv."""
    good: list[str] = []
    where = ", ".join(sources) or "the repository"
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise DependencyError(f"The requirement {text!r} in {where} is not valid: {exc}") from None
        if req.url:
            raise DependencyError(
                f"The requirement {text!r} in {where} points at a URL or path; only packages from the "
                "index are installed. Publish it, or add the package to the target files."
            )
        good.append(str(req))
    return good


class RepoEnvironments:
    """``DATA/envs/<hash>``: one environment per set of declared dependencies, built once.

    ``base_python`` is the interpreter the environments are made from (ours
    when run from source). Concurrent requests for the same set wait for
    one build.
    """

    def __init__(self, root: Path, *, base_python: str | None = None, cache_dir: Path | None = None,
                 install_undeclared: bool = True) -> None:
        self.root = root
        self.install_undeclared = install_undeclared  # imports declared nowhere (engine/undeclared_imports.py)
        self._undeclared: dict[tuple[tuple[str, str], str], tuple[Added, ...]] = {}
        # uv's cache for these builds is the sandbox's, written by the sandbox account and by the
        # repositories' build code: nothing trusted reads it. It was DATA/uv-cache, shared with the
        # tools' installs (agents/generation/tool_venv.py), which ran as root and left entries the
        # sandbox could not write ("Permission denied ... wheels-v8/pypi/mypy-extensions" on
        # humanize 4.17), and which a hostile build could have poisoned for them.
        self.cache_dir = cache_dir or root.parent / "envs-uv-cache"
        self._legacy_cache = root.parent / "uv-cache" if cache_dir is None else None
        self.base_python = base_python or _base_interpreter(default_python())
        self._locks: dict[str, asyncio.Lock] = {}

    async def environment_for(self, repo: Path, *, allow_unisolated: bool = False,
                              progress: Callable[[str], Awaitable[object]] | None = None,
                              ) -> Environment | None:
        """The environment for ``repo``, built if needed; None when it declares no dependencies
        (except in the packaged app, whose tests run on the machine's python3: there an environment
        with just the test tools is built, so generated tests never need pytest in the system Python)."""
        async def say(message: str) -> None:
            if progress is not None:
                await progress(message)

        declared = await asyncio.to_thread(declared_requirements, repo)
        if declared.needs_setup_py:
            await say("setup.py computes its dependencies: reading them in the sandbox (no network)…")
            declared = await self._ask_setup_py(repo, declared, allow_unisolated)
        env = await self._environment(declared, allow_unisolated, say)
        if not self.install_undeclared:
            return env
        added = await self._missing_imports(repo, env, allow_unisolated)
        if not added:
            return env
        more = Declared((*declared.requirements, *(a.distribution for a in added)),
                        (*declared.sources, "the repository's imports"), False, declared.own)
        await say("Declared nowhere, imported by the repository: " + "; ".join(a.why for a in added))
        try:
            with_added = await self._environment(more, allow_unisolated, say)
        except DependencyError as exc:  # a name the index does not have: the tests meet the missing module
            await say(f"Could not add {', '.join(a.distribution for a in added)}: {exc}")
            return env
        return replace(with_added, added=added) if with_added is not None else env

    async def _missing_imports(self, repo: Path, env: Environment | None, allow_unisolated: bool
                               ) -> tuple[Added, ...]:
        """What the repository imports, declares nowhere and the environment lacks; once per checkout state."""
        python = env.python if env is not None else default_python()
        key = (str(repo), python)
        state = await asyncio.to_thread(sources_state, repo)
        if (key, state) in self._undeclared:
            return self._undeclared[(key, state)]
        found = await missing_imports(repo, python, allow_unisolated=allow_unisolated)
        self._undeclared = {**{k: v for k, v in self._undeclared.items() if k[0] != key}, (key, state): found}
        return found

    async def _environment(self, declared: Declared, allow_unisolated: bool,
                           say: Callable[[str], Awaitable[None]]) -> Environment | None:
        if not declared.requirements and declared.own is None and not getattr(sys, "frozen", False):
            return None  # our own interpreter has pytest and coverage; the bundle's python3 may not

        wanted = checked(declared.requirements, declared.sources)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        digest = declared.digest(version)
        target = self.root / digest
        lock = self._locks.setdefault(digest, asyncio.Lock())
        async with lock:
            if (target / ".ready").exists():
                return Environment(str(target / "bin" / "python"), _site_packages(target), True, tuple(wanted))
            own = (f" and {declared.own[0]}'s own metadata (its code reads its installed version)"
                   if declared.own else "")
            await say(f"Installing {len(wanted)} declared requirement(s) from {', '.join(declared.sources)}{own} "
                      "with uv…" if wanted else f"Installing pytest and coverage for the tests{own} with uv…")
            started = asyncio.get_running_loop().time()
            await self._build(target, wanted, allow_unisolated, declared.own)
            took = asyncio.get_running_loop().time() - started
            return Environment(str(target / "bin" / "python"), _site_packages(target), False, tuple(wanted), took)

    async def _ask_setup_py(self, repo: Path, declared: Declared, allow_unisolated: bool) -> Declared:
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-setup-"))
        try:
            await asyncio.to_thread(_copy_tree, repo, scratch / "repo")
            result = await run_sandboxed(
                [self.base_python, "-c", SETUP_PROBE], python=self.base_python, cwd=scratch / "repo",
                limits=SandboxLimits(timeout_s=120, memory_mb=1024), env=clean_env(scratch),
                allow_unisolated=allow_unisolated,
            )
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        marker = re.search(r"^AIWEBTEST-DEPS (.*)$", result.stdout, re.MULTILINE)
        if result.returncode != 0 or marker is None:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise DependencyError(
                "The repository's setup.py failed while we read its dependencies (sandboxed, without "
                f"network or secrets): {' | '.join(tail)[-600:] or f'exit {result.returncode}'}"
            )
        seen = json.loads(marker.group(1))
        reqs = list(seen.get("install_requires") or [])
        for name in _TEST_EXTRAS:
            reqs += list((seen.get("extras") or {}).get(name) or [])
        return Declared(tuple(dict.fromkeys(reqs)), (*declared.sources, "setup.py"), False, declared.own)

    async def _build(self, target: Path, requirements: list[str], allow_unisolated: bool,
                     own: tuple[str, str] | None = None) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(self.cache_dir.mkdir, parents=True, exist_ok=True)
        if self._legacy_cache is not None:  # the shared cache of earlier versions: nobody reads it now
            await asyncio.to_thread(shutil.rmtree, self._legacy_cache, True)
            self._legacy_cache = None
        building = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=f".{target.name}-", dir=self.root))
        scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="aiwebtest-uv-"))
        try:
            await asyncio.to_thread((scratch / "requirements.txt").write_text,
                                    "\n".join([*TEST_TOOLS, *requirements]) + "\n")
            uv = uv_binary()
            env = clean_env(scratch, {
                "UV_CACHE_DIR": str(self.cache_dir), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1",
                "UV_LINK_MODE": "copy", "UV_NO_PROGRESS": "1",
                **{k: os.environ[k] for k in _INDEX_VARS if k in os.environ},
            })
            limits = SandboxLimits(timeout_s=900, memory_mb=4096, network=True, max_file_mb=2048)
            env_dir = building / "env"
            for argv in ([uv, "venv", "--quiet", "--python", self.base_python, str(env_dir)],
                         # Compiled at install: sandboxed runs never write bytecode, and compiling pytest and
                         # its imports again cost 0.45 s of each run's 0.75 s (0.31 s compiled).
                         [uv, "pip", "install", "--quiet", "--compile-bytecode",
                          "--python", str(env_dir / "bin" / "python"),
                          "-r", str(scratch / "requirements.txt")]):
                result = await run_sandboxed(
                    argv, python=self.base_python, cwd=scratch, limits=limits, env=env,
                    readable=[Path(uv).parent], writable=[building, self.cache_dir],
                    allow_unisolated=allow_unisolated,
                )
                if result.returncode != 0 or result.timed_out:
                    raise DependencyError(_install_failure(result.stderr or result.stdout, result.timed_out))
            if own is not None:
                await asyncio.to_thread(write_stub, _site_packages(env_dir), *own)
            await asyncio.to_thread(_finish, env_dir, target)
        finally:
            await asyncio.to_thread(shutil.rmtree, building, True)
            await asyncio.to_thread(shutil.rmtree, scratch, True)


def _finish(env_dir: Path, target: Path) -> None:
    """Move the built environment into place.

    Moving a venv breaks only its scripts' shebangs and activate files;
    we run ``python -m pytest`` / ``-m coverage``, never those.
    """
    if (target / ".ready").exists():
        return  # another process built the same set meanwhile, and may be using it: keep theirs
    if target.exists():
        shutil.rmtree(target)  # a half-made one from a crash
    env_dir.rename(target)
    (target / ".ready").touch()


def _install_failure(output: str, timed_out: bool) -> str:
    if timed_out:
        return "Installing the repository's dependencies took more than 15 minutes; check the package index."
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    because = next((line for line in lines if "because" in line or "not found" in line.lower()
                    or "No solution" in line), lines[-1] if lines else "uv failed without a message")
    return f"The repository's dependencies could not be installed: {because[:500]}"


def _site_packages(env: Path) -> Path:
    found = sorted(env.glob("lib/python*/site-packages"))
    return found[0] if found else env / "lib"


def _base_interpreter(python: str) -> str:
    """The real interpreter behind a venv's python (uv makes venvs from real ones)."""
    path = Path(python)
    resolved = shutil.which(python) if not path.is_absolute() else python
    return str(Path(resolved or python).resolve())


def uv_binary() -> str:
    """uv: the one in the PyInstaller bundle, else the uv package's, else on PATH."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen and (Path(frozen) / "bin" / "uv").exists():
        return str(Path(frozen) / "bin" / "uv")
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise DependencyError("uv is not installed; reinstall the app (it is one of its dependencies).") \
                from None
        return found


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "__pycache__"))
