"""What a model call costs: an input and an output price per model.

Output tokens cost four to six times what input tokens do with every hosted
model we know of, so one price per model under-counts the cost and the
daily-cost alert (issue 13). ``system_config.llm_prices`` holds

    {"gpt-4o-mini": {"input": 0.15, "output": 0.60}, ...}

in USD per million tokens. A bare number (the old format, and what a person
may type for a local model that costs the same either way) means the same
price for both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens, read and written separately."""

    input_per_mtok: float
    output_per_mtok: float

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + completion_tokens * self.output_per_mtok) / 1_000_000

    def label(self) -> str:
        return f"${self.input_per_mtok:g} in / ${self.output_per_mtok:g} out per 1M tokens"

    def as_json(self) -> dict[str, float]:
        return {"input": self.input_per_mtok, "output": self.output_per_mtok}


# The spec's models at their list prices (the spec quotes the input side: $0.15 and $5).
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(0.15, 0.60),
    "gpt-4o": ModelPrice(5.0, 15.0),
}


def _number(model: str, side: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{model}.{side}: expected a number of USD per 1M tokens >= 0, got {value!r}")
    return float(value)


def parse_prices(text: str) -> dict[str, ModelPrice]:
    """The table from its JSON; ValueError naming the model and side that is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f'expected JSON like {{"gpt-4o-mini": {{"input": 0.15, "output": 0.60}}}}: {exc.msg}') from None
    if not isinstance(raw, dict):
        raise ValueError("expected an object of model name to its input and output price")
    out: dict[str, ModelPrice] = {}
    for model, value in raw.items():
        if isinstance(value, dict):
            unknown = set(value) - {"input", "output"}
            if unknown or set(value) != {"input", "output"}:
                raise ValueError(f"{model}: expected exactly the keys input and output, got {sorted(value)}")
            out[model] = ModelPrice(_number(model, "input", value["input"]), _number(model, "output", value["output"]))
        else:
            price = _number(model, "price", value)
            out[model] = ModelPrice(price, price)
    return out


def prices_json(prices: dict[str, ModelPrice]) -> str:
    return json.dumps({model: price.as_json() for model, price in sorted(prices.items())})


def with_defaults(stored: str | None) -> dict[str, ModelPrice]:
    """The stored table over the defaults; a stored table that no longer parses falls back to them."""
    try:
        return {**DEFAULT_PRICES, **(parse_prices(stored) if stored else {})}
    except ValueError:
        return dict(DEFAULT_PRICES)
