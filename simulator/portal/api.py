"""The DVC portal contract: list endpoints (X-API-Key, envelope, paging, ISO windows) and the
official scores (POST service-results)."""

from __future__ import annotations

import secrets

import orjson

from simulator.faults import apply_record_fault
from simulator.one_stop_api import ApiError, int_param, page_slice, transport_faults, window
from simulator.timefmt import parse_iso

PORTAL_ROUTES = {
    "/api/v1/reporting/evaluation/service-results": "service_results",
    "/api/v1/payments": "payments",
    "/api/v1/sync-status": "sync_status",
    "/api/v1/feedback": "feedback",
    "/api/v1/ratings": "ratings",
    "/api/v1/online-services": "online_services",
}
SERVICE_RESULTS = "/api/v1/reporting/evaluation/service-results"
WINDOWED = {"payments", "sync_status", "feedback", "ratings"}
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 200, 500


def portal_error(status: int, message: str, code: str | None = None, headers: dict | None = None) -> ApiError:
    return ApiError(status, {"code": code or f"E{status}", "message": message, "data": None}, headers)


def handle_portal(handler, method: str, path: str, query: dict, body: bytes):
    sim = handler.sim
    key = handler.headers.get("X-API-Key") or ""
    if not secrets.compare_digest(key, sim.api_key):
        raise portal_error(403, "missing or wrong X-API-Key", "FORBIDDEN")
    if sim.faults.credentials_revoked:
        raise portal_error(403, "API key revoked", "FORBIDDEN")
    if path == SERVICE_RESULTS:
        return _service_results(handler, method, path, body)
    if method != "GET":
        raise portal_error(405, f"{method} not allowed on {path}")
    transport_faults(
        handler,
        path,
        err=portal_error,
        envelope_error=ApiError(200, {"code": "SYSTEM_BUSY", "message": "Hệ thống đang bận", "data": None}),
    )
    page = int_param(query, "currentPage", 1, 1, None, err=portal_error)
    size = int_param(query, "pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, err=portal_error)
    entity = PORTAL_ROUTES[path]
    lo, hi = window(query, "fromDate", "toDate", _parse, err=portal_error) if entity in WINDOWED else (None, None)
    index = sim.world.index("dvc_portal", entity)
    positions = index.window(sim.clock_seconds, lo, hi)
    total = int(positions.size)
    start, stop = page_slice(handler, path, total, page, size)
    rows = index.payloads(positions[start:stop]) if stop > start else []
    if sim.faults.has_record_faults:
        rows = [apply_record_fault(sim.faults, entity, r) for r in rows]
    sim.after_page(path)
    return (
        200,
        {
            "code": "OK",
            "data": rows,
            "pagination": {"currentPage": page, "pageSize": size, "totalPages": -(-total // size), "totalItems": total},
        },
        None,
    )


def _service_results(handler, method: str, path: str, body: bytes):
    from simulator.portal.scores import service_results

    sim = handler.sim
    if method != "POST":
        raise portal_error(405, f"{method} not allowed on {path}; POST a JSON body")
    transport_faults(
        handler,
        path,
        err=portal_error,
        envelope_error=ApiError(200, {"code": "SYSTEM_BUSY", "message": "Hệ thống đang bận", "data": None}),
    )
    try:
        request = orjson.loads(body or b"")
        if not isinstance(request, dict):
            raise ValueError("the body must be a JSON object")
        data = service_results(sim.world, request, sim.clock_seconds)
    except (ValueError, orjson.JSONDecodeError) as e:
        raise portal_error(400, str(e), "BAD_REQUEST") from None
    return 200, {"code": "OK", "data": data}, None


def _parse(text: str) -> int:
    if "T" not in text:
        raise ValueError(f"expected ISO 8601 with offset, got {text!r}")
    return parse_iso(text)
