{#- Report form II.06a (Circular 01/2020/TT-VPCP, docs/spec/report-ii06a.md (§8)) per period, unit and
    field (lĩnh vực), each unit pooling its whole subtree as of the period's last day, with
    dossiers of merged units counted for their successor. Fill rules as the provincial software
    applies them:
      received      NgayTiepNhan in the period, online (KenhThucHien 2) or in person / postal
      carried over  received before the period, still open at its start
      resolved      statuses 9/10, and withdrawn (7, counted on time), ending in the period;
                    early / on time / late compare the end's date with NgayHenTra's date
      in progress   everything else of (3) at the period end; statuses 5, 6 and 8 count as
                    open within deadline whatever their dates; otherwise overdue when the
                    NgayHenTra date is before the period's last day
    Statuses 1 and 3 and deleted dossiers are not in fct_dossier. By construction
    (3) = (4)+(5)+(6) = (7)+(11). -#}

{%- set outcomes = ['resolved_early', 'resolved_on_time', 'resolved_late', 'in_progress_within_deadline',
                    'in_progress_overdue'] %}

{#- Hash aggregation: the planner expects far more (day, unit, field) groups than there are
    and sorted on disk to group them; hashed, there are no temp files. -#}
{{ config(pre_hook='set local enable_sort = off') }}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

-- local days: an instant is before midnight(d) exactly when its local date is before d
dossiers as not materialized (
    select
        dossier_code, unit_code, coalesce(field_code, '') as field_code, status, channel, received_at,
        due_at, report_form_class,
        -- the form closes a dossier only by a result (9/10) or a withdrawal (7)
        case when status in (7, 9, 10) then end_of_processing_at end as form_end_at,
        received_day
    from {{ ref('int_dossier_metric_inputs') }}
),

day_ends as (
    {{ day_period_ends() }}
),

-- counted per period and the dossier's own unit first, then summed per reporting unit.
-- Received in the period: per local day of receipt first (a day lies in one period of each
-- type; the outcomes at the end of each type's period containing it), then per period by an
-- equality join on the day, not one row per dossier and period grouped.
received_by_day as (
    select
        d.received_day, d.unit_code, d.field_code,
        count(*) filter (where channel = 2)                                                   as received_online,
        count(*) filter (where channel is distinct from 2)                                    as received_in_person_postal
        {%- for t in metric_period_types() %},
        {{- report_form_outcome_counts('d.form_end_at < e.end_ts_' ~ t, 'e.as_of_day_' ~ t, '_' ~ t) }}
        {%- endfor %}
    from dossiers d
    join day_ends e on e.date_day = d.received_day
    group by 1, 2, 3
),

received_by_leaf_unit as (
    select pd.period_type, pd.period_key, r.unit_code, r.field_code,
           r.received_online, r.received_in_person_postal, 0::bigint as carried_over
           {%- for c in outcomes %},
           {{ column_for_period_type('r', c, 'pd.period_type') }} as {{ c }}
           {%- endfor %}
    from received_by_day r
    join {{ ref('int_metric_period_days') }} pd on pd.date_day = r.received_day
),

-- carried over: received before the start and not closed before it, kept per dossier and
-- period in int_report_carried_over
carried_by_leaf_unit as (
    select period_type, period_key, unit_code, field_code,
           0::bigint as received_online, 0::bigint as received_in_person_postal, count(*) as carried_over,
           {{- report_form_outcome_counts('is_resolved', 'as_of_day') }}
    from {{ ref('int_report_carried_over') }}
    group by 1, 2, 3, 4
),

by_leaf_unit as (
    select * from received_by_leaf_unit
    union all
    select * from carried_by_leaf_unit
),

by_unit as (
    select
        b.period_type, b.period_key, m.reporting_unit_code as unit_code, b.field_code,
        sum(b.received_online) as received_online,
        sum(b.received_in_person_postal) as received_in_person_postal,
        sum(b.carried_over) as carried_over,
        sum(b.resolved_early) as resolved_early,
        sum(b.resolved_on_time) as resolved_on_time,
        sum(b.resolved_late) as resolved_late,
        sum(b.in_progress_within_deadline) as in_progress_within_deadline,
        sum(b.in_progress_overdue) as in_progress_overdue
    from by_leaf_unit b
    join {{ ref('int_period_unit_mappings') }} m
      on m.period_type = b.period_type and m.period_key = b.period_key and m.unit_code = b.unit_code
    group by 1, 2, 3, 4
),

units_in_period as (
    select periods.period_type, periods.period_key, periods.as_of_day, units.unit_code
    from periods
    join {{ ref('dim_unit') }} units
      on units.valid_from <= periods.as_of_day
     and (units.valid_to is null or units.valid_to >= periods.as_of_day)
),

pooled as (
    select
        u.period_type, u.period_key, u.unit_code, b.field_code,
        sum(b.received_online)             as received_online,
        sum(b.received_in_person_postal)   as received_in_person_postal,
        sum(b.carried_over)                as carried_over,
        sum(b.resolved_early)              as resolved_early,
        sum(b.resolved_on_time)            as resolved_on_time,
        sum(b.resolved_late)               as resolved_late,
        sum(b.in_progress_within_deadline) as in_progress_within_deadline,
        sum(b.in_progress_overdue)         as in_progress_overdue
    from units_in_period u
    {{ join_subtree('u', 'by_unit', 'b') }}
    group by 1, 2, 3, 4
),

fields as (
    select field_code, min(field_name) as field_name
    from {{ ref('dim_procedure') }}
    where field_code is not null
    group by field_code
)

select
    p.period_type::text                                                      as period_type,
    p.period_key::text                                                       as period_key,
    p.unit_code::text                                                        as unit_code,
    p.field_code::text                                                       as field_code,
    fields.field_name::text                                                  as field_name,
    (p.received_online + p.received_in_person_postal + p.carried_over)::integer as received_total,
    p.received_online::integer                                               as received_online,
    p.received_in_person_postal::integer                                     as received_in_person_postal,
    p.carried_over::integer                                                  as carried_over,
    (p.resolved_early + p.resolved_on_time + p.resolved_late)::integer       as resolved_total,
    p.resolved_early::integer                                                as resolved_early,
    p.resolved_on_time::integer                                              as resolved_on_time,
    p.resolved_late::integer                                                 as resolved_late,
    (p.in_progress_within_deadline + p.in_progress_overdue)::integer         as in_progress_total,
    p.in_progress_within_deadline::integer                                   as in_progress_within_deadline,
    p.in_progress_overdue::integer                                           as in_progress_overdue
from pooled p
left join fields using (field_code)
