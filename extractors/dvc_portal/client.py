"""Client of the DVC admin portal API (contract: docs/spec/contracts/dvc-portal-api.md).

An API key header; 403 means the key is missing or wrong, which is fatal. Its envelope,
paging and time format differ from the one-stop system's.
"""

from __future__ import annotations

import requests

from extractors.entities import Entity
from extractors.http import RetryingSession, SourceAuthError, SourceError, TransientSourceError
from extractors.paging import Page, PagedClient, Window, paging_info
from extractors.timefmt import format_iso


class DvcPortalClient(PagedClient):
    source = "dvc_portal"
    default_page_size = 200
    max_page_size = 500

    def __init__(self, base_url: str, api_key: str, http: RetryingSession | None = None, page_size: int | None = None):
        super().__init__(base_url, http, page_size)
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError(f"portal pageSize must be 1..{self.max_page_size}")
        self.api_key = api_key

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, self.url(path), headers={"X-API-Key": self.api_key}, **kwargs)
        if response.status_code in (401, 403):
            raise SourceAuthError(
                f"the DVC portal refused the API key (HTTP {response.status_code} on {path}); "
                f"check the dvc_portal connection's key"
            )
        if response.status_code >= 400:
            raise SourceError(f"DVC portal {path} answered HTTP {response.status_code}: {response.text[:300]}")
        return response

    def page_params(self, number: int) -> dict:
        return {"currentPage": number, "pageSize": self.page_size}

    def window_params(self, window: Window) -> dict:
        return {"fromDate": format_iso(window.start), "toDate": format_iso(window.end)}

    def unwrap(self, body: dict, entity: Entity, number: int, response: requests.Response) -> Page:
        if not isinstance(body, dict) or body.get("code") != "OK":
            code = body.get("code") if isinstance(body, dict) else None
            message = body.get("message") if isinstance(body, dict) else None
            # HTTP 200 with an error code ("busy", "try later"): transient; asked again within the cap
            raise TransientSourceError(f"DVC portal {entity.path} page {number}: code {code!r}: {message}")
        data = body.get("data")
        if not isinstance(data, list):
            raise SourceError(f"DVC portal {entity.path} page {number}: 'data' is not a list")
        total_pages, total = paging_info(
            self.source, entity, number, body.get("pagination"), "totalPages", "totalItems"
        )
        return Page(number=number, total_pages=total_pages, total=total, records=data)

    def service_results(self, root_unit: str, year: int, month: int | None = None, quarter: int | None = None) -> dict:
        """The portal's official 766 scores for a root unit and its children."""
        body: dict = {"year": year, "rootDepartmentCode": root_unit}
        if month is not None:
            body |= {"timeType": "month", "month": month}
        elif quarter is not None:
            body |= {"timeType": "quarter", "quarter": quarter}
        else:
            body |= {"timeType": "year"}
        response = self.send("POST", "/api/v1/reporting/evaluation/service-results", json=body)
        payload = response.json()
        if payload.get("code") != "OK":
            raise SourceError(f"DVC portal service-results: code {payload.get('code')!r}")
        return payload["data"]
