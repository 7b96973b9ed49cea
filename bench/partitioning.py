"""Benchmark: monthly partitioning of the big tables (the decision: docs/scaling.md §4).

    .venv/bin/python bench/partitioning.py [--dossiers 2000000] [--raw-dossiers 1000000]
    .venv/bin/python bench/partitioning.py --report-only   # rewrite the .md from the last .json

A fresh embedded PostgreSQL in a temporary folder (removed at the end). Synthetic data made with
SQL (generate_series), shaped like ours, each table stored twice: as today (plain, the indexes
dbt creates) and partitioned by month:
  fct_dossier       the real column list; plain: unique dossier_code; partitioned by range on
                    received_month with unique (dossier_code, received_month);
  fct_dossier_step  ~4.7 steps per dossier; partitioned by its dossier's received_month;
  raw one-stop dossier versions (raw.one_stop__ho_so's shape, ~3 versions of ~2 KB JSONB per
                    dossier); plain: PK (record_key, payload_hash); partitioned by month of
                    source_updated_at with PK (record_key, payload_hash, source_updated_at).
Then the workloads the decision weighs, plain and partitioned interleaved A/B/B/A, median wall
time: the nightly MERGEs of both facts (dbt's merge strategy), one month's reads (by received
date, which prunes, and by end of processing, which cannot), the full history as the marts read
it, and the loader's raw lookup with and without the page's update-time range. Every statement
runs under EXPLAIN (ANALYZE, BUFFERS, TIMING OFF): relations scanned show pruning. Measured with
JIT on (PostgreSQL's default) and again with jit = off where a plan used JIT, because JIT
compiles each partition's scan apart. DML runs in a rolled-back transaction, so every
repetition starts from the same tables; each workload's answer is fingerprinted on both layouts.
Bytes per row and ANALYZE time of each layout too.

Writes bench/results/partitioning.json and .md (or --out). tests/bench/test_partitioning.py runs
the same core at a tiny scale and checks that both layouts hold the same rows and answer alike.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

RESULTS = REPO / "bench" / "results"
TZ = "Asia/Ho_Chi_Minh"

# The synthetic calendar: dossiers received DATA_START … the day before DATA_END; the last
# nightly load stored DATA_END's eve at LAST_LOAD; the measured night brings NIGHT's changes.
DATA_START = date(2025, 1, 1)
DATA_END = date(2026, 3, 19)
NIGHT = date(2026, 3, 19)
LAST_LOAD = "2026-03-19 01:00:00+07"
NIGHT_LOAD = "2026-03-20 01:00:00+07"
PARTITION_MONTHS = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(0, 17)]  # 2025-01 … 2026-05
READ_MONTH = date(2026, 2, 1)  # an open month of the marts (provisional until next month's closing day)
CHANGED_SHARE = 0.003  # ~6,000 changed dossiers a night at 2,000,000
NEW_SHARE_OF_CHANGES = 0.4  # of them received that day; the rest are updates
MOVED_SHARE_OF_UPDATES = 0.01  # updates whose received time is corrected into another month
PAGE_SIZE = 1000  # the one-stop contract's largest page
# raw at half the dossiers: its 2 KB payloads are the slowest thing to build, and the lookups
# measured on raw are index probes, whose cost does not grow with the table's row count
RAW_DOSSIERS_DEFAULT = 1_000_000

# -- column lists (core.fct_dossier and core.fct_dossier_step as dbt builds them) -------------

FCT_DOSSIER = [
    ("dossier_code", "text"),
    ("unit_code", "text"),
    ("procedure_code", "text"),
    ("field_code", "text"),
    ("applicant_key", "text"),
    ("status", "integer"),
    ("channel", "integer"),
    ("applicant_type", "integer"),
    ("is_inter_agency", "boolean"),
    ("submitted_at", "timestamptz"),
    ("received_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("processing_ended_at", "timestamptz"),
    ("returned_at", "timestamptz"),
    ("end_of_processing_at", "timestamptz"),
    ("closing_status", "integer"),
    ("supplement_count", "integer"),
    ("first_supplement_requested_at", "timestamptz"),
    ("second_supplement_requested_at", "timestamptz"),
    ("pending_supplement_requested_at", "timestamptz"),
    ("supplement_working_hours", "numeric"),
    ("timeliness_end_at", "timestamptz"),
    ("derived_due_at", "timestamptz"),
    ("effective_due_at", "timestamptz"),
    ("time_limit", "integer"),
    ("time_limit_unit", "text"),
    ("working_hours_allowed", "numeric"),
    ("working_hours_used", "numeric"),
    ("is_late_by_supplements", "boolean"),
    ("is_closed_on_time_766", "boolean"),
    ("report_form_class", "text"),
    ("online_level", "text"),
    ("is_digitized", "boolean"),
    ("has_reused_data", "boolean"),
    ("uses_personal_data_store", "boolean"),
    ("is_vneid_authenticated", "boolean"),
    ("has_electronic_result", "boolean"),
    ("component_count", "integer"),
    ("digitized_component_count", "integer"),
    ("fee_amount", "numeric"),
    ("has_fee_obligation", "boolean"),
    ("online_payment_kind", "integer"),
    ("is_paid_online", "boolean"),
    ("first_paid_online_at", "timestamptz"),
    ("amount_paid_online", "numeric"),
    ("apology_letter_count", "integer"),
    ("has_apology_letter", "boolean"),
    ("apology_new_due_at", "timestamptz"),
    ("days_result_ready_to_returned", "numeric"),
    ("source_updated_at", "timestamptz"),
    ("loaded_at", "timestamptz"),
]
FCT_STEP = [
    ("dossier_step_key", "text"),
    ("dossier_code", "text"),
    ("step_number", "integer"),
    ("unit_code", "text"),
    ("status_after_step", "integer"),
    ("department_name", "text"),
    ("step_started_at", "timestamptz"),
    ("processed_at", "timestamptz"),
    ("step_due_at", "timestamptz"),
    ("working_hours", "numeric"),
    ("is_overdue", "boolean"),
    ("overdue_working_hours", "numeric"),
    ("source_updated_at", "timestamptz"),
    ("loaded_at", "timestamptz"),
]
RAW = [
    ("record_key", "text"),
    ("source_updated_at", "timestamptz"),
    ("payload", "jsonb"),
    ("payload_hash", "text"),
    ("batch_id", "bigint"),
    ("loaded_at", "timestamptz"),
]


@dataclass(frozen=True)
class TablePair:
    """One big table as today (plain) and partitioned by month, with their indexes."""

    name: str
    columns: list[tuple[str, str]]
    partition_key: str  # column of the partitioned table's range key
    partition_key_expr: str  # how it is computed from the source rows (same for both loads)
    plain_indexes: list[str]  # DDL fragments after "on <table>"
    part_indexes: list[str]
    source: str  # the generated rows (unlogged), already in the physical order a
    # full rebuild (facts) or the nightly loads (raw) leave

    @property
    def plain(self) -> str:
        return f"bench.{self.name}_plain"

    @property
    def part(self) -> str:
        return f"bench.{self.name}_part"

    def cols(self) -> str:
        return ", ".join(c for c, _ in self.columns)

    def part_cols(self) -> str:
        extra = [] if self.partition_key in dict(self.columns) else [self.partition_key]
        return ", ".join([c for c, _ in self.columns] + extra)


DOSSIER = TablePair(
    name="fct_dossier",
    columns=FCT_DOSSIER,
    partition_key="received_month",
    partition_key_expr="received_month",
    # dbt's config of fct_dossier: unique dossier_code, received_at, loaded_at
    plain_indexes=["unique (dossier_code)", "(received_at)", "(loaded_at)"],
    part_indexes=["unique (dossier_code, received_month)", "(received_at)", "(loaded_at)"],
    source="bench.src_dossier",
)
STEP = TablePair(
    name="fct_dossier_step",
    columns=FCT_STEP,
    partition_key="received_month",
    partition_key_expr="received_month",
    plain_indexes=["unique (dossier_step_key)", "(dossier_code, step_number)", "(loaded_at)"],
    part_indexes=["unique (dossier_step_key, received_month)", "(dossier_code, step_number)", "(loaded_at)"],
    source="bench.src_step",
)
RAW_HO_SO = TablePair(
    name="raw_ho_so",
    columns=RAW,
    partition_key="source_updated_at",
    partition_key_expr="source_updated_at",
    plain_indexes=["primary key (record_key, payload_hash)", "using brin (loaded_at)"],
    part_indexes=["primary key (record_key, payload_hash, source_updated_at)", "using brin (loaded_at)"],
    source="bench.src_raw",
)
PAIRS = (DOSSIER, STEP, RAW_HO_SO)


def month_literal(d: date) -> str:
    return f"date '{d.isoformat()}'"


def local_midnight(d: date) -> str:
    return f"(timestamp '{d.isoformat()} 00:00' at time zone '{TZ}')"


def next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


# -- synthetic data ------------------------------------------------------------------------

HELPERS = f"""
create schema if not exists bench;
-- a uniform [0, 1) draw that depends only on (id, salt): the same rows on every run
create or replace function bench.rnd(id bigint, salt integer) returns double precision
language sql immutable parallel safe
as $$ select (hashint8($1 * 7919 + $2)::bigint & 2147483647) / 2147483648.0::float8 $$;
create or replace function bench.local_text(ts timestamptz) returns text
language sql immutable parallel safe
as $$ select to_char($1 at time zone '{TZ}', 'YYYYMMDDHH24MISS') $$;
create or replace function bench.next_night(ts timestamptz) returns timestamptz
language sql immutable parallel safe
as $$ select (date_trunc('day', $1 at time zone '{TZ}') + interval '1 day 1 hour') at time zone '{TZ}' $$;
create or replace function bench.unit(u integer) returns text
language sql immutable parallel safe
as $$ select format('000.%s.%s.H56', lpad((u / 100)::text, 2, '0'), lpad((u % 100)::text, 2, '0')) $$;
"""


def dossier_source_sql(existing: int, total: int) -> str:
    """fct_dossier's rows for ids 1..total (ids above `existing` are the night's new dossiers),
    plus id, received_month and observed_until (the instant the row describes)."""
    days = (DATA_END - DATA_START).days
    data_end = local_midnight(DATA_END)
    night_end = local_midnight(date.fromordinal(NIGHT.toordinal() + 1))
    return f"""
