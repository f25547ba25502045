"""A scripted OpenAI-compatible server on 127.0.0.1 for tests.

The real ``openai`` client talks to it over real HTTP. Each POST to
``/v1/chat/completions`` takes the next step of the script:

* ``{"status": 429}`` (or 500…): an error response, with ``retry-after: 0``
* ``{"delay_s": 5, ...}``: sleep first (time-out tests), then answer the rest
* ``{"tool_calls": [("name", {...args}), ...]}``: an assistant message calling tools
* ``{"content": "text"}``: a plain assistant message
* ``"usage": (prompt, completion)`` on any answer sets the usage block

Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedLLM:
    def __init__(self, script: list[dict[str, Any]] | None = None, *,
                 default: dict[str, Any] | None = None) -> None:
        """``default`` answers every request once the script is used up (soak runs)."""
        self.script: list[dict[str, Any]] = list(script or [])
        self.default = default or {"content": "script exhausted"}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with owner._lock:
                    owner.requests.append({"path": self.path, "body": body})
                    step = owner.script.pop(0) if owner.script else owner.default
                if step.get("delay_s"):
                    time.sleep(step["delay_s"])
                if "status" in step:
                    self._send(step["status"], {"error": {"message": "scripted error", "type": "rate_limit"}},
                               {"retry-after": "0"})
                    return
                self._send(200, owner.completion(body, step))

            def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "ScriptedLLM":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @staticmethod
    def completion(request: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
        content = step["reply"](request) if "reply" in step else step.get("content")  # reply: answer from the prompt
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if step.get("tool_calls"):
            message["tool_calls"] = [
                {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
                 "function": {"name": name, "arguments": json.dumps(args)}}
                for name, args in step["tool_calls"]
            ]
            finish = "tool_calls"
        prompt, completion = step.get("usage", (100, 20))
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:8]}", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
