"""The simulator's HTTP server: both source contracts, the province inbox, a webhook receiver
(simulator/webhooks.py) and admin endpoints.

    server = SimulatorServer(world, port=0, clock=datetime(2024, 6, 1, tzinfo=VN))
    server.start(); requests.get(server.url + "/_sim/health"); server.stop()

One ThreadingHTTPServer (HTTP/1.1, keep-alive) in a background thread. The world is served as
of the server's clock, which only moves when told to (`set_clock`, POST /_sim/clock) or, under
the `advance_per_page` fault, a little after each data page.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import orjson

from simulator.auth import TokenStore
from simulator.faults import FaultConfig
from simulator.one_stop_api import ONE_STOP_ROUTES, ApiError
from simulator.timefmt import from_aware, to_aware
from simulator.world import World

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


@dataclass
class Stats:
    requests: int = 0
    pages: int = 0
    by_path: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict:
        return {
            "requests": self.requests,
            "pages": self.pages,
            "by_path": dict(self.by_path),
            "by_status": {str(k): v for k, v in self.by_status.items()},
            "faults": dict(self.faults),
        }


class Dropped(Exception):
    """Close the connection without answering."""


class SimulatorServer:
    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: datetime | None = None,
        faults: FaultConfig | None = None,
        *,
        client_id: str = "tthc-demo",
        client_secret: str = "demo-secret",
        api_key: str = "demo-api-key",
        inbox_token: str = "demo-inbox-token",
        token_ttl: float = 3600.0,
        allow_remote_admin: bool = False,
        inbox_dir: Path | None = None,
    ):
        self.world = world
        self.host, self.port = host, port
        start = clock if clock is not None else to_aware(world.epoch)
        self._clock = from_aware(start)
        self.faults = faults or FaultConfig()
        self.client_id, self.client_secret = client_id, client_secret
        self.api_key, self.inbox_token = api_key, inbox_token
        self.tokens = TokenStore(token_ttl)
        self.allow_remote_admin = allow_remote_admin
        self.inbox_dir = Path(inbox_dir) if inbox_dir else None
        self.stats = Stats()
        self._lock = threading.RLock()
        self._rng = random.Random(self.faults.seed)
        self._authorised = 0
        self._stormed = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._inbox = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"sim": self})
        self._httpd = ThreadingHTTPServer((self.host, self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="tthc-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
        self._httpd = self._thread = None

    def serve_forever(self) -> None:
        """Run in the calling thread until stop() is called from elsewhere (the CLI's signal handler)."""
        self.start()
        self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    # -- clock and faults ------------------------------------------------------------------------------
    @property
    def clock(self) -> datetime:
        return to_aware(self._clock)

    @property
    def clock_seconds(self) -> int:
        return self._clock

    def set_clock(self, dt: datetime) -> None:
        with self._lock:
            self._clock = from_aware(dt)

    def advance_clock(self, seconds: int) -> None:
        with self._lock:
            self._clock += int(seconds)

    def set_faults(self, faults: FaultConfig | None) -> None:
        with self._lock:
            self.faults = faults or FaultConfig()
            self._rng = random.Random(self.faults.seed)
            self._authorised = 0
            self._stormed = 0
            if self.faults.credentials_revoked:
                self.tokens.revoke_all()

    @property
    def inbox_store(self):
        """The province inbox behind POST/GET /api/v1/extracts."""
        with self._lock:
            if self._inbox is None:
                from simulator.inbox import Inbox

                self._inbox = Inbox(self.inbox_dir)
            return self._inbox

    @property
    def inbox(self) -> list[dict]:
        """Manifests of the extract packages received so far, in order of arrival."""
        return self.inbox_store.manifests()

    # -- fault decisions (called by the handler) -----------------------------------------------------------
    def transport_fault(self, path: str) -> tuple[str, object] | None:
        """The transport fault for this data request, if any: drawn in a fixed order from the seeded stream."""
        f = self.faults
        if not f.applies_to_path(path):
            return None
        with self._lock:
            draws = [self._rng.random() for _ in range(5)]
            if self._stormed < f.storm_requests:
                self._stormed += 1
                return ("server_error", (502, 503, 504)[int(draws[4] * 3)])
            if draws[0] < f.drop:
                return ("drop", None)
            if draws[1] < f.rate_limit:
                return ("rate_limit", f.retry_after)
            if draws[2] < f.server_error:
                return ("server_error", (502, 503, 504)[int(draws[4] * 3)])
            if draws[3] < f.error_envelope:
                return ("error_envelope", None)
            return None

    def page_faults(self, path: str) -> dict:
        f = self.faults
        if not f.applies_to_path(path):
            return {}
        out = {}
        with self._lock:
            a, b = self._rng.random(), self._rng.random()
            if a < f.slow:
                out["slow"] = f.slow_seconds
            if b < f.repeat_rows and f.repeat_count:
                out["repeat"] = f.repeat_count
        return out

    def count_authorised(self, path: str) -> bool:
        """Count an authorised data request; True if tokens are revoked now (revoke_tokens_every)."""
        f = self.faults
        with self._lock:
            self._authorised += 1
            if f.revoke_tokens_every and f.applies_to_path(path) and self._authorised % f.revoke_tokens_every == 0:
                self.tokens.revoke_all()
                self.stats.faults["token_revoked"] += 1
                return True
        return False

    def after_page(self, path: str) -> None:
        f = self.faults
        with self._lock:
            self.stats.pages += 1
            if f.advance_per_page and f.applies_to_path(path):
                self._clock += f.advance_per_page
                self.stats.faults["clock_advanced"] += 1


class _Handler(BaseHTTPRequestHandler):
    sim: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "tthc-simulator/0.1"
    # Headers and body go out in two sends; with Nagle on, the second waits ~40 ms for an ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet: the stats say what happened
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _dispatch(self, method: str):
        sim = self.sim
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with sim._lock:
            sim.stats.requests += 1
            sim.stats.by_path[path] += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if path.startswith("/_sim"):
                from simulator.admin_api import handle_admin

                status, payload = handle_admin(self, method, path, query, body)
                return self._send(status, payload)
            if path == "/oauth/token":
                from simulator.auth import handle_token

                status, payload = handle_token(self, method, body)
                return self._send(status, payload)
            if path in ONE_STOP_ROUTES:
                from simulator.one_stop_api import handle_one_stop

                status, payload, headers = handle_one_stop(self, method, path, query)
                return self._send(status, payload, headers)
            if path == "/api/v1/extracts":
                from simulator.inbox_api import handle_inbox

                status, payload, headers = handle_inbox(self, method, path, body)
                return self._send(status, payload, headers)
            if path.startswith("/webhooks/"):
                from simulator.webhooks import handle_webhooks

                status, payload = handle_webhooks(self, method, path, body)
                return self._send(status, payload)
            from simulator.portal.api import PORTAL_ROUTES, handle_portal

            if path in PORTAL_ROUTES:
                status, payload, headers = handle_portal(self, method, path, query, body)
                return self._send(status, payload, headers)
            return self._send(404, {"error_code": "404", "message": f"no such endpoint: {path}", "data": None})
        except Dropped:  # counted where it was decided
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        except ApiError as e:
            self._send(e.status, e.payload, e.headers)

    def _send(self, status: int, payload, headers: dict | None = None):
        data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        with self.sim._lock:
            self.sim.stats.by_status[status] += 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    @property
    def is_loopback(self) -> bool:
        return self.client_address[0] in LOOPBACK

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
