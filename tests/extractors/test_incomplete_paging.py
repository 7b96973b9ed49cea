"""Loss is loud at the source: a pass that cannot account for the source's total fails its run.

A real warehouse and a scripted source over HTTP. Each case starts from a night that succeeded,
so "keeps the watermark" means the watermark of that night, not an empty table.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from extractors.dvc_portal import DvcPortalClient
from extractors.entities import entity
from extractors.http import RetryingSession, RetryPolicy
from extractors.paging import IncompletePaging
from tests.extractors.fake_sources import OneStopScript, portal_page
from tests.extractors.scripted_server import ScriptedServer
from tests.extractors.test_run import UPPER, dossier, run

pytestmark = pytest.mark.slow

NEXT_NIGHT = UPPER + timedelta(days=1)
ROWS = [dossier(i) for i in range(1, 12)]  # three pages of four


def night_then(fresh_db, answer_next_night):
    """A clean first night, then the next night against `answer_next_night(script, seen)`."""
    script = OneStopScript(ROWS)
    state = {"night": 1}

    def answer(seen):
        if state["night"] == 2 and seen.path == "/api/v1/ho-so":
            return answer_next_night(script, seen)
        return script(seen)

    with ScriptedServer(answer) as srv:
        first = run(srv.url, fresh_db)
        assert first.status == "success"
        state["night"] = 2
        with pytest.raises(IncompletePaging) as failure:
            run(srv.url, fresh_db, upper=NEXT_NIGHT)
    with psycopg.connect(fresh_db.conninfo()) as conn:
        mark = conn.execute("select high_watermark from meta.watermarks").fetchall()
        last = conn.execute("select status, error from meta.extract_runs order by batch_id desc limit 1").fetchone()
    assert mark == [(UPPER,)], "a failed night must keep the last good night's watermark"
    assert last[0] == "failed" and last[1].startswith("IncompletePaging: ")
    return str(failure.value), last[1]


def without(block: str):
    def answer(script, seen):
        status, headers, body = script(seen)
        if block == "pagination":
            del body["pagination"]
        else:
            del body["pagination"][block]
        return status, headers, body

    return answer


@pytest.mark.parametrize("block", ["pagination", "total", "total_pages"])
def test_a_response_without_its_paging_information_fails_the_run(fresh_db, block):
    message, recorded = night_then(fresh_db, without(block))
    assert message.startswith("one_stop /api/v1/ho-so (ho_so) page 1: ")
    assert ("no 'pagination' block" if block == "pagination" else f"pagination.{block} is missing") in message
    assert message in recorded


def test_an_empty_page_before_the_sources_total_fails_the_run(fresh_db):
    def answer(script, seen):
        status, headers, body = script(seen)
        if seen.params["page"] == "2":
            body["data"] = []  # the source stops early: page 2 of 3 comes back empty
        return status, headers, body

    message, _ = night_then(fresh_db, answer)
    assert message == (
        "one_stop /api/v1/ho-so (ho_so) page 2: empty, but the source reports 11 records on "
        "3 pages (page size 4): the page sequence ends before the source's total"
    )


def test_pages_that_repeat_instead_of_serving_the_rest_fail_the_run(fresh_db):
    def answer(script, seen):
        status, headers, body = script(seen)
        body["data"] = [dossier(i) for i in range(1, 5)]  # the page parameter ignored: page 1 every time
        return status, headers, body

    message, _ = night_then(fresh_db, answer)
    assert message.startswith(
        "one_stop/ho_so: the pass read 4 distinct records (12 rows on 3 pages, "
        "0 step-backs for rows leaving the window) but the source's final total is 11: "
        "7 records were never served"
    )


def test_a_short_page_in_the_middle_fails_the_run(fresh_db):
    def answer(script, seen):
        status, headers, body = script(seen)
        if seen.params["page"] == "2":
            body["data"] = body["data"][:1]  # three rows of page 2 never come
        return status, headers, body

    message, _ = night_then(fresh_db, answer)
    assert "read 8 distinct records" in message and "3 records were never served" in message


def test_the_portal_without_totals_fails_too():
    payments = entity("dvc_portal", "payments")
    rows = [{"transactionId": f"T{i}", "updatedAt": "2025-02-01T08:00:00+07:00"} for i in range(3)]

    def answer(seen):
        body = portal_page(rows, int(seen.params["currentPage"]), 200)
        del body["pagination"]["totalItems"]
        return 200, {}, body

    http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01), sleep=lambda s: None)
    with ScriptedServer(answer) as srv:
        with pytest.raises(
            IncompletePaging,
            match=r"^dvc_portal /api/v1/payments \(payments\) page 1: "
            r"pagination.totalItems is missing",
        ):
            list(DvcPortalClient(srv.url, "key", http).iter_pages(payments))
        assert len(srv.seen) == 1  # not asked again: a source that drops its totals is not busy
