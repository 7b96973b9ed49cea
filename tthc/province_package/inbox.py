"""Where the province's inbox is and the token to reach it, if delivery is configured.

In Airflow: connection `province_inbox` (host = the inbox's base URL, password = the bearer
token). Elsewhere, or when that connection is not defined: PROVINCE_INBOX_URL and
PROVINCE_INBOX_TOKEN. Neither set means packages only land in the outbox.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from tthc.orchestration.connections import airflow_connection as _airflow_connection
from tthc.orchestration.connections import base_url as _base_url

log = logging.getLogger(__name__)

CONN_ID = "province_inbox"
URL_ENV, TOKEN_ENV = "PROVINCE_INBOX_URL", "PROVINCE_INBOX_TOKEN"


class InboxMisconfigured(ValueError):
    """An inbox URL without a token (or the reverse): delivery cannot work, and must not be skipped silently."""


@dataclass(frozen=True)
class InboxSettings:
    url: str
    token: str = ""

    def __repr__(self) -> str:  # the token never reaches a log line
        return f"InboxSettings(url={self.url!r}, token={'***' if self.token else ''!r})"


def inbox_settings() -> InboxSettings | None:
    """The configured inbox, or None when delivery is not configured at all."""
    conn = _airflow_connection(CONN_ID)
    if conn is not None:
        url, token, origin = _base_url(conn), conn.password or "", f"Airflow connection {CONN_ID!r}"
    else:
        url, token, origin = (
            os.environ.get(URL_ENV, "").strip(),
            os.environ.get(TOKEN_ENV, "").strip(),
            f"{URL_ENV}/{TOKEN_ENV}",
        )
    if not url and not token:
        return None
    if not url or not token:
        raise InboxMisconfigured(
            f"{origin}: the province inbox needs both a URL and a token "
            f"(URL {'set' if url else 'missing'}, token {'set' if token else 'missing'})"
        )
    return InboxSettings(url.rstrip("/"), token)
