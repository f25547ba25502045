"""Tier 2 for unit tests with a model: ask for a repaired test.

The model sees the test, the failure and (when given) the code under test,
and answers with a whole test file. The engine keeps the repair only if it
passes in the sandbox; the original is never overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from openai import AsyncOpenAI

from engine.tier3 import LLMEndpoint

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


@dataclass(frozen=True)
class Repair:
    code: str | None
    prompt_tokens: int
    completion_tokens: int
    note: str


async def propose_repair(endpoint: LLMEndpoint, test_code: str, failure: str) -> Repair:
    client = AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key or "not-needed",
                         timeout=endpoint.timeout_s, max_retries=2)
    try:
        reply = await client.chat.completions.create(
            model=endpoint.model,
            messages=[{"role": "user", "content": PROMPT.format(test=test_code, failure=failure[-6000:])}],
        )
    finally:
        await client.close()
    usage = reply.usage
    text = reply.choices[0].message.content or ""
    match = _BLOCK.search(text)
    code = match.group(1) if match else None
    return Repair(
        code=code,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        note="the model proposed a repair" if code else "the model's answer had no python code block",
    )
