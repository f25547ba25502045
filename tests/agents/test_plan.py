"""The generation plan: one description of the knobs, validated off the bus."""

import pytest

from agents.plan import DEFAULT_PLAN, GenerationPlan, PlanError
from app.api import GenerateBody
from app.generation import GenerateRequest


def test_every_entry_point_takes_its_defaults_from_the_plan() -> None:
    body = GenerateBody(repository_url="/repo")
    request = GenerateRequest("/repo")
    for name in GenerationPlan.model_fields:
        assert getattr(body, name) == getattr(DEFAULT_PLAN, name) == getattr(request, name), name


def test_a_bad_plan_off_the_bus_names_its_field() -> None:
    with pytest.raises(PlanError, match="coverage_target.*less than or equal to 1"):
        GenerationPlan.of({"coverage_target": 8.5})
    with pytest.raises(PlanError, match="search_time_s"):
        GenerationPlan.of({"search_time_s": "forever"})
    assert GenerationPlan.of({"max_rounds": 2, "repository": "/x"}).max_rounds == 2  # other keys are ignored
