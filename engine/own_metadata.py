"""The repository's own distribution name, when its code reads its own installed metadata.

``humanize`` 4.9.0 starts with ``__version__ = importlib.metadata.version("humanize")``:
checked out and not installed, every import of it raised
``PackageNotFoundError`` and Pynguin produced no test at all (tried as a
user, a fresh clone, the default route). Installing the checkout would run
its build backend (hatch-vcs wants a tagged git history); what the import
needs is only the metadata. So, when a top-level package of the checkout
reads its own metadata, the repository's environment gets a minimal
``<name>-<version>.dist-info`` (engine/repo_env.py): its name and version
from ``pyproject.toml`` or ``setup.cfg``, ``0`` when the version is dynamic.
Read, never run; a name that is not a valid distribution name is ignored.
"""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

_READS_METADATA = re.compile(r"importlib[._]metadata|pkg_resources|importlib_metadata")
_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]*$")
_LIMIT = 200_000  # bytes of an __init__.py worth reading


def own_distribution(repo: Path) -> tuple[str, str] | None:
    """(name, version) to write as installed metadata, or None when no package of the checkout reads its own."""
    named = _declared_name(repo)
    if named is None or not _reads_own_metadata(repo):
        return None
    return named


def _declared_name(repo: Path) -> tuple[str, str] | None:
    name = version = None
    pyproject = repo / "pyproject.toml"
    try:
        if pyproject.is_file():
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project") or {}
            name, version = project.get("name"), project.get("version")
        if name is None and (repo / "setup.cfg").is_file():
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string((repo / "setup.cfg").read_text(encoding="utf-8"))
            name = parser.get("metadata", "name", fallback=None)
            version = parser.get("metadata", "version", fallback=None)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, configparser.Error):
        return None
    if not isinstance(name, str) or not _NAME.match(name):
        return None
    if not isinstance(version, str) or not _VERSION.match(version):
        version = "0"
    return name, version


def _reads_own_metadata(repo: Path) -> bool:
    for root in (repo, repo / "src"):
        try:
            inits = sorted(root.glob("*/__init__.py"))
        except OSError:
            continue
        for init in inits:
            try:
                if init.is_symlink() or init.stat().st_size > _LIMIT:
                    continue
                if _READS_METADATA.search(init.read_text(encoding="utf-8", errors="replace")):
                    return True
            except OSError:
                continue
    return False


def write_stub(site_packages: Path, name: str, version: str) -> None:
    """A minimal installed-distribution record: what ``importlib.metadata.version(name)`` reads."""
    folder = site_packages / f"{re.sub(r'[-_.]+', '_', name)}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (folder / "INSTALLER").write_text("aiwebtest\n", encoding="utf-8")
