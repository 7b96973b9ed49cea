{#- Dossiers paused at each period's end (the end of var as_of_date for the period still
    running): open then (no end of processing before it) and either waiting for a supplement -
    a request (DanhSachHoSoBoSung) made before the end whose citizen was not back by it - or
    waiting for a financial obligation to be paid (status 6) by the process log: the last step
    before the end set status 6. A dossier with no process log at all falls back to its current
    status 6 from its last update (the dossier record has no date for it). Since when, and
    working hours paused by the end. unit_code is the unit the dossier counts for in the period. -#}

{#- join_marks_between's generate_series is estimated at 1,000 rows per row (1.2 in fact), so
    the planner expects hundreds of millions of rows and joins them by external sorts, or
    expects a few rows after the joins and loops over them; hash joins are faster (measured at
    2 M dossiers: 15 s instead of over 150 s; the last-step lookups stay nested loops, the only
    plan for a lateral subquery). -#}
{{ config(pre_hook=['set local enable_mergejoin = off', 'set local enable_nestloop = off']) }}

with cuts as (
    select * from {{ ref('int_metric_period_cuts') }}
),

-- local days: an instant is before midnight(d) exactly when its local date is before d
dossiers as not materialized (
    select dossier_code, unit_code, procedure_code, field_code, status, received_at, due_at,
           end_of_processing_at, source_updated_at,
           {{ local_date('received_at') }}          as received_day,
           {{ local_date('end_of_processing_at') }} as end_day
    from {{ ref('fct_dossier') }}
),

-- one row per request, with its local days
requests as (
    select d.dossier_code, r.requested_at,
           {{ local_date('r.requested_at') }}     as requested_day,
           {{ local_date('r.received_back_at') }} as back_day
    from {{ ref('int_dossier_supplement_requests') }} d
    cross join lateral unnest(d.requested_at, d.received_back_at) as r(requested_at, received_back_at)
    where cardinality(d.requested_at) > 0
),

-- the cuts a request is pending at: made before the cut, the citizen not back by it
-- (requested_day < cut_day <= back_day). Taken from the requests, not from every dossier open
-- at every cut (1.5 M rows at 2 M dossiers) joined with its requests: 20-22 s -> 15 s a night.
pending_at_cut as (
    select p.period_type, p.period_key, p.mark_day as cut_day, r.dossier_code, r.requested_at
    {{ join_marks_between('requests', 'requested_day', 'back_day', 'cuts', 'p') }}
),

-- of a dossier open at the cut: received before it and not ended before it
-- (received_day < cut_day <= end_day)
supplement_pauses as materialized (
    select pc.period_type, pc.period_key, pc.dossier_code, 'YEU_CAU_BO_SUNG'::text as pause_reason,
           max(pc.requested_at) as paused_since
    from pending_at_cut pc
    join dossiers d using (dossier_code)
    where d.received_day < pc.cut_day and (d.end_day is null or pc.cut_day <= d.end_day)
    group by 1, 2, 3
),

-- the dossiers that can wait for a payment: a step that set status 6, or status 6 now
status_6_logged as materialized (
    select distinct dossier_code from {{ ref('fct_dossier_step') }} where status_after_step = 6
),

payment_candidates as (
    select d.*
    from dossiers d
    join (select dossier_code from status_6_logged
          union
          select dossier_code from {{ ref('fct_dossier') }} where status = 6) c using (dossier_code)
),

-- open at the cut (received_day < cut_day <= end_day)
open_at_cut as (
    select p.period_type, p.period_key, p.cut_ts, r.dossier_code, r.status, r.source_updated_at
    {{ join_marks_between('payment_candidates', 'received_day', 'end_day', 'cuts', 'p') }}
),

-- the last step before the cut (the later step number when two share a time), one index
-- lookup per open dossier and period
last_steps as (
    select o.period_type, o.period_key, o.dossier_code, s.status_after_step, s.processed_at
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
    select period_type, period_key, dossier_code, 'CHO_NGHIA_VU_TAI_CHINH'::text as pause_reason,
           processed_at as paused_since
    from last_steps
    where status_after_step = 6
    union all
    select o.period_type, o.period_key, o.dossier_code, 'CHO_NGHIA_VU_TAI_CHINH', o.source_updated_at
    from open_at_cut o
    -- one index lookup per row (an anti-join hashed every step: 4 s at 2 M for a few thousand rows)
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
                      where sp.period_type = pp.period_type and sp.period_key = pp.period_key
                        and sp.dossier_code = pp.dossier_code)
)

select
    p.period_type::text                                                    as period_type,
    p.period_key::text                                                     as period_key,
    p.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    d.procedure_code::text                                                 as procedure_code,
    d.field_code::text                                                     as field_code,
    d.status::integer                                                      as status,
    p.pause_reason::text                                                   as pause_reason,
    d.received_at::timestamptz                                             as received_at,
    d.due_at::timestamptz                                                  as due_at,
    p.paused_since::timestamptz                                            as paused_since,
    round(greatest(0, {{ cumulative_working_seconds('c.cut_ts', 'cut_day') }}
          - {{ cumulative_working_seconds('p.paused_since', 'since_day') }}) / 3600.0, 2)::numeric
                                                                           as paused_working_hours
from paused p
join cuts c using (period_type, period_key)
join dossiers d using (dossier_code)
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = p.period_type and m.period_key = p.period_key and m.unit_code = d.unit_code
left join {{ ref('dim_date') }} since_day on since_day.date_day = {{ local_date('p.paused_since') }}
left join {{ ref('dim_date') }} cut_day on cut_day.date_day = {{ local_date('c.cut_ts') }}
