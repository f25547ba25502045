import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], timeout_s: float = 60.0, step_s: float = 0.05) -> None:
    """Await (letting Qt and asyncio run) until ``condition()`` is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(step_s)
