"""``aiwebtest``: the GUI by default, plus ``serve``, ``migrate`` and ``services status``.

Every command reports user errors (``AppError``) as one readable message
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from app import __version__
from app.config import Config, load_config
from app.core import AppCore
from app.logs import setup_logging
from app.migrations import migrate
from app.services import ServiceManager
from app.worker_probe import ProbeFiles
from engine import isolation
from engine.errors import AppError, ConfigError
from engine.generate_request import DEFAULT_REQUEST_FIELDS as DEFAULTS
from engine.generate_request import WAIT_TIMEOUT_S

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
    gen = sub.add_parser("generate", help="generate tests for a repository, printing progress per agent step")
    gen.add_argument("--repo", required=True, help="a folder or a git URL")
    gen.add_argument("--files", default="", help="comma-separated target files, relative to the repository; "
                     "'*' or none: every module without tests, the search budget split by what is left to cover")
    gen.add_argument("--coverage-target", type=float, default=DEFAULTS["coverage_target"])
    gen.add_argument("--requirements", default="", help="what matters to you, in words")
    gen.add_argument("--conversation-id", help="continue an earlier request's conversation")
    gen.add_argument("--strategy", choices=("llm", "search"), help="default: llm with a model, else search")
    gen.add_argument("--max-rounds", type=int, default=DEFAULTS["max_rounds"])
    gen.add_argument("--even-if-met", action="store_true",
                     help="generate even when the existing tests already reach the target")
    gen.add_argument("--search-time", type=int, default=DEFAULTS["search_time_s"], help="search budget in seconds for the whole request, shared by its files (5-600)")
    route = gen.add_mutually_exclusive_group()
    route.add_argument("--agents", dest="use_agents", action="store_const", const=True,
                       help="use the agents whatever the rollout says")
    route.add_argument("--phase2", dest="use_agents", action="store_const", const=False,
                       help="use the Phase 2 single-shot path")
    gen.add_argument("--no-mutation", action="store_true",
                     help="skip the kept tests' mutation score (it takes a fifth of the search time, 15-120 s)")
    gen.add_argument("--json", action="store_true", help="print the v2 result as JSON")
    gen.add_argument("--write", action="store_true", help="write the test files into the repository (never overwrites)")
    gen.add_argument("--timeout", type=float, default=WAIT_TIMEOUT_S, help="seconds to wait for the result")
    worker = sub.add_parser("worker", help="run only some agents against the shared PostgreSQL and Redis")
    worker.add_argument("--agents", required=True, help="comma list, e.g. evolution,analysis; or none")
    worker.add_argument("--agent-class", action="append", default=[], metavar="MODULE:CLASS",
                        help="also run an agent of your own (an object with agent_type, capabilities, priority "
                             "and async handle(ctx)); its tasks go to the stream named after its agent_type")
    worker.add_argument("--probe-dir", type=Path, metavar="DIR",
                        help="keep DIR/ready (every agent registered, heartbeat fresh) and DIR/alive (the loop "
                             "turns) for container probes: python -m app.probe_file DIR/ready 15")
    sub.add_parser("api-token", help="print the REST API's bearer token (made on first use)")
    diagnostics = sub.add_parser("diagnostics", help="write a zip of logs, versions, services and settings, "
                                                     "with every secret removed, for a bug report")
    diagnostics.add_argument("-o", "--output", type=Path, help="the zip to write (default: a dated name here)")
    services = sub.add_parser("services", help="embedded server commands")
    services_sub = services.add_subparsers(dest="services_command", required=True)
    services_sub.add_parser("status", help="print what runs where and how to connect by hand")
    # Frozen builds cannot run "python -m app.services_watchdog"; the watchdog comes in here.
    watchdog = services_sub.add_parser("watchdog")
    watchdog.add_argument("data_dir")
    watchdog.add_argument("which")
    return parser


GuiRunner = Callable[..., int]


def main(argv: Sequence[str] | None = None, *, gui: GuiRunner | None = None) -> int:
    """Runs one command; with none, the window through ``gui`` (given by ``ui.entry``, the console script)."""
    args = build_parser().parse_args(argv)
    if args.command == "services" and getattr(args, "services_command", None) == "watchdog":
        # It forks and detaches with no output: no log thread of ours may cross that fork.
        from app.services_watchdog import main as watchdog_main

        return watchdog_main([args.data_dir, args.which])
    setup_logging(verbose=args.verbose)
    logging.getLogger("aiwebtest").info("aiwebtest %s: %s", __version__, " ".join(sys.argv[1:]) or "gui")
    try:
        overrides = {}
        if getattr(args, "port", None) is not None:
            overrides["aiwebtest_api_port"] = args.port
        config = load_config(**overrides)
        if args.command == "serve":
            return asyncio.run(_serve(config))
        if args.command == "migrate":
            return asyncio.run(_migrate(config))
        if args.command == "generate":
            from app.generate_cli import run_generate

            return asyncio.run(run_generate(config, args))
        if args.command == "worker":
            config = load_config(aiwebtest_agents=args.agents, **overrides)
            extra = [_load_agent(spec) for spec in args.agent_class]
            names = ",".join([config.aiwebtest_agents, *(a.agent_type for a in extra)])
            return asyncio.run(_serve(config, api=False, label=f"worker ({names})", extra_agents=extra,
                                      probe_dir=args.probe_dir))
        if args.command == "diagnostics":
            from app.diagnostics import default_name, export

            try:
                written = asyncio.run(export(config, (args.output or Path(default_name())).resolve()))
            except OSError as exc:
                raise AppError(f"diagnostics: cannot write {exc.filename or args.output}: {exc.strerror}; "
                               "give -o a writable path") from None
            print(f"diagnostics written to {written} (secrets removed; look inside before you send it)")
            return 0
        if args.command == "api-token":
            print(config.api_token())
            return 0
        if args.command == "services":
            return asyncio.run(_services_status(config))
        if gui is None:
            raise AppError("the window is started by the aiwebtest command (python -m ui.entry); "
                           "python -m app.cli runs the other commands: serve, worker, generate, ...")
        return gui(config, smoke=args.smoke, screenshots=args.screenshots)
    except ConfigError as exc:
        print(f"aiwebtest: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AppError as exc:
        print(f"aiwebtest: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ImportError as exc:
        # An incomplete install (a dependency missing or broken): say which, never a traceback.
        missing = getattr(exc, "name", None) or str(exc)
        logging.getLogger("aiwebtest").error("cannot start: %s", exc)
        print(f"aiwebtest: cannot start: the module {missing!r} is missing or broken ({exc}). The "
              "installation is incomplete: reinstall aiwebtest (make setup, or pip install --force-reinstall "
              "aiwebtest).", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _load_agent(spec: str) -> Any:
    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"--agent-class {spec}: cannot load it ({exc}); give MODULE:CLASS, "
                          "importable from the current folder") from None
    return cls()


async def _serve(config: Config, *, api: bool = True, label: str = "serving", extra_agents: list[Any] | None = None,
                 probe_dir: Path | None = None) -> int:
    """Until SIGINT or SIGTERM. Stopping: unready first (``probe_dir``), then the host's shutdown drains the
    running tasks (30 s), cancels what is left (its leases are handed back and another worker takes it over), and
    marks each agent shutting down and drops its heartbeat."""
    core = AppCore(config, serve_api=api, extra_agents=extra_agents)
    probes: ProbeFiles | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await core.start(progress=lambda msg: logging.getLogger("aiwebtest").info(msg))
        ep = core.endpoints
        assert ep is not None
        agents = ",".join([*core.agent_types, *(a.agent_type for a in core.extra_agents)]) or "none"
        print(
            f"aiwebtest {label}: postgres {ep.postgres_mode} {ep.postgres_where}; "
            f"redis {ep.redis_mode} {ep.redis_where}; api {core.api.url if core.api else '-'}; "
            f"agents {agents}. SIGINT or SIGTERM stops.",
            flush=True,
        )
        if probe_dir is not None and core.agents is not None:
            probes = ProbeFiles(probe_dir, core.agents.workers)
            probes.start()
        await stop.wait()
        print("aiwebtest: shutting down", flush=True)
        if probes is not None:
            await probes.stop_taking_work()
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
    manager = ServiceManager(config)
    rows = await manager.status()
    print(f"{'service':<9}{'mode':<10}{'state':<12}{'pid':<12}where")
    for row in rows:
        print(row.line())
    print(f"data dir: {config.data_dir}")
    sandbox = await asyncio.to_thread(isolation.probe)
    if sandbox.available:
        print(f"sandbox: {sandbox.summary()}")
    else:
        print(f"sandbox: UNAVAILABLE: {sandbox.detail}; repository code is refused unless "
              "execution_settings.allow_unisolated is on (Settings)")
    print(f"vectors: {await _vectors_line(config)}")
    print(f"stagehand: {_stagehand_line(config)}")
    hints = manager.connect_hints()
    if hints:
        print("connect by hand (only this user can; the passwords are in the data dir's secrets/ folder):")
        for hint in hints:
            print(f"  {hint}")
    return 0


def _stagehand_line(config: Config) -> str:
    """Where Stagehand's browser would run, and when it is used (execution_settings.browser_backend)."""
    where = config.stagehand.where
    if config.stagehand_api_key:
        return f"{where}, STAGEHAND_API_KEY set: heals browser tests unless Settings' browser backend is 'ours'"
    return f"{where} (STAGEHAND_API_KEY unset): used when Settings' browser backend is 'stagehand'"


async def _vectors_line(config: Config) -> str:
    """Where working memory's vectors live, and whether that store answers now (the health view's probe)."""
    if not config.vector_db_url:
        return "pgvector in PostgreSQL (VECTOR_DB_URL unset)"
    from agents.vector_store import QdrantStore
    from app.health import probe_vectors

    key = config.vector_db_api_key.get_secret_value() if config.vector_db_api_key else None
    store = QdrantStore(config.vector_db_url, api_key=key)
    try:
        found = await probe_vectors(store.where, store.ping(), 5)
    finally:
        await store.close()
    if found.up:
        return f"Qdrant at {store.where}: answers ({found.latency_ms:.0f} ms)"
    return (f"Qdrant at {store.where}: DOES NOT ANSWER ({found.error}); generation goes on without recall "
            "until it does")


if __name__ == "__main__":
    sys.exit(main())
