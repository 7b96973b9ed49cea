"""Scripted answers in the two sources' envelopes, for client tests."""

from __future__ import annotations

import math
from urllib.parse import parse_qs


def one_stop_page(rows, page, page_size, error_code="0"):
    total_pages = max(1, math.ceil(len(rows) / page_size))
    chunk = rows[(page - 1) * page_size : page * page_size]
    return {
        "error_code": error_code,
        "message": "OK",
        "data": chunk,
        "pagination": {"page": page, "page_size": page_size, "total_pages": total_pages, "total": len(rows)},
    }


def portal_page(rows, page, page_size, code="OK"):
    total_pages = max(1, math.ceil(len(rows) / page_size))
    chunk = rows[(page - 1) * page_size : page * page_size]
    return {
        "code": code,
        "data": chunk,
        "pagination": {"currentPage": page, "pageSize": page_size, "totalPages": total_pages, "totalItems": len(rows)},
    }


class OneStopScript:
    """Serves `rows` for every list endpoint; tokens `t1`, `t2`, … ; revocable."""

    def __init__(self, rows, client_id="cid", client_secret="sec"):
        self.rows = rows
        self.client_id, self.client_secret = client_id, client_secret
        self.issued = 0
        self.valid = set()

    def revoke_all(self):
        self.valid.clear()

    def __call__(self, seen):
        if seen.path == "/oauth/token":
            form = {k: v[0] for k, v in parse_qs(seen.body.decode()).items()}
            if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials",
                self.client_id,
                self.client_secret,
            ):
                return (401, {}, {"error": "invalid_client"})
            self.issued += 1
            token = f"t{self.issued}"
            self.valid.add(token)
            return (200, {}, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
        auth = seen.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid:
            return (401, {}, {"error_code": "401", "message": "invalid token"})
        page = int(seen.params.get("page", 1))
        size = int(seen.params.get("page_size", 500))
        return (200, {}, one_stop_page(self.rows, page, size))
