"""A small hand-made warehouse for the gate's tests: every table a suite reads, clean data.

Raw and meta come from the extractors' own DDL; marts are created from the dbt contract, so
the tables are shaped exactly as the gate expects them in production.
"""

from __future__ import annotations

import psycopg

from expectations.contracts import mart_columns
from expectations.suites.marts import MARTS_SUITES
from extractors.raw.schema import ensure_raw_schema

CORE = """
create schema if not exists staging; create schema if not exists core; create schema if not exists marts;

create table core.dim_date as
select d::date as date_day, extract(isodow from d) < 6 as is_working_day
from generate_series(date '2025-05-01', date '2025-08-31', interval '1 day') d;

create table core.dim_unit (unit_code text, unit_name text, unit_level text, parent_unit_code text,
                            successor_unit_code text, valid_from date, valid_to date);
insert into core.dim_unit values ('P', 'Tỉnh', 'TINH', null, null, '2020-01-01', null),
                                 ('U1', 'Xã 1', 'XA', 'P', null, '2020-01-01', null),
                                 ('U2', 'Xã 2', 'XA', 'P', null, '2020-01-01', null);
create table core.dim_procedure (procedure_code text);
insert into core.dim_procedure values ('1.000001'), ('1.000002');
create table core.metric_scoring_rules (metric_code text);
insert into core.metric_scoring_rules values ('2.1'), ('3.3');

create table core.fct_dossier (
    dossier_code text, unit_code text, procedure_code text, field_code text, status int, channel int,
    applicant_type int, submitted_at timestamptz, received_at timestamptz, due_at timestamptz,
    end_of_processing_at timestamptz, returned_at timestamptz, report_form_class text,
    is_closed_on_time_766 boolean, has_fee_obligation boolean, is_paid_online boolean, has_apology_letter boolean);
insert into core.fct_dossier values
  ('D1', 'U1', '1.000001', 'DD', 10, 2, 1, '2025-07-01 08:00+07', '2025-07-01 08:00+07', '2025-07-05 17:00+07',
   '2025-07-04 08:00+07', '2025-07-05 08:00+07', 'EARLY', true, true, true, false),
  ('D2', 'U2', '1.000002', 'DD', 4, 1, 2, null, '2025-07-02 08:00+07', '2025-07-20 17:00+07',
   null, null, null, null, false, false, false),
  ('D3', 'U1', '1.000001', 'DD', 9, 3, 1, '2025-07-03 08:00+07', '2025-07-03 09:00+07', '2025-07-10 17:00+07',
   '2025-07-04 10:00+07', null, 'EARLY', true, false, false, false);

create table core.fct_payment (transaction_id text, dossier_code text, payment_status text, fee_type text,
                               payment_channel text, amount bigint, created_at timestamptz, paid_at timestamptz);
insert into core.fct_payment values ('T1', 'D1', 'SUCCESS', 'LE_PHI', 'PAYGOV', 50000, '2025-07-01 09:00+07', '2025-07-01 09:05+07'),
                                    ('T2', 'D1', 'FAILED', 'PHI', 'LOCAL_GATEWAY', 10000, '2025-07-01 09:00+07', null);

"""

