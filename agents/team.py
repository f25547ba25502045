"""The six agent types, by name."""

from __future__ import annotations

from agents.analysis import AnalysisAgent
from agents.base import Agent
from agents.constants import AGENT_TYPES
from agents.evolution import EvolutionAgent
from agents.observation import ObservationAgent
from agents.orchestration import OrchestrationAgent
from agents.reporting import ReportingAgent
from agents.requirements import RequirementsAgent

AGENT_CLASSES: dict[str, type] = {
    "orchestration": OrchestrationAgent,
    "observation": ObservationAgent,
    "requirements": RequirementsAgent,
    "analysis": AnalysisAgent,
    "evolution": EvolutionAgent,
    "reporting": ReportingAgent,
}
assert tuple(AGENT_CLASSES) == AGENT_TYPES


def make_agent(agent_type: str) -> Agent:
    try:
        return AGENT_CLASSES[agent_type]()
    except KeyError:
        raise ValueError(f"unknown agent type {agent_type!r}; known: {', '.join(AGENT_TYPES)}") from None
