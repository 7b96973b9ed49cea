"""Build a source client from settings; settings come from the environment or Airflow."""

from __future__ import annotations

import os
from dataclasses import dataclass

from extractors.dvc_portal import DvcPortalClient
from extractors.entities import DVC_PORTAL, ONE_STOP
from extractors.http import RetryingSession, RetryPolicy
from extractors.one_stop import OneStopClient
from extractors.paging import PagedClient

# How many entities of one source are extracted at once (the ingest DAG's mapped extracts): what
# one source system's API is asked to bear in a night. The benchmark extracts the same way.
EXTRACTS_AT_ONCE = 2


@dataclass(frozen=True)
class SourceSettings:
    base_url: str
    client_id: str | None = None  # one-stop OAuth2 client id
    client_secret: str | None = None  # one-stop OAuth2 client secret
    api_key: str | None = None  # portal X-API-Key

    def __repr__(self) -> str:  # secrets stay out of logs
        return f"SourceSettings({self.base_url})"


ENV = {
    ONE_STOP: ("ONE_STOP_BASE_URL", "ONE_STOP_CLIENT_ID", "ONE_STOP_CLIENT_SECRET", None),
    DVC_PORTAL: ("DVC_PORTAL_BASE_URL", None, None, "DVC_PORTAL_API_KEY"),
}


def settings_from_env(source: str) -> SourceSettings:
    url_var, id_var, secret_var, key_var = ENV[source]
    base_url = os.environ.get(url_var)
    if not base_url:
        raise RuntimeError(f"{url_var} is not set: the base URL of the {source} API")
    return SourceSettings(
        base_url=base_url,
        client_id=os.environ.get(id_var) if id_var else None,
        client_secret=os.environ.get(secret_var) if secret_var else None,
        api_key=os.environ.get(key_var) if key_var else None,
    )


def make_client(
    source: str, settings: SourceSettings, policy: RetryPolicy | None = None, page_size: int | None = None
) -> PagedClient:
    http = RetryingSession(policy or RetryPolicy())
    if source == ONE_STOP:
        if not (settings.client_id and settings.client_secret):
            raise RuntimeError("the one-stop source needs a client id and a client secret")
        return OneStopClient(settings.base_url, settings.client_id, settings.client_secret, http, page_size)
    if source == DVC_PORTAL:
        if not settings.api_key:
            raise RuntimeError("the DVC portal source needs an API key")
        return DvcPortalClient(settings.base_url, settings.api_key, http, page_size)
    raise ValueError(f"unknown source {source!r}")
