{#- The rules of the 766 metrics (docs/metrics.md, §6a) that more than one model applies: the monthly
    marts per period (int_metric_*, mart_metric_monthly) and "act today" at a moment T
    (int_action_metric_counts, docs/acting-today.md (§11)). One rule, one place: a model passes its own
    periods relation and the macros do the counting and the scoring.

    A periods relation has period_type, period_key (text: the key of a period, or of a moment),
    period_start, period_end (local dates, end exclusive), as_of_day (the day the units and the
    rules are taken on), start_ts and end_ts (instants, end exclusive: "before the end"). A
    moment T passes end_ts = T + 1 microsecond, so "before the end" reads "at or before T". -#}

{#- ------------------------------------------------------------------------------------------
    Scoring -#}

{#- The rate of a metric; none for 2.2 (monitoring only) or an empty denominator. -#}
{% macro metric_rate(numerator, denominator, metric_code) -%}
    (case when {{ denominator }} > 0 and {{ metric_code }} <> '2.2' then {{ numerator }} / {{ denominator }} end)
{%- endmacro %}

{#- Whether a rule's applies_to_levels ('ALL' or a comma list) takes the unit's level. -#}
{% macro rule_level_applies(rule, unit_level) -%}
    ({{ rule }}applies_to_levels = 'ALL'
     or {{ unit_level }} = any(string_to_array(replace({{ rule }}applies_to_levels, ' ', ''), ',')))
{%- endmacro %}

{#- A metric's points (unrounded) for a numerator and denominator under a rule whose columns
    carry the prefix `rule` ('' or 'alias.'):
      LINEAR  least(max, k x rate)      CAPPED  least(max, max x rate / target)
    A metric that does not apply to the unit's level scores not_applicable_points; a zero
    denominator scores empty_points ('ZERO' or full marks); 2.2 scores 0 (no rate). -#}
{% macro metric_points(numerator, denominator, metric_code, level_applies, rule='') -%}
    (case
        when not {{ level_applies }} then case when {{ rule }}not_applicable_points = 'ZERO' then 0 else {{ rule }}max_points end
        when {{ denominator }} = 0 then case when {{ rule }}empty_points = 'ZERO' then 0 else {{ rule }}max_points end
        when {{ metric_rate(numerator, denominator, metric_code) }} is null then 0          -- monitoring only (2.2)
        when {{ rule }}rule_kind = 'CAPPED'
            then least({{ rule }}max_points, {{ rule }}max_points * {{ metric_rate(numerator, denominator, metric_code) }} / {{ rule }}target_rate)
        else least({{ rule }}max_points, {{ rule }}points_per_unit_rate * {{ metric_rate(numerator, denominator, metric_code) }})
     end)
{%- endmacro %}

{#- The scoring rule of each metric in force on each period's as_of_day; an enabled variant (var
    scoring_variants) wins. DISTINCT ON, not row_number() = 1: the planner takes the latter for
    1 row and looped over it, rejoining every count per rule. -#}
{% macro scoring_rules_in_force(periods) -%}
    select distinct on (periods.period_type, periods.period_key, r.metric_code)
        periods.period_type, periods.period_key, r.*
    from {{ periods }} periods
    join {{ ref('metric_scoring_rules') }} r
      on r.effective_from <= periods.as_of_day
     and (r.effective_to is null or r.effective_to >= periods.as_of_day)
     and (r.variant = 'default'
          {%- for v in var('scoring_variants', []) %} or r.variant = '{{ v }}'{% endfor %})
    order by periods.period_type, periods.period_key, r.metric_code,
             (r.variant <> 'default') desc, r.effective_from desc
{%- endmacro %}

{#- Pooled counts (period_type, period_key, unit_code, metric_code, numerator, denominator) of
    the units valid on each period's as_of_day, scored: the unit's name, level and parent, the
    rule's group, name, kind and parameters, rate, points (unrounded), max_points, applies
    (the level takes the metric and the denominator is above 0). -#}
{% macro scored_metric_counts(periods, counts) -%}
    select
        u.period_type,
        u.period_key,
        u.period_start,
        u.period_end,
        u.unit_code,
        u.unit_name,
        u.unit_level,
        u.parent_unit_code,
        rules.group_code,
        c.metric_code,
        rules.metric_name,
        c.numerator,
        c.denominator,
        {{ metric_rate('c.numerator', 'c.denominator', 'c.metric_code') }}             as rate,
        {{ metric_points('c.numerator', 'c.denominator', 'c.metric_code',
                         rule_level_applies('rules.', 'u.unit_level'), 'rules.') }}    as points,
        rules.max_points,
        rules.rule_kind,
        rules.points_per_unit_rate,
        rules.target_rate,
        rules.empty_points,
        rules.not_applicable_points,
        {{ rule_level_applies('rules.', 'u.unit_level') }}                            as level_applies
    from (
        select periods.*, units.unit_code, units.unit_name, units.unit_level, units.parent_unit_code
        from {{ periods }} periods
        join {{ ref('dim_unit') }} units
          on units.valid_from <= periods.as_of_day
         and (units.valid_to is null or units.valid_to >= periods.as_of_day)
    ) u
    join {{ counts }} c
      on c.period_type = u.period_type and c.period_key = u.period_key and c.unit_code = u.unit_code
    join ({{ scoring_rules_in_force(periods) }}) rules
      on rules.period_type = u.period_type and rules.period_key = u.period_key and rules.metric_code = c.metric_code
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------
    Pooling and unit mappings -#}

{#- Every metric's numerator and denominator per period and unit valid on the period's
    as_of_day, pooled over the unit's subtree as of that day (never an average of child rates),
    from per-unit `leaf_counts` (period_type, period_key, unit_code, metric_code, numerator,
    denominator; several rows per key are summed). Units with nothing to count get zeros, so
    every unit has a row for every metric of the scoring rules. 5.3 is floored at 0 after
    pooling (its per-dossier terms can be negative). -#}
{% macro pooled_metric_counts(periods, leaf_counts) -%}
    with units_in_period as (
        select periods.period_type, periods.period_key, periods.as_of_day, units.unit_code
        from {{ periods }} periods
        join {{ ref('dim_unit') }} units
          on units.valid_from <= periods.as_of_day
         and (units.valid_to is null or units.valid_to >= periods.as_of_day)
    ),

    metrics as (
        select distinct metric_code from {{ ref('metric_scoring_rules') }}
    ),

    leaf_counts as (
        select period_type, period_key, unit_code, metric_code, sum(numerator) as numerator, sum(denominator) as denominator
        from {{ leaf_counts }} all_counts
        group by 1, 2, 3, 4
    ),

    -- every unit's subtree counts, plus a zero row for every unit and metric so units with
    -- nothing to count get zeros; one hash aggregate, no outer join over mis-estimated rows
    pooled as (
        select u.period_type, u.period_key, u.unit_code, c.metric_code, c.numerator, c.denominator
        from units_in_period u
        {{ join_subtree('u', 'leaf_counts', 'c') }}
        where c.metric_code in (select metric_code from metrics)
        union all
        select u.period_type, u.period_key, u.unit_code, metrics.metric_code, 0, 0
        from units_in_period u
        cross join metrics
    )

    select
        period_type,
        period_key,
        unit_code,
        metric_code,
        case when metric_code = '5.3' then greatest(sum(numerator), 0)
             else sum(numerator) end::numeric                           as numerator,
        sum(denominator)::numeric                                        as denominator
    from pooled
    group by 1, 2, 3, 4
{%- endmacro %}

{#- For every period and every unit code: the unit it counts for, the first unit in its
    successor chain valid on the period's as_of_day (itself if still valid). Columns
    period_type, period_key, unit_code, reporting_unit_code. -#}
{% macro period_unit_mappings(periods) -%}
    select period_type, period_key, unit_code, successor_unit_code as reporting_unit_code
    from (
        select
            periods.period_type,
            periods.period_key,
            chains.unit_code,
            chains.successor_unit_code,
            row_number() over (partition by periods.period_type, periods.period_key, chains.unit_code
                               order by chains.hops) as pick
        from {{ periods }} periods
        join {{ ref('int_unit_successor_chains') }} chains
          on chains.valid_from <= periods.as_of_day
         and (chains.valid_to is null or chains.valid_to >= periods.as_of_day)
    ) ranked
    where pick = 1
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------
    Per-dossier rules (the dossier metrics count these per period or per moment) -#}

{#- 3.4's "paid online" at instant `end_ts` for a row of int_dossier_metric_inputs (alias d):
    a fee obligation and an online payment paid (paidAt, else createdAt) before the end and
    SUCCESS now, or REFUNDED only at or after the end (a refund's time is its record's
    updatedAt). A later refund never rewrites a closed month. -#}
{% macro dossier_paid_online_at(d, end_ts) -%}
    ({{ d }}.has_fee_obligation
     and (coalesce({{ d }}.first_unrefunded_paid_at < {{ end_ts }}, false)
          or coalesce({{ d }}.paid_until_refunded @> {{ end_ts }}, false)))
{%- endmacro %}

{#- Resolved (status 9 or 10) with its end of processing before instant `end_ts`. -#}
{% macro dossier_resolved_before(d, end_ts) -%}
    ({{ d }}.status in (9, 10) and {{ d }}.end_of_processing_at < {{ end_ts }})
{%- endmacro %}

{#- 4.2's numerator at instant `end_ts`: digitized components and, if resolved by the end and
    the result is a document, a result file. -#}
{% macro dossier_digitized_at(d, end_ts) -%}
    ({{ d }}.is_digitized
     and ({{ d }}.has_electronic_result or not {{ d }}.result_is_document
          or not {{ dossier_resolved_before(d, end_ts) }}))
{%- endmacro %}

{#- A payment that counts as paid at instant `end_ts` (3.5): SUCCESS now, or REFUNDED only at
    or after the end. Its paid time (paidAt, else createdAt) is the caller's period test. -#}
{% macro payment_successful_at(pay, end_ts) -%}
    ({{ pay }}.payment_status = 'SUCCESS'
     or ({{ pay }}.payment_status = 'REFUNDED' and {{ pay }}.source_updated_at >= {{ end_ts }}))
{%- endmacro %}

{#- §5: a dossier judged closed at `judged_end` is on time if it had at most one supplement
    request and ended by its due time (no due time and no limit: nothing to miss). -#}
{% macro closed_on_time_766(judged_end, due, supplement_count) -%}
    (case
        when {{ judged_end }} is null then null
        when {{ supplement_count }} > 1 then false
        when {{ due }} is null then true   -- no due time and no limit: nothing to miss
        else {{ judged_end }} <= {{ due }}
     end)
{%- endmacro %}

{#- 2.1's numerator for one in-scope dossier at instant `end_ts` (§6a): closed (judged end)
    before the end and on time (§5), or open at the end with its due time at or after it (§6a
    puts no supplement condition on open dossiers). -#}
{% macro on_time_766_at(judged_end, closed_on_time, due, end_ts) -%}
    (case
        when {{ judged_end }} < {{ end_ts }} then coalesce({{ closed_on_time }}, false)
        else ({{ due }} is null or {{ due }} >= {{ end_ts }})
     end)
{%- endmacro %}

{#- Which dossier counts are each dossier metric's numerator and denominator (§6a), as one
    lateral list of (metric_code, numerator, denominator) rows over a row of counts: the received
    and resolved counts (`r`) and the timeliness counts (`t`) of int_metric_dossier_counts and
    int_action_metric_counts, which count them for a period and for a moment. -#}
{% macro dossier_metric_values(r) -%}
    cross join lateral (values
        ('1.4', {{ r }}.received_synced,                  {{ r }}.received),
        ('2.2', {{ r }}.resolved_working_hours,           {{ r }}.resolved),
        ('3.3', {{ r }}.received_online,                  {{ r }}.received),
        ('3.4', {{ r }}.received_paid_online,             {{ r }}.received_with_fee),
        ('4.1', {{ r }}.resolved_document_with_file,      {{ r }}.resolved_document),
        ('4.2', {{ r }}.received_digitized,               {{ r }}.received),
        ('4.3', {{ r }}.resolved_certification_with_file, {{ r }}.resolved_certification),
        ('4.4', {{ r }}.received_reused,                  {{ r }}.received),
        ('4.5', {{ r }}.received_data_store,              {{ r }}.received),
        ('4.6', {{ r }}.received_citizen_vneid,           {{ r }}.received_citizen)
    ) as v(metric_code, numerator, denominator)
{%- endmacro %}

{% macro timeliness_metric_values(t) -%}
    cross join lateral (values
        ('2.1', {{ t }}.on_time,             {{ t }}.in_scope),
        ('5.3', {{ t }}.satisfaction_points, {{ t }}.in_scope)
    ) as v(metric_code, numerator, denominator)
{%- endmacro %}

{#- Complaints about dossiers (5.3): a dissatisfied rating (level 3) or a feedback item naming
    the dossier; one row per dossier with the first one's time. `dossiers`: a subquery of the
    dossier codes to look at (none: every dossier). -#}
{% macro dossier_complaints(dossiers=none) -%}
    select dossier_code, min(complained_at) as first_complained_at
    from (
        select dossier_code, rated_at as complained_at from {{ ref('fct_rating') }}
        where is_dissatisfied {% if dossiers %}and dossier_code in ({{ dossiers }}){% endif %}
        union all
        select dossier_code, received_at from {{ ref('fct_feedback') }}
        where dossier_code is not null {% if dossiers %}and dossier_code in ({{ dossiers }}){% endif %}
    ) c
    group by dossier_code
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------
    TTHC-based metrics (1.1-1.3, 3.1, 3.2, 3.5, 3.6, 4.7) and feedback metrics (5.1, 5.2) -#}

{#- TTHC-based metrics per period and reporting unit, before pooling (they count (unit, TTHC)
    pairs, so pooling over a subtree is a plain sum). Columns period_type, period_key,
    unit_code, metric_code, numerator, denominator.
      1.1-1.3  the TTHC catalogue (dim_procedure), counted for the province units (level TINH)
               only: the publishing duties are provincial. Working days from dim_date:
               idx(d) = working days before d, so "a <= b - 5 working days" is
               idx(b) - idx(a) >= 5 and "b <= a + 5 working days" is idx(b) - idx(a + 1) < 5.
      3.1, 3.5, 3.6, 4.7  offered TTHC: thu-tuc-don-vi rows valid on the as_of_day
      3.2      online services: portal online-services valid that day with publishedOnPortal
    The caller gives what depends on how it cuts its periods:
      mappings               (period_type, period_key, unit_code, reporting_unit_code)
      dossier_pairs_by_unit  (period_type, period_key, unit_code, procedure_code,
                              has_online_dossier, has_vneid_dossier): the (own unit, TTHC) pairs
                              of the dossiers received in the period (3.2, 4.7)
      paid_in_period         (period_type, period_key, unit_code, procedure_code): payments paid
                              in the period that count as paid at its end (3.5; macro
                              payment_successful_at), with the unit and TTHC they count for.
    public_as_of_end: 1.2's numerator also asks that NgayCongKhai was reached before the end
    (period_end, a day): "act today" reads everything dated as it stood at T (§11), where the
    monthly marts count a TTHC made public after a period's end within its 5 working days. -#}
{% macro procedure_metric_counts(periods, mappings, dossier_pairs_by_unit, paid_in_period, public_as_of_end=false) -%}
with calendar as (
    select date_day, cumulative_working_seconds_before / {{ working_seconds_per_day() }} as working_days_before
    from {{ ref('dim_date') }}
),

procedures as (
    select
        p.procedure_code, p.has_fee, p.is_for_citizens, p.is_fully_published,
        p.announced_on, p.published_on,
        legal.working_days_before - announced.working_days_before          as working_days_announced_to_effective,
        published.working_days_before - after_announced.working_days_before as working_days_announced_to_public
    from {{ ref('dim_procedure') }} p
    left join calendar announced       on announced.date_day = p.announced_on
    left join calendar after_announced on after_announced.date_day = p.announced_on + 1
    left join calendar legal           on legal.date_day = p.legal_basis_effective_on
    left join calendar published       on published.date_day = p.published_on
),

provinces as (
    select periods.period_type, periods.period_key, units.unit_code
    from {{ periods }} periods
    join {{ ref('dim_unit') }} units
      on units.unit_level = 'TINH'
     and units.valid_from <= periods.as_of_day
     and (units.valid_to is null or units.valid_to >= periods.as_of_day)
),

catalogue as (
    select
        periods.period_type,
        periods.period_key,
        count(*) filter (where p.announced_on >= periods.period_start and p.announced_on < periods.period_end)
                                                                            as announced,
        count(*) filter (where p.announced_on >= periods.period_start and p.announced_on < periods.period_end
                           and p.working_days_announced_to_effective >= 5)  as announced_in_time,
        count(*) filter (where p.announced_on >= periods.period_start and p.announced_on < periods.period_end
                           and p.working_days_announced_to_public < 5
                           {%- if public_as_of_end %} and p.published_on < periods.period_end{% endif %})
                                                                            as made_public_in_time,
        count(*) filter (where p.published_on < periods.period_end)         as public,
        count(*) filter (where p.published_on < periods.period_end and p.is_fully_published)
                                                                            as public_in_full
    from {{ periods }} periods
    cross join procedures p
    group by 1, 2
),

offered as (
    select distinct periods.period_type, periods.period_key, o.unit_code, o.procedure_code,
           coalesce(p.has_fee, o.has_fee) as has_fee, coalesce(p.is_for_citizens, false) as is_for_citizens
    from {{ periods }} periods
    join {{ ref('dim_unit_procedure') }} o
      on o.valid_from <= periods.as_of_day and (o.valid_to is null or o.valid_to >= periods.as_of_day)
    left join procedures p using (procedure_code)
),

online_services as (
    select periods.period_type, periods.period_key, s.unit_code, s.procedure_code,
           bool_or(s.is_payment_integrated) as is_payment_integrated
    from {{ periods }} periods
    join {{ ref('fct_online_service') }} s
      on s.is_published_on_portal
     and s.valid_from <= periods.as_of_day and (s.valid_to is null or s.valid_to >= periods.as_of_day)
    group by 1, 2, 3, 4
),

dossier_pairs as (
    select
        dp.period_type, dp.period_key, m.reporting_unit_code as unit_code, dp.procedure_code,
        bool_or(dp.has_online_dossier)                                    as has_online_dossier,
        bool_or(dp.has_vneid_dossier)                                     as has_vneid_dossier
    from {{ dossier_pairs_by_unit }} dp
    join {{ mappings }} m
      on m.period_type = dp.period_type and m.period_key = dp.period_key and m.unit_code = dp.unit_code
    group by 1, 2, 3, 4
),

-- (unit, TTHC) pairs with a payment paid in the period that counts at its end
paid_pairs as (
    select distinct paid.period_type, paid.period_key, m.reporting_unit_code as unit_code, paid.procedure_code
    from {{ paid_in_period }} paid
    join {{ mappings }} m
      on m.period_type = paid.period_type and m.period_key = paid.period_key and m.unit_code = paid.unit_code
),

-- per (period, unit, TTHC): offered online, payment-integrated, paid, with an online / a VNeID
-- dossier - the three sources in one aggregate, so each count needs one join at most (a pair
-- can only match on non-null keys, as the joins it replaces)
pair_flags as (
    select period_type, period_key, unit_code, procedure_code,
           bool_or(is_service)            as is_service,
           bool_or(is_payment_integrated) as is_payment_integrated,
           bool_or(is_paid)               as is_paid,
           bool_or(has_online_dossier)    as has_online_dossier,
           bool_or(has_vneid_dossier)     as has_vneid_dossier
    from (
        select period_type, period_key, unit_code, procedure_code, true as is_service, is_payment_integrated,
               null::boolean as is_paid, null::boolean as has_online_dossier, null::boolean as has_vneid_dossier
        from online_services
        union all
        select period_type, period_key, unit_code, procedure_code, null, null, true, null, null
        from paid_pairs
        where unit_code is not null and procedure_code is not null
        union all
        select period_type, period_key, unit_code, procedure_code, null, null, null, has_online_dossier, has_vneid_dossier
        from dossier_pairs
        where unit_code is not null and procedure_code is not null
    ) sources
    group by 1, 2, 3, 4
),

offering_counts as (
    select
        o.period_type, o.period_key, o.unit_code,
        count(*)                                                            as offered,
        count(*) filter (where f.is_service)                                as offered_online,
        count(*) filter (where o.has_fee)                                   as offered_with_fee,
        count(*) filter (where o.has_fee and f.is_paid)                     as offered_with_fee_paid,
        count(*) filter (where o.has_fee and f.is_payment_integrated)       as offered_with_fee_integrated,
        count(*) filter (where o.is_for_citizens)                           as offered_for_citizens,
        count(*) filter (where o.is_for_citizens and coalesce(f.has_vneid_dossier, false))
                                                                            as offered_for_citizens_vneid
    from offered o
    left join pair_flags f using (period_type, period_key, unit_code, procedure_code)
    group by 1, 2, 3
),

service_counts as (
    select
        period_type, period_key, unit_code,
        count(*)                                                            as services,
        count(*) filter (where has_online_dossier)                          as services_used
    from pair_flags
    where is_service
    group by 1, 2, 3
)

select pr.period_type, pr.period_key, pr.unit_code, v.metric_code,
       v.numerator::numeric as numerator, v.denominator::numeric as denominator
from provinces pr
join catalogue c using (period_type, period_key)
cross join lateral (values
    ('1.1', c.announced_in_time,   c.announced),
    ('1.2', c.made_public_in_time, c.announced),
    ('1.3', c.public_in_full,      c.public)
) as v(metric_code, numerator, denominator)

union all

select o.period_type, o.period_key, o.unit_code, v.metric_code, v.numerator::numeric, v.denominator::numeric
from offering_counts o
cross join lateral (values
    ('3.1', o.offered_online,              o.offered),
    ('3.5', o.offered_with_fee_paid,       o.offered_with_fee),
    ('3.6', o.offered_with_fee_integrated, o.offered_with_fee),
    ('4.7', o.offered_for_citizens_vneid,  o.offered_for_citizens)
) as v(metric_code, numerator, denominator)

union all

select s.period_type, s.period_key, s.unit_code, '3.2', s.services_used::numeric, s.services::numeric
from service_counts s
{%- endmacro %}

{#- Feedback (PAKN) metrics 5.1 and 5.2 per period and reporting unit, before pooling. Handled
    = HANDLED or REJECTED; "handled by the end" is handledAt < end_ts, so an item handled after
    the end was still open at it.
      5.1 in scope: received in the period, or before it and not handled before its start.
          on time : handled in the period with handledAt <= dueAt, or open at end with dueAt >= end.
      5.2 received in the period, less items with dislikes > likes, re-raised, handled after
          dueAt, or open at end past dueAt.
    `periods` needs period_type, period_key, start_ts, end_ts; `mappings` as
    procedure_metric_counts. -#}
{% macro feedback_metric_counts(periods, mappings) -%}
with feedback as (
    select
        feedback_id, unit_code, received_at, due_at, is_disliked, is_reraised,
        case when is_handled then handled_at end as handled_at
    from {{ ref('fct_feedback') }}
    where received_at is not null
),

feedback_periods as (
    select
        periods.period_type,
        periods.period_key,
        f.*,
        f.received_at >= periods.start_ts                                      as is_received,
        f.handled_at is not null and f.handled_at >= periods.start_ts
          and f.handled_at < periods.end_ts                                    as is_handled_in_period,
        f.handled_at is null or f.handled_at >= periods.end_ts                 as is_open_at_end,
        periods.end_ts
    from {{ periods }} periods
    join feedback f
      on f.received_at < periods.end_ts
     and (f.received_at >= periods.start_ts or f.handled_at is null or f.handled_at >= periods.start_ts)
),

counted as (
    select
        fp.period_type,
        fp.period_key,
        m.reporting_unit_code as unit_code,
        count(*)                                                               as in_scope,
        count(*) filter (where (is_handled_in_period and handled_at <= due_at)
                            or (is_open_at_end and due_at >= end_ts))          as handled_on_time,
        count(*) filter (where is_received)                                    as received,
        count(*) filter (where is_received
                           and not is_disliked and not is_reraised
                           and not coalesce(handled_at < end_ts and handled_at > due_at, false)
                           and not coalesce(is_open_at_end and due_at < end_ts, false))       as satisfied
    from feedback_periods fp
    join {{ mappings }} m
      on m.period_type = fp.period_type and m.period_key = fp.period_key and m.unit_code = fp.unit_code
    group by 1, 2, 3
)

select c.period_type, c.period_key, c.unit_code, v.metric_code,
       v.numerator::numeric as numerator, v.denominator::numeric as denominator
from counted c
cross join lateral (values
    ('5.1', c.handled_on_time, c.in_scope),
    ('5.2', c.satisfied,       c.received)
) as v(metric_code, numerator, denominator)
{%- endmacro %}

{#- ------------------------------------------------------------------------------------------
    "Act today" (docs/acting-today.md, §11) -#}

{#- An L5 dossier (resolved in the period up to T, its result a document, no result file) of
    int_action_dossier_states (alias s) that 4.2 would also count if its file were attached:
    received in the period (4.2's denominator) with digitized components (then the file is all
    its numerator lacks). -#}
{% macro l5_counts_in_4_2(s) -%}
    ({{ s }}.is_received_in_period and {{ s }}.is_digitized)
{%- endmacro %}

{#- Points a metric row of int_action_metric_counts (prefix m: 'alias.') would have with
    numerator `numerator` (the same denominator, unit and rule). -#}
{% macro action_metric_points_with(m, numerator) -%}
    {{ metric_points(numerator, m ~ 'denominator', m ~ 'metric_code', m ~ 'level_applies', m) }}
{%- endmacro %}
