"""extract_entity against a real warehouse and a scripted source over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from extractors.entities import entity
from extractors.http import RetryingSession, RetryPolicy
from extractors.one_stop import OneStopClient
from extractors.raw.schema import analyze_if_grown
from extractors.run import extract_entity, plan_window
from extractors.timefmt import LOCAL
from tests.extractors.fake_sources import OneStopScript
from tests.extractors.scripted_server import ScriptedServer

HO_SO = entity("one_stop", "ho_so")
UPPER = datetime(2025, 3, 1, 1, tzinfo=LOCAL)
START = datetime(2025, 1, 1, tzinfo=LOCAL)


def dossier(i: int, status: int = 2, updated: str = "20250201080000") -> dict:
    return {
        "MaHoSo": f"000.17.22.H56-250201-{i:04d}",
        "TrangThaiHoSo": status,
        "KenhThucHien": 1,
        "NgayTiepNhan": "20250201080000",
        "NgayCapNhat": updated,
    }


def test_plan_window():
    mark = datetime(2025, 2, 1, tzinfo=LOCAL)
    assert plan_window(None, UPPER, timedelta(days=1), START).start == START
    w = plan_window(mark, UPPER, timedelta(days=1), START)
    assert (w.start, w.end) == (mark - timedelta(days=1), UPPER)
    # a watermark past the upper bound (a clock moved back) gives an empty window, not a negative one
    assert plan_window(UPPER + timedelta(days=3), UPPER, timedelta(hours=1), START).start == UPPER


def run(url: str, dsn, **kw):
    http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01), sleep=lambda s: None)
    client = OneStopClient(url, "cid", "sec", http, page_size=4)
    return extract_entity(dsn.conninfo(), client, HO_SO, kw.pop("upper", UPPER), initial_from=START, **kw)


def raw_state(dsn):
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute("select record_key, payload_hash from raw.one_stop__ho_so order by 1, 2").fetchall()
        quarantined = conn.execute("select record_key, reason from raw.quarantine order by 1, 2").fetchall()
        mark = conn.execute("select high_watermark from meta.watermarks").fetchall()
    return rows, quarantined, mark


@pytest.mark.slow
def test_load_is_idempotent_and_quarantines_with_reasons(fresh_db):
    rows = [dossier(i) for i in range(1, 10)]
    rows.insert(3, dossier(99, updated="2025-02-01"))  # bad update time
    rows.insert(6, {"TrangThaiHoSo": 2, "NgayCapNhat": "20250201080000"})  # no key
    rows.insert(8, dossier(98, status=42))  # unknown status code
    rows.append(dossier(2))  # the same record twice
    script = OneStopScript(rows)

    def repeated(seen):
        # the contract: a page can repeat a row; the source's total counts each record once
        status, headers, body = script(seen)
        if "pagination" in body:
            body["pagination"]["total"] = len(rows) - 1
        return status, headers, body

    with ScriptedServer(repeated) as srv:
        first = run(srv.url, fresh_db)
        state1 = raw_state(fresh_db)
        second = run(srv.url, fresh_db)
        state2 = raw_state(fresh_db)
    assert (first.fetched, first.loaded, first.quarantined, first.duplicates) == (13, 9, 3, 1)
    assert (second.loaded, second.duplicates, second.quarantined) == (0, 10, 3)
    assert state1 == state2  # the rerun changed nothing
    keys, quarantined, mark = state1
    assert len(keys) == 9
    assert sorted(r for _, r in quarantined) == sorted(
        ["NgayCapNhat '2025-02-01' is not a valid time", "missing key field MaHoSo", "unknown code TrangThaiHoSo=42"]
    )
    assert mark == [(UPPER,)]


@pytest.mark.slow
def test_a_new_version_is_kept_and_the_window_follows_the_watermark(fresh_db):
    rows = [dossier(i) for i in range(1, 4)]
    script = OneStopScript(rows)
    with ScriptedServer(script) as srv:
        run(srv.url, fresh_db)
        rows[0] = dossier(1, status=4, updated="20250301003000")  # changed late
        later = UPPER + timedelta(days=1)
        second = run(srv.url, fresh_db, upper=later, lookback=timedelta(hours=6))
        windows = [(c.params["tu_ngay"], c.params["den_ngay"]) for c in srv.calls("/api/v1/ho-so")]
    assert second.loaded == 1 and second.duplicates == 2
    assert windows[0] == ("20250101000000", "20250301010000")
    assert windows[-1] == ("20250228190000", "20250302010000")  # watermark − 6 h lookback
    keys, _, mark = raw_state(fresh_db)
    assert len(keys) == 4 and mark == [(later,)]


@pytest.mark.slow
def test_a_failed_run_keeps_the_old_watermark_and_a_rerun_completes(fresh_db):
    rows = [dossier(i) for i in range(1, 12)]
    script = OneStopScript(rows)
    calls = {"n": 0}

    def flaky(seen):
        if seen.path == "/api/v1/ho-so":
            calls["n"] += 1
            if calls["n"] == 2:
                return (500, {}, {"error_code": "500", "message": "boom"})  # not transient: fails the run
        return script(seen)

    with ScriptedServer(flaky) as srv:
        with pytest.raises(Exception, match="HTTP 500"):
            run(srv.url, fresh_db)
        keys, _, mark = raw_state(fresh_db)
        assert len(keys) == 4 and mark == []  # page 1 committed, watermark untouched
        run(srv.url, fresh_db)
    keys, _, mark = raw_state(fresh_db)
    assert len(keys) == 11 and mark == [(UPPER,)]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        statuses = [r[0] for r in conn.execute("select status from meta.extract_runs order by batch_id")]
        error = conn.execute("select error from meta.extract_runs where status = 'failed'").fetchone()[0]
    assert statuses == ["failed", "success"] and "HTTP 500" in error


@pytest.mark.slow
def test_a_run_leaves_raws_loaded_at_index_summarized(fresh_db):
    """The night's "loaded since" queries read the night's pages: a run summarizes the BRIN
    ranges it filled (PostgreSQL alone waits for autovacuum; until then every query on
    loaded_at reads the whole table)."""
    rows = [dossier(i) for i in range(1, 9001)]  # several 128-page BRIN ranges
    with ScriptedServer(OneStopScript(rows)) as srv:
        http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01), sleep=lambda s: None)
        record = extract_entity(
            fresh_db.conninfo(),
            OneStopClient(srv.url, "cid", "sec", http, page_size=1000),
            HO_SO,
            UPPER,
            initial_from=START,
        )
    with psycopg.connect(fresh_db.conninfo()) as conn:
        pages = conn.execute(
            "select pg_relation_size('raw.one_stop__ho_so') / current_setting('block_size')::int"
        ).fetchone()[0]
        left = conn.execute("select brin_summarize_new_values('raw.one_stop__ho_so_loaded_at'::regclass)").fetchone()[0]
    assert record.loaded == 9000 and pages > 2 * 128  # full ranges exist to summarize
    assert left == 0


@pytest.mark.slow
def test_a_run_that_grew_raw_a_lot_refreshes_its_statistics(fresh_db):
    """The first load's statistics are there for the build and the gate that follow it; a
    night's top-up of a big table is left to autovacuum."""
    rows = [dossier(i) for i in range(1, 3001)]
    with ScriptedServer(OneStopScript(rows)) as srv:
        http = RetryingSession(RetryPolicy(max_attempts=3, base_delay=0.01), sleep=lambda s: None)
        extract_entity(
            fresh_db.conninfo(),
            OneStopClient(srv.url, "cid", "sec", http, page_size=1000),
            HO_SO,
            UPPER,
            initial_from=START,
        )
    with psycopg.connect(fresh_db.conninfo(), autocommit=True) as conn:
        known = conn.execute("select reltuples from pg_class where oid = 'raw.one_stop__ho_so'::regclass").fetchone()[0]
        assert known == 3000, "the run analyzed the table it filled"
        assert analyze_if_grown(conn, "one_stop__ho_so", 100) is False  # 3 %: autovacuum's job
        assert analyze_if_grown(conn, "one_stop__ho_so", 1000) is True  # a third more: now
        assert analyze_if_grown(conn, "one_stop__ho_so", 0) is False