create unlogged table bench.src_dossier as
with drawn as materialized (
    select id,
           id > {existing}                                                        as is_new,
           case when id > {existing} then date '{NIGHT}'
                else date '{DATA_START}' + floor(bench.rnd(id, 1) * {days})::int end as day0,
           floor(1000 * bench.rnd(id, 4) ^ 2)::int                                as u,
           floor(500 * bench.rnd(id, 5) ^ 1.5)::int                               as p,
           interval '12 hours' + bench.rnd(id, 6) ^ 2 * interval '30 days'        as duration
    from generate_series(1, {total}) id
),
received as materialized (
    select drawn.*,
           -- most weekend receipts move to Thursday/Friday (offices work Mon-Fri, some Saturdays)
           ((case when extract(isodow from day0) >= 6 and bench.rnd(id, 2) < 0.85 then day0 - 2 else day0 end)
             + time '07:00' + bench.rnd(id, 3) * interval '10 hours') at time zone '{TZ}' as received_at,
           case when is_new then {night_end} else {data_end} end                 as observed_until,
           (array[3, 5, 7, 10, 15, 20])[1 + floor(bench.rnd(id, 10) * 6)::int]    as time_limit,
           case when bench.rnd(id, 12) < 0.87 then 0 when bench.rnd(id, 12) < 0.97 then 1 else 2 end
                                                                                  as supplement_count
    from drawn
),
closed as materialized (
    select received.*,
           received_at + duration                                                 as t_end,
           bench.rnd(id, 7) >= 0.03 and received_at + duration + interval '3 days' < observed_until
                                                                                  as is_closed
    from received
),
statused as materialized (
    select closed.*,
           case when is_closed then
                case when bench.rnd(id, 8) < 0.7 then 10 when bench.rnd(id, 8) < 0.9 then 9
                     when bench.rnd(id, 8) < 0.95 then 7 else 8 end
                else (array[2, 4, 5, 6])[1 + floor(bench.rnd(id, 8) * 4)::int] end as status,
           case when bench.rnd(id, 11) < 0.05 then null
                else received_at + time_limit * interval '33 hours' end            as due_at
    from closed
),
ended as materialized (
    select statused.*,
           case when status in (7, 8, 9) or (status = 10 and bench.rnd(id, 9) < 0.8) then t_end end
                                                                                  as processing_ended_at,
           case when status = 10 then t_end + bench.rnd(id, 9) * interval '72 hours' end as returned_at
    from statused
),
timed as materialized (
    select ended.*,
           coalesce(processing_ended_at, returned_at)                             as end_of_processing_at,
           case when not is_closed and status = 5 and supplement_count >= 1
                then received_at + duration * 0.3 end                             as pending_supplement_requested_at,
           case when due_at is null then received_at + time_limit * interval '33 hours' end as derived_due_at,
           bench.rnd(id, 20) < 0.6                                                as is_digitized,
           1 + floor(bench.rnd(id, 21) * 6)::int                                  as component_count,
           case when bench.rnd(id, 22) < 0.4
                then (array[10000, 20000, 50000, 100000, 500000])[1 + floor(bench.rnd(id, 23) * 5)::int]
                else 0 end                                                        as fee_amount
    from ended
),
judged as materialized (
    select timed.*,
           least(pending_supplement_requested_at, end_of_processing_at)          as timeliness_end_at,
           coalesce(due_at, derived_due_at)                                       as effective_due_at,
           case when fee_amount > 0 and bench.rnd(id, 24) < 0.55
                then 1 + floor(bench.rnd(id, 25) * 2)::int else 0 end            as online_payment_kind
    from timed
)
select
    id,
    date_trunc('month', received_at at time zone '{TZ}')::date                   as received_month,
    observed_until,
    bench.unit(u) || '-' || to_char(received_at at time zone '{TZ}', 'YYMMDD') || '-' || lpad(id::text, 7, '0')
                                                                                  as dossier_code,
    bench.unit(u)                                                                 as unit_code,
    '1.00' || lpad(p::text, 4, '0')                                               as procedure_code,
    (array['DD', 'HT', 'CT', 'XD', 'KD', 'GD', 'YT', 'LD', 'TP', 'TN'])[1 + p % 10] as field_code,
    encode(sha256(int8send(id % greatest(1, ({total} * 0.8)::bigint))), 'hex')     as applicant_key,
    status,
    case when bench.rnd(id, 13) < 0.55 then 2 when bench.rnd(id, 13) < 0.95 then 1 else 3 end as channel,
    case when bench.rnd(id, 14) < 0.8 then 1 when bench.rnd(id, 14) < 0.95 then 2
         when bench.rnd(id, 14) < 0.98 then 3 else 4 end                          as applicant_type,
    bench.rnd(id, 15) < 0.15                                                      as is_inter_agency,
    received_at - bench.rnd(id, 16) * interval '2 hours'                          as submitted_at,
    received_at,
    due_at,
    processing_ended_at,
    returned_at,
    end_of_processing_at,
    case when end_of_processing_at is not null then status end                   as closing_status,
    supplement_count,
    case when supplement_count >= 1 then received_at + duration * 0.3 end        as first_supplement_requested_at,
    case when supplement_count >= 2 then received_at + duration * 0.5 end        as second_supplement_requested_at,
    pending_supplement_requested_at,
    round((supplement_count * bench.rnd(id, 17) * 40)::numeric, 4)               as supplement_working_hours,
    timeliness_end_at,
    derived_due_at,
    effective_due_at,
    time_limit,
    case when bench.rnd(id, 18) < 0.95 then 'NGAY_LAM_VIEC' else 'NGAY' end     as time_limit_unit,
    case when bench.rnd(id, 18) < 0.95 then (time_limit * 8)::numeric end         as working_hours_allowed,
    case when timeliness_end_at is not null
         then round((extract(epoch from timeliness_end_at - received_at) / 3600.0 * 0.33)::numeric, 4) end
                                                                                  as working_hours_used,
    supplement_count > 1                                                          as is_late_by_supplements,
    case when timeliness_end_at is null then null
         when supplement_count > 1 then false
         when effective_due_at is null then true
         else timeliness_end_at <= effective_due_at end                           as is_closed_on_time_766,
    case when end_of_processing_at is null then null
         when status in (7, 8) then 'WITHDRAWN_STOPPED'
         when due_at is null then 'ON_TIME'
         when (end_of_processing_at at time zone '{TZ}')::date < (due_at at time zone '{TZ}')::date then 'EARLY'
         when (end_of_processing_at at time zone '{TZ}')::date = (due_at at time zone '{TZ}')::date then 'ON_TIME'
         else 'LATE' end                                                          as report_form_class,
    (array['TOAN_TRINH', 'MOT_PHAN', 'KHONG'])[1 + floor(bench.rnd(id, 19) * 3)::int] as online_level,
    is_digitized,
    bench.rnd(id, 26) < 0.3                                                       as has_reused_data,
    bench.rnd(id, 27) < 0.1                                                       as uses_personal_data_store,
    bench.rnd(id, 28) < 0.4                                                       as is_vneid_authenticated,
    end_of_processing_at is not null and bench.rnd(id, 29) < 0.5                  as has_electronic_result,
    component_count,
    case when is_digitized then 1 + floor(bench.rnd(id, 30) * component_count)::int else 0 end
                                                                                  as digitized_component_count,
    fee_amount::numeric                                                           as fee_amount,
    fee_amount > 0                                                                as has_fee_obligation,
    online_payment_kind,
    online_payment_kind > 0                                                       as is_paid_online,
    case when online_payment_kind > 0 then received_at + interval '1 hour' end    as first_paid_online_at,
    (case when online_payment_kind > 0 then fee_amount else 0 end)::numeric       as amount_paid_online,
    case when end_of_processing_at > effective_due_at and bench.rnd(id, 31) < 0.3 then 1 else 0 end
                                                                                  as apology_letter_count,
    end_of_processing_at > effective_due_at and bench.rnd(id, 31) < 0.3          as has_apology_letter,
    case when end_of_processing_at > effective_due_at and bench.rnd(id, 31) < 0.3
         then effective_due_at + interval '5 days' end                           as apology_new_due_at,
    case when processing_ended_at is not null and returned_at is not null
         then round((extract(epoch from returned_at - processing_ended_at) / 86400.0)::numeric, 4) end
                                                                                  as days_result_ready_to_returned,
    -- the last version's update: its end (or return) when closed, else halfway to now
    coalesce(returned_at, end_of_processing_at,
             received_at + (least(t_end, observed_until) - received_at) * 0.5)   as source_updated_at,
    bench.next_night(coalesce(returned_at, end_of_processing_at,
             received_at + (least(t_end, observed_until) - received_at) * 0.5))  as loaded_at
