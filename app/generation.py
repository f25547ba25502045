"""The Generate feature's service: every request from the GUI, the CLI and the API, through one door.

``submit()`` routes (or honours an explicit choice), records the decision
in ``generation_requests`` (this module owns that table), and starts the
work: a ``generate`` task for the agents, a background single-shot run for
Phase 2, or both in shadow mode. ``status()`` answers in the spec's v2
shape whichever path ran. ``follow()`` is the one progress subscription
the window, the CLI and the demo share; ``cancel()``, ``history()``,
``estimate()`` and ``inspect_repository()`` are what the Generate view asks for.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from agents import run_log, tasks
from agents.base import Services, TaskFailed, dispatch
from agents.constants import PROGRESS_CHANNEL_PREFIX, agent_type_of
from agents.evolution import count_tests
from agents.generation import StrategyError
from agents.generation.import_root import importable_once
from agents.observation import checkout, checkout_folder, is_test_file
from agents.orchestration import STEPS as ORCHESTRATION_STEPS
from agents.store_retry import AGENT_BUDGET_S, retry_budget
from agents.task_stop import cancel_and_wait
from app import router, system_config
from app.config import Config
from app.outcome import FINISHED_SQL, REQUEST_TOKENS_SQL, of_result, of_state
from app.phase2_generate import single_shot
from engine import multi_file
from engine.errors import AppError
from engine.generate_request import (
    DEFAULT_REQUEST_FIELDS,
    WAIT_TIMEOUT_S,
    GenerateRequest,
)
from engine.model_port import StreamProgress

log = logging.getLogger(__name__)

ESTIMATED_SECONDS = 120
FOLLOW_POLL_S = 1.0  # how often a follower checks whether the request ended (progress itself is pushed)
_SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", "build", "dist"}


@dataclass(frozen=True)
class RepoFile:
    path: str
    is_test: bool


OnEvent = Callable[[str, dict[str, Any]], None]
"""Called with (agent type, event) for each progress event of a followed request."""


class GenerationService:
    def __init__(self, pool: asyncpg.Pool, config: Config, services: Services) -> None:
        self.pool = pool
        self.config = config
        self.services = services
        self._background: set[asyncio.Task[None]] = set()

    async def submit(self, request: GenerateRequest, *, use_agents: bool | None = None) -> dict[str, Any]:
        """Route, record and start a request (valid by construction: ``GenerateRequest.parse``)."""
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
        request = request.model_copy(update={"conversation_id": conversation})
        payload = request.model_dump(mode="json")
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
                job = asyncio.get_running_loop().create_task(self._run_phase2(request_id, request))
            self._background.add(job)
            job.add_done_callback(self._background.discard)
        return {"task_id": request_id, "status": "pending", "estimated_completion_seconds": ESTIMATED_SECONDS,
                "conversation_id": conversation, "route": decision.route, "bucket": decision.bucket,
                "reason": decision.reason}

    async def _run_phase2(self, request_id: str, request: GenerateRequest) -> None:
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

        async def say(message: str, **data: Any) -> None:
            """A step of the single pass, in the run log and to whoever watches (the window's log and bar)."""
            await run_log.append(self.pool, request_id, "phase2", message)
            try:
                await self.services.redis.publish(channel, json.dumps(
                    {"agent_id": "phase2", "task_id": request_id, "message": message, **data}, default=str))
            except Exception:  # noqa: BLE001 - progress is best effort
                pass

        try:
            result = await single_shot(self.services, request, on_progress=streaming, request_id=request_id,
                                       say=say)
            verdict = of_result(result)
            # A pass that kept nothing is a failed request in the spec's ``status``, as on the agents'
            # path, with the cause; its result stays for what it tried (issue 26).
            status, error = ("failed", verdict.reason) if verdict.kind == "failed" else ("completed", None)
        except asyncio.CancelledError:
            result, status, error = None, "failed", "interrupted: the app shut down"
            await asyncio.shield(self._finish_phase2(request_id, status, result, error, started))
            raise
        except Exception as exc:  # noqa: BLE001 - recorded for the caller to read
            # Our own refusals read as the sentence they are (a clone's reason is git's); anything else names its type.
            said = isinstance(exc, AppError | TaskFailed | StrategyError)
            result, status, error = None, "failed", str(exc) if said else f"{type(exc).__name__}: {exc}"
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
        """The request as every reader sees it (API, CLI, window): ``status`` is the spec's field, so a run that
        ended keeping nothing (and did not find the target already met) is "failed", with the reason."""
        state = await self._status(request_id)
        if state is not None:
            state = await self._checked_repository(request_id, state)
        if state is None or state["status"] != "completed":
            return state
        verdict = of_state(state)
        return state if verdict.kind != "failed" else {**state, "status": "failed", "error": verdict.reason}

    async def _status(self, request_id: str) -> dict[str, Any] | None:
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
            return {**out, "token_usage": await self._tokens(request_id)}
        task = await tasks.get(self.pool, task_id) if task_id else None
        if task is None:
            return None
        state = {**_task_json(task), "route": row["route"] if row else "agents", "queue": await self.queue(task)}
        return {**state, "token_usage": await self._tokens(request_id)} if row is not None else state

    async def _checked_repository(self, request_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """A result's ``repository`` kept only if it is the folder this machine checks the request's repository out
        to (agents/observation.py): Save, Run and the outline read and write there, and the row is input (a shared
        database, workers on other machines; issue 28). Otherwise it is taken out, and ``repository_note`` says why:
        Save then asks for a folder and Run asks to load the repository again."""
        result = state.get("result")
        if not isinstance(result, dict) or not result.get("repository"):
            return state
        url = await self.pool.fetchval(
            "SELECT request->>'repository_url' FROM generation_requests WHERE request_id = $1 OR agent_task_id = $1 "
            "LIMIT 1", request_id)
        if url is None:
            return state
        expected = await asyncio.to_thread(checkout_folder, url, self.config.data_dir / "workspaces")
        if str(result["repository"]) == str(expected):
            return state
        note = (f"The result names the folder {str(result['repository'])[:200]!r}, not {expected}, where this "
                f"machine checks {url} out: it was made on another machine or its row was changed. Save asks "
                "for a folder; Run needs the repository loaded here.")
        return {**state, "result": {**result, "repository": None, "repository_note": note}}

    async def _tokens(self, request_id: str) -> int:
        """The request's tokens from the gateway's rows as they are now: the same figure History and /metrics
        show (app/outcome.py), including a call recorded after the result was written."""
        return int(await self.pool.fetchval(
            f"SELECT ({REQUEST_TOKENS_SQL}) FROM generation_requests g WHERE g.request_id = $1", request_id) or 0)

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

    async def wait(self, request_id: str, timeout_s: float = WAIT_TIMEOUT_S, poll_s: float = 0.2) -> dict[str, Any]:
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

    async def progress_events(self, request_id: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """(agent type, event) for each progress event the request publishes, as they come."""
        pubsub = self.services.redis.pubsub()
        await pubsub.subscribe(PROGRESS_CHANNEL_PREFIX + request_id)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    event = json.loads(message["data"])
                    yield agent_type_of(str(event.get("agent_id") or "")), event
        finally:
            await pubsub.aclose()

    async def follow(self, request_id: str, on_event: OnEvent, *, timeout_s: float = WAIT_TIMEOUT_S,
                     poll_s: float = FOLLOW_POLL_S) -> dict[str, Any]:
        """Calls ``on_event`` for each progress event until the request ends; returns its final state.

        The one subscription the window, the CLI and the demo use: events are
        pushed (Redis pub/sub), and the end is read from the request's row.
        """
        async def listen() -> None:
            async for agent, event in self.progress_events(request_id):
                on_event(agent, event)

        listener = asyncio.get_running_loop().create_task(listen())
        try:
            return await self.wait(request_id, timeout_s=timeout_s, poll_s=poll_s)
        finally:
            await cancel_and_wait([listener], grace_s=5, who="progress listener")

    async def cancel(self, request_id: str) -> None:
        """Stop a request: its tasks fail with "cancelled"; late results are refused; what was kept stays."""
        reason = "cancelled by the user"
        row = await self.pool.fetchrow("SELECT * FROM generation_requests WHERE request_id = $1", request_id)
        root = row["agent_task_id"] if row else request_id
        if row is not None and row["route"] in ("phase2", "shadow"):
            await self.pool.execute(
                "UPDATE generation_requests SET status = 'failed', phase2_error = $2, completed_at = now() "
                "WHERE request_id = $1 AND status IN ('pending', 'in_progress')", request_id, reason)
        if not root:
            return
        await tasks.fail(self.pool, root, reason)
        for child in await tasks.children_of_root(self.pool, root):
            await tasks.fail(self.pool, child["task_id"], reason)
        kept, coverage = await run_log.kept_so_far(self.pool, root)
        if kept:  # cancel keeps what was already kept: a partial result, not nothing
            count = sum(await asyncio.to_thread(lambda: [count_tests(k["code"]) for k in kept]))
            files = {k["path"]: k["code"] for k in kept}
            if repository := kept[-1].get("repository"):  # one conftest, as in a finished result (Reporting)
                files = await asyncio.to_thread(importable_once, Path(repository), files,
                                                [k["target_file"] for k in kept if k.get("target_file")])
            await tasks.attach_result(self.pool, root, {
                "tests": multi_file.join(files), "files": files, "test_count": count,
                "coverage_estimate": round(coverage or 0.0, 4), "coverage_by_file": [],
                "repository": repository, "outcome": "partial",
                "reason": f"cancelled by the user; the {count} tests kept until then are here"})

    async def history(self, limit: int = 200) -> list[dict[str, Any]]:
        """The latest requests by either route, newest first, with the verdict every view shows."""
        rows = await self.pool.fetch(
            f"SELECT request_id, created_at, route, request, verdict AS status, result->>'coverage_estimate' "
            f"AS coverage FROM ({FINISHED_SQL}) f ORDER BY created_at DESC LIMIT $1", limit)
        return [{"task_id": r["request_id"], "created_at": r["created_at"], "route": r["route"],
                 "status": r["status"], "repository": r["request"]["repository_url"],
                 "files": r["request"].get("target_files", []),
                 "coverage": float(r["coverage"]) if r["coverage"] else None} for r in rows]

    async def run_log(self, request_id: str) -> str:
        """The request's whole run log, as kept in ``run_log`` (it outlives the GUI's log pane)."""
        return run_log.as_text(await run_log.read(self.pool, request_id))

    async def inspect_repository(self, url: str) -> tuple[Path, list[RepoFile]]:
        """The checkout of ``url`` and its Python files (tests marked), walked off the event loop."""
        try:
            repo, _ = await checkout(url.strip(), self.config.data_dir / "workspaces")
        except TaskFailed as exc:
            raise AppError(str(exc)) from None

        def walk() -> list[RepoFile]:
            files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*.py")
                           if not set(p.relative_to(repo).parts) & _SKIP_DIRS)
            return [RepoFile(f, is_test_file(f)) for f in files]

        return repo, await asyncio.to_thread(walk)

    async def estimate(self, repository: Path | None, target_files: list[str],
                       max_rounds: int | None = None) -> dict[str, Any]:
        """Strategy, model and what a request may cost at most (its rounds: the request's default)."""
        rounds = max_rounds or DEFAULT_REQUEST_FIELDS["max_rounds"]
        gateway = self.services.gateway
        if gateway is None:
            return {"strategy": "search", "model": None, "max_tokens": 0, "max_cost_usd": 0.0,
                    "note": "No model is configured, so Pynguin's search-based generation is used."}
        model = await gateway.model()
        price = (await gateway.prices()).get(model)
        answer = (await gateway.limits()).max_tokens

        def size() -> int:
            return sum((repository / f).stat().st_size for f in target_files
                       if repository and (repository / f).is_file())

        chars = await asyncio.to_thread(size)
        calls = max(len(target_files), 1) * rounds
        prompt, completion = (chars // 4 + 2500) * calls, answer * calls
        if price is None:
            return {"strategy": "llm", "model": model, "max_tokens": prompt + completion, "max_cost_usd": None,
                    "note": f"{model} has no price: add one on the Settings panel; at most {rounds} rounds"}
        return {"strategy": "llm", "model": model, "max_tokens": prompt + completion,
                "max_cost_usd": price.cost_usd(prompt, completion),
                "note": f"{model} at {price.label()}; at most {rounds} rounds"}

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


async def phase2_latency(pool: asyncpg.Pool) -> tuple[float | None, float | None]:
    """(p50, p95) seconds of the Phase 2 single passes this table recorded."""
    row = await pool.fetchrow(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY phase2_seconds) AS p50, "
        "percentile_cont(0.95) WITHIN GROUP (ORDER BY phase2_seconds) AS p95 FROM generation_requests "
        "WHERE phase2_seconds IS NOT NULL")
    return row["p50"], row["p95"]
