"""A local web site on 127.0.0.1 whose pages a test can change between runs."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalSite:
    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                html = owner.pages.get(self.path.split("?")[0])
                data = (html or "not found").encode()
                self.send_response(200 if html is not None else 404)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def form_page(button_id: str, button_text: str = "Send") -> str:
    """A form whose button writes "Sent!" into #result; only the button's id varies."""
    return f"""<!doctype html><html><body>
<main><h1>Contact</h1>
<form onsubmit="return false"><input name="email" type="email">
<button id="{button_id}" class="btn primary" type="submit" data-role="send"
  onclick="document.getElementById('result').innerText='Sent!'">{button_text}</button></form>
<p id="result"></p></main></body></html>"""


def moved_form_page() -> str:
    """The same form after a redesign: the button left the form for a toolbar, with a new id and classes."""
    return """<!doctype html><html><body>
<nav class="toolbar"><a href="#help">Help</a>
<button id="send-now" class="cta" type="button"
  onclick="document.getElementById('result').innerText='Sent!'">Send</button></nav>
<main><h1>Contact</h1>
<form onsubmit="return false"><input name="email" type="email"></form>
<p id="result"></p></main></body></html>"""
