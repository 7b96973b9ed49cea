{#- Dossier-based metrics (docs/metrics.md, §6a) per period and reporting unit, before pooling
    over the unit tree. A dossier counts for its unit, or for the unit's successor when the
    unit is gone by the period's last day (int_period_unit_mappings).
      received in the period : NgayTiepNhan in [start, end)      -> 1.4, 3.3, 3.4, 4.2, 4.4-4.6
      resolved in the period : status 9/10, end of processing in -> 2.2, 4.1, 4.3
      2.1's in-scope dossiers (int_metric_2_1_dossiers)          -> 2.1, 5.3
    5.3's numerator is the sum of (1 - late - complaint) per dossier: pooled, it is
    denominator x (1 - late share - complaint share); it is floored at 0 after pooling.
    3.4's "paid online" is the payment's status at the period end (§6a): paid (paidAt, else
    createdAt) before the end and SUCCESS now, or REFUNDED only at or after the end (a refund's
    time is its record's updatedAt: the contract has no refundedAt). So a later refund never
    rewrites a closed month. The per-dossier rules are macros (macros/metric_rules.sql) shared
    with "act today" (int_action_metric_counts). -#}

{#- Counted per local day and the dossier's own unit first (~300 days x units, from 2 M
    dossiers), then per period: a day lies in one period of each type, so its counts join the
    periods with an equality on the day. Two counts depend on the period's end (paid online,
    digitized without a due result file): they are counted per period type at the end of that
    type's period containing the day (day_period_ends). Before, every dossier was joined to
    its ~4 periods and all those rows grouped, four times the dossiers. -#}
{{ config(post_hook='analyze {{ this }}') }}
{%- set received_counts = ['received', 'received_synced', 'received_online', 'received_with_fee',
                           'received_reused', 'received_data_store', 'received_citizen',
                           'received_citizen_vneid'] %}
{%- set received_at_end_counts = ['received_paid_online', 'received_digitized'] %}
{%- set resolved_counts = ['resolved', 'resolved_working_hours', 'resolved_document',
                           'resolved_document_with_file', 'resolved_certification',
                           'resolved_certification_with_file'] %}
with periods as (
    select period_type, period_key, {{ local_midnight('period_end') }} as end_ts
    from {{ ref('int_metric_periods') }}
),

mappings as (
    select * from {{ ref('int_period_unit_mappings') }}
),

day_ends as (
    {{ day_period_ends() }}
),

-- each dossier's codes, days, flags, payments and working hours, joined once
-- (int_dossier_metric_inputs, kept per dossier)
dossiers as (
    select * from {{ ref('int_dossier_metric_inputs') }}
),

-- received on the day (a day lies in exactly one period of each type)
received_by_day as (
    select
        d.received_day,
        d.unit_code,
        count(*)                                                                    as received,
        count(*) filter (where is_synced)                                           as received_synced,
        count(*) filter (where channel = 2)                                         as received_online,
        count(*) filter (where has_fee_obligation)                                  as received_with_fee,
        count(*) filter (where has_reused_data)                                     as received_reused,
        count(*) filter (where uses_personal_data_store)                            as received_data_store,
        count(*) filter (where applicant_type = 1)                                  as received_citizen,
        count(*) filter (where applicant_type = 1 and is_vneid_authenticated)       as received_citizen_vneid
        {%- for t in metric_period_types() %},
        -- at the end of the day's {{ t }}
        count(*) filter (where {{ dossier_paid_online_at('d', 'e.end_ts_' ~ t) }})
                                                                                    as received_paid_online_{{ t }},
        count(*) filter (where {{ dossier_digitized_at('d', 'e.end_ts_' ~ t) }})
                                                                                    as received_digitized_{{ t }}
        {%- endfor %}
    from dossiers d
    join day_ends e on e.date_day = d.received_day
    group by 1, 2
),

-- resolved (status 9/10) with the end of processing on the day
resolved_by_day as (
    select
        end_day,
        unit_code,
        count(*)                                                                    as resolved,
        coalesce(sum(working_hours_to_end), 0)                                      as resolved_working_hours,
        count(*) filter (where result_is_document)                                  as resolved_document,
        count(*) filter (where result_is_document and has_electronic_result)        as resolved_document_with_file,
        count(*) filter (where field_code = '{{ var("certification_field_code", "CT") }}')
                                                                                    as resolved_certification,
        count(*) filter (where field_code = '{{ var("certification_field_code", "CT") }}'
                           and has_electronic_result)                               as resolved_certification_with_file
    from dossiers
    where status in (9, 10) and end_day is not null
    group by 1, 2
),

-- per period and the dossier's own unit, then summed per reporting unit
received_resolved_by_unit as (
    select
        pd.period_type, pd.period_key, r.unit_code,
        {%- for c in received_counts %}
        r.{{ c }},
        {%- endfor %}
        {%- for c in received_at_end_counts %}
        {{ column_for_period_type('r', c, 'pd.period_type') }} as {{ c }},
        {%- endfor %}
        {%- for c in resolved_counts %}
        0 as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from received_by_day r
    join {{ ref('int_metric_period_days') }} pd on pd.date_day = r.received_day
    union all
    select
        pd.period_type, pd.period_key, r.unit_code,
        {%- for c in received_counts + received_at_end_counts %}
        0,
        {%- endfor %}
        {%- for c in resolved_counts %}
        r.{{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from resolved_by_day r
    join {{ ref('int_metric_period_days') }} pd on pd.date_day = r.end_day
),

received_resolved as (
    select
        r.period_type,
        r.period_key,
        m.reporting_unit_code as unit_code,
        {%- for c in received_counts + received_at_end_counts + resolved_counts %}
        sum(r.{{ c }}) as {{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from received_resolved_by_unit r
    join mappings m
      on m.period_type = r.period_type and m.period_key = r.period_key and m.unit_code = r.unit_code
    group by 1, 2, 3
),

-- a complaint about a dossier: a dissatisfied rating (level 3) or a feedback item naming it
complaints as (
    {{ dossier_complaints() }}
),

-- 5.3's points: on time minus complained before the period end, so the 2.1 rows (one per
-- dossier and period) are grouped without a join and only the complained dossiers' rows are
-- looked up (its unique index on dossier_code first)
timeliness_by_unit as (
    select period_type, period_key, unit_code,
           sum(in_scope) as in_scope, sum(on_time) as on_time, sum(on_time - complained) as satisfaction_points
    from (
        select t.period_type, t.period_key, t.unit_code,
               count(*) as in_scope, count(*) filter (where t.is_on_time) as on_time, 0 as complained
        from {{ ref('int_metric_2_1_dossiers') }} t
        group by 1, 2, 3
        union all
        select t.period_type, t.period_key, t.unit_code, 0, 0, count(*)
        from complaints c
        join {{ ref('int_metric_2_1_dossiers') }} t on t.dossier_code = c.dossier_code
        join periods p on p.period_type = t.period_type and p.period_key = t.period_key
        where c.first_complained_at < p.end_ts
        group by 1, 2, 3
    ) counts
    group by 1, 2, 3
),

timeliness as (
    select
        t.period_type,
        t.period_key,
        m.reporting_unit_code                                                       as unit_code,
        sum(t.in_scope)                                                             as in_scope,
        sum(t.on_time)                                                              as on_time,
        sum(t.satisfaction_points)                                                  as satisfaction_points
    from timeliness_by_unit t
    join mappings m
      on m.period_type = t.period_type and m.period_key = t.period_key and m.unit_code = t.unit_code
    group by 1, 2, 3
)

select r.period_type, r.period_key, r.unit_code, v.metric_code,
       v.numerator::numeric as numerator, v.denominator::numeric as denominator
from received_resolved r
{{ dossier_metric_values('r') }}

union all

select t.period_type, t.period_key, t.unit_code, v.metric_code,
       v.numerator::numeric, v.denominator::numeric
from timeliness t
{{ timeliness_metric_values('t') }}
