"""HTTP side of the province inbox: bearer token, faults, 201/409/400/401, and the listing.

Under the `slow` fault a received package is stored first and answered late, as a real inbox
behind a slow proxy does: a sender that timed out does not know it was received (the next
attempt gets 409)."""

from __future__ import annotations

import secrets

from simulator.inbox import Duplicate, Rejected, parse_multipart
from simulator.one_stop_api import ApiError, transport_faults

INBOX_PATH = "/api/v1/extracts"


def inbox_error(status: int, message: str, headers: dict | None = None) -> ApiError:
    return ApiError(status, {"error": message}, headers)


def handle_inbox(handler, method: str, path: str, body: bytes):
    sim = handler.sim
    auth = handler.headers.get("Authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.strip().encode(), sim.inbox_token.encode()):
        raise inbox_error(401, "missing or wrong bearer token", {"WWW-Authenticate": 'Bearer realm="inbox"'})
    if method not in ("GET", "POST"):
        raise inbox_error(405, f"{method} not allowed on {path}")
    # a delivery can meet the same transport faults as the sources (an error envelope becomes a 503)
    transport_faults(
        handler,
        path,
        err=lambda status, msg, headers=None: inbox_error(status, msg, headers),
        envelope_error=inbox_error(503, "Hệ thống đang bận, vui lòng thử lại"),
    )
    if method == "POST" and "slow" in sim.page_faults(path):
        # a slow inbox stores the package, then answers late: the sender may have given up by then
        slow_answer = sim.faults.slow_seconds
    else:
        slow_answer = 0.0
    if method == "GET":
        listing = sim.inbox_store.listing()
        return 200, {"count": len(listing), "data": listing}, None
    try:
        fields = parse_multipart(body, handler.headers.get("Content-Type") or "")
        package = sim.inbox_store.receive(fields, sim.clock.isoformat())
    except Rejected as e:
        raise inbox_error(400, str(e)) from None
    except Duplicate as e:
        raise inbox_error(409, str(e)) from None
    if slow_answer:
        with sim._lock:
            sim.stats.faults["slow"] += 1
        handler.sleep(slow_answer)
    unit, period, version = package.key
    return 201, {"received": True, "ma_don_vi": unit, "ky_bao_cao": period, "phien_ban": version}, None
