"""The extractors against the real simulator over HTTP, its faults switched on.

Every run must end with raw holding exactly the simulator's ground truth: the latest version
of every record (as staging reads it), nothing missing, nothing extra, no duplicate versions.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import psycopg
import pytest

from extractors.entities import entity
from simulator import FaultConfig, SimulatorServer, World
from tests.extractors.sim_harness import (
    ALL,
    CLOCK,
    PAGE_MAX,
    SMALL_WORLD,
    SleepLog,
    assert_raw_is_truth,
    client_for,
    drop_database,
    entities_of,
    extract,
    fast_policy,
    key_text,
    new_database,
    normalized,
    raw_counts,
    raw_latest,
    raw_versions,
    truth,
)
from tests.paths import REPO

pytestmark = pytest.mark.slow

# One entity of each source: both clients, both envelopes, both time formats.
PAIR = entities_of("one_stop__ho_so", "dvc_portal__payments")


@pytest.fixture(scope="module")
def world() -> World:
    return World(SMALL_WORLD)


@pytest.fixture
def server(world):
    srv = SimulatorServer(world, port=0, clock=CLOCK)
    srv.start()
    yield srv
    srv.stop()


# fault knobs -> the retry reason the session must have recorded for it
TRANSPORT_FAULTS = {
    "rate_limit": (dict(rate_limit=0.35, retry_after=2), "HTTP 429"),
    "server_error": (dict(server_error=0.4), "HTTP 50"),
    "slow_pages": (dict(slow=0.3, slow_seconds=0.4), "ReadTimeout"),
    "dropped_connections": (dict(drop=0.3), "ConnectionError"),
    "error_envelopes": (dict(error_envelope=0.35), "error envelope"),
}


@pytest.mark.parametrize("kind", sorted(TRANSPORT_FAULTS))
def test_each_transport_fault_ends_with_raw_equal_to_truth(kind, world, server, fresh_db):
    knobs, reason = TRANSPORT_FAULTS[kind]
    server.set_faults(FaultConfig(seed=3, **knobs))
    sleeps = SleepLog()
    # slow pages outlast a short read timeout: the call times out and is made again
    policy = fast_policy(read_timeout=0.15) if kind == "slow_pages" else fast_policy(max_retry_after=60)
    clients = {s: client_for(s, server.url, policy, sleep=sleeps) for s in ("one_stop", "dvc_portal")}
    runs = extract(fresh_db, server.url, PAIR, CLOCK, clients=clients)

    assert_raw_is_truth(fresh_db, world, PAIR, CLOCK)
    reasons = clients["one_stop"].http.retry_reasons + clients["dvc_portal"].http.retry_reasons
    hit = sum(n for r, n in reasons.items() if r.startswith(reason))
    assert hit > 0, f"the {kind} fault never fired: {dict(reasons)}; the test proves nothing"
    assert sum(r.retries for r in runs.values()) == sum(reasons.values())
    if kind == "rate_limit":
        # Retry-After is honoured: a 429 waits what the server asked, not a backoff guess
        assert sleeps.delays.count(2.0) == reasons["HTTP 429"]
    for run in runs.values():
        assert run.status == "success" and run.quarantined == 0
        assert run.loaded == run.fetched  # nothing repeated, nothing lost: every row once


def test_token_revoked_mid_run_is_replaced(world, server, fresh_db):
    server.set_faults(FaultConfig(seed=4, revoke_tokens_every=3))
    client = client_for("one_stop", server.url)
    runs = extract(
        fresh_db,
        server.url,
        entities_of("one_stop__ho_so", "one_stop__qua_trinh_xu_ly"),
        CLOCK,
        clients={"one_stop": client},
    )
    pages = sum(r.pages for r in runs.values())
    assert pages >= 9
    assert client.tokens_fetched >= pages // 3  # a new token after each revocation, and the run went on
    assert server.stats.faults["token_revoked"] >= pages // 3
    assert_raw_is_truth(fresh_db, world, entities_of("one_stop__ho_so", "one_stop__qua_trinh_xu_ly"), CLOCK)


def test_rows_repeated_across_pages_are_stored_once(world, server, fresh_db):
    server.set_faults(FaultConfig(seed=5, repeat_rows=0.6, repeat_count=4))
    runs = extract(fresh_db, server.url, PAIR, CLOCK)
    assert server.stats.faults["repeat_rows"] > 0
    assert sum(r.duplicates for r in runs.values()) > 0
    assert_raw_is_truth(fresh_db, world, PAIR, CLOCK)
    for source, name in PAIR:
        assert len(raw_versions(fresh_db, source, name)) == len(truth(world, source, name, CLOCK))


@pytest.fixture(scope="module")
def busy_world() -> World:
    """Enough dossiers that a few days' window is full of records still changing."""
    return World(dataclasses.replace(SMALL_WORLD, dossiers_per_year=6000))


