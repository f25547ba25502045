"""A Browserbase API on 127.0.0.1 that refuses every key, as theirs does a wrong one (HTTP 401)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RefusingBrowserbase:
    def __init__(self) -> None:
        self.keys: list[str | None] = []  # the X-BB-API-Key of each request
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _refuse(self) -> None:
                owner.keys.append(self.headers.get("x-bb-api-key"))
                length = int(self.headers.get("content-length", 0))
                if length:
                    self.rfile.read(length)
                body = json.dumps({"error": "Unauthorized", "message": "Invalid API key"}).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _refuse  # noqa: N815 (http.server API)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
