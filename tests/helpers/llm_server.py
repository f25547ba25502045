"""A scripted OpenAI-compatible server on 127.0.0.1 for tests.

The real ``openai`` client talks to it over real HTTP. Each POST to
``/v1/chat/completions`` takes the next step of the script:

* ``{"status": 429}`` (or 500…): an error response, with ``retry-after: 0``
* ``{"delay_s": 5, ...}``: sleep first (time-out tests), then answer the rest
* ``{"tool_calls": [("name", {...args}), ...]}``: an assistant message calling tools
* ``{"content": "text"}``: a plain assistant message
* ``"usage": (prompt, completion)`` on any answer sets the usage block

A request with ``"stream": true`` is answered with server-sent events, as
llama.cpp and OpenAI do: the content word by word, tool calls in one chunk,
and the usage chunk when ``stream_options.include_usage`` asks for it.
Streaming steps may also carry:

* ``"chunk_delay_s": 0.1``: a pause before each chunk (a slow model writing)
* ``"stall_after": 3, "stall_s": 60``: go silent after 3 chunks (a stuck model)
* ``"no_usage": True``: leave the usage chunk out
* ``"finish": "length"``: the answer was cut at max_tokens

``no_stream=True`` makes the server refuse streaming with a 400, like servers
that cannot stream. ``/v1/embeddings`` answers with a fixed vector per input.

Every request body is kept in ``requests`` for assertions.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedLLM:
    def __init__(self, script: list[dict[str, Any]] | None = None, *,
                 default: dict[str, Any] | None = None, no_stream: bool = False) -> None:
        """``default`` answers every request once the script is used up (soak runs)."""
        self.no_stream = no_stream
        self.script: list[dict[str, Any]] = list(script or [])
        self.default = default or {"content": "script exhausted"}
        self.requests: list[dict[str, Any]] = []
        self.abandoned = 0
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                try:
                    self._answer()
                except (BrokenPipeError, ConnectionResetError):
                    with owner._lock:
                        owner.abandoned += 1  # the client gave up on this answer (a time-out)

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                with owner._lock:
                    owner.requests.append({"path": self.path, "body": body,
                                           "authorization": self.headers.get("authorization")})
                    refused = bool(body.get("stream") and owner.no_stream)
                    step = owner.default if refused else owner.script.pop(0) if owner.script else owner.default
                if refused:  # takes no step of the script
                    self._send(400, {"error": {"message": "stream is not supported", "type": "invalid_request"}})
                    return
                if self.path.endswith("/embeddings"):
                    self._embeddings(body, step)
                    return
                if step.get("delay_s"):
                    time.sleep(step["delay_s"])
                if "status" in step:
                    self._send(step["status"], {"error": {"message": "scripted error", "type": "rate_limit"}},
                               {"retry-after": "0"})
                    return
                if body.get("stream"):
                    self._stream(body, step)
                    return
                self._send(200, owner.completion(body, step))

            def _embeddings(self, body: dict, step: dict) -> None:
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                size = int(body.get("dimensions") or 8)
                data = [{"object": "embedding", "index": i, "embedding": [((i + k) % 7) / 7 for k in range(size)]}
                        for i, _ in enumerate(texts)]
                tokens = step.get("usage", (sum(len(t.split()) for t in texts), 0))[0]
                self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                                 "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

            def _stream(self, body: dict, step: dict) -> None:
                whole = owner.completion(body, step)
                message = whole["choices"][0]["message"]
                base = {"id": whole["id"], "object": "chat.completion.chunk", "created": whole["created"],
                        "model": whole["model"]}
                chunks: list[dict] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant"},
                                                             "finish_reason": None}]}]
                words = re.findall(r"\S+\s*|\s+", message.get("content") or "")
                chunks += [{**base, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                           for w in words]
                if message.get("tool_calls"):
                    calls = [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]
                    chunks.append({**base, "choices": [{"index": 0, "delta": {"tool_calls": calls},
                                                        "finish_reason": None}]})
                chunks.append({**base, "choices": [{"index": 0, "delta": {},
                                                    "finish_reason": whole["choices"][0]["finish_reason"]}]})
                if (body.get("stream_options") or {}).get("include_usage") and not step.get("no_usage"):
                    chunks.append({**base, "choices": [], "usage": whole["usage"]})
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                try:
                    for n, chunk in enumerate(chunks):
                        if step.get("stall_after") is not None and n == step["stall_after"]:
                            time.sleep(step.get("stall_s", 60))
                        if step.get("chunk_delay_s"):
                            time.sleep(step["chunk_delay_s"])
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                finally:
                    self.close_connection = True

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
        finish = step.get("finish", "stop")
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


def stagehand_pick(label: str, method: str = "click", arguments: tuple[str, ...] = ()) -> Any:
    """A ``reply`` for a Stagehand observe or act request: the element whose tree line reads ``label``.

    Stagehand's prompt carries the page's accessibility tree, one element a
    line (``[0-12] button: Send``); a model answers with that element's id,
    in the shape the request's JSON schema names (``Observation``: a list of
    elements; ``Act``: one action and ``twoStep``). Nothing when no line
    matches, as a model that finds nothing would answer.
    """

    def reply(request: dict[str, Any]) -> str:
        tree = "\n".join(str(m.get("content", "")) for m in request.get("messages", []))
        found = re.search(r"\[(\d+-\d+)\] " + re.escape(label) + r"\s*$", tree, re.MULTILINE)
        element = {"elementId": found.group(1), "description": f"the element '{label}'", "method": method,
                   "arguments": list(arguments)} if found else None
        schema = (request.get("response_format") or {}).get("json_schema", {}).get("name")
        if schema == "Act":
            return json.dumps({"action": element, "twoStep": False})
        return json.dumps({"elements": [element] if element else []})

    return reply