def test_rows_moving_while_paging_are_read_again_and_the_lookback_catches_the_rest(busy_world, fresh_db):
    world = busy_world
    names = entities_of("one_stop__ho_so", "dvc_portal__sync_status")
    start = CLOCK - timedelta(days=3)
    with SimulatorServer(world, port=0, clock=start) as server:
        big = {s: client_for(s, server.url, page_size=PAGE_MAX[s]) for s in PAGE_MAX}
        extract(fresh_db, server.url, names, start, clients=big)
        # the next night: the window is the last few days, records that are still being worked on.
        # Every data page moves the source's clock an hour on: rows updated meanwhile leave the
        # window (it ends at CLOCK) and the rows behind them move up onto pages already read.
        server.set_clock(CLOCK)
        server.set_faults(FaultConfig(seed=6, advance_per_page=3600))
        small = {s: client_for(s, server.url, page_size=5) for s in PAGE_MAX}
        first = extract(fresh_db, server.url, names, CLOCK, clients=small)
        moved_to = server.clock
        assert small["one_stop"].rewinds > 0 and small["dvc_portal"].rewinds > 0
        for source, name in names:
            before = truth(world, source, name, CLOCK)
            after = truth(world, source, name, moved_to)
            changed = {k for k in before if after.get(k) != before[k]}
            assert len(changed) > 20, f"{source}/{name}: hardly anything changed while paging; the test proves nothing"
            got = raw_latest(fresh_db, source, name)
            # every record that did not change while we paged is stored exactly as of the run's bound
            slipped = [k for k, v in before.items() if k not in changed and got.get(k) != v]
            assert not slipped, f"{source}/{name}: {len(slipped)} rows slipped past the pass, e.g. {slipped[:3]}"
        assert all(r.duplicates > 0 for r in first.values())  # pages read again after a shift

        # the night after, from the watermark minus the lookback: every record up to date
        server.set_faults(None)
        second = extract(fresh_db, server.url, names, moved_to, clients=big)
    assert all(r.window_from == CLOCK - timedelta(days=1) for r in second.values())
    assert_raw_is_truth(fresh_db, world, names, moved_to)


def test_late_updates_are_stored_as_new_versions_and_staging_sees_the_latest(world, server, fresh_db):
    names = ALL
    extract(fresh_db, server.url, names, CLOCK)
    before = raw_counts(fresh_db)
    later = CLOCK + timedelta(days=45)
    server.set_clock(later)
    runs = extract(fresh_db, server.url, names, later)
    after = raw_counts(fresh_db)
    assert_raw_is_truth(fresh_db, world, names, later)
    for source, name in names:
        table = entity(source, name).table
        assert after[table] >= before[table]
        if entity(source, name).incremental:
            # only the tail is re-read: the window starts a day before the last bound
            assert runs[table].window_from == CLOCK - timedelta(days=1)
    grown = [t for t in after if after[t] > before[t] and t in {entity(s, n).table for s, n in names}]
    assert {"one_stop__ho_so", "one_stop__qua_trinh_xu_ly", "dvc_portal__payments"} <= set(grown)
    # old versions are kept beside the new ones
    versions = raw_versions(fresh_db, "one_stop", "ho_so")
    assert len(versions) > len({k for k, _ in versions})
    with psycopg.connect(fresh_db.conninfo()) as conn:
        marks = dict(conn.execute("SELECT source || '__' || entity, high_watermark FROM meta.watermarks"))
    assert set(marks.values()) == {later}


def test_rerun_at_the_same_clock_changes_nothing(world, server, fresh_db):
    server.set_faults(FaultConfig(seed=8, server_error=0.2, repeat_rows=0.3, malformed=0.05, padded_codes=0.2))
    extract(fresh_db, server.url, ALL, CLOCK)
    counts = raw_counts(fresh_db)
    versions = {n: raw_versions(fresh_db, *n) for n in ALL}
    with psycopg.connect(fresh_db.conninfo()) as conn:
        quarantine = conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0]
    again = extract(fresh_db, server.url, ALL, CLOCK)
    assert raw_counts(fresh_db) == counts
    assert {n: raw_versions(fresh_db, *n) for n in ALL} == versions
    assert all(r.loaded == 0 and r.status == "success" for r in again.values())
    with psycopg.connect(fresh_db.conninfo()) as conn:
        assert conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == quarantine > 0


