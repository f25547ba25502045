"""What the spec's integration tests import, bound to our runtime.

The spec writes ``agent = EvolutionAgent(...)`` then ``await agent.start()``
and ``await agent.stop()``: in our code an agent is a handler and an
``AgentWorker`` runs it, so ``EvolutionAgent`` here is that pairing.
"""

from __future__ import annotations

from agents.base import Services
from agents.evolution import EvolutionAgent as _Evolution
from agents.worker import AgentWorker


def EvolutionAgent(services: Services) -> AgentWorker:  # noqa: N802 - the spec's name
    return AgentWorker(_Evolution(), services)