from judged
order by dossier_code  -- a full refresh writes staging's order: distinct on (record_key)
"""


def step_source_sql(steps_per_dossier: float) -> str:
    """fct_dossier_step's rows of every generated dossier: k steps (mean ≈ steps_per_dossier)
    spread from receipt to the end (or to the instant observed), each with its own deadline."""
    spread = 2 * steps_per_dossier - 1  # k = 1 + floor(r * spread): mean ≈ steps_per_dossier
    departments = (
        "'Bộ phận tiếp nhận và trả kết quả', 'Phòng Tài nguyên và Môi trường', 'Phòng Tư pháp', "
        "'Văn phòng đăng ký đất đai', 'Phòng Kinh tế', 'Phòng Quản lý đô thị'"
    )
    return f"""
create unlogged table bench.src_step as
with spans as (
    select d.id, d.dossier_code, d.unit_code, d.status, d.received_at, d.received_month, d.is_inter_agency,
           coalesce(d.end_of_processing_at, d.observed_until) - d.received_at   as span,
           d.end_of_processing_at is not null                                    as is_closed,
           1 + floor(bench.rnd(d.id, 40) * {spread})::int                        as k
    from bench.src_dossier d
),
steps as (
    select spans.*, j,
           received_at + span * (j - 1) / k                                      as step_started_at,
           received_at + span * j / k                                            as processed_at,
           received_at + span * (j - 1) / k + span / k * (0.7 + bench.rnd(id * 16 + j, 41) * 0.8)
                                                                                 as step_due_at
    from spans, generate_series(1, k) j
)
select
    id,
    received_month,
    dossier_code || '|' || j                                                     as dossier_step_key,
    dossier_code,
    j                                                                            as step_number,
    case when is_inter_agency and j > 1 and j < k
         then bench.unit((floor(1000 * bench.rnd(id, 4) ^ 2)::int * 7 + j) % 1000)
         else unit_code end                                                      as unit_code,
    case when j = k and is_closed then status else 4 end                         as status_after_step,
    (array[{departments}])[1 + (floor(bench.rnd(id * 16 + j, 42) * 6))::int]    as department_name,
    step_started_at,
    processed_at,
    step_due_at,
    round((extract(epoch from processed_at - step_started_at) / 3600.0 * 0.33)::numeric, 4) as working_hours,
    processed_at > step_due_at                                                   as is_overdue,
    case when processed_at > step_due_at
         then round((extract(epoch from processed_at - step_due_at) / 3600.0 * 0.33)::numeric, 4)
         else 0 end                                                              as overdue_working_hours,
    processed_at                                                                 as source_updated_at,
    bench.next_night(processed_at)                                               as loaded_at
