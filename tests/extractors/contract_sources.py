"""Both sources over real HTTP, serving whatever records a test gives per entity, byte for byte.

Bodies are written by hand so a test can send what Python's json would never write: a number
too large for a double (`1e400`), a 30-digit integer, NaN, a lone surrogate escape. A value
`Raw("1e400")` in a record is written into the JSON text as it is.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import parse_qs

from extractors.entities import ENTITIES, entity
from tests.extractors.scripted_server import ScriptedServer

BY_PATH = {e.path: e for e in ENTITIES}
CLIENT_ID, CLIENT_SECRET, API_KEY = "cid", "sec", "key"


@dataclass(frozen=True)
class Raw:
    """JSON text to put into a body verbatim."""

    text: str


def dumps(value) -> bytes:
    """JSON bytes: Raw verbatim, NaN/Infinity as Python writes them, non-ASCII escaped (so a lone
    surrogate travels as a \\uXXXX escape, as a real server's would)."""
    marks: dict[str, str] = {}

    def swap(v):
        if isinstance(v, Raw):
            mark = f"@@raw{len(marks)}@@"
            marks[mark] = v.text
            return mark
        if isinstance(v, list):
            return [swap(x) for x in v]
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        return v

    text = json.dumps(swap(value), ensure_ascii=True, allow_nan=True)
    for mark, raw in marks.items():
        text = text.replace(json.dumps(mark), raw)
    return text.encode()


class ContractSources:
    """Serves rows[(source, name)] on every list endpoint of both contracts, in pages."""

    def __init__(self, rows: dict[tuple[str, str], list]):
        self.rows = rows

    def __call__(self, seen):
        if seen.path == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                return (401, {}, {"error": "invalid_client"})
            return (200, {}, {"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        target = BY_PATH.get(seen.path)
        if target is None:
            return (404, {}, {"error": "not found"})
        rows = self.rows.get((target.source, target.name), [])
        if target.source == "one_stop":
            if seen.headers.get("Authorization") != "Bearer t":
                return (401, {}, {"error_code": "401", "message": "invalid token"})
            page, size = int(seen.params.get("page", 1)), int(seen.params.get("page_size", 500))
        else:
            if seen.headers.get("X-API-Key") != API_KEY:
                return (403, {}, {"code": "FORBIDDEN"})
            page, size = int(seen.params.get("currentPage", 1)), int(seen.params.get("pageSize", 200))
        pages = max(1, math.ceil(len(rows) / size))
        chunk = rows[(page - 1) * size : page * size]
        if target.source == "one_stop":
            body = {
                "error_code": "0",
                "message": "OK",
                "data": chunk,
                "pagination": {"page": page, "page_size": size, "total_pages": pages, "total": len(rows)},
            }
        else:
            body = {
                "code": "OK",
                "data": chunk,
                "pagination": {"currentPage": page, "pageSize": size, "totalPages": pages, "totalItems": len(rows)},
            }
        return (200, {"Content-Type": "application/json"}, dumps(body))


def serve(rows: dict[tuple[str, str], list]) -> ScriptedServer:
    return ScriptedServer(ContractSources(rows))


def client(source: str, url: str, page_size: int = 50):
    from extractors.dvc_portal import DvcPortalClient
    from extractors.http import RetryingSession
    from extractors.one_stop import OneStopClient
    from tests.extractors.sim_harness import fast_policy

    http = RetryingSession(fast_policy(), seed=1)
    if source == "one_stop":
        return OneStopClient(url, CLIENT_ID, CLIENT_SECRET, http, page_size)
    return DvcPortalClient(url, API_KEY, http, page_size)


def extract_all(dsn, url: str, upper, initial_from, names=None, page_size: int = 50) -> dict:
    """Extract every (or each named) entity of both sources; run records by raw table."""
    from extractors.run import extract_entity

    out, clients = {}, {}
    try:
        for e in ENTITIES if names is None else [entity(s, n) for s, n in names]:
            if e.source not in clients:
                clients[e.source] = client(e.source, url, page_size)
            out[e.table] = extract_entity(dsn.conninfo(), clients[e.source], e, upper, initial_from=initial_from)
    finally:
        for c in clients.values():
            c.close()
    return out
