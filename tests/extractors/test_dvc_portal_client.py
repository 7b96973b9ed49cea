from datetime import datetime

import pytest

from extractors.dvc_portal import DvcPortalClient
from extractors.entities import entity
from extractors.http import RetryingSession, RetryPolicy, SourceAuthError, SourceError
from extractors.paging import Window
from extractors.timefmt import LOCAL
from tests.extractors.fake_sources import portal_page
from tests.extractors.scripted_server import ScriptedServer

PAYMENTS = entity("dvc_portal", "payments")
ROWS = [{"transactionId": f"TX{i}", "updatedAt": "2024-05-02T09:30:00+07:00"} for i in range(7)]


def answer(seen):
    if seen.headers.get("X-API-Key") != "k":
        return (403, {}, {"code": "FORBIDDEN"})
    return (200, {}, portal_page(ROWS, int(seen.params["currentPage"]), int(seen.params["pageSize"])))


def client(url, key="k", page_size=3):
    http = RetryingSession(RetryPolicy(max_attempts=2, base_delay=0.01), sleep=lambda s: None)
    return DvcPortalClient(url, key, http, page_size)


def test_pages_and_iso_window():
    with ScriptedServer(answer) as srv:
        window = Window(datetime(2024, 5, 1, tzinfo=LOCAL), datetime(2024, 5, 2, tzinfo=LOCAL))
        pages = list(client(srv.url).iter_pages(PAYMENTS, window))
        calls = srv.calls("/api/v1/payments")
    assert [len(p.records) for p in pages] == [3, 3, 1]
    assert calls[0].params["fromDate"] == "2024-05-01T00:00:00+07:00"
    assert calls[0].params["toDate"] == "2024-05-02T00:00:00+07:00"
    assert [c.params["currentPage"] for c in calls] == ["1", "2", "3"]


def test_wrong_key_is_fatal():
    with ScriptedServer(answer) as srv:
        with pytest.raises(SourceAuthError, match="refused the API key"):
            list(client(srv.url, key="nope").iter_pages(PAYMENTS))


def test_error_code_in_envelope():
    with ScriptedServer(lambda s: (200, {}, portal_page(ROWS, 1, 3, code="ERR"))) as srv:
        with pytest.raises(SourceError, match="code 'ERR'"):
            list(client(srv.url).iter_pages(PAYMENTS))
