"""RawLoader and the per-entity run lock against a real warehouse."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import psycopg
import pytest

from extractors.entities import entity
from extractors.loader import RawLoader
from extractors.raw.schema import ensure_raw_schema
from extractors.records import parse_record
from extractors.run import claim_entity, extract_entity
from extractors.timefmt import LOCAL
from tests.extractors.sim_harness import client_for

pytestmark = pytest.mark.slow
HO_SO = entity("one_stop", "ho_so")


def dossier(i: int, status: int = 2) -> dict:
    return {"MaHoSo": f"H-{i:03d}", "TrangThaiHoSo": status, "NgayCapNhat": "20250201080000"}


def stored(dsn) -> list[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(
            "SELECT record_key, payload_hash, batch_id FROM raw.one_stop__ho_so ORDER BY 1, 2"
        ).fetchall()


def test_only_new_versions_are_stored_and_repeats_in_a_batch_count_once(fresh_db):
    rows = [parse_record(HO_SO, dossier(i)) for i in range(5)]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        ensure_raw_schema(conn)
        loader = RawLoader(conn)
        assert loader.load(HO_SO, 1, rows + rows[:2]) == 5
        conn.commit()
        changed = parse_record(HO_SO, dossier(0, status=4))
        assert loader.load(HO_SO, 2, rows + [changed]) == 1
        conn.commit()
    assert [b for _, _, b in stored(fresh_db)].count(2) == 1 and len(stored(fresh_db)) == 6


def test_extracts_starting_together_on_a_new_warehouse_both_create_the_schema(fresh_db):
    """One creates raw and meta in a transaction still open; the other, started meanwhile,
    waits for it and then finds everything there (without the lock it failed on the catalog's
    unique index once the first committed)."""
    first = psycopg.connect(fresh_db.conninfo())
    first.execute("SELECT 1")  # a transaction open: ensure_raw_schema's commits are a savepoint's
    ensure_raw_schema(first)
    outcome = {}

    def second():
        try:
            with psycopg.connect(fresh_db.conninfo()) as conn:
                ensure_raw_schema(conn)
            outcome["ok"] = True
        except psycopg.Error as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=second)
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive(), "the second creation did not wait for the first"
    first.commit()
    first.close()
    worker.join(timeout=30)
    assert outcome == {"ok": True}


def test_a_writer_racing_without_the_lock_costs_no_duplicate_and_no_failure(fresh_db):
    """Another connection inserts a version between our lookup and our COPY: the batch is
    loaded again the conflict-skipping way, and only what was really new counts."""
    rows = [parse_record(HO_SO, dossier(i)) for i in range(4)]
    with psycopg.connect(fresh_db.conninfo()) as setup:
        ensure_raw_schema(setup)
    other = psycopg.connect(fresh_db.conninfo())
    other.execute(
        "INSERT INTO raw.one_stop__ho_so (record_key, source_updated_at, payload, payload_hash, batch_id) "
        "VALUES (%s, %s, %s, %s, 99)",
        (rows[1].key, rows[1].updated, rows[1].payload, rows[1].payload_hash),
    )
    result = {}

    def load():
        with psycopg.connect(fresh_db.conninfo()) as conn:
            result["new"] = RawLoader(conn).load(HO_SO, 1, rows)  # waits on the other's uncommitted row

    worker = threading.Thread(target=load)
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive()
    other.commit()
    other.close()
    worker.join(timeout=10)
    assert result["new"] == 3
    assert [(k, b) for k, _, b in stored(fresh_db)] == [("H-000", 1), ("H-001", 99), ("H-002", 1), ("H-003", 1)]


def test_a_second_run_of_the_same_entity_is_refused_while_one_holds_it(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as holder:
        ensure_raw_schema(holder)
        claim_entity(holder, HO_SO)
        client = client_for("one_stop", "http://127.0.0.1:9")  # never called: refused before any request
        with pytest.raises(RuntimeError, match="another extract of one_stop/ho_so is running"):
            extract_entity(
                fresh_db.conninfo(),
                client,
                HO_SO,
                datetime(2025, 1, 1, tzinfo=LOCAL),
                initial_from=datetime(2024, 1, 1, tzinfo=LOCAL),
            )
        assert client.http.requests_sent == 0
