"""The fingerprint sees every change of content and none of load bookkeeping."""

from __future__ import annotations

import psycopg
import pytest

from tests.failure import fingerprint

pytestmark = pytest.mark.slow  # a real PostgreSQL

SCHEMA = """
CREATE SCHEMA core; CREATE SCHEMA marts; CREATE SCHEMA raw;
CREATE TABLE core.fct_thing (code text, amount numeric, at timestamptz, loaded_at timestamptz, batch_id bigint);
INSERT INTO core.fct_thing VALUES ('a', 1.50, '2025-07-01 08:00+07', now(), 1), ('b', 2, NULL, now(), 1);
CREATE TABLE marts.mart_sum AS SELECT sum(amount) AS total FROM core.fct_thing;
CREATE TABLE raw.one_stop__ho_so (record_key text, payload_hash text, loaded_at timestamptz, batch_id bigint);
INSERT INTO raw.one_stop__ho_so VALUES ('H1', 'x', now(), 1);
CREATE SCHEMA staging; CREATE SCHEMA restricted; CREATE SCHEMA intermediate;
CREATE TABLE staging.stg_thing AS SELECT code, amount FROM core.fct_thing;
CREATE TABLE restricted.stg_person (person_key text, full_name text);
INSERT INTO restricted.stg_person VALUES ('k1', 'Nguyễn Văn A');
CREATE TABLE intermediate.int_thing AS SELECT code FROM core.fct_thing;
CREATE SCHEMA meta;
CREATE TABLE meta.watermarks (source text, entity text, high_watermark timestamptz, run_id text, updated_at timestamptz);
INSERT INTO meta.watermarks VALUES ('one_stop', 'ho_so', '2025-08-01 01:00+07', 'r1', now());
CREATE TABLE meta.extract_runs (batch_id bigint, run_id text, source text, entity text, window_from timestamptz,
    window_to timestamptz, status text, pages int, fetched bigint, loaded bigint, duplicates bigint,
    quarantined bigint, retries int, source_total bigint, seconds numeric, error text,
    started_at timestamptz, finished_at timestamptz);
INSERT INTO meta.extract_runs VALUES (1, 'r1', 'one_stop', 'ho_so', '2025-01-01', '2025-08-01 01:00+07', 'success',
    3, 120, 120, 0, 0, 0, 120, 1.5, NULL, now(), now());
CREATE TABLE meta.quality_results (run_id text, suite text, check_name text, severity text, success boolean,
    observed text, sample jsonb, description text, checked_at timestamptz);
INSERT INTO meta.quality_results VALUES ('g1', 'core', 'fct_rows', 'fail', true, '2', NULL, 'rows', now());
CREATE VIEW meta.gate_summary AS SELECT run_id, max(checked_at) AS checked_at FROM meta.quality_results GROUP BY 1;
CREATE SEQUENCE meta.batch_id_seq;
"""


@pytest.fixture
def db(fresh_db):
    with psycopg.connect(fresh_db.conninfo()) as conn:
        conn.execute(SCHEMA)
    return fresh_db


def change(db, statement: str) -> list[str]:
    before = fingerprint.take(db.conninfo())
    with psycopg.connect(db.conninfo()) as conn:
        conn.execute(statement)
    return before.diff(fingerprint.take(db.conninfo()))


def test_a_reload_of_the_same_rows_is_the_same_fingerprint(db):
    assert change(db, "UPDATE core.fct_thing SET loaded_at = now() + interval '1 day', batch_id = 9") == []
    assert change(db, "UPDATE raw.one_stop__ho_so SET loaded_at = now() + interval '1 day', batch_id = 9") == []


