"""How a generation request is to be run, described once.

The API body, the CLI's flags, the GUI's defaults, the generation service
and the Orchestration and Evolution agents all take these fields and
their defaults from here; they used to restate 0.85, 3 rounds and 20 s in
eight places. A plan coming off the bus is validated again: a message
is data from Redis, not a promise.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class GenerationPlan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    coverage_target: float = Field(0.85, gt=0, le=1, description="line coverage to reach, 0-1")
    strategy: Literal["llm", "search"] | None = Field(
        None, description="llm with a model, search (Pynguin) without; absent: llm when a model is configured")
    max_rounds: int = Field(3, ge=1, le=20, description="rounds of generation at most")
    search_time_s: int = Field(20, ge=5, le=600, description="search budget in seconds for the whole request")
    generate_anyway: bool = Field(False, description="generate even when existing tests already reach the target")
    mutation_score: bool = Field(True, description="measure the kept tests' mutation score (time-boxed: a fifth "
                                                   "of the search budget, 15-120 s); false saves that time")

    @classmethod
    def of(cls, payload: dict[str, Any]) -> GenerationPlan:
        """The plan in a task payload; a bad field raises PlanError naming it."""
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise PlanError(f"generation plan field {field}: {first['msg']} (got {first.get('input')!r})") from None

    def fields(self) -> dict[str, Any]:
        return self.model_dump()


class PlanError(ValueError):
    """A payload's plan does not validate."""


DEFAULT_PLAN = GenerationPlan()
