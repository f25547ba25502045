"""``aiwebtest diagnostics``: the zip holds logs, versions, services and settings, and no secret."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import keyring
import pytest

from app import diagnostics, logs
from app.services import ServiceManager
from tests.conftest import make_config
from tests.helpers.pg import migrate_database, server_processes

ROOT = Path(__file__).parents[2]
API_KEY = "sk-live-0123456789abcdefDIAG"
KEYRING_KEY = "sk-from-the-keyring-9876543210"
STAGEHAND_KEY = "stagehand-key-ABCDEF123456"


def all_text(zip_path: Path) -> str:
    with zipfile.ZipFile(zip_path) as archive:
        return "\n".join(archive.read(name).decode("utf-8", errors="replace") for name in archive.namelist())


def test_redactor_masks_known_values_and_credential_shapes() -> None:
    redact = diagnostics.Redactor()
    redact.add("my-known-secret-value")
    text = redact("key my-known-secret-value; Authorization: Bearer abc.DEF-123_xyz; sk-abcdefghijklmn; "
                  "postgresql://postgres:hunter2hunter2@/db?host=/x; requirepass \"s3cr3tpass\"; token=abcd1234")
    for leaked in ("my-known-secret-value", "abc.DEF-123_xyz", "sk-abcdefghijklmn", "hunter2hunter2",
                   "s3cr3tpass", "abcd1234"):
        assert leaked not in text
    assert "postgresql://postgres:[REDACTED]@/db?host=/x" in text
    assert "Bearer [REDACTED]" in text


@pytest.mark.slow
async def test_the_zip_has_what_a_report_needs_and_no_secret(data_dir: Path, tmp_path: Path,
                                                            monkeypatch, memory_keyring) -> None:
    monkeypatch.setenv("AIWEBTEST_LOG_DIR", str(tmp_path / "log"))
    keyring.set_password("aiwebtest", "llm_api_key", KEYRING_KEY)
    config = make_config(data_dir, llm_api_key=API_KEY, stagehand_api_key=STAGEHAND_KEY)
    manager = ServiceManager(config)
    endpoints = await manager.start()  # servers with logs of their own, and their passwords in DATA/secrets
    await migrate_database(endpoints.postgres_url)
    token = config.api_token()
    try:
        logs.setup_logging()
        # The worst case: a secret that made it into a log line anyway.
        logging.getLogger("aiwebtest.test").warning("calling with key %s and token %s", API_KEY, token)
        logs.stop_logging()
        written = await diagnostics.export(config, tmp_path / "out" / "diag.zip")
    finally:
        await manager.stop()
    with zipfile.ZipFile(written) as archive:
        names = archive.namelist()
    assert {"versions.txt", "services.txt", "settings.json", "README.txt", "logs/app/aiwebtest.log",
            "logs/redis/redis.log"} <= set(names)
    assert any(n.startswith("logs/postgres/postgresql-") for n in names), names  # the collector's own files
    text = all_text(written)
    assert "rollout_mode" in text and "fallback_strategy" in text  # system_config and execution_settings
    assert "calling with key [REDACTED] and token [REDACTED]" in text
    secrets = [API_KEY, KEYRING_KEY, STAGEHAND_KEY, token]
    secrets += [p.read_text().strip() for p in (data_dir / "secrets").iterdir()]
    assert len(secrets) >= 6
    for secret in secrets:
        assert secret not in text, f"a secret ({secret[:4]}…) is in the zip"
    assert not list((tmp_path / "out").glob(".*.part"))


@pytest.mark.slow
def test_cli_writes_the_zip_and_says_where(data_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(data_dir), "AIWEBTEST_LOG_DIR": str(tmp_path / "log"),
           "LLM_API_KEY": API_KEY}
    target = tmp_path / "d.zip"
    done = subprocess.run([sys.executable, "-m", "app.cli", "diagnostics", "-o", str(target)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"diagnostics written to {target}" in done.stdout
    text = all_text(target)
    assert API_KEY not in text and "llm_api_key" in text and "(set)" in text
    assert server_processes(data_dir) == []  # it started the servers to read settings, and stopped them


def test_a_folder_or_an_unwritable_path_is_handled(tmp_path: Path) -> None:
    parts = {"versions.txt": "x\n"}
    written = diagnostics.write_zip(tmp_path, parts, {}, diagnostics.Redactor())
    assert written.parent == tmp_path and written.name.startswith("aiwebtest-diagnostics-")
    env = {**os.environ, "AIWEBTEST_DATA_DIR": str(tmp_path / "d"), "AIWEBTEST_LOG_DIR": str(tmp_path / "log")}
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    done = subprocess.run([sys.executable, "-m", "app.cli", "diagnostics", "-o", str(blocker / "x.zip")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1 and "give -o a writable path" in done.stderr and "Traceback" not in done.stderr