from steps
order by dossier_step_key  -- a full refresh writes staging's order
"""


def raw_source_sql(raw_dossiers: int) -> str:
    """Raw one-stop dossier versions of the first `raw_dossiers` dossiers, ~3 each (receipt,
    processing, closing; a 4th for some), in the order the nightly loads appended them. The
    payload carries a few of the contract's fields and hex text that pglz cannot shrink, so a
    version is ~2 KB stored, as a real one is: the lookups measured here read raw's key index,
    and a row's width sets how many rows a page of the heap and of TOAST holds."""
    filler = ", ".join(f"md5(dossier_code || n || '{k}')" for k in range(48))
    return f"""
create unlogged table bench.src_raw as
with versions as (
    select d.id, d.dossier_code, d.unit_code, d.status, d.received_at, v.n, v.n = v.nv as is_last,
           case when v.n = 1 then d.received_at
                else d.received_at + (d.source_updated_at - d.received_at) * (v.n - 1) / (v.nv - 1) end as updated_at
    from bench.src_dossier d
    cross join lateral (
        select n, nv from (select (case when d.end_of_processing_at is not null then 3 else 2 end
                                   + (bench.rnd(d.id, 50) < 0.15)::int) as nv) c,
                          generate_series(1, c.nv) n
    ) v
    where d.id <= {raw_dossiers}
),
ordered as (
    select versions.*, bench.next_night(updated_at) as loaded_at
    from versions
    order by bench.next_night(updated_at), updated_at, dossier_code
    offset 0  -- raw is append-only, in load order (what BRIN on loaded_at relies on): sort the
              -- narrow rows, then build the 2 KB payloads in that order
)
select
    dossier_code                                                                 as record_key,
    updated_at                                                                   as source_updated_at,
    jsonb_build_object(
        'MaHoSo', dossier_code, 'MaDinhDanhDonVi', unit_code,
        'NgayTiepNhan', bench.local_text(received_at), 'NgayCapNhat', bench.local_text(updated_at),
        'TrangThaiHoSo', case when n = 1 then 2 when is_last then status else 4 end,
        'TaiLieuNop', concat({filler}))                                          as payload,
    encode(sha256(convert_to(dossier_code || '#' || n, 'UTF8')), 'hex')          as payload_hash,
    (loaded_at at time zone '{TZ}')::date - date '{DATA_START}'                  as batch_id,
    loaded_at
from ordered
"""


def changes_sql(existing: int, changed: int) -> list[str]:
    """The night's new rows, as dbt's temp tables would hold them: new dossiers received on NIGHT
    and updates of existing ones (mostly recent: 60% received in the last 30 days, 25% in the
    two months before, 15% older); 1% of the updates (at least one) have their receipt corrected
    into the previous month, so their row must move to another partition.
    Their steps: all steps of each changed dossier (the model rebuilds them) plus a new one."""
    new = max(1, round(changed * NEW_SHARE_OF_CHANGES))
    updates = changed - new
    data_end = local_midnight(DATA_END)
    night_at = f"(timestamp '{NIGHT} 10:00' at time zone '{TZ}')"
    quota = {1: round(updates * 0.60), 2: round(updates * 0.25)}
    quota[3] = updates - quota[1] - quota[2]
    moved = max(1, round(updates * MOVED_SHARE_OF_UPDATES))
    overrides = {
        "status": "case when s.end_of_processing_at is null then 10 else s.status end",
        "processing_ended_at": f"coalesce(s.processing_ended_at, {night_at})",
        "returned_at": f"coalesce(s.returned_at, {night_at} + interval '2 hours')",
        "end_of_processing_at": f"coalesce(s.end_of_processing_at, {night_at})",
        "closing_status": "case when s.end_of_processing_at is null then 10 else s.status end",
        "timeliness_end_at": f"coalesce(s.timeliness_end_at, {night_at})",
        "apology_letter_count": "s.apology_letter_count + 1",
        "has_apology_letter": "true",
        "received_at": "case when p.is_moved then s.received_at - interval '1 month' else s.received_at end",
        "source_updated_at": f"{night_at} + bench.rnd(s.id, 60) * interval '6 hours'",
        "loaded_at": f"timestamptz '{NIGHT_LOAD}'",
    }
    update_cols = ", ".join(f"{overrides.get(c, 's.' + c)} as {c}" for c, _ in FCT_DOSSIER)
    new_cols = ", ".join(
        {"loaded_at": f"timestamptz '{NIGHT_LOAD}' as loaded_at"}.get(c, f"s.{c}") for c, _ in FCT_DOSSIER
    )
    step_cols = ", ".join(f"s.{c}" for c, _ in FCT_STEP if c != "loaded_at")
    return [
        f"""
create table bench.changed_ids as
select id, bucket, bucket = 2 and rn <= {moved} as is_moved
from (
    select id, bucket, row_number() over (partition by bucket order by bench.rnd(id, 90)) as rn
    from (select id,
                 case when received_at >= {data_end} - interval '30 days' then 1
                      when received_at >= {data_end} - interval '90 days' then 2 else 3 end as bucket
          from bench.src_dossier where id <= {existing}) b
) r
where rn <= case bucket when 1 then {quota[1]} when 2 then {quota[2]} else {quota[3]} end
union all
select id, 0, false from bench.src_dossier where id > {existing}
""",
        f"""
create table bench.changes_dossier as
select {update_cols}, s.id
from bench.src_dossier s join bench.changed_ids p using (id) where p.bucket > 0
union all
select {new_cols}, s.id
from bench.src_dossier s where s.id > {existing}
""",
        f"alter table bench.changes_dossier add column received_month date; "
        f"update bench.changes_dossier "
        f"set received_month = date_trunc('month', received_at at time zone '{TZ}')::date",
        f"""
create table bench.changes_step as
select {step_cols}, timestamptz '{NIGHT_LOAD}' as loaded_at, c.received_month
from bench.src_step s join bench.changes_dossier c using (id)
union all
select c.dossier_code || '|' || (m.k + 1), c.dossier_code, m.k + 1, c.unit_code, c.status,
       'Bộ phận tiếp nhận và trả kết quả', m.last_at, {night_at}, m.last_at + interval '2 days',
       round((extract(epoch from {night_at} - m.last_at) / 3600.0 * 0.33)::numeric, 4),
       {night_at} > m.last_at + interval '2 days',
       case when {night_at} > m.last_at + interval '2 days'
            then round((extract(epoch from {night_at} - m.last_at - interval '2 days') / 3600.0 * 0.33)::numeric, 4)
            else 0 end,
       {night_at}, timestamptz '{NIGHT_LOAD}', c.received_month
from bench.changes_dossier c
join (select id, max(step_number) as k, max(processed_at) as last_at from bench.src_step group by id) m using (id)
where c.id <= {existing}
""",
        "analyze bench.changes_dossier; analyze bench.changes_step",
    ]


