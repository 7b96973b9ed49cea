{#- Every 766 metric of the scoring rules month to date at a moment T (docs/acting-today.md, §11 "points at
    stake"), per unit valid on T's local date: §6a on [period start, T] (the calendar month
    containing T), pooled over the unit's subtree as of T's date, open dossiers judged at T as
    §6a judges them at a period end. The rules are the monthly marts' own macros
    (macros/metric_rules.sql: counting, pooling, unit mappings, scoring), called with one
    "period" per moment whose end is T itself: end_ts = T + 1 microsecond, so §6a's "before the
    end" reads "at or before T" (the sources' times are whole seconds), and an open dossier is in
    time at T when its due time is at or after T, as §6a's "NgayHenTra >= end" reads with the
    end at T (L2 of §11 lists it as overdue at due <= T, and the projection decides it late).

    What is read as it stood at T (int_action_dossier_states): the dossiers that matter at T,
    their unit at T, synced at T (1.4), 2.1's scope and timeliness with the due time in force at
    T and a single request pending at T judged at the request time (§5). The rest as the monthly
    marts read it at a period end: paid online at T (3.4), resolved by T (4.2), payments paid in
    [start, T] counting as paid at T (3.5), complaints before T (5.3), feedback at T (5.1, 5.2),
    the TTHC catalogue and offerings valid on T's date (1.1-1.3, 3.x, 4.7: dated by day, so a
    TTHC announced on T's date counts), except that 1.2 counts a TTHC as made public in time only
    once NgayCongKhai is reached by T's date (§11: dated things as they stood at T; the monthly
    mart counts one made public after the period's end within its 5 working days). At T = the last second of a month these equal
    mart_metric_monthly's month row (tests/dbt/test_actions_metrics.py).

    For the gains (§11): gain_one_more = the points one more numerator dossier adds, the scoring
    formula at (n + 1, d) less at (n, d) (linear: w/d; capped: w/(c d) while (n+1)/d <= c, the
    rest up to the cap after, 0 once capped; 0 where the metric does not apply or d = 0);
    loss_one_fewer = the points one fewer numerator dossier takes (2.1: a dossier turning late);
    dossiers_to_cap = the fewest numerator dossiers bringing the points to the max (linear
    ceil(max/k d) - n = d - n for the seed's k = max; capped ceil(c d) - n; at least 0; 0 when
    the metric does not apply or is already at its max). -#}

