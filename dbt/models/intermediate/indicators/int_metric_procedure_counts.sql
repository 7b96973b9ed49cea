{#- TTHC-based metrics (domain.md section 6a) per period and unit, before pooling. They count
    (unit, TTHC) pairs, so pooling them over a subtree is a plain sum.
      1.1-1.3  the TTHC catalogue (dim_procedure), counted for the province units (level TINH)
               only: the publishing duties are provincial. Working days from dim_date:
               idx(d) = working days before d, so "a <= b - 5 working days" is
               idx(b) - idx(a) >= 5 and "b <= a + 5 working days" is idx(b) - idx(a + 1) < 5.
      3.1, 3.5, 3.6, 4.7  offered TTHC: thu-tuc-don-vi rows valid on the period's last day
      3.2      online services: portal online-services valid that day with publishedOnPortal
      3.5      a payment paid in the period whose status at the period end was SUCCESS
    Dossiers and payments count for the unit they map to in the period (the merger). -#}
{#- The planner takes the payments' (period, unit, TTHC) rows for a few hundred (1.4 M at 2 M
    dossiers) and sorts them on disk to group them; hashing took the model from 13.0 s to 7.6 s. -#}
{{ config(pre_hook='set local enable_sort = off', post_hook='analyze {{ this }}') }}

with periods as (
    select
        *,
        {{ local_midnight('period_start') }} as start_ts,
        {{ local_midnight('period_end') }}   as end_ts
    from {{ ref('int_metric_periods') }}
),

mappings as (
    select * from {{ ref('int_period_unit_mappings') }}
),

calendar as (
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
    from periods
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
                           and p.working_days_announced_to_public < 5)      as made_public_in_time,
        count(*) filter (where p.published_on < periods.period_end)         as public,
        count(*) filter (where p.published_on < periods.period_end and p.is_fully_published)
                                                                            as public_in_full
    from periods
    cross join procedures p
    group by 1, 2
),

offered as (
    select distinct periods.period_type, periods.period_key, o.unit_code, o.procedure_code,
           coalesce(p.has_fee, o.has_fee) as has_fee, coalesce(p.is_for_citizens, false) as is_for_citizens
    from periods
    join {{ ref('dim_unit_procedure') }} o
      on o.valid_from <= periods.as_of_day and (o.valid_to is null or o.valid_to >= periods.as_of_day)
    left join procedures p using (procedure_code)
),

online_services as (
    select periods.period_type, periods.period_key, s.unit_code, s.procedure_code,
           bool_or(s.is_payment_integrated) as is_payment_integrated
    from periods
    join {{ ref('fct_online_service') }} s
      on s.is_published_on_portal
     and s.valid_from <= periods.as_of_day and (s.valid_to is null or s.valid_to >= periods.as_of_day)
    group by 1, 2, 3, 4
),

-- (unit, TTHC) pairs with an online dossier / a citizen dossier via VNeID received in the period:
-- per local day and the dossier's own unit first, then per period (an equality join on the day),
-- then per reporting unit. A dossier that is neither sets no flag, so it is left out at the scan
-- (at 2 M dossiers, 7.9 M dossier-period rows were grouped before).
dossier_pairs_by_day as (
    select
        d.received_day, d.unit_code, d.procedure_code,
        bool_or(d.channel = 2)                                            as has_online_dossier,
        bool_or(d.applicant_type = 1 and d.is_vneid_authenticated)        as has_vneid_dossier
    from {{ ref('int_dossier_metric_inputs') }} d
    where d.channel = 2 or (d.applicant_type = 1 and d.is_vneid_authenticated)
    group by 1, 2, 3
),

dossier_pairs_by_unit as materialized (
    select
        periods.period_type, periods.period_key, d.unit_code, d.procedure_code,
        bool_or(d.has_online_dossier)                                     as has_online_dossier,
        bool_or(d.has_vneid_dossier)                                      as has_vneid_dossier
    from dossier_pairs_by_day d
    join {{ ref('int_metric_period_days') }} periods on periods.date_day = d.received_day
    group by 1, 2, 3, 4
),

dossier_pairs as (
    select
        dp.period_type, dp.period_key, m.reporting_unit_code as unit_code, dp.procedure_code,
        bool_or(dp.has_online_dossier)                                    as has_online_dossier,
        bool_or(dp.has_vneid_dossier)                                     as has_vneid_dossier
    from dossier_pairs_by_unit dp
    join mappings m
      on m.period_type = dp.period_type and m.period_key = dp.period_key and m.unit_code = dp.unit_code
    group by 1, 2, 3, 4
),

-- payments paid in the period and SUCCESS at its end (as 3.4: a refund at or after the end,
-- its record's updatedAt, does not undo it), with the unit and TTHC they count for
-- (materialized: joined to the periods before the units)
paid_in_period as materialized (
    select periods.period_type, periods.period_key,
           coalesce(pay.unit_code, d.unit_code)           as unit_code,
           coalesce(pay.procedure_code, d.procedure_code) as procedure_code
    from {{ ref('fct_payment') }} pay
    join {{ ref('int_metric_period_days') }} periods
      on periods.date_day = {{ local_date('coalesce(pay.paid_at, pay.created_at)') }}
     and (pay.payment_status = 'SUCCESS'
          or (pay.payment_status = 'REFUNDED' and pay.source_updated_at >= periods.end_ts))
    left join {{ ref('fct_dossier') }} d on d.dossier_code = pay.dossier_code
),

-- (unit, TTHC) pairs with such a payment
paid_pairs as (
    select distinct paid.period_type, paid.period_key, m.reporting_unit_code as unit_code, paid.procedure_code
    from paid_in_period paid
    join mappings m
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
