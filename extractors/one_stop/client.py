"""Client of the provincial one-stop system API (contract: docs/spec/contracts/one-stop-api.md).

OAuth2 client credentials; a 401 on a data call means the token expired or was revoked:
fetch a new one and retry once. A 401 from /oauth/token itself is fatal.
"""

from __future__ import annotations

import logging

import requests

from extractors.entities import Entity
from extractors.http import RetryingSession, SourceAuthError, SourceError, TransientSourceError
from extractors.paging import Page, PagedClient, Window, paging_info
from extractors.timefmt import format_local

log = logging.getLogger(__name__)


class OneStopClient(PagedClient):
    source = "one_stop"
    default_page_size = 500
    max_page_size = 1000

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        http: RetryingSession | None = None,
        page_size: int | None = None,
    ):
        super().__init__(base_url, http, page_size)
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError(f"one-stop page_size must be 1..{self.max_page_size}")
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self.tokens_fetched = 0

    def _fetch_token(self) -> str:
        response = self.http.request(
            "POST",
            self.url("/oauth/token"),
            data={"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret},
        )
        if response.status_code in (400, 401, 403):
            raise SourceAuthError(
                f"one-stop refused the client credentials (HTTP {response.status_code} from /oauth/token); "
                f"check the client id and secret of the one_stop connection"
            )
        if response.status_code != 200:
            raise SourceError(f"one-stop /oauth/token answered HTTP {response.status_code}")
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError) as exc:
            raise SourceError("one-stop /oauth/token answered without an access_token") from exc
        self.tokens_fetched += 1
        return token

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        for _attempt in (1, 2):
            if self._token is None:
                self._token = self._fetch_token()
            response = self.http.request(
                method, self.url(path), headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
            if response.status_code != 401:
                break
            log.info("one-stop token refused (expired or revoked); fetching a new one")
            self._token = None
        if response.status_code == 401:
            raise SourceAuthError(f"one-stop refused a fresh token on {path} (HTTP 401)")
        if response.status_code >= 400:
            raise SourceError(f"one-stop {path} answered HTTP {response.status_code}: {response.text[:300]}")
        return response

    def page_params(self, number: int) -> dict:
        return {"page": number, "page_size": self.page_size}

    def window_params(self, window: Window) -> dict:
        return {"tu_ngay": format_local(window.start), "den_ngay": format_local(window.end)}

    def unwrap(self, body: dict, entity: Entity, number: int, response: requests.Response) -> Page:
        if not isinstance(body, dict) or str(body.get("error_code")) != "0":
            message = body.get("message") if isinstance(body, dict) else None
            code = body.get("error_code") if isinstance(body, dict) else None
            # HTTP 200 with an error code ("busy", "try later"): transient; asked again within the cap
            raise TransientSourceError(f"one-stop {entity.path} page {number}: error_code {code!r}: {message}")
        data = body.get("data")
        if not isinstance(data, list):
            raise SourceError(f"one-stop {entity.path} page {number}: 'data' is not a list")
        total_pages, total = paging_info(self.source, entity, number, body.get("pagination"), "total_pages", "total")
        return Page(number=number, total_pages=total_pages, total=total, records=data)
