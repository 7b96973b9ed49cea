"""HTTP plumbing shared by both source clients: timeouts, retries, backoff.

Sources answer 429 with Retry-After when we are too fast, and 502/503/504 or drop the
connection now and then. Those are retried with capped exponential backoff and full
jitter; Retry-After is honoured (capped too). Anything else is the caller's business.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class SourceError(RuntimeError):
    """The source answered, but not with usable data (error envelope, 4xx, bad JSON)."""


class SourceAuthError(SourceError):
    """Credentials were refused: fatal, retrying cannot help."""


class RetriesExhausted(SourceError):
    """A transient fault outlasted every retry."""


class TransientSourceError(SourceError):
    """The source answered with something worth asking again for (a busy envelope, a cut body)."""


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5  # seconds before the first retry
    max_delay: float = 30.0  # cap of one backoff sleep
    max_retry_after: float = 120.0  # cap of a server-requested wait
    connect_timeout: float = 10.0
    read_timeout: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


@dataclass
class RetryingSession:
    """A requests session that retries transient faults and counts what it did."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None
    retries: int = 0
    requests_sent: int = 0
    # what each retry was for ("HTTP 429", "ConnectionError", "error envelope", ...): run logs and tests
    retry_reasons: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self._rng = random.Random(self.seed)

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", (self.policy.connect_timeout, self.policy.read_timeout))
        last_problem = ""
        for attempt in range(self.policy.max_attempts):
            try:
                self.requests_sent += 1
                response = self.session.request(method, url, **kwargs)
            except TRANSIENT_ERRORS as exc:
                last_problem = f"{type(exc).__name__}: {exc}"
                delay = self.policy.backoff(attempt, self._rng)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                last_problem = f"HTTP {response.status_code}"
                delay = self._retry_after(response) if response.status_code == 429 else None
                if delay is None:
                    delay = self.policy.backoff(attempt, self._rng)
                response.close()
            if attempt + 1 == self.policy.max_attempts:
                break
            self.note_retry(last_problem.split(":")[0])
            log.warning(
                "%s %s: %s; retry %d/%d in %.2fs",
                method,
                _redact(url),
                last_problem,
                attempt + 1,
                self.policy.max_attempts - 1,
                delay,
            )
            self.sleep(delay)
        raise RetriesExhausted(
            f"{method} {_redact(url)} failed after {self.policy.max_attempts} attempts: {last_problem}"
        )

    def note_retry(self, reason: str) -> None:
        self.retries += 1
        self.retry_reasons[reason] += 1

    def backoff(self, attempt: int) -> float:
        return self.policy.backoff(attempt, self._rng)

    def _retry_after(self, response: requests.Response) -> float | None:
        """Retry-After in seconds or as an HTTP date (RFC 9110), capped; None if absent or unreadable."""
        value = response.headers.get("Retry-After", "").strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
        return min(max(seconds, 0.0), self.policy.max_retry_after)

    def close(self) -> None:
        self.session.close()


def _redact(url: str) -> str:
    """URLs carry no secrets here, but query strings can be long: keep logs readable."""
    return url if len(url) < 200 else url[:200] + "…"
