"""The inbox's URL and token: the Airflow connection `province_inbox` first, then the environment."""

from __future__ import annotations

import json

import pytest

from tthc.province_package.inbox import InboxMisconfigured, InboxSettings, inbox_settings


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in ("PROVINCE_INBOX_URL", "PROVINCE_INBOX_TOKEN", "AIRFLOW_CONN_PROVINCE_INBOX"):
        monkeypatch.delenv(name, raising=False)


def test_environment_when_no_connection(monkeypatch):
    monkeypatch.setenv("PROVINCE_INBOX_URL", "http://inbox.hanam.gov.vn/")
    monkeypatch.setenv("PROVINCE_INBOX_TOKEN", "bi-mat-123")
    assert inbox_settings() == InboxSettings("http://inbox.hanam.gov.vn", "bi-mat-123")


def test_the_airflow_connection_wins(monkeypatch):
    monkeypatch.setenv("PROVINCE_INBOX_URL", "http://env.invalid")
    monkeypatch.setenv("PROVINCE_INBOX_TOKEN", "env-token")
    monkeypatch.setenv(
        "AIRFLOW_CONN_PROVINCE_INBOX",
        json.dumps({"conn_type": "http", "host": "https://inbox.hanam.gov.vn", "password": "conn-token-456"}),
    )
    assert inbox_settings() == InboxSettings("https://inbox.hanam.gov.vn", "conn-token-456")


def test_not_configured_is_none_and_half_configured_is_an_error(monkeypatch):
    assert inbox_settings() is None
    monkeypatch.setenv("PROVINCE_INBOX_URL", "http://inbox.hanam.gov.vn")
    with pytest.raises(InboxMisconfigured, match="token missing"):
        inbox_settings()


def test_the_token_never_shows_in_repr():
    assert "bi-mat-123" not in repr(InboxSettings("http://x", "bi-mat-123"))