def test_every_entity_under_every_fault_equals_truth_and_quarantine_equals_the_malformed(world, server, fresh_db):
    faults = FaultConfig(
        seed=9,
        rate_limit=0.08,
        server_error=0.08,
        error_envelope=0.05,
        drop=0.05,
        slow=0.05,
        slow_seconds=0.05,
        revoke_tokens_every=7,
        repeat_rows=0.2,
        malformed=0.06,
        empty_dates=0.25,
        padded_codes=0.25,
    )
    server.set_faults(faults)
    runs = extract(fresh_db, server.url, ALL, CLOCK)
    assert_raw_is_truth(fresh_db, world, ALL, CLOCK, faults)

    with psycopg.connect(fresh_db.conninfo()) as conn:
        quarantined = conn.execute(
            "SELECT source, entity, record_key, reason, raw_text::jsonb FROM raw.quarantine"
        ).fetchall()
    by_entity: dict[tuple, list] = {}
    for source, name, key, reason, raw in quarantined:
        by_entity.setdefault((source, name), []).append((key, reason, raw))
    kinds_seen = set()
    for source, name in ALL:
        malformed = world.malformed_keys(source, name, CLOCK, faults)
        served = dict(zip(map(tuple, world.keys(source, name, CLOCK)), world.records(source, name, CLOCK, faults)))
        expected = [(normalized(served[k]), kind) for k, kind in malformed.items()]
        got = by_entity.get((source, name), [])
        assert len(got) == len(expected), f"{source}/{name}: quarantined {len(got)}, malformed {len(expected)}"
        run = runs[entity(source, name).table]
        # a run counts every rejected row it received (a repeated page repeats them); the table keeps each once
        assert run.quarantined >= len(expected)
        assert run.fetched == run.loaded + run.duplicates + run.quarantined
        for raw, kind in expected:
            match = [(key, reason) for key, reason, text in got if text == raw]
            assert len(match) == 1, f"{source}/{name}: a malformed record is not in quarantine: {raw}"
            key, reason = match[0]
            kinds_seen.add(kind)
            spec_key = entity(source, name).key
            if kind == "missing_key":
                assert key is None and reason == f"missing key field {spec_key[0]}"
            else:
                assert key == "|".join(str(raw[f]).strip() for f in spec_key)
                if kind == "unknown_code":
                    assert reason.startswith("unknown code ")
                else:
                    assert "is not a valid" in reason
    assert kinds_seen == {"missing_key", "unknown_code", "bad_date"}

    # "" for missing dates and padded codes load (not quarantined), under trimmed keys
    for source, name in ALL:
        faulted = world.faulted_keys(source, name, CLOCK, faults)
        got = raw_latest(fresh_db, source, name)
        for key, fault in faulted.items():
            if fault in ("empty_dates", "padded_codes"):
                assert key_text(key) in got, f"{source}/{name} {key}: a {fault} record was not loaded"
    padded = world.faulted_keys("one_stop", "ho_so", CLOCK, faults)
    assert "padded_codes" in padded.values() and "empty_dates" in padded.values()
    ho_so = raw_latest(fresh_db, "one_stop", "ho_so")
    assert any(p["MaHoSo"] != k for k, p in ho_so.items())  # served padded, keyed trimmed
    assert any("" in p.values() for p in ho_so.values())  # "" dates kept as received


def test_an_extract_killed_mid_run_resumes_to_exactly_what_a_clean_run_stores(world, server, fresh_db, pg_cluster):
    names = entities_of("one_stop__ho_so", "one_stop__qua_trinh_xu_ly", "dvc_portal__payments")
    server.set_faults(FaultConfig(seed=10, slow=1.0, slow_seconds=0.03))  # every page takes a while
    specs = [f"{s}/{n}" for s, n in names]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.extractors.extract_process",
            server.url,
            fresh_db.conninfo(),
            CLOCK.isoformat(),
            *specs,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        # kill it once the second entity has committed some pages: the first is done, the second half-way
        while time.monotonic() < deadline and proc.poll() is None:
            if raw_counts_if_any(fresh_db).get("one_stop__qua_trinh_xu_ly", 0) >= 100:
                break
            time.sleep(0.02)
        assert proc.poll() is None, (
            "the extract ended before it could be killed: " + proc.stderr.read().decode()[-2000:]
        )
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    with psycopg.connect(fresh_db.conninfo()) as conn:
        runs = conn.execute("SELECT entity, status FROM meta.extract_runs ORDER BY batch_id").fetchall()
        marks = dict(conn.execute("SELECT entity, high_watermark FROM meta.watermarks").fetchall())
    assert runs == [("ho_so", "success"), ("qua_trinh_xu_ly", "running")]
    assert marks == {"ho_so": CLOCK}  # the killed entity's watermark did not move
    partial = len(raw_versions(fresh_db, "one_stop", "qua_trinh_xu_ly"))
    assert 0 < partial < len(truth(world, "one_stop", "qua_trinh_xu_ly", CLOCK))

    server.set_faults(None)
    extract(fresh_db, server.url, names, CLOCK)  # the next run
    clean_db = new_database(pg_cluster)
    try:
        extract(clean_db, server.url, names, CLOCK)  # a run that was never interrupted
        for source, name in names:
            assert raw_versions(fresh_db, source, name) == raw_versions(clean_db, source, name), (source, name)
    finally:
        drop_database(pg_cluster, clean_db)
    assert_raw_is_truth(fresh_db, world, names, CLOCK)
    with psycopg.connect(fresh_db.conninfo()) as conn:
        statuses = conn.execute("SELECT entity, status FROM meta.extract_runs ORDER BY batch_id").fetchall()
    assert statuses[1] == ("qua_trinh_xu_ly", "abandoned")
    assert [s for _, s in statuses[2:]] == ["success"] * 3


def raw_counts_if_any(dsn) -> dict[str, int]:
    try:
        return raw_counts(dsn)
    except psycopg.Error:  # the schema is not there yet
        return {}
