"""The ``llm`` strategy: prompt a model with what the other agents learned."""

from __future__ import annotations

import json
import re
from typing import Any

from agents.generation import Candidate, StrategyError, module_of, test_file_header

_BLOCK = re.compile(r"```(?:python)?\s*\n(.*?)```", re.DOTALL)

PROMPT = """Write pytest tests for the Python module `{module}` (file {target_file}).
Import it as `import {module}` or `from {module} import ...`.
Return one ```python block with a complete test file and nothing else.

Source:
```python
{source}
```

Functions and branches (analysis): {analysis}
Behaviours to check (requirements): {requirements}
Lines not yet covered: {uncovered}
Failures of the last attempt, to avoid: {failures}
"""


async def generate(
    gateway: Any, *, agent_id: str, task_id: str, repository_source: str, target_file: str,
    analysis: Any, requirements: Any, uncovered: list[int], failures: list[str],
) -> Candidate:
    _, module = module_of(target_file)
    prompt = PROMPT.format(
        module=module, target_file=target_file, source=repository_source[:20000],
        analysis=json.dumps(analysis)[:4000], requirements=json.dumps(requirements)[:3000],
        uncovered=uncovered[:200] or "none yet measured", failures=failures[-3:] or "none",
    )
    message, usage = await gateway.chat([{"role": "user", "content": prompt}], agent_id=agent_id, task_id=task_id)
    match = _BLOCK.search(message.content or "")
    if not match:
        raise StrategyError("the model's answer had no ```python block")
    body = match.group(1)
    return Candidate(target_file, test_file_header(target_file, "llm") + body, "llm",
                     tokens=usage.total, cost_usd=usage.cost_usd)
