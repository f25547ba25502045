"""A running request's progress as the Generate view shows it: plain arithmetic, no Qt.

The bar moves by time, not by agent steps: the steps before evolution
take seconds and fill the first tenth; evolution fills the rest up to
``BEFORE_RESULT`` over the request's estimate (``GenerateRequest.estimated_s``);
the bar is full only when the result is in. Phase 2's single pass sends
its own events (agent ``phase2``) and moves the bar the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STEPS = ["orchestration", "observation", "requirements", "analysis", "evolution", "reporting"]
# Share of the bar before evolution starts, and where it stops until the result arrives.
BEFORE_EVOLVE, BEFORE_RESULT = 0.1, 0.95


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


@dataclass
class RunProgress:
    """What the view knows of the running request; ``now`` is always the caller's monotonic time."""

    started: float
    estimate_s: float
    target: float
    step: str = ""
    coverage: float | None = None
    evolving: float = 0.0  # monotonic time the generation started
    model: str = ""  # the model's answer so far ("model x: 312 tokens, 8.4 tokens/s") while one streams

    def on_event(self, agent: str, event: dict[str, Any], now: float) -> None:
        """Takes one progress event in; a streaming model's growth only changes the step's text."""
        if "model_stream" in event:
            self.model = str(event.get("message") or "")
            return
        self.model = ""
        self.step = agent
        if "coverage" in event:
            self.coverage = float(event["coverage"])
        if ("search_budget_s" in event or agent == "phase2") and not self.evolving:
            self.evolving = now

    def fraction(self, now: float) -> float:
        """How full the bar is, 0 to ``BEFORE_RESULT``: never full before the result."""
        elapsed = now - self.started
        fraction = BEFORE_EVOLVE * STEPS.index(self.step) / STEPS.index("evolution") if self.step in STEPS[:4] else 0.0
        if self.evolving:
            fraction = BEFORE_EVOLVE + (BEFORE_RESULT - BEFORE_EVOLVE) * min(1.0, elapsed / max(self.estimate_s, 1.0))
        if self.step == "reporting":
            fraction = BEFORE_RESULT
        return fraction

    def label(self, now: float) -> str:
        """Elapsed time, an estimate of what is left, coverage so far and the step."""
        elapsed = now - self.started
        left = self.estimate_s - elapsed
        when = f"about {clock(left)} left" if left > 0 else "taking longer than the estimate"
        so_far = (f" · line coverage so far {self.coverage:.0%} (target {self.target:.0%})"
                  if self.coverage is not None else "")
        step = f" · {self.step}" if self.step else ""
        step += f" · {self.model}" if self.model else ""
        return f"Elapsed {clock(elapsed)} · {when}{so_far}{step}"

    def finished_label(self, now: float) -> str:
        return f"Took {clock(now - self.started)}" + (f" · line coverage {self.coverage:.0%}"
                                                       if self.coverage is not None else "")
