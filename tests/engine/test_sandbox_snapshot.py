"""The snapshot a root app's sandbox reads a private repository through (engine/sandbox_snapshot.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from engine import sandbox_snapshot

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="snapshots are made only by an app running as root "
                                                         "(as a normal user the sandbox reads the user's files)")
GID = 4242  # any group: the test reads ownership, not access


def _readable_by_others(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = Path(dirpath, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
                found.append(str(path))
    return found


@pytest.fixture
def private(tmp_path: Path) -> Path:
    repo = tmp_path / "private"
    (repo / "pkg").mkdir(parents=True)
    os.chmod(repo, 0o700)
    (repo / "pkg" / "mod.py").write_text("A = 1\n")
    (repo / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(repo / "run.sh", 0o700)
    (repo / "secret-link").symlink_to("/etc/shadow")
    os.mkfifo(repo / "pipe")
    (repo / ".venv" / "lib").mkdir(parents=True)
    (repo / ".venv" / "lib" / "big.so").write_text("never run by the app")
    return repo


def test_a_private_folder_is_copied_for_the_sandbox_group_only(private: Path) -> None:
    assert not sandbox_snapshot.open_to_others(private)
    snapshot = sandbox_snapshot.snapshot_for(private, GID)
    try:
        assert (snapshot / "pkg" / "mod.py").read_text() == "A = 1\n"
        assert os.stat(snapshot / "pkg" / "mod.py").st_gid == GID
        assert stat.S_IMODE(os.stat(snapshot / "run.sh").st_mode) == 0o750  # still executable by the group
        assert os.readlink(snapshot / "secret-link") == "/etc/shadow"  # a link, never the file it names
        assert not (snapshot / "pipe").exists()
        assert not (snapshot / ".venv").exists()  # never run by the app: not copied
        assert _readable_by_others(sandbox_snapshot.snapshots_root()) == []
    finally:
        sandbox_snapshot.remove_made()
    assert not snapshot.exists() and not snapshot.with_suffix(".json").exists()


def test_the_snapshot_follows_the_repository_between_runs(private: Path) -> None:
    first = sandbox_snapshot.snapshot_for(private, GID)
    try:
        (private / "pkg" / "mod.py").write_text("A = 2  # edited\n")
        (private / "pkg" / "new.py").write_text("B = 3\n")
        (private / "run.sh").unlink()
        (private / "pkg" / "sub").mkdir()
        again = sandbox_snapshot.snapshot_for(private, GID)
        assert again == first
        assert (again / "pkg" / "mod.py").read_text() == "A = 2  # edited\n"
        assert (again / "pkg" / "new.py").read_text() == "B = 3\n"
        assert not (again / "run.sh").exists()
        assert (again / "pkg" / "sub").is_dir()
    finally:
        sandbox_snapshot.remove_made()


def test_a_snapshot_left_by_a_killed_process_is_removed_by_the_next(private: Path) -> None:
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid now names no process
    root = sandbox_snapshot.snapshots_root()
    orphan = root / f"0123456789abcdef-{gone.pid}"
    (orphan / "pkg").mkdir(parents=True)
    orphan.with_suffix(".json").write_text("{}")
    try:
        mine = sandbox_snapshot.snapshot_for(private, GID)
        assert not orphan.exists() and not orphan.with_suffix(".json").exists()
        assert mine.name.endswith(f"-{os.getpid()}")  # one per process: another's exit cannot empty it
    finally:
        sandbox_snapshot.remove_made()


def test_a_folder_open_to_everyone_needs_no_snapshot(tmp_path: Path) -> None:
    repo = tmp_path / "open"
    repo.mkdir()
    os.chmod(repo, 0o755)
    (repo / "mod.py").write_text("A = 1\n")
    os.chmod(repo / "mod.py", 0o644)
    assert sandbox_snapshot.open_to_others(repo)
    os.chmod(repo / "mod.py", 0o600)  # one private file is enough to need a copy
    assert not sandbox_snapshot.open_to_others(repo)


async def test_generation_on_a_repository_in_an_owner_only_folder_completes(tmp_path: Path, v2_client,
                                                                            generation) -> None:
    """As root, any ``mktemp -d`` repository was refused with "chmod -R o+rX" (issue 26)."""
    import asyncio
    import subprocess

    repo = tmp_path / "mine"
    repo.mkdir()
    (repo / "lib.py").write_text("def grade(score):\n    if score >= 90:\n        return 'A'\n    return 'B'\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["chmod", "-R", "go-rwx", str(repo)], check=True)
    body = {"repository_url": str(repo), "target_files": ["lib.py"], "coverage_target": 0.8,
            "search_time_s": 5, "mutation_score": False, "use_agents": False}
    answer = await v2_client.post("/api/v1/tests/generate", json=body)
    assert answer.status_code in (200, 202), answer.text
    task_id = answer.json()["task_id"]
    for _ in range(240):
        state = (await v2_client.get(f"/api/v2/tests/generate/{task_id}")).json()
        if state["status"] in ("completed", "failed"):
            break
        await asyncio.sleep(0.5)
    assert state["status"] == "completed", state
    assert state["result"]["repository"] == str(repo)  # Save and Run point at the user's folder, not the copy
    log = await generation.run_log(task_id)
    assert log.count("readable by its owner only") == 1, log
    assert stat.S_IMODE(os.stat(repo).st_mode) == 0o700  # the user's folder is as it was
    assert _readable_by_others(sandbox_snapshot.snapshots_root()) == []
