import pytest

from extractors.http import RetriesExhausted, RetryingSession, RetryPolicy
from tests.extractors.scripted_server import DROP, ScriptedServer


def session(sleeps, attempts=5):
    return RetryingSession(
        RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.05, read_timeout=5), sleep=sleeps.append, seed=1
    )


def test_transient_statuses_are_retried_until_success():
    answers = iter([(503, {}, b"busy"), (502, {}, b"bad gw"), (504, {}, b"gw timeout"), (200, {}, b"ok")])
    sleeps = []
    with ScriptedServer(lambda s: next(answers)) as srv:
        http = session(sleeps)
        r = http.request("GET", srv.url + "/x")
    assert r.status_code == 200 and r.content == b"ok"
    assert http.retries == 3 and len(sleeps) == 3
    assert all(0 <= s <= 0.05 for s in sleeps)  # jittered, capped


def test_retry_after_is_honoured_and_capped():
    answers = iter([(429, {"Retry-After": "2"}, b""), (429, {"Retry-After": "9999"}, b""), (200, {}, b"ok")])
    sleeps = []
    with ScriptedServer(lambda s: next(answers)) as srv:
        http = session(sleeps)
        http.policy.max_retry_after = 7
        assert http.request("GET", srv.url + "/x").status_code == 200
    assert sleeps == [2.0, 7.0]


def test_dropped_connections_are_retried():
    answers = iter([DROP, DROP, (200, {}, b"ok")])
    sleeps = []
    with ScriptedServer(lambda s: next(answers)) as srv:
        http = session(sleeps)
        assert http.request("GET", srv.url + "/x").content == b"ok"
    assert http.retries == 2


def test_gives_up_with_a_clear_error_after_the_cap():
    sleeps = []
    with ScriptedServer(lambda s: (503, {}, b"down")) as srv:
        http = session(sleeps, attempts=3)
        with pytest.raises(RetriesExhausted, match="3 attempts: HTTP 503"):
            http.request("GET", srv.url + "/x")
        assert len(srv.seen) == 3
    assert len(sleeps) == 2


def test_client_errors_are_not_retried():
    sleeps = []
    with ScriptedServer(lambda s: (404, {}, b"nope")) as srv:
        http = session(sleeps)
        assert http.request("GET", srv.url + "/x").status_code == 404
        assert len(srv.seen) == 1
    assert sleeps == []


def test_read_timeout_is_retried():
    import time

    calls = []

    def answer(seen):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.6)
        return (200, {}, b"ok")

    sleeps = []
    with ScriptedServer(answer) as srv:
        http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01, read_timeout=0.2), sleep=sleeps.append)
        assert http.request("GET", srv.url + "/x").content == b"ok"
    assert http.retries == 1
