"""The value sets and ranges of one model's columns are dbt tests (docs/decisions/010): the checks
the quality gate held with no dbt twin (fct_dossier's applicant types, fct_payment's fee types,
channels and amounts, mart_metric_monthly's rates, mart_score_monthly's rating bands,
mart_report_ii06a's counts) moved to the models' YAML and left the gate. Run here on the gate's
own hand-made warehouse (tests/expectations/warehouse.py): they pass on its clean rows and each
fails on the bad row the gate used to catch."""

from __future__ import annotations

import json

import psycopg
import pytest

from expectations.suites import GATE_SUITES, MARTS_SUITES
from tests.dbt.dbt_runner import run_dbt
from tests.expectations import warehouse

pytestmark = pytest.mark.slow

# dbt test -> the gate check it replaces
MOVED = {
    "accepted_values_fct_dossier_applicant_type__False__1__2__3__4": "fct_dossier.applicant_type_known",
    "accepted_values_fct_payment_fee_type__PHI__LE_PHI": "fct_payment.fee_type_known",
    "accepted_values_fct_payment_payment_channel__PAYGOV__LOCAL_GATEWAY": "fct_payment.payment_channel_known",
    "expression_is_true_fct_payment_amount_is_null_or_amount_0": "fct_payment.amount_not_negative",
    "expression_is_true_mart_metric_monthly_rate_is_null_or_rate_between_0_and_1": "mart_metric_monthly.rate_within_0_1",
    "mart_score_monthly_rating_band_known": "mart_score_monthly.rating_band_known",
    "mart_report_ii06a_counts_not_negative": "mart_report_ii06a.counts_not_negative",
}

BAD = """
insert into core.fct_dossier (dossier_code, unit_code, status, channel, applicant_type, received_at)
values ('D9', 'U1', 4, 2, 7, '2025-07-02 08:00+07');
insert into core.fct_payment values ('T9', 'D1', 'SUCCESS', 'THUE', 'PAYGOV', 1000, '2025-07-02 09:00+07', null),
                                    ('T10', 'D1', 'SUCCESS', 'PHI', 'CASH', 1000, '2025-07-02 09:00+07', null),
                                    ('T11', 'D1', 'SUCCESS', 'PHI', 'PAYGOV', -1, '2025-07-02 09:00+07', null);
update marts.mart_metric_monthly set rate = 1.25 where metric_code = '2.1';
update marts.mart_score_monthly set rating_band = 'Xuất sắc';
insert into marts.mart_report_ii06a (period_type, period_key, unit_code, field_code, received_total, received_online,
    received_in_person_postal, carried_over, resolved_total, resolved_early, resolved_on_time, resolved_late,
    in_progress_total, in_progress_within_deadline, in_progress_overdue)
values ('month', '2025-07', 'U2', 'DD', 10, -1, 10, 1, 7, 3, 3, 1, 3, 2, 1);
"""


def results(work) -> dict[str, str]:
    run = json.loads((work / "target" / "run_results.json").read_text())
    return {r["unique_id"].split(".")[2]: r["status"] for r in run["results"] if r["unique_id"].startswith("test.")}


def test_the_gate_holds_none_of_them():
    checks = {f"{s.name}.{c.name}" for s in GATE_SUITES + MARTS_SUITES for c in s.checks}
    assert not checks & set(MOVED.values())


def test_they_pass_on_clean_rows_and_each_fails_on_its_bad_row(module_db, dbt_work):
    warehouse.build(module_db.conninfo())
    with psycopg.connect(module_db.conninfo()) as conn:  # fct_dossier's tests read by its loaded_at
        conn.execute("alter table core.fct_dossier add column loaded_at timestamptz not null default now()")
    run_dbt(module_db, dbt_work, "test", "--select", *MOVED)
    assert results(dbt_work) == dict.fromkeys(MOVED, "pass")

    with psycopg.connect(module_db.conninfo()) as conn:
        conn.execute(BAD)
    failed = run_dbt(module_db, dbt_work, "test", "--select", *MOVED, check=False)
    assert failed.returncode != 0
    assert results(dbt_work) == dict.fromkeys(MOVED, "fail"), failed.stdout[-4000:]
