"""An execution's outcome and its JSON form, together: the API answers it, agents read it back.

``execution_json`` takes either the engine's ``Execution`` or an
``executions`` row (``engine/store.py``), so a status read later has the
same shape as the answer to the request that ran it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Execution:
    id: int
    status: str
    tier_reached: int
    attempts: list[dict] = field(default_factory=list)
    outcomes: list[dict] = field(default_factory=list)
    coverage: dict | None = None
    per_test_coverage: dict = field(default_factory=dict)
    healed_code: str | None = None
    healed_diff: str | None = None
    error: str | None = None


def execution_json(execution: Execution | dict[str, Any]) -> dict[str, Any]:
    """The JSON form of an execution (or of its ``executions`` row), as the API answers and agents read it."""
    if isinstance(execution, Execution):
        return {
            "execution_id": execution.id,
            "status": execution.status,
            "tier_reached": execution.tier_reached,
            "attempts": execution.attempts,
            "tests": execution.outcomes,
            "coverage": execution.coverage,
            "per_test_coverage": execution.per_test_coverage,
            "healed_code": execution.healed_code,
            "healed_diff": execution.healed_diff,
            "error": execution.error,
        }
    row = execution
    return {
        "execution_id": row["id"],
        "status": row["status"],
        "tier_reached": row["tier_reached"],
        "execution_strategy": row["execution_strategy"],
        "attempts": row["attempts"],
        "tests": (row["result"] or {}).get("tests", []),
        "coverage": row["coverage"],
        "healed_code": row["healed_code"],
        "healed_diff": row["healed_diff"],
        "error": row["error"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
    }
