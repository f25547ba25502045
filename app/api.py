"""The REST API (v1: Phase 2 execution and settings). OpenAPI at ``/openapi.json``.

Bad input is always a 4xx whose body names the field and the reason:

    {"detail": "test_code: line 1, column 14: invalid syntax",
     "errors": [{"field": "test_code", "reason": "line 1, column 14: invalid syntax"}]}

Invalid JSON is 400; a well-formed body with bad values is 422; an unknown
execution id is 404. A 500 means a bug of ours, never bad input.

A store that is restarting or away is a 503 with ``Retry-After``, never a
500: each request retries its store calls for ``API_BUDGET_S`` (a context
variable set by ``RetryBudget``), then answers 503 rather than hang.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from agents import registry
from agents.store_retry import API_BUDGET_S, TRANSIENT_TYPES, is_transient, retry_budget
from app import __version__, outcome
from app.api_guard import ApiGuard
from app.generation import GenerationService
from app.health import HealthReport
from app.metrics_export import CONTENT_TYPE, HttpMetrics, exposition
from engine import settings_store, store
from engine.engine import ExecuteRequest, ExecutionEngine
from engine.errors import AppError
from engine.execution import execution_json
from engine.generate_request import GenerateRequest, problem_of
from engine.healing import find_test_names
from engine.python_source import check_syntax
from engine.settings_store import ExecutionSettings, SettingsUpdate, Strategy
from engine.text_input import RelativePath, Text

log = logging.getLogger(__name__)

MAX_BIGINT = 2**63 - 1  # executions.id is BIGSERIAL
TASK_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"  # ids we hand out: task-<hex>, p2-<hex>
RETRY_AFTER_S = 5


class RetryBudget:
    """ASGI middleware: store calls made for a request retry for ``API_BUDGET_S`` at most, not the
    minute an agent waits, so a caller hears 503 soon instead of hanging."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with retry_budget(API_BUDGET_S):
            await self.app(scope, receive, send)


class ExecuteBody(BaseModel):
    """What to run. What JSON Schema can say is said (a test function's ``def test``, lengths, a
    repository for the target files); that the code parses is checked on arrival (422 with the line)."""

    model_config = ConfigDict(json_schema_extra={"dependentRequired": {"target_files": ["repository_path"]}})

    test_code: Text = Field(max_length=1_000_000,
                            json_schema_extra={"minLength": 1, "pattern": r"(^|\n)[ \t]*(async[ \t]+)?def[ \t]+test"},
                            description="pytest source with at least one test function (def test...); it must parse",
                            examples=["def test_example():\n    assert 1 + 1 == 2\n"])
    execution_strategy: Strategy | None = Field(
        None, description="tier1_only | tier1_to_tier2 | tier1_to_tier2_to_tier3; default from settings"
    )
    repository_path: Text | None = Field(None, max_length=4096,
                                         description="folder of the code under test, for imports and coverage")
    target_files: list[RelativePath] = Field(default_factory=list, max_length=500,
                                             description="files, relative to repository_path, to measure")
    each_test_alone: bool = Field(False, description="run each test in a process of its own, forked after "
                                                     "collection: a test that passes only after another fails")


class InputError(Exception):
    def __init__(self, field: str, reason: str, status: int = 422) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.status = field, reason, status


def _error(status: int, errors: list[dict[str, str]]) -> JSONResponse:
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return JSONResponse(status_code=status, content={"detail": detail, "errors": errors})


class V1GenerateBody(GenerateRequest):
    """The v1 body: the request plus the caller's choice of route."""

    use_agents: bool | None = Field(None, description="true: agents (v2); false: Phase 2; absent: the rollout decides")