# One ho_so run per night with a steady volume, and full lists with their totals.
RUNS = """
insert into raw.one_stop__ho_so (record_key, source_updated_at, payload, payload_hash, batch_id)
select 'D' || i, timestamptz '2025-07-31 10:00+07' + i * interval '1 minute', '{}'::jsonb, md5(i::text), 100
from generate_series(1, 40) i;
insert into raw.one_stop__don_vi (record_key, source_updated_at, payload, payload_hash, batch_id)
values ('P', '2025-01-01 00:00+07', '{}', 'p', 1), ('U1', '2025-01-01 00:00+07', '{}', 'u1', 1),
       ('U2', '2025-01-01 00:00+07', '{}', 'u2', 1);
insert into raw.dvc_portal__payments (record_key, source_updated_at, payload, payload_hash, batch_id)
values ('T1', '2025-07-31 12:00+07', '{}', 't1', 200);
insert into meta.extract_runs (batch_id, source, entity, window_from, window_to, status, fetched, source_total, started_at)
select n, 'one_stop', 'ho_so', timestamptz '2025-07-30 01:00+07' - (31 - n) * interval '1 day',
       timestamptz '2025-07-31 01:00+07' - (31 - n) * interval '1 day', 'success', 40 + n % 3, 40,
       timestamptz '2025-07-31 01:00+07' - (31 - n) * interval '1 day'
from generate_series(20, 30) n;
insert into meta.extract_runs (batch_id, source, entity, window_from, window_to, status, fetched, source_total, started_at)
values (100, 'one_stop', 'ho_so', '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'success', 40, 40, '2025-08-01 01:00+07'),
       (1, 'one_stop', 'don_vi', null, '2025-08-01 01:00+07', 'success', 3, 3, '2025-08-01 01:00+07'),
       (200, 'dvc_portal', 'payments', '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'success', 1, 1, '2025-08-01 01:00+07');
insert into meta.extract_runs (batch_id, source, entity, window_from, window_to, status, started_at)
select 300 + row_number() over (), source, entity, '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'success', '2025-08-01 01:00+07'
from (values ('one_stop', 'thu_tuc'), ('one_stop', 'thu_tuc_don_vi'), ('one_stop', 'qua_trinh_xu_ly'),
             ('dvc_portal', 'sync_status'), ('dvc_portal', 'feedback'), ('dvc_portal', 'ratings'),
             ('dvc_portal', 'online_services')) e(source, entity);
"""

# Marts rows: enough to exercise every marts check on clean, consistent numbers.
MARTS = """
insert into marts.mart_metric_monthly (period_type, period_key, period_start, period_end, unit_code, unit_name,
    unit_level, parent_unit_code, group_code, metric_code, metric_name, numerator, denominator, rate, points, max_points, applies)
values ('month', '2025-07', '2025-07-01', '2025-08-01', 'P', 'Tỉnh', 'TINH', null, 'TDGQ', '2.1', 'Đúng hạn', 19, 20, 0.95, 19, 20, true),
       ('month', '2025-07', '2025-07-01', '2025-08-01', 'P', 'Tỉnh', 'TINH', null, 'CLGQ', '3.3', 'Trực tuyến', 4, 10, 0.4, 4.8, 6, true);
insert into marts.mart_score_monthly (period_type, period_key, period_start, period_end, unit_code, unit_name, unit_level,
    parent_unit_code, score_ckmb, score_tdgq, score_clgq, score_tttt, score_mdhl, score_mdsh, total_score, max_score,
    rank_in_level, rating_band, score5_ckmb, score5_tdgq, score5_dvctt, score5_mdhl, score5_mdsh)
values ('month', '2025-07', '2025-07-01', '2025-08-01', 'P', 'Tỉnh', 'TINH', null, 0, 19, 4.8, 0, 0, 0, 23.8, 26, 1, 'Yếu',
        0, 19, 4.8, 0, 0);
insert into marts.mart_report_ii06a (period_type, period_key, unit_code, field_code, field_name, received_total,
    received_online, received_in_person_postal, carried_over, resolved_total, resolved_early, resolved_on_time,
    resolved_late, in_progress_total, in_progress_within_deadline, in_progress_overdue)
values ('month', '2025-07', 'P', 'DD', 'Đất đai', 10, 4, 5, 1, 7, 3, 3, 1, 3, 2, 1);
"""


# the marts the gate reads, and mart_report_ii06a, whose counts are dbt tests now (tests/dbt/test_value_sets.py
# runs them on this warehouse)
MART_TABLES = sorted({suite.table for suite in MARTS_SUITES} | {"mart_report_ii06a"})


def create_marts(conn: psycopg.Connection, schema: str = "marts") -> None:
    conn.execute(f'create schema if not exists "{schema}"')
    for table in MART_TABLES:
        cols = ", ".join(f'"{name}" {kind}' for name, kind in mart_columns(table).items())
        conn.execute(f'create table "{schema}"."{table}" ({cols})')


def build(conninfo: str) -> None:
    with psycopg.connect(conninfo) as conn:
        ensure_raw_schema(conn)
        conn.execute(CORE)
        conn.execute(RUNS)
        create_marts(conn)
        conn.execute(MARTS)
