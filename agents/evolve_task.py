"""The evolve step's input, one typed object: the request plus what the earlier steps found.

Orchestration writes it (``payload()``), Evolution reads it once
(``EvolveTask.of``): the request's fields are validated again off the
bus, and the step's own facts (the checkout, the targets Observation
confirmed, the analysis) travel beside it, not mixed into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.base import TaskFailed
from agents.wall_budget import WallBudget
from engine.errors import InputError
from engine.generate_request import GenerateRequest


@dataclass(frozen=True)
class EvolveTask:
    request: GenerateRequest
    repository: Path  # the checkout Observation made (a folder, never the URL)
    target_files: list[str]
    interpreter: str | None = None
    checklist: list[Any] = field(default_factory=list)  # the Requirements agent's checklist
    analysis: dict[str, Any] = field(default_factory=dict)  # the Analysis agent's result (baseline, functions)
    due_at: float | None = None  # time.time() the request's result is due (agents/wall_budget.py); None: no bound

    @classmethod
    def of(cls, payload: dict[str, Any]) -> EvolveTask:
        """The task in a bus payload; a bad field fails the task with the field's name."""
        try:
            request = GenerateRequest.from_payload(payload.get("request") or {})
        except InputError as exc:
            raise TaskFailed(f"evolve payload request.{exc}") from None
        if not isinstance(payload.get("repository"), str) or not isinstance(payload.get("target_files"), list):
            raise TaskFailed("evolve payload: repository (a folder) and target_files (a list) are required")
        return cls(request, Path(payload["repository"]), [str(t) for t in payload["target_files"]],
                   payload.get("interpreter"), list((payload.get("requirements") or {}).get("checklist") or []),
                   dict(payload.get("analysis") or {}),
                   wall.due_at if (wall := WallBudget.from_payload(payload.get("due_at"))) else None)

    def payload(self) -> dict[str, Any]:
        return {"request": self.request.model_dump(mode="json"), "repository": str(self.repository),
                "target_files": self.target_files, "interpreter": self.interpreter,
                "requirements": {"checklist": self.checklist}, "analysis": self.analysis,
                **({"due_at": self.due_at} if self.due_at is not None else {})}

    @property
    def baseline(self) -> dict[str, Any] | None:
        return self.analysis.get("baseline")

    @property
    def wall(self) -> WallBudget | None:
        return WallBudget(self.due_at, self.request.search_time_s) if self.due_at is not None else None

    def functions_of(self, target: str) -> list[Any]:
        return (self.analysis.get("functions") or {}).get(target, [])
