"""Tier 2 for unit tests with a model: ask for a repaired test.

The model sees the test, the failure and (when given) the code under test,
and answers with a whole test file. The engine keeps the repair only if it
passes in the sandbox; the original is never overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.model_port import ModelCaller

PROMPT = """The pytest test below fails. Repair the TEST (not the code under test) so it checks the
behaviour its name and docstring describe. Answer with the whole corrected test file in one
```python block and nothing else.

Test file:
```python
{test}
```

Failure:
```
{failure}
```
"""

_BLOCK = re.compile(r"```(?:python)?\s*\n(.*?)```", re.DOTALL)
# A repaired file is about as long as the test: room for that, not the endpoint's default.
_MIN_ANSWER_TOKENS = 512


@dataclass(frozen=True)
class Repair:
    code: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    note: str


async def propose_repair(llm: ModelCaller, test_code: str, failure: str, *, execution_id: int | None = None) -> Repair:
    """Through the gateway: reserved against the budget, counted and priced like every call."""
    reply = await llm.chat(
        [{"role": "user", "content": PROMPT.format(test=test_code, failure=failure[-6000:])}],
        agent_id="phase2", task_id=f"execution:{execution_id}" if execution_id is not None else None,
        purpose="tier 2 repair", max_tokens=max(_MIN_ANSWER_TOKENS, len(test_code) // 2))
    match = _BLOCK.search(reply.text)
    code = match.group(1) if match else None
    return Repair(
        code=code, prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens,
        cost_usd=reply.cost_usd,
        note="the model proposed a repair" if code else "the model's answer had no python code block",
    )
