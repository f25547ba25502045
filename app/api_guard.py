"""The local API's front door: who may call it, from which page, with how much.

The API listens on 127.0.0.1, but that alone does not keep a web page out:
a page the user visits can post to 127.0.0.1, and with DNS rebinding
(``evil.example`` resolving to 127.0.0.1) it can even read the answers.
So, as Jupyter does:

* a secret token, made on first start and kept in the data dir readable by
  the user only, is required as ``Authorization: Bearer <token>`` on every
  endpoint but ``GET /api/health``;
* the ``Host`` header must name this machine (127.0.0.1, localhost or
  [::1], any port), so a rebound name is refused before anything runs;
* a body over ``MAX_BODY_BYTES`` is refused from its ``Content-Length``
  alone, before it is read; a body sent without one is counted as it
  arrives and refused at the limit.

This is a plain ASGI middleware: it answers before FastAPI parses, routes
or validates anything.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.api_token import TOKEN_FILE

MAX_BODY_BYTES = 10 * 1024 * 1024
# A refused body is still read (and thrown away, chunk by chunk) up to this
# much before the 413 goes out: a client that is still sending when the
# server closes gets a connection reset instead of the answer. Past it, the
# answer goes out at once and such a client may see the reset.
DRAIN_BYTES = 64 * 1024 * 1024
# Host names that can only mean this machine; a page on any other name is
# a different origin, even when its DNS answer is 127.0.0.1.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
OPEN_ROUTES = frozenset({("GET", "/api/health"), ("HEAD", "/api/health")})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_is_local(host_header: str, also: frozenset[str] = frozenset()) -> bool:
    """True for ``127.0.0.1``, ``localhost`` or ``[::1]`` (or a name in ``also``), with or without a port."""
    host = host_header.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        port = rest.removeprefix(":") if rest else ""
        if rest and not rest.startswith(":"):
            return False
    else:
        name, _, port = host.partition(":")
    if port and not port.isdigit():
        return False
    return name in LOCAL_HOSTS or name in also


class ApiGuard:
    """ASGI middleware: local Host, bearer token, bounded body."""

    def __init__(self, app: ASGIApp, token: str, *, max_body_bytes: int = MAX_BODY_BYTES,
                 token_hint: str = "run 'aiwebtest api-token' to print it",
                 allowed_hosts: frozenset[str] = frozenset()) -> None:
        """``allowed_hosts``: names besides this machine's that requests may be addressed to: a cluster's
        Service (``aiwebtest-api``), set with ``AIWEBTEST_API_ALLOWED_HOSTS``; never needed on a desktop."""
        self.app = app
        self.allowed_hosts = frozenset(h.strip().lower() for h in allowed_hosts if h.strip())
        self._token = token.encode()
        self.max_body_bytes = max_body_bytes
        self.token_hint = token_hint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not host_is_local(host, self.allowed_hosts):
            await _answer(send, 403, "Host",
                          f"this API answers only requests addressed to 127.0.0.1, localhost or [::1]"
                          f"{''.join(', ' + h for h in sorted(self.allowed_hosts))}; "
                          f"got Host {host[:100]!r}")
            return
        if (scope["method"], scope["path"]) not in OPEN_ROUTES and not self._authorized(headers):
            await _answer(send, 401, "Authorization",
                          f"send 'Authorization: Bearer <token>'; the token is in the data dir's "
                          f"{TOKEN_FILE} file ({self.token_hint})",
                          extra=[(b"www-authenticate", b'Bearer realm="aiwebtest"')])
            return
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await _answer(send, 400, "Content-Length", f"is not a number: {declared[:40]!r}")
                return
            if int(declared) > self.max_body_bytes:
                if int(declared) <= DRAIN_BYTES:
                    await _drain(receive)
                await _answer(send, 413, "body", self._too_big(int(declared)))
                return
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("latin-1", "replace"), self._token)

    def _too_big(self, size: int) -> str:
        return (f"is {size:,} bytes; the limit is {self.max_body_bytes:,} bytes "
                f"({self.max_body_bytes // (1024 * 1024)} MB)")

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A body without Content-Length (chunked): read it up to the limit, then replay it."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body_bytes:
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_BYTES - size)
                await _answer(send, 413, "body", f"exceeds the limit of {self.max_body_bytes:,} bytes")
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay([{"type": "http.request", "body": b"".join(chunks), "more_body": False}]),
                       send)


async def _drain(receive: Receive, limit: int = DRAIN_BYTES) -> None:
    """Read and drop the rest of a body, one chunk at a time, up to ``limit`` bytes."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _answer(send: Send, status: int, field: str, reason: str,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """The same error shape as the API's own: ``detail`` plus ``errors`` naming the field."""
    body = json.dumps({"detail": f"{field}: {reason}", "errors": [{"field": field, "reason": reason}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})
