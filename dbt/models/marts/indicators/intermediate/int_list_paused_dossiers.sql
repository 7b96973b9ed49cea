{#- The rows of mart_dossiers_paused before the periods and the reporting unit: per cut day
    (int_metric_period_cuts: a period's end, or the end of var as_of_date for the periods still
    running; periods ending together share it), the dossiers paused at the cut: open then (no
    end of processing before it) and either waiting for a supplement - a request
    (DanhSachHoSoBoSung) made before the cut whose citizen was not back by it - or waiting for
    a financial obligation to be paid (status 6) by the process log: the last step before the
    cut set status 6. A dossier with no process log at all falls back to its current status 6
    from its last update (the dossier record has no date for it). Since when, and working hours
    paused by the cut.

    Kept per dossier (macros/per_dossier_periods.sql, docs/decisions/005): a row depends on the
    dossier's record, its process log and the cut, so a night replaces the rows of the dossiers
    with a new record or step, computes tonight's cut from the dossiers open at it and drops
    last night's (unless a period ended then); the cuts of ended periods keep their rows. Per
    cut, not per period: per period, each running period would copy tonight's rows again. -#}

{#- join_marks_between's generate_series is estimated at 1,000 rows per row (1.2 in fact), so
    the planner expects hundreds of millions of rows and joins them by external sorts, or
    expects a few rows after the joins and loops over them; hash joins are faster by an order
    of magnitude (the last-step lookups stay nested loops, the only plan for a lateral
    subquery). -#}
-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}
{{ kept_per_dossier(
    {'periods': 'int_metric_period_cuts', 'key': ['cut_day'], 'signature': [],
     'changed_by': ['stg_one_stop__dossiers', 'stg_one_stop__process_steps']},
    pre_hook=['set local enable_mergejoin = off', 'set local enable_nestloop = off']) }}
{%- set plan = period_plan() %}
{#- a night reads a few dossiers: they are looked up once, and the other inputs only for them -#}
{%- set some = plan.mode != 'all' %}

with cuts as (
    select distinct cut_day, cut_ts, mark_day, mark_month, {{ is_added_period(plan) }} as is_new
    from {{ ref('int_metric_period_cuts') }}
),

-- local days: an instant is before midnight(d) exactly when its local date is before d
dossiers as {{ '' if some else 'not ' }}materialized (
    select dossier_code, unit_code, procedure_code, field_code, status, received_at, due_at,
           end_of_processing_at, source_updated_at, loaded_at,
           {{ local_date('received_at') }}          as received_day,
           {{ local_date('end_of_processing_at') }} as end_day,
           {{ is_changed_dossier(plan) }}           as is_changed
    from {{ ref('fct_dossier') }} d
    where {{ kept_dossiers_filter(plan, in_added=spans_added_periods(plan, 'd.received_at', 'd.end_of_processing_at',
                                                                     'cut_day', 'cut_day')) }}
),

-- one row per request, with its local days
requests as (
    select d.dossier_code, {{ 'k.is_changed' if some else 'true' }} as is_changed, r.requested_at,
           {{ local_date('r.requested_at') }}     as requested_day,
           {{ local_date('r.received_back_at') }} as back_day
    from {{ ref('int_dossier_supplement_requests') }} d
    {%- if some %}
    join dossiers k using (dossier_code)
    {%- endif %}
    cross join lateral unnest(d.requested_at, d.received_back_at) as r(requested_at, received_back_at)
    where cardinality(d.requested_at) > 0
),

-- the cuts a request is pending at: made before the cut, the citizen not back by it
-- (requested_day < cut_day <= back_day). Taken from the requests, not from every dossier open
-- at every cut joined with its requests (far more rows: every open dossier, not the paused).
pending_at_cut as (
    select p.cut_day, r.dossier_code, r.requested_at
    {{ join_marks_between('requests', 'requested_day', 'back_day', 'cuts', 'p') }}
    where p.is_new or r.is_changed
),

-- of a dossier open at the cut: received before it and not ended before it
-- (received_day < cut_day <= end_day)
supplement_pauses as materialized (
    select pc.cut_day, pc.dossier_code, 'YEU_CAU_BO_SUNG'::text as pause_reason,
           max(pc.requested_at) as paused_since
    from pending_at_cut pc
    join dossiers d using (dossier_code)
    where d.received_day < pc.cut_day and (d.end_day is null or pc.cut_day <= d.end_day)
    group by 1, 2
),

-- the dossiers that can wait for a payment: a step that set status 6, or status 6 now
status_6_logged as materialized (
    select distinct dossier_code from {{ ref('fct_dossier_step') }}
    where status_after_step = 6
      {%- if some %} and dossier_code in (select dossier_code from dossiers){% endif %}
),

payment_candidates as (
    select d.*
    from dossiers d
    where d.dossier_code in (select dossier_code from status_6_logged) or d.status = 6
),

-- open at the cut (received_day < cut_day <= end_day)
open_at_cut as (
    select p.cut_day, p.cut_ts, r.dossier_code, r.status, r.source_updated_at
    {{ join_marks_between('payment_candidates', 'received_day', 'end_day', 'cuts', 'p') }}
    where p.is_new or r.is_changed
),

-- the last step before the cut (the later step number when two share a time), one index
-- lookup per open dossier and cut
last_steps as (
    select o.cut_day, o.dossier_code, s.status_after_step, s.processed_at
    from open_at_cut o
    cross join lateral (
        select st.status_after_step, st.processed_at
        from {{ ref('fct_dossier_step') }} st
        where st.dossier_code = o.dossier_code and st.processed_at < o.cut_ts
        order by st.processed_at desc, st.step_number desc
        limit 1
    ) s
    -- only a dossier with a step that set status 6 can have one as its last step
    where o.dossier_code in (select dossier_code from status_6_logged)
),

payment_pauses as (
    select cut_day, dossier_code, 'CHO_NGHIA_VU_TAI_CHINH'::text as pause_reason,
           processed_at as paused_since
    from last_steps
    where status_after_step = 6
    union all
    select o.cut_day, o.dossier_code, 'CHO_NGHIA_VU_TAI_CHINH', o.source_updated_at
    from open_at_cut o
    -- one index lookup per row (an anti-join would hash every step for a few thousand rows)
    left join lateral (
        select true as has_log from {{ ref('fct_dossier_step') }} s
        where s.dossier_code = o.dossier_code and s.processed_at is not null
        limit 1
    ) logged on true
    where o.status = 6 and o.source_updated_at < o.cut_ts and logged.has_log is null
),

-- a dossier waiting for both counts once, as waiting for the supplement
paused as (
    select * from supplement_pauses
    union all
    select pp.* from payment_pauses pp
    where not exists (select 1 from supplement_pauses sp
                      where sp.cut_day = pp.cut_day and sp.dossier_code = pp.dossier_code)
)

select
    p.cut_day,
    p.dossier_code,
    d.unit_code,
    d.procedure_code,
    d.field_code,
    d.status,
    p.pause_reason,
    d.received_at,
    d.due_at,
    p.paused_since,
    round(greatest(0, {{ cumulative_working_seconds('c.cut_ts', 'cut_cal') }}
          - {{ cumulative_working_seconds('p.paused_since', 'since_cal') }}) / 3600.0, 2) as paused_working_hours,
    d.loaded_at
from paused p
join cuts c using (cut_day)
join dossiers d using (dossier_code)
left join {{ ref('dim_date') }} since_cal on since_cal.date_day = {{ local_date('p.paused_since') }}
left join {{ ref('dim_date') }} cut_cal on cut_cal.date_day = c.cut_day
where {{ changed_rows_filter(plan) }}
