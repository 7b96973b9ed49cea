"""The paging loop both clients share; each client says how to fetch and unwrap one page."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import orjson
import requests

from extractors.entities import Entity
from extractors.http import RetryingSession, SourceError, TransientSourceError

log = logging.getLogger(__name__)

# A body cut short by a dropped connection parses as bad JSON: worth a couple more tries
# (at least; the retry policy's cap applies when it is higher).
BAD_BODY_ATTEMPTS = 3
# Step-backs per pass when rows leave the window while paging (see PagedClient._pages).
MAX_REWINDS = 1000


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


class IncompletePaging(SourceError):
    """The source's pages cannot account for every record it says it has: a response without
    its paging information, or a page sequence that ends before the source's total. Fails the
    run (the watermark stays, so the next run reads the same window again); never retried
    within the run, since asking again would hide a source that loses rows."""


def paging_info(
    source: str, entity: Entity, number: int, pagination, pages_field: str, total_field: str
) -> tuple[int, int]:
    """(total pages, total records) from a response's paging block, or IncompletePaging.

    Without them a pass cannot tell its last page from a page cut short, nor check that it
    read every record, so a response that lacks them is an error, not "one page"."""
    if not isinstance(pagination, dict):
        raise IncompletePaging(
            f"{source} {entity.path} ({entity.name}) page {number}: the response has no 'pagination' block "
            f"(the contract gives {pages_field} and {total_field}); cannot tell whether every record was read"
        )
    values = []
    for field in (pages_field, total_field):
        value = pagination.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise IncompletePaging(
                f"{source} {entity.path} ({entity.name}) page {number}: pagination.{field} is "
                f"{'missing' if field not in pagination else repr(value)}, not a count; "
                "cannot tell whether every record was read"
            )
        values.append(value)
    return values[0], values[1]


class PagedClient(ABC):
    """Owns auth, the envelope and paging for one source; the rest never sees HTTP."""

    source: str
    default_page_size: int

    def __init__(self, base_url: str, http: RetryingSession | None = None, page_size: int | None = None):
        self.base_url = base_url.rstrip("/")
        self.http = http or RetryingSession()
        self.page_size = page_size or self.default_page_size
        self.rewinds = 0  # times a pass stepped back because rows left the window under it
        self.prefetch = True  # fetch the next page while the caller loads this one

    def iter_pages(self, entity: Entity, window: Window | None = None) -> Iterator[Page]:
        """Every page of an entity (see `_pages`), the next one fetched while the caller loads this one.

        The source renders a page while we parse and COPY the previous one, so a run takes about
        the longer of the two rather than their sum. One page ahead at most: memory stays flat.
        """
        if not self.prefetch:
            yield from self._pages(entity, window)
            return
        pages = self._pages(entity, window)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.source}-pages") as ahead:
            try:
                upcoming = ahead.submit(next, pages, None)
                while True:
                    page = upcoming.result()
                    if page is None:
                        return
                    upcoming = ahead.submit(next, pages, None)
                    yield page
            finally:
                # the caller stopped early or failed: let the fetch in flight end, then close the pass
                wait([upcoming])
                pages.close()

    def _pages(self, entity: Entity, window: Window | None) -> Iterator[Page]:
        """Every page of an entity, re-reading total_pages as it goes (it can change).

        The sources take no snapshot: when a row we have not reached yet is updated past the
        window's end, it leaves the window and every row after it moves up a place, so a row
        can slip onto a page already read. A shrinking `total` says that happened: step back
        as many pages as rows left and read them again (stored versions are skipped on load),
        so a pass misses nothing that stays in its window. Rows only leave finitely often,
        so the pass ends; against a source whose totals go up and down for other reasons,
        rewinding stops after MAX_REWINDS. Either way the run then checks that it read, each
        counted once, at least the source's final total (extractors/completeness.py): a pass
        that fell short fails, and the kept watermark makes the next run read the window again.
        An empty page the source's own numbers say should hold rows fails at once.
        """
        number = 1
        seen_total: int | None = None
        rewinds = 0
        while True:
            page = self.fetch_page(entity, number, window)
            yield page
            shrunk = seen_total is not None and page.total is not None and page.total < seen_total
            if shrunk and rewinds == MAX_REWINDS:
                rewinds += 1  # warn once
                log.warning(
                    "%s %s: totals keep changing while paging; not stepping back again in this pass "
                    "(a pass that then falls short of the total fails and is read again)",
                    self.source,
                    entity.path,
                )
            elif shrunk and rewinds < MAX_REWINDS:
                rewinds += 1
                back = -(-(seen_total - page.total) // self.page_size)  # ceil
                self.rewinds += 1
                log.info(
                    "%s %s: %d rows left the window while paging (total %d -> %d); reading from page %d again",
                    self.source,
                    entity.path,
                    seen_total - page.total,
                    seen_total,
                    page.total,
                    max(1, number - back),
                )
                seen_total = page.total
                number = max(1, number - back)
                continue
            if page.total is not None:
                seen_total = page.total
            if not page.records and (
                number < page.total_pages or (page.total is not None and (number - 1) * self.page_size < page.total)
            ):
                # rows leaving the window shrink the total (handled above); an empty page the
                # source's own numbers say should hold rows means rows it will not give us
                raise IncompletePaging(
                    f"{self.source} {entity.path} ({entity.name}) page {number}: empty, but the source reports "
                    f"{page.total} records on {page.total_pages} pages (page size {self.page_size}): "
                    "the page sequence ends before the source's total"
                )
            if not page.records or number >= page.total_pages:
                return
            number += 1

    def fetch_page(self, entity: Entity, number: int, window: Window | None) -> Page:
        """One page, asking again (with backoff, within the retry cap) when the body is cut
        short or the envelope says the source is busy; HTTP-level retries happen below."""
        params = self.page_params(number) | (self.window_params(window) if window else {})
        attempts = max(BAD_BODY_ATTEMPTS, self.http.policy.max_attempts)
        for attempt in range(attempts):
            response = self.send(entity.method, entity.path, params=params)
            try:
                try:
                    body = decode_json(response.content)
                except ValueError as exc:
                    raise TransientSourceError(
                        f"{self.source} {entity.path} page {number}: body is not JSON ({exc}); "
                        f"HTTP {response.status_code}, {len(response.content)} bytes"
                    ) from exc
                return self.unwrap(body, entity, number, response)
            except TransientSourceError as exc:
                if attempt + 1 == attempts:
                    raise SourceError(f"{exc} (after {attempts} attempts)") from exc
                delay = self.http.backoff(attempt)
                self.http.note_retry("bad body" if "not JSON" in str(exc) else "error envelope")
                log.warning("%s; asking again in %.2fs", exc, delay)
                self.http.sleep(delay)
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
