"""Retention of raw personal fields on a real warehouse, built and cleared through the pipeline's
own logins (the loader clears raw, the transformer what dbt built).

Retention 30 days, now = 1 August 2025 01:00 (cutoff 2 July 2025 01:00, local time). Dossiers:
R1 returned 30 June (31+ days: cleared, in both its versions), R2 returned 3 July (29 days:
kept), R3 open (kept), R4 result ready 25 June (cleared), R5 deleted on 1 June (cleared).
Feedback F1 handled 15 June (cleared), F2 still open (kept)."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime

import psycopg
import pytest

from extractors.entities import entity
from extractors.loader import RawLoader
from extractors.quarantine import list_quarantined
from extractors.records import RawRow
from extractors.timefmt import LOCAL
from tests.conftest import scratch_database
from tests.dbt.records import dossier, feedback, load_raw, procedure, unit
from tthc.paths import LOCAL as LOCAL_DIR
from tthc.pipeline import dbt
from tthc.privacy import pii_key
from tthc.privacy.retention import CLEARED_TEXT, RetentionError, retention_days, run_retention_as_stages

pytestmark = pytest.mark.slow

P, X1 = "000.00.00.H97", "000.01.00.H97"
NOW = datetime(2025, 8, 1, 1, 0, tzinfo=LOCAL)
DAYS = 30
PERSONAL = (
    "ChuHoSo",
    "SoGiayToChuHoSo",
    "SoDienThoai",
    "Email",
    "DiaChi",
)  # personal: docs/spec/contracts/one-stop-api.md
R1_OPEN = dossier(
    "R1",
    X1,
    "2025-06-02 09:00",
    due="2025-06-27 17:00",
    status=4,
    updated="2025-06-03 09:00",
    SoGiayToChuHoSo="038090000001",
)
DOSSIERS_NOW = [
    dossier(
        "R1",
        X1,
        "2025-06-02 09:00",
        due="2025-06-27 17:00",
        ended="2025-06-26 10:00",
        returned="2025-06-30 10:00",
        status=10,
        SoGiayToChuHoSo="038090000001",
    ),
    dossier(
        "R2",
        X1,
        "2025-06-10 09:00",
        due="2025-07-10 17:00",
        ended="2025-07-01 10:00",
        returned="2025-07-03 10:00",
        status=10,
        SoGiayToChuHoSo="038090000002",
    ),
    dossier("R3", X1, "2025-06-12 09:00", due="2025-08-10 17:00", status=4, SoGiayToChuHoSo="038090000003"),
    dossier(
        "R4",
        X1,
        "2025-06-05 09:00",
        due="2025-06-30 17:00",
        ended="2025-06-25 10:00",
        status=9,
        SoGiayToChuHoSo="038090000004",
    ),
    dossier(
        "R5",
        X1,
        "2025-05-20 09:00",
        due="2025-06-30 17:00",
        status=4,
        deleted=True,
        updated="2025-06-01 08:00",
        SoGiayToChuHoSo="038090000005",
    ),
]
FEEDBACK = [
    feedback("F1", X1, "2025-06-01 09:00", "2025-06-20 17:00", handled="2025-06-15 10:00", status="HANDLED"),
    feedback("F2", X1, "2025-07-25 09:00", "2025-08-15 17:00"),
]
CLEARED, KEPT = {"R1", "R4", "R5"}, {"R2", "R3"}


def marts(conn) -> list[tuple]:
    return conn.execute("SELECT * FROM marts.mart_metric_monthly ORDER BY 1, 2, 3, 4, 5").fetchall()


def payloads(conn) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for key, payload, digest in conn.execute(
        "SELECT record_key, payload, payload_hash FROM raw.one_stop__ho_so ORDER BY record_key, loaded_at"
    ):
        out.setdefault(key.strip(), []).append((payload, digest))
    return out


@pytest.fixture(scope="module")
def warehouse(pg_cluster):
    with scratch_database(pg_cluster, raw_schema=True) as dsn:
        with psycopg.connect(dsn.conninfo()) as conn:
            load_raw(
                conn, "one_stop", "don_vi", [unit(P, "UBND tỉnh Thử", "TINH"), unit(X1, "UBND xã Một", "XA", parent=P)]
            )
            load_raw(conn, "one_stop", "thu_tuc", [procedure("1.000001")])
            load_raw(conn, "one_stop", "ho_so", [R1_OPEN])
            load_raw(conn, "one_stop", "ho_so", DOSSIERS_NOW)
            load_raw(conn, "dvc_portal", "feedback", FEEDBACK)
            conn.execute(
                "INSERT INTO raw.quarantine (source, entity, batch_id, record_key, reason, raw_text, quarantined_at)"
                " VALUES ('one_stop', 'ho_so', 1, 'Q1', 'bad date', '{\"SoDienThoai\": \"0912000001\"}', %s),"
                "        ('one_stop', 'ho_so', 1, 'Q2', 'bad date', '{\"SoDienThoai\": \"0912000002\"}', %s)",
                (datetime(2025, 6, 1, tzinfo=LOCAL), datetime(2025, 7, 20, tzinfo=LOCAL)),
            )
        yield dsn
    shutil.rmtree(LOCAL_DIR / "dbt" / f"{dsn.dbname}-{dsn.port}", ignore_errors=True)


def build(dsn, full_refresh=False):
    dbt.build_warehouse(dsn, date(2025, 7, 31), full_refresh=full_refresh)
    dbt.build_marts_into(dsn, "marts", date(2025, 7, 31))


def test_closed_records_past_the_retention_are_cleared_everywhere_and_nothing_else(warehouse):
    dsn = warehouse
    build(dsn)
    with psycopg.connect(dsn.conninfo()) as conn:
        before_marts, before_raw = marts(conn), payloads(conn)
        rows_before = conn.execute("SELECT count(*) FROM raw.one_stop__ho_so").fetchone()[0]
    assert before_marts and len(before_raw["R1"]) == 2

    report = run_retention_as_stages(dsn, days=DAYS, now=NOW)
    assert (report.records, report.raw_versions) == (len(CLEARED) + 1, 2 + 1 + 1 + 1)  # + F1
    assert report.quarantined == 1

    with psycopg.connect(dsn.conninfo()) as conn:
        after_raw = payloads(conn)
        assert conn.execute("SELECT count(*) FROM raw.one_stop__ho_so").fetchone()[0] == rows_before
        restricted = {
            code: row
            for code, *row in conn.execute(
                "SELECT dossier_code, applicant_key, applicant_name, applicant_id_number, applicant_phone,"
                " applicant_email, applicant_address FROM restricted.stg_one_stop__dossier_applicants"
            )
        }
        staging_keys = dict(conn.execute("SELECT dossier_code, applicant_key FROM staging.stg_one_stop__dossiers"))
        core_keys = dict(conn.execute("SELECT dossier_code, applicant_key FROM core.fct_dossier"))
        contents = dict(
            conn.execute("SELECT feedback_id, feedback_content FROM restricted.stg_dvc_portal__feedback_contents")
        )
        raw_feedback = {
            k.strip(): p["content"] for k, p in conn.execute("SELECT record_key, payload FROM raw.dvc_portal__feedback")
        }
        quarantine = dict(conn.execute("SELECT record_key, raw_text FROM raw.quarantine"))
        still_open = {q.record_key for q in list_quarantined(conn)}
        runs = conn.execute(
            "SELECT retention_days, records, raw_versions, finished_at IS NOT NULL FROM meta.pii_retention_runs"
        ).fetchall()
        cleared = {
            (e, k.strip()): v
            for e, k, v in conn.execute("SELECT entity, record_key, versions FROM meta.pii_retention_cleared")
        }
        after_marts = marts(conn)
        # every stored copy of applicant_key (a model that selects * carries it along)
        carriers = [
            f"{schema}.{table}"
            for schema, table in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.columns JOIN information_schema.tables"
                " USING (table_schema, table_name) WHERE column_name = 'applicant_key' AND table_type = 'BASE TABLE'"
            )
        ]
        keyed = {rel: dict(conn.execute(f"SELECT dossier_code, applicant_key FROM {rel}")) for rel in carriers}

    for code in CLEARED:
        for (payload, digest), (old_payload, old_digest) in zip(after_raw[code], before_raw[code]):
            assert all(payload[f] is None for f in PERSONAL if f in old_payload), code
            assert digest == old_digest  # the hash of what was received stays
            assert {k: v for k, v in payload.items() if k not in PERSONAL} == {
                k: v for k, v in old_payload.items() if k not in PERSONAL
            }
        assert restricted[code] == [None] * 6 and staging_keys[code] is None
    for code in KEPT:
        assert after_raw[code] == before_raw[code]
        assert restricted[code][2] == f"03809000000{code[1]}" and restricted[code][3] == "0912345678"
        assert staging_keys[code] == pii_key.applicant_key(pii_key.load_key(), f"03809000000{code[1]}")
    assert core_keys["R1"] is None and core_keys["R2"] is not None  # R5 (deleted) is not in core
    # the models a key rotation rebuilds (docs/runbooks/rotate-secrets.md); never the marts BI reads
    assert set(carriers) == {
        "staging.stg_one_stop__dossiers",
        "restricted.stg_one_stop__dossier_applicants",
        "intermediate.int_dossiers_timed",
        "core.fct_dossier",
    }
    for rel, keys in keyed.items():
        assert [keys[c] for c in CLEARED if c in keys] == [None] * len(CLEARED & set(keys)), rel
        assert all(keys[c] is not None for c in KEPT if c in keys), rel
    assert contents == {"F1": None, "F2": FEEDBACK[1]["content"]} and raw_feedback == contents
    assert quarantine["Q1"].startswith(CLEARED_TEXT) and "0912000001" not in quarantine["Q1"]
    assert "0912000002" in quarantine["Q2"]
    assert still_open == {"Q2"}  # a cleared record has nothing left to replay: it leaves the open queue
    assert runs == [(DAYS, 4, 5, True)]
    assert cleared == {("ho_so", "R1"): 2, ("ho_so", "R4"): 1, ("ho_so", "R5"): 1, ("feedback", "F1"): 1}
    assert after_marts == before_marts


def test_a_reload_adds_nothing_and_a_later_run_clears_only_what_is_new(warehouse):
    dsn = warehouse
    with psycopg.connect(dsn.conninfo()) as conn:
        text = json.dumps(DOSSIERS_NOW[0], ensure_ascii=False, sort_keys=True)
        stored = conn.execute(
            "SELECT record_key, source_updated_at, payload_hash FROM raw.one_stop__ho_so WHERE payload_hash = %s",
            (hashlib.sha256(text.encode()).hexdigest(),),
        ).fetchone()
        assert stored is not None and stored[0].strip() == "R1"
        e = entity("one_stop", "ho_so")
        # the same source version, read again (the lookback re-reads it every night): recognised by its hash
        assert RawLoader(conn).load(e, 99, [RawRow(stored[0], stored[1], text, stored[2])]) == 0
        # a late new version of R1 (after its data was cleared) brings the personal fields back in raw
        late = dict(DOSSIERS_NOW[0], LyDo="Bổ sung ghi chú", NgayCapNhat="20250731090000")
        late_text = json.dumps(late, ensure_ascii=False, sort_keys=True)
        assert (
            RawLoader(conn).load(
                e,
                100,
                [
                    RawRow(
                        stored[0],
                        datetime(2025, 7, 31, 9, tzinfo=LOCAL),
                        late_text,
                        hashlib.sha256(late_text.encode()).hexdigest(),
                    )
                ],
            )
            == 1
        )
        conn.commit()
    report = run_retention_as_stages(dsn, days=DAYS, now=NOW)
    assert (report.records, report.raw_versions, report.quarantined) == (1, 1, 0)  # only R1's late version
    with psycopg.connect(dsn.conninfo()) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM raw.one_stop__ho_so WHERE btrim(record_key) = 'R1'"
                " AND payload ->> 'SoGiayToChuHoSo' IS NOT NULL"
            ).fetchone()[0]
            == 0
        )
        before_marts = marts(conn)
    # rebuilt from raw alone, the warehouse agrees with the cleared one, and the metrics do not move
    build(dsn, full_refresh=True)
    with psycopg.connect(dsn.conninfo()) as conn:
        restricted = {
            code: row
            for code, *row in conn.execute(
                "SELECT dossier_code, applicant_key, applicant_name, applicant_phone FROM restricted.stg_one_stop__dossier_applicants"
            )
        }
        core_keys = dict(conn.execute("SELECT dossier_code, applicant_key FROM core.fct_dossier"))
        assert marts(conn) == before_marts
    assert restricted["R1"] == [None, None, None] and restricted["R4"] == [None, None, None]
    assert restricted["R2"][1:] == ["Nguyễn Văn A", "0912345678"] and core_keys["R1"] is None


def test_the_retention_days_setting():
    assert retention_days({}) == 365
    assert retention_days({"TTHC_PII_RETENTION_DAYS": " 90 "}) == 90
    for bad in ("0", "-3", "a year"):
        with pytest.raises(RetentionError, match="TTHC_PII_RETENTION_DAYS"):
            retention_days({"TTHC_PII_RETENTION_DAYS": bad})
