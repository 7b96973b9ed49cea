from datetime import datetime

import pytest

from extractors.entities import entity
from extractors.http import RetryingSession, RetryPolicy, SourceAuthError, SourceError
from extractors.one_stop import OneStopClient
from extractors.paging import Window
from extractors.timefmt import LOCAL
from tests.extractors.fake_sources import OneStopScript, one_stop_page
from tests.extractors.scripted_server import ScriptedServer

HO_SO = entity("one_stop", "ho_so")
ROWS = [{"MaHoSo": f"000.17.22.H56-240502-{i:04d}", "NgayCapNhat": "20240502081500"} for i in range(1, 24)]


def client(url, **kw):
    http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01), sleep=lambda s: None)
    return OneStopClient(url, kw.pop("cid", "cid"), kw.pop("sec", "sec"), http, **kw)


def test_pages_through_everything_with_one_token():
    script = OneStopScript(ROWS)
    with ScriptedServer(script) as srv:
        pages = list(client(srv.url, page_size=5).iter_pages(HO_SO))
    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert [r["MaHoSo"] for p in pages for r in p.records] == [r["MaHoSo"] for r in ROWS]
    assert pages[0].total == 23 and pages[0].total_pages == 5
    calls = srv.calls("/api/v1/ho-so")
    assert [call.params["page"] for call in calls] == ["1", "2", "3", "4", "5"]
    assert {call.params["page_size"] for call in calls} == {"5"}
    assert script.issued == 1


def test_window_is_sent_as_local_time_strings():
    with ScriptedServer(OneStopScript(ROWS)) as srv:
        c = client(srv.url)
        window = Window(datetime(2024, 5, 1, tzinfo=LOCAL), datetime(2024, 5, 2, 1, 30, tzinfo=LOCAL))
        list(c.iter_pages(HO_SO, window))
        params = srv.calls("/api/v1/ho-so")[0].params
    assert params["tu_ngay"] == "20240501000000" and params["den_ngay"] == "20240502013000"


def test_expired_token_is_replaced_mid_run():
    script = OneStopScript(ROWS)

    def answer(seen):
        if seen.path == "/api/v1/ho-so" and seen.params.get("page") == "3" and script.issued == 1:
            script.revoke_all()  # the token expires between page 2 and page 3
        return script(seen)

    with ScriptedServer(answer) as srv:
        pages = list(client(srv.url, page_size=5).iter_pages(HO_SO))
    assert sum(len(p.records) for p in pages) == 23
    assert script.issued == 2


def test_wrong_credentials_are_fatal_and_clear():
    with ScriptedServer(OneStopScript(ROWS)) as srv:
        with pytest.raises(SourceAuthError, match="refused the client credentials"):
            list(client(srv.url, sec="wrong").iter_pages(HO_SO))
        assert len(srv.calls("/oauth/token")) == 1  # no retry loop on bad credentials


def test_error_envelope_is_an_error_whatever_the_http_status():
    script = OneStopScript(ROWS)

    def answer(seen):
        if seen.path == "/api/v1/ho-so":
            return (200, {}, one_stop_page(ROWS, 1, 500, error_code="E42"))
        return script(seen)

    with ScriptedServer(answer) as srv:
        with pytest.raises(SourceError, match="error_code 'E42'"):
            list(client(srv.url).iter_pages(HO_SO))


def test_truncated_body_is_fetched_again():
    script = OneStopScript(ROWS)
    broken = {"n": 0}

    def answer(seen):
        if seen.path == "/api/v1/ho-so" and broken["n"] == 0:
            broken["n"] += 1
            return (200, {}, b'{"error_code": "0", "data": [{"MaHo')
        return script(seen)

    with ScriptedServer(answer) as srv:
        pages = list(client(srv.url).iter_pages(HO_SO))
    assert sum(len(p.records) for p in pages) == 23


def test_page_size_outside_the_contract_is_refused():
    with pytest.raises(ValueError):
        OneStopClient("http://127.0.0.1:1", "a", "b", page_size=1001)
