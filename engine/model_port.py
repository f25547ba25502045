"""What the engine asks of a model, and what it gets back.

Tiers 2 and 3 used to build their own ``openai`` client: their tokens were
never reserved against the daily budget, counted or priced, and they took
the key from the environment only (issue 16). Now the app hands the engine
the one gateway every model call in the product goes through
(``agents/llm_gateway.py``). The contract lives here so that the engine
does not import the agents layer above it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class StreamProgress:
    """How far a streamed answer has got: shown so a slow model is seen working."""

    model: str
    tokens: int
    tokens_per_s: float
    waiting_s: float  # since the request was sent

    def describe(self) -> str:
        if self.tokens <= 1:  # the wait so far was the server reading the prompt
            return f"model {self.model}: first token after {self.waiting_s:.0f} s"
        return f"model {self.model}: {self.tokens} tokens, {self.tokens_per_s:.1f} tokens/s"

    def as_event(self) -> dict[str, object]:
        return {"model": self.model, "tokens": self.tokens, "tokens_per_s": round(self.tokens_per_s, 2),
                "waiting_s": round(self.waiting_s, 1)}


OnProgress = Callable[[StreamProgress], Awaitable[None]]


@dataclass(frozen=True)
class ModelReply:
    """One answer, with what it cost.

    ``mode`` says how an action came back: ``tools`` (OpenAI tool calls),
    ``json`` (JSON-schema output, for models that return no tool calls) or
    ``text``. ``assistant`` is the message to append to the conversation
    in that mode. ``cost_usd`` is None when the model has no price.
    """

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    mode: str = "text"
    calls: tuple[ToolCall, ...] = ()
    truncated: bool = False  # cut off at max_tokens
    assistant: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Spent:
    """Tokens that answers cost although the call failed (an action that was neither a tool call nor JSON)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0


@dataclass
class Tally:
    """The tokens and cost of several answers (a tier's, a Stagehand session's); cost None once one had no price."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0

    def add(self, part: ModelReply | Spent | Tally) -> None:
        self.prompt_tokens += part.prompt_tokens
        self.completion_tokens += part.completion_tokens
        self.cost_usd = None if part.cost_usd is None or self.cost_usd is None else self.cost_usd + part.cost_usd

    def as_json(self) -> dict[str, Any]:
        """The ``token_usage`` of an attempt in the audit trail."""
        return {"prompt": self.prompt_tokens, "completion": self.completion_tokens, "cost_usd": self.cost_usd}


class ModelRefused(Exception):
    """The call was not made or not answered: over budget, no endpoint, time-out, errors after retries.

    The message is a full sentence for a person; a tier records it as its outcome. ``spent`` is
    what answers that came back unusable cost, so a failed tier still says what it spent.
    """

    spent: Spent = Spent()


class ModelCaller(Protocol):
    async def chat(self, messages: list[dict[str, Any]], *, agent_id: str, task_id: str | None = None,
                   purpose: str = "chat", response_format: dict[str, Any] | None = None,
                   max_tokens: int | None = None, on_progress: OnProgress | None = None) -> ModelReply: ...

    async def act(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, agent_id: str,
                  task_id: str | None = None, purpose: str = "act", max_tokens: int | None = None) -> ModelReply: ...

    def tool_result(self, reply: ModelReply, call: ToolCall, outcome: dict[str, Any]) -> dict[str, Any]: ...
