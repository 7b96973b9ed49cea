"""The one-stop contract's list endpoints: auth, envelope, paging, windows, faults."""

from __future__ import annotations

import re

from simulator.faults import apply_record_fault
from simulator.timefmt import parse_stamp

ONE_STOP_ROUTES = {
    "/api/v1/don-vi": "don_vi",
    "/api/v1/thu-tuc": "thu_tuc",
    "/api/v1/thu-tuc-don-vi": "thu_tuc_don_vi",
    "/api/v1/ho-so": "ho_so",
    "/api/v1/qua-trinh-xu-ly": "qua_trinh_xu_ly",
}
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 500, 1000
_INT = re.compile(r"^\d{1,9}$")


class ApiError(Exception):
    def __init__(self, status: int, payload: dict, headers: dict | None = None):
        super().__init__(payload.get("message"))
        self.status, self.payload, self.headers = status, payload, headers or {}


def error(status: int, message: str, code: str | None = None, headers: dict | None = None) -> ApiError:
    return ApiError(
        status, {"error_code": code or str(status), "message": message, "data": None, "pagination": None}, headers
    )


def int_param(query: dict, name: str, default: int, lo: int, hi: int | None, err=error) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not _INT.match(raw.strip()):
        raise err(400, f"{name} must be an integer, got {raw!r}")
    value = int(raw)
    if value < lo or (hi is not None and value > hi):
        bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise err(400, f"{name} must be {bound}, got {value}")
    return value


def window(query: dict, lo_name: str, hi_name: str, parse, err=error) -> tuple[int | None, int | None]:
    bounds = []
    for name in (lo_name, hi_name):
        raw = query.get(name)
        if raw is None or raw == "":
            bounds.append(None)
            continue
        try:
            bounds.append(parse(raw.strip()))
        except ValueError as e:
            raise err(400, f"{name}: {e}") from None
    lo, hi = bounds
    if lo is not None and hi is not None and lo >= hi:
        raise err(400, f"{lo_name} must be before {hi_name}")
    return lo, hi


def transport_faults(handler, path: str, err=error, envelope_error=None):
    """Apply this request's transport fault, if any (raises to answer with it)."""
    from simulator.server import Dropped

    sim = handler.sim
    fault = sim.transport_fault(path)
    if fault is None:
        return
    kind, arg = fault
    with sim._lock:
        sim.stats.faults[kind if kind != "server_error" else f"http_{arg}"] += 1
    if kind == "drop":
        raise Dropped()
    if kind == "rate_limit":
        raise err(429, "quá số lần gọi cho phép, thử lại sau", headers={"Retry-After": str(arg)})
    if kind == "server_error":
        raise err(arg, {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[arg])
    if kind == "error_envelope":
        raise envelope_error or ApiError(
            200,
            {
                "error_code": "E_SYSTEM_BUSY",
                "message": "Hệ thống đang bận, vui lòng thử lại",
                "data": None,
                "pagination": None,
            },
        )


def page_slice(handler, path: str, total: int, page: int, size: int) -> tuple[int, int]:
    faults = handler.sim.page_faults(path)
    if "slow" in faults:
        with handler.sim._lock:
            handler.sim.stats.faults["slow"] += 1
        handler.sleep(faults["slow"])
    start = (page - 1) * size
    stop = min(start + size, total)
    if "repeat" in faults and page > 1 and start < total:
        with handler.sim._lock:
            handler.sim.stats.faults["repeat_rows"] += 1
        start = max(0, start - faults["repeat"])
    return start, stop


def handle_one_stop(handler, method: str, path: str, query: dict):
    from simulator.auth import bearer

    sim = handler.sim
    if method != "GET":
        raise error(405, f"{method} not allowed on {path}")
    token = bearer(handler)
    if not token or not sim.tokens.valid(token) or sim.faults.credentials_revoked:
        raise error(
            401,
            "missing, unknown or expired access token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    sim.count_authorised(path)
    transport_faults(handler, path)
    page = int_param(query, "page", 1, 1, None)
    size = int_param(query, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    lo, hi = window(query, "tu_ngay", "den_ngay", parse_stamp)
    entity = ONE_STOP_ROUTES[path]
    index = sim.world.index("one_stop", entity)
    positions = index.window(sim.clock_seconds, lo, hi)
    total = int(positions.size)
    start, stop = page_slice(handler, path, total, page, size)
    rows = index.payloads(positions[start:stop]) if stop > start else []
    faults = sim.faults
    if faults.has_record_faults:
        rows = [apply_record_fault(faults, entity, r) for r in rows]
    sim.after_page(path)
    return (
        200,
        {
            "error_code": "0",
            "message": "OK",
            "data": rows,
            "pagination": {"page": page, "page_size": size, "total_pages": -(-total // size), "total": total},
        },
        None,
    )
