"""Requirements a checkout declares only in built distribution metadata (``*.dist-info``, ``*.egg-info``).

A package laid out as its wheel unpacks (``pypara-0.1.1.dist-info/METADATA``
beside ``pypara/``) or an sdist with its ``*.egg-info`` carries its
dependencies there and nowhere else: no ``pyproject.toml`` dependencies,
no requirements file. Issue 27 measured ``No module named dateutil`` on
such a checkout where Pynguin alone, given the dependencies, kept 46 tests.
These files are read (never run) when nothing else declares: the
``Requires-Dist`` lines of METADATA (core metadata, an email-style header
block) and ``requires.txt`` (one requirement a line, ``[extra:marker]``
sections). Requirements for an extra count only for the test extras.
"""

from __future__ import annotations

from email.parser import HeaderParser
from pathlib import Path

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement

_SCAN_DEPTH = 2  # the repository's root and one level below (``src/pkg.egg-info``)
_LIMIT = 1_000_000  # bytes: metadata is small; a bigger file is not metadata


def metadata_requirements(repo: Path, test_extras: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(requirements, the files they came from, relative to ``repo``); blocking, reads a few small files."""
    found: list[str] = []
    sources: list[str] = []
    for folder in _metadata_folders(repo):
        if folder.suffix == ".dist-info":
            lines = _from_metadata(folder / "METADATA", test_extras)
            source = folder / "METADATA"
        else:
            lines = _from_requires_txt(folder / "requires.txt", test_extras)
            source = folder / "requires.txt"
        if lines:
            found += lines
            sources.append(str(source.relative_to(repo)))
    return list(dict.fromkeys(found)), sources


def _metadata_folders(repo: Path) -> list[Path]:
    out: list[Path] = []
    level = [repo]
    for _ in range(_SCAN_DEPTH):
        below: list[Path] = []
        for folder in level:
            try:
                children = sorted(folder.iterdir())
            except OSError:
                continue
            for child in children:
                if child.is_symlink() or not child.is_dir() or child.name.startswith("."):
                    continue
                if child.suffix in (".dist-info", ".egg-info"):
                    out.append(child)
                elif child.name not in ("node_modules", "venv", "site-packages", "__pycache__"):
                    below.append(child)
        level = below
    return out


def _read(path: Path) -> str | None:
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > _LIMIT:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _from_metadata(path: Path, test_extras: tuple[str, ...]) -> list[str]:
    text = _read(path)
    if text is None:
        return []
    headers = HeaderParser().parsestr(text, headersonly=True)
    out = []
    for line in headers.get_all("Requires-Dist") or []:
        kept = _kept(str(line), test_extras)
        if kept:
            out.append(kept)
    return out


def _from_requires_txt(path: Path, test_extras: tuple[str, ...]) -> list[str]:
    text = _read(path)
    if text is None:
        return []
    out: list[str] = []
    section: str | None = None  # None: the base requirements
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            section = extra.strip()
            if marker.strip():
                line_marker = marker.strip()
                section = f"{section}\0{line_marker}"
            continue
        extra, _, marker = (section or "").partition("\0")
        if extra and extra not in test_extras:
            continue
        kept = _kept(f"{line}; {marker}" if marker else line, test_extras)
        if kept:
            out.append(kept)
    return out


def _kept(text: str, test_extras: tuple[str, ...]) -> str | None:
    """The requirement without an ``extra ==`` marker, if it applies to the base install or a test extra."""
    try:
        req = Requirement(text)
    except (InvalidRequirement, InvalidMarker):
        return None
    if req.marker is not None and "extra" in str(req.marker):
        if not any(req.marker.evaluate({"extra": e}) for e in test_extras):
            return None
        req.marker = None  # the extra's condition is met: what is left would be evaluated without it
    return str(req)
