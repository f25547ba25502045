"""Generation requests from the GUI, the CLI and the API, all through one door.

``submit()`` routes (or honours an explicit choice), records the decision
in ``generation_requests``, and starts the work: a ``generate`` task for
the agents, a background single-shot run for Phase 2, or both in shadow
mode. ``status()`` answers in the spec's v2 shape whichever path ran.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg

from agents import run_log, tasks
from agents.base import Services, dispatch
from agents.constants import PROGRESS_CHANNEL_PREFIX
from agents.orchestration import STEPS as ORCHESTRATION_STEPS
from agents.plan import DEFAULT_PLAN
from agents.store_retry import AGENT_BUDGET_S, retry_budget
from agents.task_stop import cancel_and_wait
from app import router, system_config
from app.config import Config
from app.errors import AppError
from app.phase2_generate import single_shot
from app.text_input import relative_path_problem, text_problem
from engine.model_port import StreamProgress

log = logging.getLogger(__name__)

ESTIMATED_SECONDS = 120
# What a person writes about what matters; a book's worth is a mistake, and
# embedding or prompting with megabytes stalls everything behind it.
MAX_REQUIREMENTS_CHARS = 100_000
MAX_CONVERSATION_ID_CHARS = 100  # agent_tasks.conversation_id is VARCHAR(100)
MAX_REPOSITORY_URL_CHARS = 2_000
MAX_TARGET_FILES = 500


class GenerationInputError(AppError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass
class GenerateRequest:
    repository_url: str
    target_files: list[str] = field(default_factory=list)
    coverage_target: float = DEFAULT_PLAN.coverage_target
    requirements: str = ""
    conversation_id: str | None = None
    strategy: str | None = DEFAULT_PLAN.strategy
    max_rounds: int = DEFAULT_PLAN.max_rounds
    search_time_s: int = DEFAULT_PLAN.search_time_s
    generate_anyway: bool = DEFAULT_PLAN.generate_anyway  # the plan's fields: agents/plan.py
    mutation_score: bool = DEFAULT_PLAN.mutation_score

    def validate(self) -> None:
        for name in ("repository_url", "requirements", "conversation_id"):
            value = getattr(self, name)
            problem = text_problem(value) if value else None
            if problem:
                raise GenerationInputError(name, problem)
        if not self.repository_url or not self.repository_url.strip():
            raise GenerationInputError("repository_url", "is empty; give a folder path or a git URL")
        if self.repository_url.lstrip().startswith("-"):  # git would read it as an option (--upload-pack=...)
            raise GenerationInputError("repository_url", "starts with '-'; give a folder path or a git URL "
                                       "(a folder named so: write ./ before it)")
        if len(self.repository_url) > MAX_REPOSITORY_URL_CHARS:
            raise GenerationInputError("repository_url", f"is {len(self.repository_url):,} characters; "
                                       f"a path or URL has at most {MAX_REPOSITORY_URL_CHARS:,}")
        if len(self.requirements) > MAX_REQUIREMENTS_CHARS:
            raise GenerationInputError("requirements", f"is {len(self.requirements):,} characters; the limit is "
                                       f"{MAX_REQUIREMENTS_CHARS:,}: say what matters in a few paragraphs")
        if self.conversation_id is not None and not 1 <= len(self.conversation_id) <= MAX_CONVERSATION_ID_CHARS:
            raise GenerationInputError("conversation_id", f"must be 1 to {MAX_CONVERSATION_ID_CHARS} characters, "
                                       f"got {len(self.conversation_id):,}")
        if len(self.target_files) > MAX_TARGET_FILES:
            raise GenerationInputError("target_files", f"lists {len(self.target_files):,} files; "
                                       f"pick at most {MAX_TARGET_FILES}")
        if not 0.0 < self.coverage_target <= 1.0:
            raise GenerationInputError("coverage_target", f"must be above 0 and at most 1, got {self.coverage_target}")
        if self.strategy not in (None, "llm", "search"):
            raise GenerationInputError("strategy", f"must be llm or search, got {self.strategy!r}")
        if not 1 <= self.max_rounds <= 20:
            raise GenerationInputError("max_rounds", "must be from 1 to 20")
        for name in self.target_files:
            problem = relative_path_problem(name)
            if problem:
                raise GenerationInputError("target_files", f"{name!r} {problem}")
            if not name.endswith(".py"):
                raise GenerationInputError("target_files", f"{name} is not a Python file")


class GenerationService:
    def __init__(self, pool: asyncpg.Pool, config: Config, services: Services) -> None:
        self.pool = pool
        self.config = config
        self.services = services
        self._background: set[asyncio.Task[None]] = set()

    async def submit(self, request: GenerateRequest, *, use_agents: bool | None = None) -> dict[str, Any]:
        request.validate()
        key = request.conversation_id or request.repository_url
        if use_agents is None:
            decision = await router.decide(self.pool, self.config, key)
        else:
            reason = "explicit choice of the caller"
            if use_agents:
                switch = await system_config.agents_switch(self.pool, self.config)
                if not switch.enabled:
                    # Said plainly, where the caller reads it: a rollback does not stop an explicit request.
                    reason += (f"; the agents are switched off ({switch.reason}) and a rollback does not apply "
                               "to requests that name the agents; run without --agents (or use "
                               "/api/v1/tests/generate) to follow the rollout")
            decision = router.Route("agents" if use_agents else "phase2", "explicit", 0,
                                    router.bucket_of(key, ""), key, reason)
        conversation = request.conversation_id or f"conv-{uuid.uuid4().hex[:12]}"
        request.conversation_id = conversation
        payload = asdict(request)
        agent_task_id = None
        if decision.route in ("agents", "shadow"):
            agent_task_id = tasks.new_task_id()
        request_id = agent_task_id if decision.route == "agents" else f"p2-{uuid.uuid4().hex[:16]}"
        await self.pool.execute(
            "INSERT INTO generation_requests (request_id, route, rollout_mode, rollout_percentage, bucket, "
            "routing_key, reason, conversation_id, request, agent_task_id, status) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending')",
            request_id, decision.route, decision.mode, decision.percentage, decision.bucket, decision.key,
            decision.reason, conversation, payload, agent_task_id,
        )
        if agent_task_id is not None:
            await dispatch(self.pool, self.services.bus, "generate", {**payload, "shadow": decision.route == "shadow"},
                           conversation_id=conversation, task_id=agent_task_id)
        if decision.route in ("phase2", "shadow"):
            with retry_budget(AGENT_BUDGET_S):  # the run outlives the request: it waits out a restart
                job = asyncio.get_running_loop().create_task(self._run_phase2(request_id, payload))
            self._background.add(job)
            job.add_done_callback(self._background.discard)
        return {"task_id": request_id, "status": "pending", "estimated_completion_seconds": ESTIMATED_SECONDS,
                "conversation_id": conversation, "route": decision.route, "bucket": decision.bucket,
                "reason": decision.reason}

    async def _run_phase2(self, request_id: str, payload: dict[str, Any]) -> None:
        await self.pool.execute("UPDATE generation_requests SET status = 'in_progress' WHERE request_id = $1",
                                request_id)
        await run_log.append(self.pool, request_id, "phase2", "Phase 2 single pass: one generation, executed once")
        started = time.perf_counter()
        channel = PROGRESS_CHANNEL_PREFIX + request_id

        async def streaming(progress: StreamProgress) -> None:
            """The model's answer growing, shown like the agents' (a local model may write for minutes)."""
            try:
                await self.services.redis.publish(channel, json.dumps(
                    {"agent_id": "phase2", "task_id": request_id, "message": progress.describe(), "live": True,
                     "model_stream": progress.as_event()}))
            except Exception:  # noqa: BLE001 - progress is best effort
                pass

        try:
            result = await single_shot(self.services, payload, on_progress=streaming, request_id=request_id)
            status, error = "completed", None
        except asyncio.CancelledError:
            result, status, error = None, "failed", "interrupted: the app shut down"
            await asyncio.shield(self._finish_phase2(request_id, status, result, error, started))
            raise
        except Exception as exc:  # noqa: BLE001 - recorded for the caller to read
            result, status, error = None, "failed", str(exc) if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
        await self._finish_phase2(request_id, status, result, error, started)

    async def _finish_phase2(self, request_id: str, status: str, result: Any, error: str | None, started: float) -> None:
        done = (f"{result.get('test_count', 0)} tests, {result.get('coverage_estimate', 0):.1%} line coverage"
                if result else f"failed: {error}")
        await run_log.append(self.pool, request_id, "phase2", done)
        await self.pool.execute(
            "UPDATE generation_requests SET status = $2, phase2_result = $3, phase2_error = $4, "
            "phase2_seconds = $5, completed_at = now() WHERE request_id = $1",
            request_id, status, result, error, time.perf_counter() - started,
        )

    async def status(self, request_id: str) -> dict[str, Any] | None:
        row = await self.pool.fetchrow("SELECT * FROM generation_requests WHERE request_id = $1", request_id)
        task_id = row["agent_task_id"] if row else request_id
        if row is not None and row["route"] in ("phase2", "shadow"):
            out = {"task_id": request_id, "status": row["status"], "route": row["route"],
                   "result": row["phase2_result"], "error": row["phase2_error"],
                   "execution_time_seconds": row["phase2_seconds"],
                   "token_usage": (row["phase2_result"] or {}).get("token_usage", 0), "agent_id": None,
                   "conversation_id": row["conversation_id"]}
            if row["route"] == "shadow" and task_id:
                shadow = await tasks.get(self.pool, task_id)
                out["shadow"] = _task_json(shadow) if shadow else None
            return out
        task = await tasks.get(self.pool, task_id) if task_id else None
        if task is None:
            return None
        return {**_task_json(task), "route": row["route"] if row else "agents", "queue": await self.queue(task)}

    async def queue(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """Where a request waits, if it waits: its first pending step and that step's place in line.

        Work beyond the agents' slots (``agents/concurrency.py``) waits as
        pending tasks, handed out oldest first; the place is 1 + the
        pending tasks of the same type created before it. None once no
        step of the request waits for a slot.
        """
        if task["status"] == "pending":
            waiting = task
        elif task["status"] == "in_progress":
            steps = [f"{task['task_id']}.{step}" for step in ORCHESTRATION_STEPS]
            waiting = await self.pool.fetchrow(
                "SELECT task_id, task_type, created_at FROM agent_tasks WHERE task_id = ANY($1) "
                "AND status = 'pending' ORDER BY created_at LIMIT 1", steps)
        else:
            return None
        if waiting is None:
            return None
        row = await self.pool.fetchrow(
            "SELECT count(*) AS position, "
            "EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'utc') - $2::timestamp)) AS waited_s "
            "FROM agent_tasks WHERE task_type = $1 AND status = 'pending' AND created_at <= $2",
            waiting["task_type"], waiting["created_at"])
        return {"step": waiting["task_type"], "position": max(int(row["position"]), 1),
                "waited_s": round(float(row["waited_s"]), 1)}

    async def wait(self, request_id: str, timeout_s: float = 3600, poll_s: float = 0.2) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            state = await self.status(request_id)
            if state is None:
                raise AppError(f"No generation request {request_id}")
            if state["status"] in ("completed", "failed"):
                return state
            if loop.time() > deadline:
                raise AppError(f"Generation {request_id} did not finish within {timeout_s:.0f} s")
            await asyncio.sleep(poll_s)

    async def close(self) -> None:
        await cancel_and_wait(list(self._background), who="generation")


def _task_json(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_id": task["task_id"],
        "status": task["status"],
        "result": task["result"],
        "error": task["error"],
        "execution_time_seconds": task["execution_time_seconds"],
        # The result's figure is the gateway's (every call, counted once); the task row's is what its agents added.
        "token_usage": (task["result"] or {}).get("token_usage") or task["token_usage"] or 0,
        "agent_id": task["assigned_agent_id"],
        "conversation_id": task["conversation_id"],
    }
