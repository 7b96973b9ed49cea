"""A real HTTP server whose answers a test scripts: for client behaviour under exact faults.

Each request is recorded; the handler function decides the answer: (status, headers, body)
or DROP to close the connection without answering.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DROP = object()


@dataclass
class Seen:
    method: str
    path: str
    params: dict
    headers: dict
    body: bytes


@dataclass
class ScriptedServer:
    answer: Callable[[Seen], object]
    seen: list = field(default_factory=list)

    def __enter__(self) -> ScriptedServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                parts = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    dict(self.headers),
                    self.rfile.read(length),
                )
                outer.seen.append(seen)
                reply = outer.answer(seen)
                if reply is DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                status, headers, body = reply
                if not isinstance(body, bytes):
                    body = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def calls(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]