def create_api(engine: ExecutionEngine, pool: asyncpg.Pool, generation: GenerationService | None = None,
               *, token: str, health_probe: Callable[[], Awaitable[HealthReport]] | None = None,
               allowed_hosts: frozenset[str] = frozenset()) -> FastAPI:
    """The API behind its guard: ``token`` is the bearer token every route but health needs.

    ``health_probe`` (``AppCore.health``) lets ``/api/health`` report each store; without it the
    route checks PostgreSQL only.
    """
    api = FastAPI(title="AI Web Test Control Center API", version=__version__)
    http_metrics = HttpMetrics()
    http_metrics.instrument(api)  # innermost: it sees the route template and the status the app chose
    api.add_middleware(RetryBudget)
    api.add_middleware(ApiGuard, token=token, allowed_hosts=allowed_hosts)

    @api.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        status = 422
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                status = 400
                errors.append({"field": "body", "reason": f"invalid JSON: {err.get('ctx', {}).get('error', err['msg'])}"})
                continue
            field, reason = problem_of(err)  # worded as the CLI and the window word it
            errors.append({"field": field, "reason": reason})
        return _error(status, errors)

    @api.exception_handler(InputError)
    async def on_input(_request: Request, exc: InputError) -> JSONResponse:
        return _error(exc.status, [{"field": exc.field, "reason": exc.reason}])

    @api.exception_handler(AppError)
    async def on_app_error(_request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc), "errors": []})

    @api.exception_handler(asyncpg.DataError)
    async def on_data_error(_request: Request, exc: asyncpg.DataError) -> JSONResponse:
        # A value the database cannot hold that validation let through: still the caller's input.
        log.warning("input reached the database and was refused: %s", exc)
        return _error(422, [{"field": "body", "reason": f"a value cannot be stored: {exc}"}])

    async def on_store_down(_request: Request, exc: Exception) -> JSONResponse:
        if not is_transient(exc):  # an InterfaceError that is a bug, not a restart
            log.error("unexpected %s: %s", type(exc).__name__, exc)
            return JSONResponse(status_code=500, content={"detail": f"internal error ({type(exc).__name__})",
                                                          "errors": []})
        store = "Redis" if type(exc).__module__.startswith("redis") else "the database"
        return JSONResponse(status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}, content={
            "detail": f"{store} is not answering ({type(exc).__name__}); it is being restarted or reconnected: "
                      f"try again in {RETRY_AFTER_S} s", "errors": []})

    for kind in (*TRANSIENT_TYPES, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError):
        api.add_exception_handler(kind, on_store_down)

    @api.post("/api/v1/execute")
    async def execute(body: ExecuteBody) -> dict[str, Any]:
        """Run a test through the tiers and answer with the result."""
        # Parsing the code and looking at the repository's path: off the loop (a body may be megabytes).
        request = await asyncio.to_thread(_validated, body)
        execution = await engine.execute(request)
        return execution_json(execution)

    @api.get("/api/v1/execution/{execution_id}/status")
    async def execution_status(
        execution_id: Annotated[int, PathParam(ge=1, le=MAX_BIGINT, description="an id from POST /api/v1/execute")],
    ) -> dict[str, Any]:
        row = await store.get_execution(pool, execution_id)
        if row is None:
            raise InputError("execution_id", f"no execution with id {execution_id}", status=404)
        return execution_json(row)

    @api.get("/api/v1/settings")
    async def get_settings() -> ExecutionSettings:
        return await settings_store.load(pool)

    @api.put("/api/v1/settings")
    async def put_settings(change: SettingsUpdate) -> ExecutionSettings:
        return await settings_store.update(pool, change)

    if generation is not None:
        _add_generation_routes(api, pool, generation)

    @api.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Prometheus' text format, behind the token like the rest (scrape with ``authorization``)."""
        return Response(await exposition(pool, http_metrics), media_type=CONTENT_TYPE)

    @api.get("/api/health")
    async def health() -> Any:
        """200 when every store answers; 503 with Retry-After and which store is down otherwise."""
        if health_probe is None:
            await pool.fetchval("SELECT 1")
            return {"status": "ok", "version": __version__}
        report = await health_probe()
        body = {"status": "ok" if report.all_up else "degraded", "version": __version__,
                "stores": {"postgres": report.postgres.as_json(), "redis": report.redis.as_json(),
                           **({"vectors": report.vectors.as_json()} if report.vectors else {})}}
        if report.all_up:
            return body
        return JSONResponse(status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}, content=body)

    return api


def _validated(body: ExecuteBody) -> ExecuteRequest:
    if not body.test_code.strip():
        raise InputError("test_code", "is empty; send pytest source with at least one test function")
    # Code that does not parse is a test that fails at tier 1 (a 200 whose status is "error", recorded like
    # any run; a model may repair it at tier 2), not a malformed request: JSON Schema cannot say "parses as
    # Python", and a 422 here made every body the OpenAPI document describes a refusal (issue 24).
    if check_syntax(body.test_code) is None and not find_test_names(body.test_code):
        raise InputError("test_code", "has no test function; pytest runs functions whose names start with 'test'")
    repository = None
    if body.repository_path:
        repository = Path(body.repository_path).expanduser()
        try:
            is_folder = repository.is_dir()
        except (OSError, ValueError) as exc:  # a name too long for the file system is the caller's input, not a 503
            raise InputError("repository_path", f"is not a folder on this machine: {getattr(exc, 'strerror', exc)}"
                             ) from None
        if not is_folder:
            raise InputError("repository_path", f"{body.repository_path[:200]} is not a folder on this machine")
    for name in body.target_files:
        if repository is None:
            raise InputError("target_files", "need repository_path to say where the files are")
        # Resolved, so a symlink in the repository cannot point the run outside it;
        # the same answer whether such a file exists or not.
        try:
            candidate = (repository / name).resolve()
            inside = candidate.is_relative_to(repository.resolve()) and candidate.is_file()
        except (OSError, ValueError):
            inside = False
        if not inside:
            raise InputError("target_files", f"{name[:200]} is not a file in {repository}")
    return ExecuteRequest(
        test_code=body.test_code,
        strategy=body.execution_strategy,
        repository=repository.resolve() if repository else None,
        target_files=tuple(body.target_files),
        each_alone=body.each_test_alone,
    )


