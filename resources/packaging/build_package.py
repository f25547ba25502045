"""``make package``: the PyInstaller bundle and a .deb that puts it in the desktop's menu.

    python resources/packaging/build_package.py [--out dist] [--deb-compression gzip|xz|none]

Steps: ``pyinstaller build.spec``; the glibc floor of every ELF file in the
bundle (the newest ``GLIBC_x.y`` symbol version any of them needs: the
oldest glibc the bundle runs on), written to ``BUILD-INFO.txt`` in the
bundle and into the .deb's ``Depends: libc6 (>= x.y)``; then the .deb:
the bundle under ``/opt/aiwebtest``, ``/usr/bin/aiwebtest``, the
``.desktop`` entry and the icon in every size. Prints the sizes and the
floor. Runs with the project's venv (PyInstaller installed in it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
NAME = "aiwebtest"
# What the bundle needs from the machine: sandbox, Qt's X11 libraries, a Python for the tests'
# environments (uv builds them from it), Chromium for browser tests.
DEB_DEPENDS = [
    "python3 (>= 3.10)", "bubblewrap", "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xinerama0", "libxcb-xkb1",
    "libxkbcommon-x11-0", "libgl1", "libegl1", "libfontconfig1", "libdbus-1-3",
]
DEB_RECOMMENDS = ["chromium", "git"]


def version() -> str:
    sys.path.insert(0, str(ROOT))
    from app import __version__

    return __version__


def build_bundle(out: Path, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--workpath", str(work), "--distpath", str(out), str(ROOT / "build.spec")],
                   cwd=ROOT, check=True)
    return out / NAME


def _elf_files(folder: Path) -> list[Path]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def glibc_floor(bundle: Path) -> tuple[str, str]:
    """The newest GLIBC_ version any ELF file needs, and which file needs it."""
    best, who = (0,), ""
    for path in _elf_files(bundle):
        done = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True)
        for match in set(re.findall(r"GLIBC_(\d+(?:\.\d+)+)", done.stdout)):
            key = tuple(int(p) for p in match.split("."))
            if key > best:
                best, who = key, str(path.relative_to(bundle))
    return ".".join(map(str, best)), who


def build_deb(bundle: Path, out: Path, floor: str, compression: str) -> Path:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    root = out / "deb-root"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(bundle, root / "opt" / NAME, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / NAME).symlink_to(f"/opt/{NAME}/{NAME}")
    apps = root / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    shutil.copy(HERE / "aiwebtest.desktop", apps / "aiwebtest.desktop")
    icons = root / "usr" / "share" / "icons" / "hicolor"
    for size in (48, 64, 128, 256):
        target = icons / f"{size}x{size}" / "apps"
        target.mkdir(parents=True)
        shutil.copy(ROOT / "resources" / "icons" / f"aiwebtest-{size}.png", target / "aiwebtest.png")
    (icons / "scalable" / "apps").mkdir(parents=True)
    shutil.copy(ROOT / "resources" / "icons" / "aiwebtest.svg", icons / "scalable" / "apps" / "aiwebtest.svg")
    size_kb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text(
        f"Package: {NAME}\nVersion: {version()}\nArchitecture: {arch}\nSection: devel\nPriority: optional\n"
        f"Maintainer: AI Web Test team <aiwebtest@localhost>\nInstalled-Size: {size_kb}\n"
        f"Depends: libc6 (>= {floor}), {', '.join(DEB_DEPENDS)}\nRecommends: {', '.join(DEB_RECOMMENDS)}\n"
        "Description: AI Web Test Control Center\n"
        " A desktop control center that generates pytest tests for a Python repository with a\n"
        " multi-agent system, runs them through a three-tier execution engine, and shows the\n"
        " coverage, tokens and cost. Bundles PostgreSQL 18 with pgvector and Redis.\n")
    deb = out / f"{NAME}_{version()}_{arch}.deb"
    level = ["-z1"] if compression == "gzip" else []
    subprocess.run(["dpkg-deb", "--root-owner-group", f"-Z{compression}", *level, "--build", str(root), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(root)
    return deb


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--deb-compression", choices=("gzip", "xz", "zstd", "none"), default="gzip")
    parser.add_argument("--no-deb", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    bundle = build_bundle(args.out.resolve(), args.work.resolve())
    floor, who = glibc_floor(bundle)
    (bundle / "BUILD-INFO.txt").write_text(
        f"aiwebtest {version()}\nbuilt {time.strftime('%Y-%m-%d %H:%M:%S %Z')} on "
        f"{os.uname().sysname} {os.uname().machine}, Python {sys.version.split()[0]}\n"
        f"glibc floor: {floor} (the newest glibc symbol version needed, by {who}); "
        f"the bundle runs on Linux with glibc {floor} or newer\n")
    print(f"bundle: {bundle} ({folder_mb(bundle):.0f} MB); glibc floor {floor} (needed by {who})")
    if not args.no_deb:
        if shutil.which("dpkg-deb") is None:
            print("no .deb: dpkg-deb is not installed (Debian's dpkg)", file=sys.stderr)
            return 1
        deb = build_deb(bundle, args.out.resolve(), floor, args.deb_compression)
        print(f"deb: {deb} ({deb.stat().st_size / 2**20:.0f} MB, {args.deb_compression})")
    print(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