def raw_pages_sql() -> str:
    """The last night's dossier pages: versions loaded at LAST_LOAD, by update time, 1,000 a page."""
    return f"""
create table bench.raw_pages as
select (row_number() over (order by source_updated_at, record_key) - 1) / {PAGE_SIZE} as page,
       record_key, source_updated_at
from bench.src_raw where loaded_at = timestamptz '{LAST_LOAD}'
"""


# -- building the tables -----------------------------------------------------------------------


def create_tables(conn, pair: TablePair) -> None:
    cols = ",\n    ".join(
        f"{c} {t}"
        + (
            " not null"
            if c
            in (
                "dossier_code",
                "dossier_step_key",
                "record_key",
                "payload",
                "payload_hash",
                "batch_id",
                "loaded_at",
                "received_at",
            )
            else ""
        )
        for c, t in pair.columns
    )
    conn.execute(f"create table {pair.plain} (\n    {cols}\n)")
    extra = "" if pair.partition_key in dict(pair.columns) else f",\n    {pair.partition_key} date not null"
    conn.execute(f"create table {pair.part} (\n    {cols}{extra}\n) partition by range ({pair.partition_key})")
    if pair.partition_key in dict(pair.columns):  # raw: source_updated_at must be set to route the row
        conn.execute(f"alter table {pair.part} alter column {pair.partition_key} set not null")
    for month in PARTITION_MONTHS:
        bounds = (month_literal(month), month_literal(next_month(month)))
        if pair.partition_key == "source_updated_at":
            bounds = (local_midnight(month), local_midnight(next_month(month)))
        conn.execute(
            f"create table {pair.part}_{month:%Y_%m} partition of {pair.part} "
            f"for values from ({bounds[0]}) to ({bounds[1]})"
        )


def create_indexes(conn, table: str, indexes: list[str]) -> None:
    for n, spec in enumerate(indexes):
        if spec.startswith(("unique", "primary key")):
            conn.execute(f"alter table {table} add constraint {table.split('.')[1]}_k{n} {spec}")
        else:
            conn.execute(f"create index {table.split('.')[1]}_i{n} on {table} {spec}")


def timed(fn) -> float:
    started = time.monotonic()
    fn()
    return round(time.monotonic() - started, 2)


def load_pair(conn, pair: TablePair, limit_ids: int | None, log=print) -> dict:
    """Plain, then partitioned: insert (the source is in load order: a seq scan keeps it), then
    build the indexes, as dbt's table materialization does; analyze."""
    where = f"where id <= {limit_ids}" if limit_ids is not None else ""
    out = {}
    for layout, table, cols, indexes in (
        ("plain", pair.plain, pair.cols(), pair.plain_indexes),
        ("partitioned", pair.part, pair.part_cols(), pair.part_indexes),
    ):
        insert = timed(lambda: conn.execute(f"insert into {table} ({cols}) select {cols} from {pair.source} {where}"))
        index = timed(lambda: create_indexes(conn, table, indexes))
        analyze = timed(lambda: conn.execute(f"analyze {table}"))
        out[layout] = {
            "insert_s": insert,
            "indexes_s": index,
            "analyze_s": analyze,
            "total_s": round(insert + index, 2),
        }
        log(f"   {table}: insert {insert}s, indexes {index}s")
    return out


@dataclass
class Scale:
    dossiers: int
    steps_per_dossier: float = 4.7
    raw_dossiers: int | None = None  # None: every dossier

    @property
    def changed(self) -> int:
        return max(20, round(self.dossiers * CHANGED_SHARE))

    @property
    def new(self) -> int:
        return max(1, round(self.changed * NEW_SHARE_OF_CHANGES))

    @property
    def raw_count(self) -> int:
        return min(self.dossiers, self.raw_dossiers or self.dossiers)


def build(conn, scale: Scale, log=print) -> dict:
    """Generate the sources, load both layouts of each table, prepare the workloads' inputs.
    Returns the generation and load times."""
    conn.execute(f"set timezone = '{TZ}'")
    # the generator's sorts want memory, and JIT would compile its wide expressions at length.
    # The workloads run with the cluster's defaults.
    conn.execute("set work_mem = '512MB'")
    conn.execute("set jit = off")
    conn.execute("set synchronize_seqscans = off")  # every scan of a source starts at its first row
    conn.execute(HELPERS)
    gen = {}
    log("-- generating dossiers …")
    gen["dossiers_s"] = timed(lambda: conn.execute(dossier_source_sql(scale.dossiers, scale.dossiers + scale.new)))
    log("-- generating steps …")
    gen["steps_s"] = timed(lambda: conn.execute(step_source_sql(scale.steps_per_dossier)))
    log("-- generating raw versions …")
    gen["raw_s"] = timed(lambda: conn.execute(raw_source_sql(scale.raw_count)))
    for stmt in changes_sql(scale.dossiers, scale.changed):
        conn.execute(stmt)
    conn.execute(raw_pages_sql())
    conn.execute("reset work_mem")
    conn.execute("reset jit")
    loads = {}
    for pair in PAIRS:
        log(f"-- loading {pair.name} …")
        create_tables(conn, pair)
        loads[pair.name] = load_pair(conn, pair, None if pair is RAW_HO_SO else scale.dossiers, log)
    payload = conn.execute(
        "select round(avg(octet_length(payload::text))), round(avg(pg_column_size(payload))) from bench.src_raw"
    ).fetchone()
    conn.execute("reset synchronize_seqscans")
    # the big source goes; the dossier and step sources stay for the checks of the night's changes
    conn.execute("drop table bench.src_raw")
    return {
        "generate": gen,
        "load": loads,
        "payload_text_bytes_avg": int(payload[0] or 0),
        "payload_stored_bytes_avg": int(payload[1] or 0),
    }


