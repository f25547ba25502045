"""Every Redis stream, consumer group and key name, in one place."""

from __future__ import annotations

AGENT_TYPES: tuple[str, ...] = (
    "orchestration", "observation", "requirements", "analysis", "evolution", "reporting",
)

# task_type (agent_tasks.task_type) -> the agent type that handles it
TASK_HANDLERS: dict[str, str] = {
    "generate": "orchestration",
    "observe": "observation",
    "requirements": "requirements",
    "analyze": "analysis",
    "evolve": "evolution",
    "report": "reporting",
}

# The spec's AGENT_TOKEN_BUDGET_DAILY default; system_config.daily_token_budget when set.
DEFAULT_DAILY_TOKEN_BUDGET = 1_000_000

DEAD_LETTER_STREAM = "agents:dead-letter"
BUDGET_KEY_PREFIX = "budget:tokens:"  # + UTC date, YYYY-MM-DD
PROGRESS_CHANNEL_PREFIX = "task-progress:"  # + root task id


def inbox_stream(agent_id: str) -> str:
    """The spec's per-instance inbox."""
    return f"agent:{agent_id}:inbox"


def work_stream(agent_type: str) -> str:
    """Shared work of one agent type; any healthy instance of the type takes it."""
    return f"agents:work:{agent_type}"


def group_name(agent_type: str) -> str:
    return f"agents:{agent_type}"


def heartbeat_key(agent_id: str) -> str:
    """Exists while the instance is alive (it expires when heartbeats stop)."""
    return f"agent:{agent_id}:alive"


def budget_key(day: str) -> str:
    return f"{BUDGET_KEY_PREFIX}{day}"


def agent_id_for(agent_type: str, suffix: str) -> str:
    """An instance's id: ``agent_<type>_<suffix>`` (the suffix: 8 hex digits, unique per instance)."""
    return f"agent_{agent_type}_{suffix}"


def agent_type_of(agent_id: str) -> str:
    """The type in an instance's id, or the id itself for other sources ("phase2", "user").

    A type may hold underscores (an ``--agent-class`` of one's own), so the
    suffix is cut from the right, not split from the left.
    """
    if agent_id.startswith("agent_") and agent_id.count("_") >= 2:
        return agent_id.removeprefix("agent_").rsplit("_", 1)[0]
    return agent_id
