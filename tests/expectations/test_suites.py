"""Every suite over a small hand-made warehouse: clean data passes, each seeded bad row is caught."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from expectations.runner import run_gate
from expectations.suites import GATE_SUITES, MARTS_SUITES
from tests.expectations import warehouse

pytestmark = pytest.mark.slow


@pytest.fixture
def docs_dir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tthc-docs-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def built(fresh_db):
    warehouse.build(fresh_db.conninfo())
    return fresh_db


def outcome(gate):
    return ({f"{r.suite}.{r.check}" for r in gate.failures}, {f"{r.suite}.{r.check}" for r in gate.warnings})


def test_clean_warehouse_passes_every_suite_with_results_and_data_docs(built, docs_dir):
    suites = GATE_SUITES + MARTS_SUITES
    gate = run_gate(built, suites, "clean", docs_dir=docs_dir)
    assert gate.passed and not gate.warnings, gate.summary()
    assert not [r for r in gate.results if r.observed.startswith("error")]
    with psycopg.connect(built.conninfo()) as conn:
        stored = conn.execute(
            "select count(*), count(distinct suite), bool_and(success) from meta.quality_results where run_id = 'clean'"
        ).fetchone()
    assert stored == (sum(len(s.checks) for s in suites), len(suites), True)
    index = docs_dir / "index.html"
    assert gate.docs_index == index.resolve() and index.exists()
    html = index.read_text(encoding="utf-8")
    for suite in ("fct_dossier", "extract_runs", "raw__one_stop__ho_so", "mart_metric_monthly", "mart_score_monthly"):
        assert suite in html
    assert str(index.resolve().as_uri()) in gate.summary()
    # a second run is listed beside the first: the site keeps history
    run_gate(built, suites[:1], "again", docs_dir=docs_dir)
    assert "again" in index.read_text(encoding="utf-8") and "clean" in index.read_text(encoding="utf-8")


BAD_CORE = """
-- raw: a version without its update time, a foreign column, a payload that is not jsonb
insert into raw.one_stop__ho_so (record_key, source_updated_at, payload, payload_hash, batch_id)
values ('D999', null, '{}', 'x', 100);
alter table raw.dvc_portal__ratings add column note text;
alter table raw.dvc_portal__feedback alter column payload type text;
-- load records: a total the raw layer cannot cover, a night 10x the usual, an entity never loaded,
-- a source that sent no update at all, a failed last run, an unknown run state
update meta.extract_runs set source_total = 5 where entity = 'thu_tuc';
update meta.extract_runs set fetched = 400 where batch_id = 100;
delete from meta.extract_runs where entity = 'ratings';
delete from raw.dvc_portal__payments;
update meta.extract_runs set source_total = 0, fetched = 0 where entity = 'payments';
insert into meta.extract_runs (batch_id, source, entity, window_from, window_to, status, started_at) values
  (900, 'dvc_portal', 'feedback', '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'failed', '2025-08-01 02:00+07'),
  (901, 'dvc_portal', 'feedback', '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'lost', '2025-07-01 02:00+07');
-- fct_dossier: unknown TTHC, submitted after receipt, returned without NgayTra, unknown codes,
-- and 30 dossiers at once for a unit that received none in the previous 28 days
insert into core.fct_dossier values
  ('D4', 'U1', '9.999999', 'DD', 4, 1, 1, '2025-07-10 09:00+07', '2025-07-10 08:00+07', null, null, null, null,
   null, false, false, false),
  ('D5', 'U2', '1.000001', 'DD', 10, 2, 7, null, '2025-07-03 08:00+07', null, '2025-07-04 08:00+07', null, 'SOON',
   true, false, false, false);
insert into core.fct_dossier (dossier_code, unit_code, procedure_code, field_code, status, channel, applicant_type, received_at)
select 'B' || i, 'U2', '1.000002', 'DD', 4, 2, 1, '2025-07-31 09:00+07' from generate_series(1, 30) i;
-- dim_unit: an unknown level, a parent that is no unit, validity backwards
insert into core.dim_unit values ('U3', 'Quận 3', 'QUAN', 'ZZ', null, '2025-07-01', '2025-01-01');
-- fct_payment: paid before created, success without paidAt, unknown dossier and status (its unknown fee type
-- and channel and negative amount are dbt tests': tests/dbt/test_value_sets.py)
insert into core.fct_payment values
  ('T3', 'D1', 'SUCCESS', 'LE_PHI', 'PAYGOV', 1000, '2025-07-02 09:00+07', '2025-07-01 09:00+07'),
  ('T4', 'D404', 'SUCCESS', 'PHI', 'PAYGOV', 1000, '2025-07-02 09:00+07', null),
  ('T5', 'D1', 'PAID', 'THUE', 'CASH', -1, '2025-07-02 09:00+07', null);
"""


def test_core_gate_catches_each_seeded_bad_row(built):
    with psycopg.connect(built.conninfo()) as conn:
        conn.execute(BAD_CORE)
    gate = run_gate(built, GATE_SUITES, "bad-core", docs_dir=None)
    failures, warnings = outcome(gate)
    assert failures == {
        "raw__one_stop__ho_so.key_and_update_time_present",
        "raw__dvc_portal__ratings.columns_as_loaded",
        "raw__dvc_portal__feedback.column_types",
        "extract_runs.status_known",
        "record_loss.missing_within_thresholds",  # the 5 thu_tuc the source counted, all missing
        "dim_unit.unit_level_known",
        "fct_payment.payment_status_known",
    }, gate.summary()
    assert warnings == {
        "extract_runs.loaded_counts_match_source_total",
        "extract_runs.volume_near_trailing_average",
        "extract_runs.runs_fresh_per_entity",
        "extract_runs.source_data_fresh",
        "extract_runs.last_run_succeeded",
        "fct_dossier.procedure_known",
        "fct_dossier.submitted_not_after_receipt",
        "fct_dossier.returned_date_when_returned",
        "fct_dossier.received_volume_per_unit",
        "fct_payment.paid_after_created",
        "fct_payment.success_has_paid_time",
        "fct_payment.dossier_known",
    }, gate.summary()
    by_name = {f"{r.suite}.{r.check}": r for r in gate.results}
    # samples name the offending rows
    assert by_name["fct_payment.dossier_known"].sample == [{"transaction_id": "T4", "dossier_code": "D404"}]
    assert by_name["extract_runs.loaded_counts_match_source_total"].sample[0]["entity"] == "thu_tuc"
    assert by_name["record_loss.missing_within_thresholds"].sample == [
        {
            "source": "one_stop",
            "entity": "thu_tuc",
            "batch_id": 301,
            "source_total": 5,
            "missing": 5,
            "max_missing": 10,
            "max_missing_pct": Decimal("1.0"),
        }
    ]
    assert [x.line().split(" [")[0] for x in gate.loss] == [
        "one_stop/thu_tuc: 0 open quarantined (last run fetched 0), 5 missing (source total 5)"
    ]
    assert [r["entity"] for r in by_name["extract_runs.volume_near_trailing_average"].sample] == ["ho_so"]
    assert [r["entity"] for r in by_name["extract_runs.runs_fresh_per_entity"].sample] == ["ratings"]
    assert [r["source"] for r in by_name["extract_runs.source_data_fresh"].sample] == ["dvc_portal"]
    assert by_name["extract_runs.last_run_succeeded"].sample[0]["status"] == "failed"
    volume = by_name["fct_dossier.received_volume_per_unit"].sample
    assert [(r["unit_code"], str(r["checked_day"]), int(r["received_on_day"])) for r in volume] == [
        ("U2", "2025-07-31", 30)
    ]
    assert by_name["raw__dvc_portal__feedback.column_types"].sample == [
        {"column_name": "payload", "expected_type": "jsonb", "actual_type": "text"}
    ]
    assert "error" not in " ".join(r.observed for r in gate.results)


BAD_MARTS = """
insert into {s}.mart_metric_monthly (period_type, period_key, period_start, period_end, unit_code, unit_name,
    unit_level, parent_unit_code, group_code, metric_code, metric_name, numerator, denominator, rate, points, max_points, applies)
values ('month', '2025-07', '2025-07-01', '2025-08-01', 'U1', 'Xã 1', 'XA', 'P', 'TDGQ', '2.1', 'Đúng hạn', 5, 4, 1.25, 20, 20, true),
       ('month', '2025-07', '2025-07-01', '2025-08-01', 'U1', 'Xã 1', 'XA', 'P', 'CLGQ', '3.3', 'Trực tuyến', 1, 10, 0.1, 7, 6, true),
       ('month', '2025-07', '2025-07-01', '2025-08-01', 'U1', 'Xã 1', 'XA', 'P', 'CLGQ', '3.3', 'Trực tuyến', 1, 10, 0.1, 1, 6, true),
       ('week', '2025-07', '2025-07-01', '2025-08-01', 'U1', 'Xã 1', 'QUAN', 'P', 'CLGQ', '9.9', 'Không có', 0, 0, null, 0, 0, false);
insert into {s}.mart_score_monthly (period_type, period_key, unit_code, score_ckmb, score_tdgq, score_clgq, score_tttt,
    score_mdhl, score_mdsh, total_score, max_score, rank_in_level, rating_band)
values ('month', '2025-07', 'U2', 0, 120, 0, 0, 0, 0, 120, 100, 1, 'Xuất sắc');
"""


def test_marts_gate_checks_the_shadow_schema_and_catches_each_bad_row(built):
    with psycopg.connect(built.conninfo()) as conn:
        warehouse.create_marts(conn, "marts__next")
        conn.execute(warehouse.MARTS.replace("marts.", "marts__next."))
        conn.execute(BAD_MARTS.format(s="marts__next"))
    # the published marts are clean: the same suites pass there
    assert run_gate(built, MARTS_SUITES, "published", docs_dir=None).passed
    gate = run_gate(built, MARTS_SUITES, "shadow", schemas={"marts": "marts__next"}, docs_dir=None)
    failures, warnings = outcome(gate)
    assert failures == {
        "mart_metric_monthly.unit_level_known",
        "mart_metric_monthly.metric_known",
        "mart_score_monthly.group_scores_within_0_max",
        "mart_score_monthly.total_is_sum_of_metric_points",
    }, gate.summary()
    assert not warnings
    by_name = {f"{r.suite}.{r.check}": r for r in gate.results}
    assert by_name["mart_metric_monthly.metric_known"].sample == [{"metric_code": "9.9"}]


def test_a_published_month_without_the_portals_total_is_a_warning_not_a_failure(built):
    from expectations.suites.marts import PORTAL_RECONCILIATION

    with psycopg.connect(built.conninfo()) as conn:
        conn.execute(
            "insert into marts.mart_portal_reconciliation (period_type, period_key, unit_code, item_code, "
            "computed_points, portal_points, difference) values "
            "('month', '2025-08', 'P', 'TONG', 20, 21, -1), ('month', '2025-07', 'P', 'TONG', 23.8, null, null), "
            "('month', '2025-07', 'P', '2.1', 19, 19, 0)"
        )
    gate = run_gate(built, (PORTAL_RECONCILIATION,), "no-portal-total", docs_dir=None)
    failures, warnings = outcome(gate)
    assert gate.passed and not failures
    assert warnings == {"mart_portal_reconciliation.portal_total_for_the_published_month"}
    assert gate.warnings[0].sample == [{"period_key": "2025-07", "unit_code": "P"}]
    with psycopg.connect(built.conninfo()) as conn:
        conn.execute("update marts.mart_portal_reconciliation set portal_points = 23.8 where period_key = '2025-07'")
    assert not run_gate(built, (PORTAL_RECONCILIATION,), "portal-total", docs_dir=None).warnings