# -- workloads ------------------------------------------------------------------------------------


@dataclass
class Variant:
    """What one layout runs: statements (sql, params), and for a DML how to fingerprint its effect."""

    statements: list[tuple[str, tuple]]
    check: list[str] = field(default_factory=list)  # queries run after a DML, inside its transaction


@dataclass
class Workload:
    key: str
    title: str
    plain: Variant
    partitioned: Variant
    dml: bool = False


def merge_sql(target: str, source: str, key: str, cols: list[str]) -> str:
    """dbt-postgres's merge strategy (default__get_merge_sql) on `key`: today's nightly increment."""
    sets = ", ".join(f"{c} = DBT_INTERNAL_SOURCE.{c}" for c in cols)
    col_list = ", ".join(cols)
    return (
        f"merge into {target} as DBT_INTERNAL_DEST using {source} as DBT_INTERNAL_SOURCE "
        f"on (DBT_INTERNAL_SOURCE.{key} = DBT_INTERNAL_DEST.{key}) "
        f"when matched then update set {sets} "
        f"when not matched then insert ({col_list}) values ({col_list})"
    )


def workloads(conn) -> list[Workload]:
    d_cols = [c for c, _ in FCT_DOSSIER]
    s_cols = [c for c, _ in FCT_STEP]

    def changed_rows(table: str, cols: list[str], changes: str) -> list[str]:
        """After a merge: the table's row count and the changed dossiers' rows."""
        return [
            f"select count(*) from {table}",
            f"select {', '.join(cols)} from {table} where dossier_code in (select dossier_code from {changes})",
        ]

    month, month_end = READ_MONTH, next_month(READ_MONTH)
    start, end = local_midnight(month), local_midnight(month_end)

    def received_in_month(table: str, prune: bool) -> str:
        return f"""select unit_code, count(*) as received,
       count(*) filter (where channel = 2) as received_online,
       count(*) filter (where has_fee_obligation) as received_with_fee,
       count(*) filter (where is_paid_online) as received_paid_online,
       count(*) filter (where is_digitized) as received_digitized,
       count(*) filter (where applicant_type = 1 and is_vneid_authenticated) as received_citizen_vneid
from {table}
where received_at >= {start} and received_at < {end}{f" and received_month = {month_literal(month)}" if prune else ""}
group by unit_code"""

    def resolved_in_month(table: str) -> str:
        return f"""select unit_code, count(*) as resolved, sum(working_hours_used) as resolved_working_hours,
       count(*) filter (where has_electronic_result) as resolved_with_file
from {table}
where status in (9, 10) and end_of_processing_at >= {start} and end_of_processing_at < {end}
group by unit_code"""

    def full_history(table: str) -> str:
        # every month of the history at once, received and resolved, as int_metric_dossier_counts does
        return f"""select 'received' as kind, to_char(received_at, 'YYYY-MM') as period_key, unit_code,
       count(*) as n, count(*) filter (where channel = 2) as online,
       count(*) filter (where is_digitized) as digitized,
       null::numeric as working_hours
from {table} group by 2, 3
union all
select 'resolved', to_char(end_of_processing_at, 'YYYY-MM'), unit_code, count(*),
       count(*) filter (where has_electronic_result), null, sum(working_hours_used)
from {table} where status in (9, 10) and end_of_processing_at is not null group by 2, 3"""

    pages = conn.execute(
        "select page, array_agg(record_key order by source_updated_at, record_key), "
        "min(source_updated_at), max(source_updated_at) from bench.raw_pages "
        "group by page order by page"
    ).fetchall()

    def lookups(table: str, with_range: bool) -> list[tuple[str, tuple]]:
        """extractors/loader.py's "which versions are stored" per page, optionally with the page's
        update-time range: the only form in which a partitioned raw can prune."""
        sql = f"select record_key, payload_hash from {table} where record_key = any(%s)"
        if with_range:
            sql += " and source_updated_at between %s and %s"
        return [(sql, (keys, lo, hi) if with_range else (keys,)) for _, keys, lo, hi in pages]

    d_part, s_part = d_cols + ["received_month"], s_cols + ["received_month"]
    return [
        Workload(
            "1b_dossier_merge",
            "fct_dossier nightly increment: MERGE on dossier_code (today's strategy)",
            Variant(
                [(merge_sql(DOSSIER.plain, "bench.changes_dossier", "dossier_code", d_cols), ())],
                changed_rows(DOSSIER.plain, d_cols, "bench.changes_dossier"),
            ),
            Variant(
                [(merge_sql(DOSSIER.part, "bench.changes_dossier", "dossier_code", d_part), ())],
                changed_rows(DOSSIER.part, d_cols, "bench.changes_dossier"),
            ),
            dml=True,
        ),
        Workload(
            "2b_step_merge",
            "fct_dossier_step: MERGE on dossier_step_key (today's strategy)",
            Variant(
                [(merge_sql(STEP.plain, "bench.changes_step", "dossier_step_key", s_cols), ())],
                changed_rows(STEP.plain, s_cols, "bench.changes_step"),
            ),
            Variant(
                [(merge_sql(STEP.part, "bench.changes_step", "dossier_step_key", s_part), ())],
                changed_rows(STEP.part, s_cols, "bench.changes_step"),
            ),
            dml=True,
        ),
        Workload(
            "3a_month_received",
            f"one month's marts read: dossiers received in {month:%Y-%m}, per unit",
            Variant([(received_in_month(DOSSIER.plain, False), ())]),
            Variant([(received_in_month(DOSSIER.part, True), ())]),
        ),
        Workload(
            "3b_month_resolved",
            f"one month's marts read: dossiers whose end of processing is in {month:%Y-%m}",
            Variant([(resolved_in_month(DOSSIER.plain), ())]),
            Variant([(resolved_in_month(DOSSIER.part), ())]),
        ),
        Workload(
            "4_full_history",
            "full-history aggregate: every month, received and resolved, per unit",
            Variant([(full_history(DOSSIER.plain), ())]),
            Variant([(full_history(DOSSIER.part), ())]),
        ),
        Workload(
            "5a_raw_lookup",
            f"raw: loader lookup record_key = ANY(page keys), the last night's {len(pages)} page(s)",
            Variant(lookups(RAW_HO_SO.plain, False)),
            Variant(lookups(RAW_HO_SO.part, False)),
        ),
        Workload(
            "5b_raw_lookup_range",
            "raw: the same lookup plus the page's update-time range",
            Variant(lookups(RAW_HO_SO.plain, True)),
            Variant(lookups(RAW_HO_SO.part, True)),
        ),
    ]


# -- running them -----------------------------------------------------------------------------

