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


class SignalCatcher:
    """Records a signal's emissions; await ``wait()`` instead of qtbot.waitSignal.

    qtbot.waitSignal blocks in a nested QEventLoop, and a nested loop's
    exit stops qasync's loop ("Event loop stopped before Future completed").
    """

    def __init__(self, signal) -> None:
        self.calls: list[tuple] = []
        signal.connect(lambda *args: self.calls.append(args))

    async def wait(self, timeout_s: float = 10.0) -> tuple:
        await until(lambda: self.calls, timeout_s)
        return self.calls[-1]