def _add_generation_routes(api: FastAPI, pool: asyncpg.Pool, generation: GenerationService) -> None:
    async def submit(body: GenerateRequest, use_agents: bool | None) -> dict[str, Any]:
        request = GenerateRequest.model_validate(body.model_dump(exclude={"use_agents"}))
        return await generation.submit(request, use_agents=use_agents)

    @api.post("/api/v2/tests/generate")
    async def generate_v2(body: GenerateRequest) -> dict[str, Any]:
        """Agent-powered generation; poll GET /api/v2/tests/generate/{task_id}."""
        if generation.config.agents_killed:
            return JSONResponse(status_code=503, content={
                "detail": "agents are turned off by AGENTS_ENABLED=false (kill switch)", "errors": []})
        return await submit(body, use_agents=True)

    @api.get("/api/v2/tests/generate/{task_id}")
    async def generation_status(
        task_id: Annotated[str, PathParam(max_length=100, pattern=TASK_ID_PATTERN,
                                          description="the task_id from POST /api/v2/tests/generate")],
    ) -> dict[str, Any]:
        state = await generation.status(task_id)
        if state is None:
            raise InputError("task_id", f"no generation request {task_id}", status=404)
        # ``status`` is the task's (the spec's field: the work ended); the verdict says whether it
        # gave anything: a finished run that kept no test is "failed", with the reason (app/outcome.py).
        verdict = outcome.of_state(state)
        return {**state, "verdict": verdict.kind, "verdict_reason": verdict.reason}

    @api.post("/api/v1/tests/generate")
    async def generate_v1(body: V1GenerateBody) -> Any:
        """``use_agents`` true redirects to v2; false runs Phase 2 single-shot; absent lets the rollout decide."""
        if body.use_agents is True:
            return RedirectResponse("/api/v2/tests/generate", status_code=307)
        return await submit(body, use_agents=body.use_agents)

    @api.get("/api/v2/agents")
    async def agents() -> dict[str, Any]:
        rows = await registry.list_agents(pool)
        return {"agents": [
            {"agent_id": r["agent_id"], "agent_type": r["agent_type"], "status": r["status"],
             "capabilities": [c.get("name") for c in r["capabilities"]],
             "active_tasks": (r["health"] or {}).get("active_tasks", 0),
             "tasks_completed_today": r["tasks_completed_today"],
             "last_heartbeat": (r["health"] or {}).get("last_heartbeat")}
            for r in rows]}

    @api.get("/api/v2/metrics/dashboard")
    async def dashboard() -> dict[str, Any]:
        return await dashboard_metrics(pool)


async def dashboard_metrics(pool: asyncpg.Pool) -> dict[str, Any]:
    """The spec's dashboard figures over the last 24 hours."""
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM agent_registry WHERE status NOT IN ('shutting_down', 'service')) AS total, "
        "(SELECT count(*) FROM agent_registry WHERE status = 'healthy') AS active, "
        "(SELECT count(*) FROM agent_tasks WHERE status = 'completed' "
        "  AND completed_at > (now() AT TIME ZONE 'utc') - interval '24 hours') AS completed, "
        "(SELECT count(*) FROM agent_tasks WHERE status = 'failed' "
        "  AND completed_at > (now() AT TIME ZONE 'utc') - interval '24 hours') AS failed, "
        "(SELECT avg(execution_time_seconds) FROM agent_tasks WHERE task_type = 'generate' AND status = 'completed' "
        "  AND completed_at > (now() AT TIME ZONE 'utc') - interval '24 hours') AS latency, "
        "(SELECT COALESCE(sum(metric_value), 0) FROM agent_metrics WHERE metric_type = 'token_usage' "
        "  AND timestamp > (now() AT TIME ZONE 'utc') - interval '24 hours') AS tokens, "
        "(SELECT COALESCE(sum((metadata->>'cost_usd')::float), 0) FROM agent_metrics "
        "  WHERE metric_type = 'token_usage' AND timestamp > (now() AT TIME ZONE 'utc') - interval '24 hours') AS cost"
    )
    total, active = row["total"], row["active"]
    health = "healthy" if total and active / total >= 0.95 else ("degraded" if active else "down")
    return {
        "system_health": health if total else "no agents",
        "total_agents": total,
        "active_agents": active,
        "tasks_completed_24h": row["completed"],
        "tasks_failed_24h": row["failed"],
        "avg_latency_seconds": round(row["latency"] or 0.0, 2),
        "token_usage_24h": int(row["tokens"]),
        "cost_24h_usd": round(row["cost"], 4),
    }
