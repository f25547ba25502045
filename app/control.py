"""What the control center's panels ask for, as coroutines. No Qt here.

The UI is handed this object (house style: views get services, not
clients); every method returns plain data or raises ``AppError`` with a
message for the user.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents import registry, run_log, tasks
from agents.constants import AGENT_TYPES, DEFAULT_DAILY_TOKEN_BUDGET, PROGRESS_CHANNEL_PREFIX
from agents.llm_gateway import KEYRING_SERVICE, KEYRING_USER, today
from agents.evolution import count_tests
from agents.observation import checkout, is_test_file
from agents.prices import ModelPrice
from app import save_tests, system_config
from app.alerts import Alert
from app.alerts import evaluate as evaluate_alerts
from app.core import AppCore
from app.errors import AppError, ConfigError
from app.generation import GenerateRequest
from app.outcome import FINISHED_SQL
from app.rollout import RolloutService
from app.save_tests import SaveTarget
from app.test_outline import FileOutline, outline
from engine import settings_store
from engine.engine import ExecuteRequest
from engine.settings_store import SettingsUpdate


@dataclass(frozen=True)
class RepoFile:
    path: str
    is_test: bool


class ControlCenter:
    def __init__(self, core: AppCore) -> None:
        self.core = core

    async def export_diagnostics(self, target: Path) -> Path:
        """Help → Export diagnostics: the zip ``aiwebtest diagnostics`` writes, read through our pool."""
        from app.diagnostics import export

        return await export(self.core.config, target, self.core.pool)

    def api_access(self) -> tuple[str | None, str]:
        """Where the REST API answers (None when it is not served) and its bearer token."""
        url = self.core.api.url if self.core.api is not None else None
        return url, self.core.config.api_token()

    @property
    def _pool(self):
        if self.core.pool is None:
            raise AppError("The services are stopped (the app is starting or shutting down).")
        return self.core.pool

    @property
    def _redis(self):
        if self.core.redis is None:
            raise AppError("The services are stopped (the app is starting or shutting down).")
        return self.core.redis

    # -- Generate -------------------------------------------------------------

    async def inspect_repository(self, url: str) -> tuple[Path, list[RepoFile]]:
        from agents.base import TaskFailed

        try:
            repo, _ = await checkout(url.strip(), self.core.config.data_dir / "workspaces")
        except TaskFailed as exc:
            raise AppError(str(exc)) from None
        skip = {".git", ".venv", "venv", "__pycache__", "node_modules", "build", "dist"}
        files = sorted(
            (str(p.relative_to(repo)) for p in repo.rglob("*.py") if not set(p.relative_to(repo).parts) & skip)
        )
        return repo, [RepoFile(f, is_test_file(f)) for f in files]

    async def plan(self, repository: Path | None, target_files: list[str], max_rounds: int = 3) -> dict[str, Any]:
        """Strategy, model and what the request may cost at most."""
        gateway = self.core.agents.services.gateway if self.core.agents else None
        if gateway is None:
            return {"strategy": "search", "model": None, "max_tokens": 0, "max_cost_usd": 0.0,
                    "note": "No model is configured, so Pynguin's search-based generation is used."}
        model = await gateway.model()
        price = (await gateway.prices()).get(model)
        answer = (await gateway.limits()).max_tokens

        def size() -> int:
            return sum((repository / f).stat().st_size for f in target_files if repository and (repository / f).is_file())

        chars = await asyncio.to_thread(size)
        calls = max(len(target_files), 1) * max_rounds
        prompt, completion = (chars // 4 + 2500) * calls, answer * calls
        if price is None:
            return {"strategy": "llm", "model": model, "max_tokens": prompt + completion, "max_cost_usd": None,
                    "note": f"{model} has no price: add one on the Settings panel; at most {max_rounds} rounds"}
        return {"strategy": "llm", "model": model, "max_tokens": prompt + completion,
                "max_cost_usd": price.cost_usd(prompt, completion),
                "note": f"{model} at {price.label()}; at most {max_rounds} rounds"}

    async def generate(self, request: GenerateRequest) -> dict[str, Any]:
        assert self.core.generation is not None
        return await self.core.generation.submit(request)

    async def status(self, task_id: str) -> dict[str, Any] | None:
        assert self.core.generation is not None
        return await self.core.generation.status(task_id)

    async def progress_events(self, task_id: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(PROGRESS_CHANNEL_PREFIX + task_id)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield json.loads(message["data"])
        finally:
            await pubsub.aclose()

    async def test_outline(self, result: dict[str, Any]) -> list[FileOutline]:
        """The result's tests grouped by the function they call, with its coverage (reads files: a thread)."""
        return await asyncio.to_thread(outline, result)

    async def run_tests(self, result: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the generated tests as they are (tier 1 only), in the sandbox, on the repository: per file,
        its status and each test's outcome."""
        if self.core.engine is None:
            raise AppError("The execution engine is not running in this process.")
        repo = Path(result.get("repository") or "")
        if not repo.is_dir():
            raise AppError(f"The repository {repo} is not on this machine any more; load it again to run the tests.")
        targets = tuple(f["path"] for f in result.get("coverage_by_file") or [])
        out = []
        for name, code in (result.get("files") or {}).items():
            execution = await self.core.engine.execute(ExecuteRequest(code, "tier1_only", repo, targets))
            out.append({"file": name, "status": execution.status, "tests": execution.outcomes,
                        "error": execution.error})
        return out

    async def plan_save(self, folder: Path, files: dict[str, str]) -> list[SaveTarget]:
        return await asyncio.to_thread(save_tests.plan, folder, files)

    async def write_tests(self, targets: list[SaveTarget], overwrite: bool) -> list[Path]:
        return await asyncio.to_thread(lambda: save_tests.write(targets, overwrite=overwrite))

    async def run_log(self, task_id: str) -> str:
        """The request's whole run log, as kept in ``run_log`` (it outlives the GUI's log pane)."""
        return run_log.as_text(await run_log.read(self._pool, task_id))

    async def cancel(self, task_id: str) -> None:
        """Stop a request: its tasks fail with "cancelled"; late results are refused."""
        reason = "cancelled by the user"
        row = await self._pool.fetchrow("SELECT * FROM generation_requests WHERE request_id = $1", task_id)
        root = row["agent_task_id"] if row else task_id
        if row is not None and row["route"] in ("phase2", "shadow"):
            await self._pool.execute(
                "UPDATE generation_requests SET status = 'failed', phase2_error = $2, completed_at = now() "
                "WHERE request_id = $1 AND status IN ('pending', 'in_progress')", task_id, reason)
        if root:
            await tasks.fail(self._pool, root, reason)
            for child in await tasks.children_of_root(self._pool, root):
                await tasks.fail(self._pool, child["task_id"], reason)
            kept, coverage = await run_log.kept_so_far(self._pool, root)
            if kept:  # cancel keeps what was already kept: a partial result, not nothing
                count = sum(count_tests(k["code"]) for k in kept)
                await tasks.attach_result(self._pool, root, {
                    "tests": "\n\n".join(f"# ===== {k['path']} =====\n{k['code']}" for k in kept),
                    "files": {k["path"]: k["code"] for k in kept}, "test_count": count,
                    "coverage_estimate": round(coverage or 0.0, 4), "coverage_by_file": [],
                    "repository": kept[-1].get("repository"), "outcome": "partial",
                    "reason": f"cancelled by the user; the {count} tests kept until then are here"})

    async def history(self, status: str | None = None, text: str = "", limit: int = 200) -> list[dict[str, Any]]:
        rows = await self._pool.fetch(
            f"SELECT request_id, created_at, route, request, verdict AS status, result->>'coverage_estimate' "
            f"AS coverage FROM ({FINISHED_SQL}) f ORDER BY created_at DESC LIMIT $1", limit)
        out = []
        for r in rows:
            item = {"task_id": r["request_id"], "created_at": r["created_at"], "route": r["route"],
                    "status": r["status"], "repository": r["request"]["repository_url"],
                    "files": r["request"].get("target_files", []),
                    "coverage": float(r["coverage"]) if r["coverage"] else None}
            if status and item["status"] != status:
                continue
            if text and text.lower() not in (item["repository"] + " ".join(item["files"])).lower():
                continue
            out.append(item)
        return out

    # -- Agents -----------------------------------------------------------------

    async def agents(self) -> list[dict[str, Any]]:
        now = time.time()
        local = {w.agent_id for w in (self.core.agents.workers if self.core.agents else [])}
        out = []
        for r in await registry.list_agents(self._pool):
            beat = (r["health"] or {}).get("last_heartbeat")
            age = None
            if beat:
                from datetime import datetime

                age = now - datetime.fromisoformat(beat.replace("Z", "+00:00")).timestamp()
            out.append({"agent_id": r["agent_id"], "agent_type": r["agent_type"], "status": r["status"],
                        "capabilities": [c.get("name", "") for c in r["capabilities"]],
                        "active_tasks": (r["health"] or {}).get("active_tasks", 0),
                        "completed_today": r["tasks_completed_today"], "heartbeat_age_s": age,
                        # Silent past the grace period: listed greyed, left out of availability.
                        "gone": r["status"] != "healthy" and (age is None or age > registry.DEAD_GRACE_S),
                        "local": r["agent_id"] in local, "pid": (r["endpoints"] or {}).get("pid")})
        return out

    async def agent_detail(self, agent_id: str) -> dict[str, Any]:
        recent = await self._pool.fetch(
            "SELECT task_id, task_type, status, error, execution_time_seconds, created_at FROM agent_tasks "
            "WHERE assigned_agent_id = $1 ORDER BY created_at DESC LIMIT 30", agent_id)
        return {"tasks": [dict(r) for r in recent], "errors": [dict(r) for r in recent if r["error"]]}

    async def start_instance(self, agent_type: str) -> str:
        if self.core.agents is None:
            raise AppError("Agents are not running in this process.")
        if agent_type not in AGENT_TYPES:
            raise AppError(f"Unknown agent type {agent_type!r}.")
        return (await self.core.agents.add_instance(agent_type)).agent_id

    async def stop_instance(self, agent_id: str) -> None:
        host = self.core.agents
        worker = next((w for w in (host.workers if host else []) if w.agent_id == agent_id), None)
        if worker is None:
            raise AppError(f"{agent_id} runs in another process; stop it there (aiwebtest worker).")
        await worker.stop()
        host.workers.remove(worker)

    # -- Costs ----------------------------------------------------------------

    async def budget(self) -> dict[str, Any]:
        budget = int(await system_config.get(self._pool, "daily_token_budget") or DEFAULT_DAILY_TOKEN_BUDGET)
        from agents.constants import budget_key

        used = int(await self._redis.get(budget_key(today())) or 0)
        return {"used": used, "budget": budget, "ratio": used / budget if budget else 0.0}

    async def cost_series(self, hours: int = 24) -> dict[str, Any]:
        pool = self._pool
        per_hour = await pool.fetch(
            "SELECT extract(epoch FROM date_trunc('hour', timestamp)) AS t, sum(metric_value) AS tokens, "
            "sum(COALESCE((metadata->>'cost_usd')::float, 0)) AS cost FROM agent_metrics "
            "WHERE metric_type = 'token_usage' AND timestamp > (now() AT TIME ZONE 'utc') - make_interval(hours => $1) "
            "GROUP BY 1 ORDER BY 1", hours)
        per_day = await pool.fetch(
            "SELECT extract(epoch FROM date_trunc('day', timestamp)) AS t, "
            "sum(COALESCE((metadata->>'cost_usd')::float, 0)) AS cost FROM agent_metrics "
            "WHERE metric_type = 'token_usage' AND timestamp > (now() AT TIME ZONE 'utc') - interval '14 days' "
            "GROUP BY 1 ORDER BY 1")
        by_type = await pool.fetch(
            "SELECT r.agent_type, sum(m.metric_value) AS tokens FROM agent_metrics m "
            "JOIN agent_registry r USING (agent_id) WHERE m.metric_type = 'token_usage' GROUP BY 1")
        latency = await pool.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY phase2_seconds) AS p2_p50, "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY phase2_seconds) AS p2_p95 FROM generation_requests "
            "WHERE phase2_seconds IS NOT NULL")
        agents_latency = await pool.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY execution_time_seconds) AS p50, "
            "percentile_cont(0.95) WITHIN GROUP (ORDER BY execution_time_seconds) AS p95 "
            "FROM agent_tasks WHERE task_type = 'generate' AND status IN ('completed', 'failed')")
        # Failed as the result header says it (a run that kept no test is a failure), by either path.
        error_rate = await pool.fetchval(
            "SELECT count(*) FILTER (WHERE verdict = 'failed')::float / NULLIF(count(*), 0) "
            f"FROM ({FINISHED_SQL}) f WHERE verdict <> 'running' AND created_at > now() - make_interval(hours => $1)",
            hours)
        models = await pool.fetch(
            "SELECT DISTINCT metadata->>'model' AS model FROM agent_metrics WHERE metric_type = 'token_usage' "
            "AND metadata ? 'model' AND timestamp > (now() AT TIME ZONE 'utc') - interval '14 days'")
        prices = await self.prices()
        return {
            "unpriced_models": sorted(r["model"] for r in models if r["model"] and r["model"] not in prices),
            "tokens_per_hour": [(float(r["t"]), float(r["tokens"])) for r in per_hour],
            "cost_per_hour": [(float(r["t"]), float(r["cost"])) for r in per_hour],
            "cost_per_day": [(float(r["t"]), float(r["cost"])) for r in per_day],
            "tokens_by_agent_type": {r["agent_type"]: float(r["tokens"]) for r in by_type},
            "latency": {"phase2_p50": latency["p2_p50"], "phase2_p95": latency["p2_p95"],
                        "phase3_p50": agents_latency["p50"], "phase3_p95": agents_latency["p95"]},
            "error_rate": error_rate,
            "budget": await self.budget(),
        }

    # -- Rollout ----------------------------------------------------------------

    @property
    def rollouts(self) -> RolloutService:
        """The Rollout panel's service: state, changes with their audit trail, rollback."""
        return RolloutService(self._pool, self._redis, self.core.config)

    async def alerts(self) -> list[Alert]:
        """The background monitor's latest evaluation; evaluated now if it has none yet."""
        monitor = self.core.alert_monitor
        if monitor is not None and monitor.latest:
            return monitor.latest
        return await evaluate_alerts(self._pool)

    # -- Settings ---------------------------------------------------------------

    async def execution_settings(self) -> dict[str, Any]:
        return (await settings_store.load(self._pool)).model_dump()

    async def update_execution_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
        from pydantic import ValidationError

        try:
            change = SettingsUpdate(**changes)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"execution_settings.{field}: {err['msg']} (got {err.get('input')!r})") from None
        return (await settings_store.update(self._pool, change)).model_dump()

    def browser_backend_note(self, choice: str) -> str:
        """What a browser_backend choice comes to here: who heals browser tests and where Stagehand runs."""
        stagehand = self.core.config.stagehand
        lead = "" if choice != "auto" else \
            f"Auto: STAGEHAND_API_KEY is {'set' if stagehand.api_key else 'unset'}, so "
        if stagehand.backend_for(choice) == "ours":
            return lead + ("our own healer (element fingerprints from the last passing run) and our own agent "
                           "heal and carry out browser tests.")
        if self.core.engine is None or self.core.engine.llm is None:
            return lead + ("Stagehand needs a model and none is configured (Settings dialog, Ctrl+,): until "
                           "then our own healer and agent heal and carry out browser tests.")
        return lead + (f"Stagehand heals and carries out browser tests on {stagehand.where}, with your model "
                       "and budget; if it cannot start, our own healer and agent take over.")

    async def system_config(self) -> dict[str, str]:
        return await system_config.get_all(self._pool)

    async def set_system_config(self, key: str, value: str) -> str:
        return await system_config.set_value(self._pool, key, value)

    async def prices(self) -> dict[str, ModelPrice]:
        """The price table in force (stored over the defaults)."""
        from agents.prices import with_defaults

        return with_defaults(await system_config.get(self._pool, "llm_prices"))

    def llm_limits_env(self) -> dict[str, str]:
        """The model call limits the environment sets: they win over the dialog's, which says so."""
        return self.core.config.llm_limits_env

    @staticmethod
    def describe_llm_limits(values: dict[str, str]) -> str:
        """The limits these values make, in one sentence (or what is wrong with them)."""
        from agents.llm_limits import limits_of

        try:
            return limits_of(values).describe()
        except ValueError as exc:
            return str(exc)

    @staticmethod
    def first_token_wait_s(values: dict[str, str]) -> float:
        """How long these limits wait for a first token (the connection test waits as long)."""
        from agents.llm_limits import PROFILES, limits_of

        try:
            return limits_of(values).first_token_s
        except ValueError:
            return PROFILES["hosted"].first_token_s

    @staticmethod
    def keyring_state() -> dict[str, Any]:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        usable = not isinstance(backend, fail.Keyring)
        stored = False
        if usable:
            try:
                stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is not None
            except Exception:  # noqa: BLE001 - a locked or broken keyring is "not usable"
                usable = False
        return {"usable": usable, "stored": stored, "backend": type(backend).__name__}

    @staticmethod
    def store_api_key(key: str) -> None:
        import keyring

        try:
            if key:
                keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
            else:
                keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(
                f"The OS keyring could not store the key ({type(exc).__name__}). On a machine without a "
                "keyring, set LLM_API_KEY in the environment instead."
            ) from None

    @staticmethod
    async def test_connection(base_url: str, api_key: str | None, model: str, timeout_s: float = 10.0) -> str:
        """What the endpoint answered to a one-token request, in words.

        The one model call outside the gateway: it probes values not saved yet (a URL, a key), and
        its few tokens are not worth a budget row. ``timeout_s``: the profile's first-token wait,
        so a local model loading its weights is not called dead."""
        from openai import APIStatusError, AsyncOpenAI

        client = AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", max_retries=0, timeout=timeout_s)
        try:
            started = time.perf_counter()
            reply = await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "ping"}], max_tokens=1)
            ms = (time.perf_counter() - started) * 1000
            return f"OK: {base_url} answered as {reply.model} in {ms:.0f} ms"
        except APIStatusError as exc:
            return f"The endpoint answered {exc.status_code}: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - every failure is a sentence for the dialog
            return f"No answer from {base_url}: {type(exc).__name__}: {exc}"
        finally:
            await client.close()