# heap scans only: a bitmap heap scan's index scan would count its relation twice
SCAN = re.compile(
    r"(?:^|->)\s*(?:Parallel )?(Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan|Tid Scan)"
    r"(?: Backward)?(?: using (\S+))? on (\S+)"
)


def plan_summary(lines: list[str]) -> dict:
    """What a plan says about partitions: heap relations scanned (pruned ones are absent or never
    executed), buffers of the top node, functions JIT-compiled, planning time."""
    scanned = {m.group(3) for line in lines if (m := SCAN.search(line)) and "never executed" not in line}
    buffers = next((ln.strip() for ln in lines if ln.strip().startswith("Buffers:")), None)
    planning = [float(v) for ln in lines for v in re.findall(r"Planning Time: ([\d.]+) ms", ln)]
    jit = sum(int(x) for ln in lines for x in re.findall(r"^\s*Functions: (\d+)", ln))
    return {
        "relations_scanned": len(scanned),
        "jit_functions": jit,
        "buffers_top": buffers,
        "planning_ms": planning[0] if planning else None,
    }


def fingerprint(rows: list[tuple]) -> str:
    return hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()[:16]


def run_once(conn, variant: Variant, dml: bool) -> tuple[float, list[dict], str | None]:
    """Run every statement under EXPLAIN ANALYZE in a transaction that is rolled back; wall time
    of the statements, their plan summaries, and (DML) the fingerprint of what they changed."""
    summaries, digest = [], None
    with conn.transaction(force_rollback=True):
        started = time.monotonic()
        for sql, params in variant.statements:
            lines = [
                r[0] for r in conn.execute("explain (analyze, buffers, timing off) " + sql, params or None).fetchall()
            ]
            summaries.append(plan_summary(lines))
        seconds = time.monotonic() - started
        if dml:  # the table's row count, and a fingerprint of the changed dossiers' rows
            count, *others = [conn.execute(q).fetchall() for q in variant.check]
            digest = f"{count[0][0]} rows/" + "/".join(fingerprint(rows) for rows in others)
    return seconds, summaries, digest


def result_fingerprint(conn, variant: Variant) -> str:
    """A read's answer: every statement's rows, order-independent."""
    return fingerprint(
        [
            ("#", i, fingerprint(conn.execute(sql, params or None).fetchall()))
            for i, (sql, params) in enumerate(variant.statements)
        ]
    )