{#- No JIT: the counts' row estimates are poor (one moment, few units), the plan's cost looks
    large, and compiling it costs far more than the query itself. -#}
{{ config(pre_hook='set local jit = off') }}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

-- one "period" per moment: [month start, T]
periods as (
    select
        'at'::text                                          as period_type,
        at_ts::text                                         as period_key,
        at_ts,
        {{ local_date('period_start_ts') }}                 as period_start,
        at_date + 1                                         as period_end,
        at_date                                             as as_of_day,
        period_start_ts                                     as start_ts,
        at_ts + interval '1 microsecond'                    as end_ts
    from moments
),

mappings as (
    select 'at'::text as period_type, at_ts::text as period_key, unit_code, mapped_unit_code as reporting_unit_code
    from {{ ref('int_action_unit_mappings') }}
),

-- the dossiers that matter at T with their per-dossier inputs (unique index on dossier_code)
dossiers as (
    select
        p.period_type, p.period_key, p.start_ts, p.end_ts, s.at_ts,
        s.unit_code                                         as unit_at_t,
        s.is_synced                                         as is_synced_at_t,
        s.due_at                                            as due_at_t,
        s.is_open, s.end_at, s.is_waiting_on_citizen, s.waiting_since, s.supplement_count as supplements_at_t,
        s.is_closed_on_time, s.is_received_in_period, s.is_carried_over,
        i.*
    from {{ ref('int_action_dossier_states') }} s
    join periods p on p.at_ts = s.at_ts
    join {{ ref('int_dossier_metric_inputs') }} i on i.dossier_code = s.dossier_code
),

-- 2.1 per in-scope dossier at T: the judged end (end of processing by T, else the single
-- request pending at T) and §5's verdict on it. An open dossier is judged as §6a judges one at
-- a period end, "NgayHenTra >= end", with the end at T: a due time exactly at T is in time
-- (the due time is shifted by the same microsecond as end_ts), though L2 lists it as overdue
-- and the projection decides it late (§11: "overdue now")
timeliness as (
    select
        d.*,
        {{ on_time_766_at(
            'coalesce(d.end_at, case when d.is_waiting_on_citizen then d.waiting_since end)',
            'case when d.end_at is not null then d.is_closed_on_time
                  when d.is_waiting_on_citizen then ' ~ closed_on_time_766('d.waiting_since', 'd.due_at_t', 'd.supplements_at_t') ~ ' end',
            'd.due_at_t + interval \'1 microsecond\'', 'd.end_ts') }} as is_on_time
    from dossiers d
    where d.is_received_in_period or d.is_carried_over
),

dossier_counts as (
    select
        d.period_type, d.period_key, d.unit_at_t as unit_code,
        count(*) filter (where r)                                                          as received,
        count(*) filter (where r and d.is_synced_at_t)                                     as received_synced,
        count(*) filter (where r and d.channel = 2)                                        as received_online,
        count(*) filter (where r and d.has_fee_obligation)                                 as received_with_fee,
        count(*) filter (where r and {{ dossier_paid_online_at('d', 'd.end_ts') }})        as received_paid_online,
        count(*) filter (where r and {{ dossier_digitized_at('d', 'd.end_ts') }})          as received_digitized,
        count(*) filter (where r and d.has_reused_data)                                    as received_reused,
        count(*) filter (where r and d.uses_personal_data_store)                           as received_data_store,
        count(*) filter (where r and d.applicant_type = 1)                                 as received_citizen,
        count(*) filter (where r and d.applicant_type = 1 and d.is_vneid_authenticated)    as received_citizen_vneid,
        count(*) filter (where v)                                                          as resolved,
        coalesce(sum(d.working_hours_to_end) filter (where v), 0)                          as resolved_working_hours,
        count(*) filter (where v and d.result_is_document)                                 as resolved_document,
        count(*) filter (where v and d.result_is_document and d.has_electronic_result)     as resolved_document_with_file,
        count(*) filter (where v and d.field_code = '{{ var("certification_field_code", "CT") }}')
                                                                                           as resolved_certification,
        count(*) filter (where v and d.field_code = '{{ var("certification_field_code", "CT") }}'
                           and d.has_electronic_result)                                    as resolved_certification_with_file
    from (
        select dossiers.*,
               received_at >= start_ts and received_at < end_ts                                      as r,
               {{ dossier_resolved_before('dossiers', 'end_ts') }} and end_of_processing_at >= start_ts as v
        from dossiers
    ) d
    group by 1, 2, 3
),

timeliness_counts as (
    select
        t.period_type, t.period_key, t.unit_at_t as unit_code,
        count(*)                                                                           as in_scope,
        count(*) filter (where t.is_on_time)                                               as on_time,
        count(*) filter (where t.is_on_time)
          - count(*) filter (where c.is_complained)                                        as satisfaction_points
    from timeliness t
    -- complaints at or before T (macro dossier_complaints), looked up once for the projection
    left join {{ ref('int_action_projection_dossiers') }} c on c.at_ts = t.at_ts and c.dossier_code = t.dossier_code
    group by 1, 2, 3
),

-- (own unit, TTHC) pairs of the dossiers received in [start, T] (3.2, 4.7)
dossier_pairs_by_unit as materialized (
    select
        period_type, period_key, unit_code, procedure_code,
        bool_or(channel = 2)                                                               as has_online_dossier,
        bool_or(applicant_type = 1 and is_vneid_authenticated)                             as has_vneid_dossier
    from dossiers
    where received_at >= start_ts and received_at < end_ts
      and (channel = 2 or (applicant_type = 1 and is_vneid_authenticated))
    group by 1, 2, 3, 4
),

-- payments paid in [start, T] that count as paid at T (3.5). Materialized: inlined, the planner
-- joined the unit mappings first and scanned the payments once per unit; the dossier's unit and TTHC are looked up only where the payment lacks them
paid_in_period as materialized (
    select p.period_type, p.period_key,
           coalesce(pay.unit_code, d.unit_code)           as unit_code,
           coalesce(pay.procedure_code, d.procedure_code) as procedure_code
    from {{ ref('fct_payment') }} pay
    join periods p
      on coalesce(pay.paid_at, pay.created_at) >= p.start_ts
     and coalesce(pay.paid_at, pay.created_at) < p.end_ts
     and {{ payment_successful_at('pay', 'p.end_ts') }}
    left join lateral (
        select fd.unit_code, fd.procedure_code
        from {{ ref('fct_dossier') }} fd
        where (pay.unit_code is null or pay.procedure_code is null) and fd.dossier_code = pay.dossier_code
        limit 1
    ) d on true
),

leaf_counts as (
    -- the states carry each dossier's unit at T already (mapped as int_action_unit_mappings)
    select r.period_type, r.period_key, r.unit_code, v.metric_code,
           v.numerator::numeric as numerator, v.denominator::numeric as denominator
    from dossier_counts r
    {{ dossier_metric_values('r') }}
    union all
    select t.period_type, t.period_key, t.unit_code, v.metric_code, v.numerator::numeric, v.denominator::numeric
    from timeliness_counts t
    {{ timeliness_metric_values('t') }}
    union all
    select * from ({{ procedure_metric_counts('periods', 'mappings', 'dossier_pairs_by_unit', 'paid_in_period',
                                             public_as_of_end=true) }}) procedure_counts
    union all
    select * from ({{ feedback_metric_counts('periods', 'mappings') }}) feedback_counts
),

pooled as (
    {{ pooled_metric_counts('periods', 'leaf_counts') }}
),

scored as (
    {{ scored_metric_counts('periods', 'pooled') }}
)

select
    p.at_ts,
    s.unit_code::text                                                       as unit_code,
    s.unit_level::text                                                      as unit_level,
    s.group_code::text                                                      as group_code,
    s.metric_code::text                                                     as metric_code,
    s.numerator::numeric                                                    as numerator,
    s.denominator::numeric                                                  as denominator,
    s.rate::numeric                                                         as rate,
    (s.level_applies and s.denominator > 0)::boolean                        as applies,
    s.level_applies::boolean                                                as level_applies,
    s.max_points::numeric                                                   as max_points,
    s.points::numeric                                                       as points,
    (s.max_points - s.points)::numeric                                      as lost_points,
    ({{ metric_points('least(s.numerator + 1, s.denominator)', 's.denominator', 's.metric_code', 's.level_applies', 's.') }}
     - s.points)::numeric                                                   as gain_one_more,
    (s.points
     - {{ metric_points('greatest(s.numerator - 1, 0)', 's.denominator', 's.metric_code', 's.level_applies', 's.') }})::numeric
                                                                            as loss_one_fewer,
    (case
        when not s.level_applies or s.denominator = 0 or s.points >= s.max_points or s.metric_code = '2.2' then 0
        when s.rule_kind = 'CAPPED' then greatest(ceil(s.target_rate * s.denominator) - s.numerator, 0)
        else greatest(ceil(s.max_points / s.points_per_unit_rate * s.denominator) - s.numerator, 0)
     end)::numeric                                                          as dossiers_to_cap,
    s.rule_kind::text                                                       as rule_kind,
    s.points_per_unit_rate::numeric                                         as points_per_unit_rate,
    s.target_rate::numeric                                                  as target_rate,
    s.empty_points::text                                                    as empty_points,
    s.not_applicable_points::text                                           as not_applicable_points
from scored s
join periods p on p.period_type = s.period_type and p.period_key = s.period_key