@pytest.mark.parametrize(
    "statement",
    [
        # a failed attempt before the successful one, and the successful one's own counters
        "INSERT INTO meta.extract_runs VALUES (0, 'r0', 'one_stop', 'ho_so', '2025-01-01', '2025-08-01 01:00+07', "
        "'failed', 1, 40, 40, 0, 0, 7, 120, 9, 'RetriesExhausted', now(), now())",
        "UPDATE meta.extract_runs SET batch_id = 5, run_id = 'r2', pages = 4, loaded = 80, duplicates = 40, retries = 3, "
        "seconds = 9, started_at = now() + interval '1 hour'",
        "UPDATE meta.watermarks SET run_id = 'r2', updated_at = now() + interval '1 hour'",
        # a second successful read of the same entity, from the watermark minus the lookback
        "INSERT INTO meta.extract_runs VALUES (2, 'r2', 'one_stop', 'ho_so', '2025-07-31 01:00+07', '2025-08-01 01:00+07', "
        "'success', 1, 10, 0, 10, 0, 0, 10, 0.2, NULL, now(), now())",
        # the gate run again with the same results: the last run is compared
        "INSERT INTO meta.quality_results SELECT 'g2', suite, check_name, severity, success, observed, sample, "
        "description, checked_at + interval '1 hour' FROM meta.quality_results",
        "SELECT setval('meta.batch_id_seq', 99)",
    ],
)
def test_the_record_of_how_a_night_went_is_bookkeeping(db, statement):
    assert change(db, statement) == []


@pytest.mark.parametrize(
    "statement, where",
    [
        ("UPDATE staging.stg_thing SET amount = 3 WHERE code = 'a'", "staging.stg_thing"),
        ("UPDATE restricted.stg_person SET full_name = 'Nguyễn Văn B'", "restricted.stg_person"),
        ("DELETE FROM intermediate.int_thing WHERE code = 'b'", "intermediate.int_thing"),
        ("CREATE SCHEMA marts__next; CREATE TABLE marts__next.mart_sum (total numeric)", "marts__next.mart_sum"),
        ("UPDATE meta.watermarks SET high_watermark = high_watermark - interval '1 day'", "meta.watermarks"),
        ("UPDATE meta.extract_runs SET window_to = window_to - interval '1 hour'", "meta.extract_runs"),
        ("UPDATE meta.extract_runs SET status = 'abandoned'", "meta.extract_runs"),  # no successful read any more
        (
            "INSERT INTO meta.quality_results VALUES ('g2', 'core', 'fct_rows', 'fail', false, '1', NULL, 'rows', "
            "now() + interval '1 hour')",
            "meta.quality_results",
        ),  # the last gate failed
        ("CREATE TABLE meta.new_log (what text); INSERT INTO meta.new_log VALUES ('x')", "meta.new_log"),
    ],
)
def test_what_the_night_wrote_in_every_schema_is_named(db, statement, where):
    differences = change(db, statement)
    assert len(differences) == 1 and differences[0].startswith(where), differences


@pytest.mark.parametrize(
    "statement, where",
    [
        ("UPDATE core.fct_thing SET amount = 1.5000 WHERE code = 'a'", "core.fct_thing"),  # numeric scale shows
        ("UPDATE core.fct_thing SET at = at + interval '1 second' WHERE code = 'a'", "core.fct_thing"),
        ("INSERT INTO core.fct_thing VALUES ('b', 2, NULL, now(), 2)", "core.fct_thing"),  # a duplicate row
        ("UPDATE marts.mart_sum SET total = total + 1", "marts.mart_sum"),
        ("CREATE TABLE marts.mart_new (x int)", "marts.mart_new"),
        ("INSERT INTO raw.one_stop__ho_so VALUES ('H1', 'y', now(), 2)", "raw.one_stop__ho_so"),
    ],
)
def test_any_change_of_content_is_named(db, statement, where):
    differences = change(db, statement)
    assert len(differences) == 1 and differences[0].startswith(where), differences


def test_packages_compare_by_bytes_and_ignore_unfinished_writes(tmp_path):
    version = tmp_path / "000.00.00.H56" / "2025-07" / "v1"
    version.mkdir(parents=True)
    (version / "chi_so_766.csv").write_bytes(b"\xef\xbb\xbfa,b\r\n")
    (version.parent / ".lock").touch()
    litter = version.parent / ".v2.tmp-abc"
    litter.mkdir()
    (litter / "chi_so_766.csv").write_bytes(b"partial")
    first = fingerprint.package_files(tmp_path)
    assert list(first) == ["000.00.00.H56/2025-07/v1/chi_so_766.csv"]
    assert fingerprint.litter(tmp_path) == [litter]

    (version / "chi_so_766.csv").write_bytes(b"\xef\xbb\xbfa,c\r\n")
    a, b = (
        fingerprint.Fingerprint(packages=first),
        fingerprint.Fingerprint(packages=fingerprint.package_files(tmp_path)),
    )
    assert a.diff(b) == ["outbox/000.00.00.H56/2025-07/v1/chi_so_766.csv: bytes differ"]
