"""Serves the REST API from the app's own asyncio loop (GUI or ``serve``).

uvicorn's ``Server.serve()`` normally installs SIGINT/SIGTERM handlers and
re-raises the signal when it stops. Under qasync no component may own OS
signals (house style), and ``aiwebtest serve`` installs its own, so that
capture is turned off here and stopping is ``should_exit``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn

from engine.errors import ServiceError


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # no OS signal handlers of uvicorn's
        yield


class ApiServer:
    """Attributes:
        port: the bound port (useful with port 0 in tests).
    """

    def __init__(self, app: object, host: str = "127.0.0.1", port: int = 8000) -> None:
        self.host = host
        self.port = port
        self._config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                                      access_log=False)
        self._server = _QuietServer(self._config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # Bind here: on a busy port uvicorn would call sys.exit() inside its
        # task, and SystemExit escapes asyncio tasks and stops the loop.
        # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on
        # sockets whose proto is IPPROTO_TCP, and accepted sockets inherit ours.
        # With proto 0 every keep-alive response waited ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ServiceError(
                f"The API cannot listen on {self.host}:{self.port}: {exc.strerror}. Is another aiwebtest "
                "running? Pick another port with AIWEBTEST_API_PORT or 'aiwebtest serve --port N'."
            ) from None
        sock.listen(128)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        self._socket = sock
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]), name="api-server")
        while not self._server.started:
            if self._task.done():
                exc = self._task.exception() if not self._task.cancelled() else None
                raise ServiceError(f"The API server stopped at start: {exc}")
            await asyncio.sleep(0.01)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(self._task, 10)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
        self._task = None
        self._socket.close()
