"""``aiwebtest``: the GUI by default, plus ``serve``, ``migrate`` and ``services status``.

Every command reports user errors (``AppError``) as one readable message
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import asyncpg

from app import __version__
from app.config import Config, load_config
from app.core import AppCore
from app.errors import AppError, ConfigError
from app.migrations import migrate
from app.services import ServiceManager

EXIT_ERROR = 1
EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiwebtest", description="AI Web Test Control Center: generate, run and heal pytest tests."
    )
    parser.add_argument("--version", action="version", version=f"aiwebtest {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument(
        "--smoke", action="store_true",
        help="start everything with the window offscreen, wait until healthy, print figures, exit",
    )
    parser.add_argument("--screenshots", type=Path, metavar="DIR", help="write a PNG of each panel to DIR and exit")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run services without a window until SIGINT/SIGTERM")
    serve.add_argument("--port", type=int, help="API port (default from AIWEBTEST_API_PORT, else 8000)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    services = sub.add_parser("services", help="embedded server commands")
    services_sub = services.add_subparsers(dest="services_command", required=True)
    services_sub.add_parser("status", help="print what runs where")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        overrides = {}
        if getattr(args, "port", None) is not None:
            overrides["aiwebtest_api_port"] = args.port
        config = load_config(**overrides)
        if args.command == "serve":
            return asyncio.run(_serve(config))
        if args.command == "migrate":
            return asyncio.run(_migrate(config))
        if args.command == "services":
            return asyncio.run(_services_status(config))
        from ui.gui_app import run_gui  # Qt is imported only for the GUI

        return run_gui(config, smoke=args.smoke, screenshots=args.screenshots)
    except ConfigError as exc:
        print(f"aiwebtest: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AppError as exc:
        print(f"aiwebtest: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


async def _serve(config: Config) -> int:
    core = AppCore(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await core.start(progress=lambda msg: logging.getLogger("aiwebtest").info(msg))
        ep = core.endpoints
        assert ep is not None
        print(
            f"aiwebtest serving: postgres {ep.postgres_mode} {ep.postgres_where}; "
            f"redis {ep.redis_mode} {ep.redis_where}; api {core.api.url if core.api else '-'}. "
            "SIGINT or SIGTERM stops.",
            flush=True,
        )
        await stop.wait()
        print("aiwebtest: shutting down", flush=True)
        return 0
    finally:
        await core.shutdown()


async def _migrate(config: Config) -> int:
    services = ServiceManager(config)
    endpoints = await services.start()
    try:
        conn = await asyncpg.connect(endpoints.postgres_url)
        try:
            applied = await migrate(conn)
        finally:
            await conn.close()
    finally:
        await services.stop()
    if applied:
        print("applied: " + ", ".join(applied))
    else:
        print("database is up to date")
    return 0


async def _services_status(config: Config) -> int:
    rows = await ServiceManager(config).status()
    print(f"{'service':<9}{'mode':<10}{'state':<12}{'pid':<12}where")
    for row in rows:
        print(row.line())
    print(f"data dir: {config.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
