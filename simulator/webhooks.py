"""A webhook receiver, as a chat tool's incoming webhook: the daily action messages land here in
tests and the demo.

    POST /webhooks/<name>          a JSON object: stored, 201 (a repeated Idempotency-Key: 200, stored once)
    GET  /webhooks/<name>          {"count", "data": [{"received_at", "idempotency_key", "payload"}]}
    POST /webhooks/<name>/faults   {"status": 503, "count": 2}: answer the next `count` POSTs with
                                   `status` and store nothing (count -1: until told otherwise,
                                   count 0: stop); loopback only, like the admin endpoints

`name` is any short word ([A-Za-z0-9_-]), one inbox each; nothing to register first. Kept in
memory for the server's life.
"""

from __future__ import annotations

import re
import threading

import orjson

PREFIX = "/webhooks/"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class WebhookStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: dict[str, list[dict]] = {}
        self._faults: dict[str, list[int]] = {}  # name -> [status, remaining (-1: always)]

    def receive(self, name: str, payload: dict, idempotency_key: str | None, received_at: str) -> tuple[int, dict]:
        with self._lock:
            fault = self._faults.get(name)
            if fault and fault[1] != 0:
                if fault[1] > 0:
                    fault[1] -= 1
                return fault[0], {"error": f"webhook {name} is failing on purpose (HTTP {fault[0]})"}
            inbox = self._received.setdefault(name, [])
            if idempotency_key and any(m["idempotency_key"] == idempotency_key for m in inbox):
                return 200, {"received": True, "duplicate": True}
            inbox.append({"received_at": received_at, "idempotency_key": idempotency_key, "payload": payload})
            return 201, {"received": True, "duplicate": False}

    def set_fault(self, name: str, status: int, count: int) -> None:
        with self._lock:
            self._faults[name] = [status, count]

    def received(self, name: str) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._received.get(name, [])]


_STORES_LOCK = threading.Lock()


def store_of(sim) -> WebhookStore:
    """The server's webhook store (made on first use)."""
    with _STORES_LOCK:
        store = getattr(sim, "_webhook_store", None)
        if store is None:
            store = sim._webhook_store = WebhookStore()
        return store


def handle_webhooks(handler, method: str, path: str, body: bytes) -> tuple[int, dict]:
    sim = handler.sim
    parts = path[len(PREFIX) :].split("/") if path.startswith(PREFIX) else []
    if not parts or not _NAME.match(parts[0]) or len(parts) > 2 or (len(parts) == 2 and parts[1] != "faults"):
        return 404, {"error": f"no webhook at {path}: POST/GET /webhooks/<name> ([A-Za-z0-9_-])"}
    name, store = parts[0], store_of(sim)
    if len(parts) == 2:
        if not (handler.is_loopback or sim.allow_remote_admin):
            return 403, {"error": "webhook faults answer loopback clients only"}
        if method != "POST":
            return 405, {"error": 'POST {"status": 503, "count": 2}'}
        try:
            data = orjson.loads(body or b"{}")
            status, count = int(data.get("status", 503)), int(data.get("count", -1))
            if not 400 <= status <= 599:
                raise ValueError("status must be 4xx or 5xx")
        except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as e:
            return 400, {"error": f"bad faults: {e}"}
        store.set_fault(name, status, count)
        return 200, {"name": name, "status": status, "count": count}
    if method == "GET":
        received = store.received(name)
        return 200, {"count": len(received), "data": received}
    if method != "POST":
        return 405, {"error": f"{method} not allowed on {path}"}
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        return 400, {"error": f"body is not JSON: {e}"}
    if not isinstance(payload, dict):
        return 400, {"error": "body must be a JSON object"}
    return store.receive(name, payload, handler.headers.get("Idempotency-Key"), sim.clock.isoformat())
