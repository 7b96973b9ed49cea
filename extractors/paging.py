"""The paging loop both clients share; each client says how to fetch and unwrap one page."""
from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import orjson
import requests

from extractors.entities import Entity
from extractors.http import RetryingSession, SourceError

log = logging.getLogger(__name__)

# A body cut short by a dropped connection parses as bad JSON: worth a couple more tries.
BAD_BODY_ATTEMPTS = 3


@dataclass(frozen=True)
class Window:
    """[start, end) on the source's last-update field."""

    start: datetime
    end: datetime


@dataclass
class Page:
    number: int
    total_pages: int
    total: int | None
    records: list


def decode_json(content: bytes):
    """orjson for speed; the standard library for what orjson refuses (numbers past a double)."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


class PagedClient(ABC):
    """Owns auth, the envelope and paging for one source; the rest never sees HTTP."""

    source: str
    default_page_size: int

    def __init__(self, base_url: str, http: RetryingSession | None = None, page_size: int | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = http or RetryingSession()
        self.page_size = page_size or self.default_page_size

    def iter_pages(self, entity: Entity, window: Window | None = None) -> Iterator[Page]:
        """Every page of an entity, re-reading total_pages as it goes (it can change)."""
        number = 1
        while True:
            page = self.fetch_page(entity, number, window)
            yield page
            if not page.records or number >= page.total_pages:
                return
            number += 1

    def fetch_page(self, entity: Entity, number: int, window: Window | None) -> Page:
        params = self.page_params(number) | (self.window_params(window) if window else {})
        for attempt in range(BAD_BODY_ATTEMPTS):
            response = self.send(entity.method, entity.path, params=params)
            try:
                body = decode_json(response.content)
            except ValueError as exc:
                if attempt + 1 == BAD_BODY_ATTEMPTS:
                    raise SourceError(
                        f"{self.source} {entity.path} page {number}: body is not JSON ({exc}); "
                        f"HTTP {response.status_code}, {len(response.content)} bytes"
                    ) from exc
                log.warning("%s %s page %d: unreadable body, fetching again", self.source, entity.path, number)
                continue
            return self.unwrap(body, entity, number, response)
        raise AssertionError("unreachable")

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @abstractmethod
    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        """One authenticated call; raises SourceAuthError on refused credentials."""

    @abstractmethod
    def page_params(self, number: int) -> dict: ...

    @abstractmethod
    def window_params(self, window: Window) -> dict: ...

    @abstractmethod
    def unwrap(self, body: dict, entity: Entity, number: int, response: requests.Response) -> Page: ...

    def close(self) -> None:
        self.http.close()