def measure(conn, w: Workload, repetitions: int) -> dict:
    """Interleaved A/B: A B, B A, A B, …; median wall time per layout (the machine is shared)."""
    seconds = {"plain": [], "partitioned": []}
    plans, digests = {}, {}
    for rep in range(repetitions):
        for layout in ("plain", "partitioned") if rep % 2 == 0 else ("partitioned", "plain"):
            s, summaries, digest = run_once(conn, getattr(w, layout), w.dml)
            seconds[layout].append(round(s, 4))
            plans.setdefault(layout, summaries)
            if w.dml:
                digests.setdefault(layout, digest)
    if not w.dml:
        digests = {layout: result_fingerprint(conn, getattr(w, layout)) for layout in seconds}
    med = {k: round(statistics.median(v), 4) for k, v in seconds.items()}
    return {
        "seconds": seconds,
        "median_s": med,
        "ratio_partitioned_vs_plain": round(med["partitioned"] / med["plain"], 2) if med["plain"] else None,
        "fingerprints": digests,
        "plan": {
            layout: {
                "first_statement": p[0],
                "all_statements": {
                    "jit_functions": sum(s["jit_functions"] for s in p),
                    "planning_ms": round(sum(s["planning_ms"] or 0 for s in p), 2),
                },
            }
            for layout, p in plans.items()
        },
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run_workload(conn, w: Workload, repetitions: int = 3) -> dict:
    """Measured with the cluster's settings (JIT on, PostgreSQL's default, as the warehouse runs);
    when a plan used JIT, measured again with jit = off."""
    result = {"key": w.key, "title": w.title, "statements": len(w.plain.statements)} | measure(conn, w, repetitions)
    result["same_result"] = result["fingerprints"]["plain"] == result["fingerprints"]["partitioned"]
    if any(p["all_statements"]["jit_functions"] for p in result["plan"].values()):
        conn.execute("set jit = off")
        try:
            off = measure(conn, w, repetitions)
        finally:
            conn.execute("reset jit")
        result["jit_off"] = off
        result["same_result"] = result["same_result"] and off["fingerprints"] == result["fingerprints"]
    return result


# -- sizes and equality --------------------------------------------------------------------------

SIZES = """
with leaves as (  -- a plain table is its own only leaf
    select relid from pg_partition_tree(%(t)s::regclass) where isleaf
    union all
    select %(t)s::regclass where not exists (select 1 from pg_partition_tree(%(t)s::regclass))
)
select count(*), coalesce(sum(pg_table_size(relid)), 0), coalesce(sum(pg_indexes_size(relid)), 0),
       count(*) filter (where (select reltuples from pg_class where oid = relid) > 0)
from leaves
"""


def sizes(conn, rows: dict[str, int]) -> dict:
    """Bytes per row of each layout (table + TOAST, all indexes); `rows` by table name (counted
    already: a count(*) of raw reads gigabytes). reltuples is set by the load's ANALYZE."""
    out = {}
    for pair in PAIRS:
        for layout, table in (("plain", pair.plain), ("partitioned", pair.part)):
            n = rows[table]
            parts, table_b, index_b, nonempty = (int(x) for x in conn.execute(SIZES, {"t": table}).fetchone())
            out[f"{pair.name}.{layout}"] = {
                "table": table,
                "rows": n,
                "partitions": parts if layout == "partitioned" else 0,
                "partitions_with_rows": nonempty if layout == "partitioned" else 0,
                "table_bytes_per_row": round(table_b / n, 1) if n else None,
                "index_bytes_per_row": round(index_b / n, 1) if n else None,
            }
    return out


def table_difference(conn, pair: TablePair) -> int:
    """Rows in one layout and not the other (as multisets), over the plain table's columns."""
    cols = pair.cols()
    return conn.execute(
        f"select count(*) from ((select {cols} from {pair.plain} except all select {cols} from {pair.part}) "
        f"union all (select {cols} from {pair.part} except all select {cols} from {pair.plain})) d"
    ).fetchone()[0]


def table_checksum(conn, table: str, pair: TablePair) -> list:
    """Cheap equality evidence at scale: row count and a sum of 64-bit row hashes (raw's payload
    enters as its size and its NgayCapNhat, not as 2 KB of text hashed per row)."""
    cols = pair.cols()
    if pair is RAW_HO_SO:
        cols = cols.replace("payload,", "pg_column_size(payload), payload ->> 'NgayCapNhat',")
    return list(
        conn.execute(
            f"select count(*), sum(hashtextextended(t::text, 0)::numeric) from (select {cols} from {table}) t"
        ).fetchone()
    )


def run(conninfo: str, scale: Scale, repetitions: int = 3, exact_equality: bool = False, log=print) -> dict:
    """The whole measurement against one database: build, check, measure, size."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"set timezone = '{TZ}'")
        built = build(conn, scale, log)
        log("-- checking that both layouts hold the same rows …")
        equal, rows = {}, {}
        for pair in PAIRS:
            a, b = table_checksum(conn, pair.plain, pair), table_checksum(conn, pair.part, pair)
            rows |= {pair.plain: int(a[0]), pair.part: int(b[0])}
            equal[pair.name] = {"same_count_and_checksum": a == b, "rows": int(a[0])}
            if exact_equality:
                equal[pair.name]["rows_only_in_one_layout"] = table_difference(conn, pair)
        results = []
        for w in workloads(conn):
            log(f"-- {w.key} …")
            r = run_workload(conn, w, repetitions)
            off = r.get("jit_off", {}).get("median_s")
            log(
                f"   plain {r['median_s']['plain']}s, partitioned {r['median_s']['partitioned']}s"
                + (f" (jit off: {off['plain']}s, {off['partitioned']}s)" if off else "")
                + f", same result: {r['same_result']}"
            )
            results.append(r)
        counts = dict(
            zip(
                ("changed_dossiers", "changed_steps", "raw_pages"),
                conn.execute(
                    "select (select count(*) from bench.changes_dossier), (select count(*) from bench.changes_step), "
                    "(select count(distinct page) from bench.raw_pages)"
                ).fetchone(),
            )
        )
        moved = conn.execute(
            "select count(*) from bench.changes_dossier c join bench.src_dossier s using (id) "
            "where c.received_month <> s.received_month"
        ).fetchone()[0]
        touched = conn.execute("select count(distinct received_month) from bench.changes_dossier").fetchone()[0]
        return {
            "build": built,
            "equality": equal,
            "workloads": results,
            "sizes": sizes(conn, rows),
            "inputs": counts | {"moved_to_other_month": moved, "months_touched_by_changes": touched},
            "settings": dict(
                conn.execute(
                    "select name, setting from pg_settings where name in "
                    "('shared_buffers', 'work_mem', 'jit', 'server_version')"
                ).fetchall()
            ),
        }


# -- the script -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=2_000_000, help="dossiers in the tables (all months)")
    parser.add_argument("--steps-per-dossier", type=float, default=4.7)
    parser.add_argument(
        "--raw-dossiers",
        type=int,
        default=RAW_DOSSIERS_DEFAULT,
        help="raw versions are generated for this many dossiers (default %(default)s)",
    )
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder of partitioning.{json,md}")
    parser.add_argument("--report-only", action="store_true", help="rewrite the .md from the last .json")
    args = parser.parse_args()
    if args.report_only:
        write_markdown(json.loads((args.out / "partitioning.json").read_text()), args.out)
        return 0
    from tthc.demo.pipeline import _free_port
    from tthc.warehouse import EmbeddedPostgres

    scale = Scale(args.dossiers, args.steps_per_dossier, args.raw_dossiers)
    base = Path(tempfile.mkdtemp(prefix="tthc-bench-part-"))
    base.chmod(0o755)
    cluster = EmbeddedPostgres(root=base / "cluster", port=_free_port())
    started, load_start = time.monotonic(), os.getloadavg()
    try:
        dsn = cluster.start()
        measured = run(
            dsn.conninfo(),
            scale,
            args.repetitions,
            log=lambda message: print(time.strftime("%H:%M:%S"), message, flush=True),
        )
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    report = {
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "load_avg_at_start": [round(x, 2) for x in load_start],
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "scale": {
            "dossiers": scale.dossiers,
            "steps_per_dossier": scale.steps_per_dossier,
            "raw_dossiers": scale.raw_count,
            "changed_per_night": scale.changed,
            "of_them_new": scale.new,
            "repetitions": args.repetitions,
            "received_from": DATA_START.isoformat(),
            "received_until": DATA_END.isoformat(),
            "read_month": f"{READ_MONTH:%Y-%m}",
        },
        "total_seconds": round(time.monotonic() - started, 1),
    } | measured
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "partitioning.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"wrote {args.out / 'partitioning.json'}")
    write_markdown(report, args.out)
    return 0


def write_markdown(report: dict, out: Path) -> None:
    (out / "partitioning.md").write_text(render(report))
    print(f"wrote {out / 'partitioning.md'}")


def _s(seconds: float) -> str:
    return f"{seconds:.3f}" if seconds < 10 else f"{seconds:.1f}"


def render(report: dict) -> str:
    """The figures docs/scaling.md §4 decides on; what they mean is written there, not here."""
    sc, s = report["scale"], report["settings"]
    lines = [
        "# Monthly partitioning of the big tables, measured",
        "",
        f"`bench/partitioning.py`, run {report['at']} on {report['machine']['cpus']} CPUs, PostgreSQL "
        f"{s.get('server_version')} embedded (jit {s.get('jit')}); whole run {report['total_seconds']:.0f} s; "
        f"load average at start {report['load_avg_at_start']}, at end {report['load_avg_at_end']}. "
        f"{sc['dossiers']:,} dossiers received {sc['received_from']} … {sc['received_until']}, raw for "
        f"{sc['raw_dossiers']:,} of them; the night: {report['inputs']['changed_dossiers']:,} changed dossiers "
        f"({report['inputs']['moved_to_other_month']} moved to another month; "
        f"{report['inputs']['months_touched_by_changes']} received months touched), "
        f"{report['inputs']['changed_steps']:,} steps. Medians of {sc['repetitions']}. "
        "The decision and its reasons: docs/scaling.md §4.",
        "",
        "| workload | plain s | partitioned s | ratio | ratio, jit off | relations scanned (partitioned) | same result |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in report["workloads"]:
        off = f"{w['jit_off']['ratio_partitioned_vs_plain']}×" if "jit_off" in w else "–"
        lines.append(
            f"| {w['key']}: {w['title']} | {_s(w['median_s']['plain'])} | "
            f"{_s(w['median_s']['partitioned'])} | {w['ratio_partitioned_vs_plain']}× | {off} | "
            f"{w['plan']['partitioned']['first_statement']['relations_scanned']} | "
            f"{'yes' if w['same_result'] else '**NO**'} |"
        )
    lines += [
        "",
        "| table | layout | rows | table + TOAST B/row | indexes B/row | ANALYZE s |",
        "|---|---|---|---|---|---|",
    ]
    for key, size in report["sizes"].items():
        table, layout = key.split(".")
        lines.append(
            f"| {table} | {layout} | {size['rows']:,} | {size['table_bytes_per_row']} | "
            f"{size['index_bytes_per_row']} | {report['build']['load'][table][layout]['analyze_s']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
