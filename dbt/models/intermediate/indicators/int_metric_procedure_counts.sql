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

-- (unit, TTHC) pairs with an online dossier / a citizen dossier via VNeID received in the period
dossier_pairs as (
    select
        periods.period_type, periods.period_key, m.reporting_unit_code as unit_code, d.procedure_code,
        bool_or(d.channel = 2)                                            as has_online_dossier,
        bool_or(d.applicant_type = 1 and d.is_vneid_authenticated)        as has_vneid_dossier
    from periods
    join {{ ref('fct_dossier') }} d
      on d.received_at >= periods.start_ts and d.received_at < periods.end_ts
    join mappings m
      on m.period_type = periods.period_type and m.period_key = periods.period_key and m.unit_code = d.unit_code
    group by 1, 2, 3, 4
),

-- (unit, TTHC) pairs with a payment paid in the period and SUCCESS at its end (as 3.4: a
-- refund at or after the end, its record's updatedAt, does not undo it)
paid_pairs as (
    select distinct periods.period_type, periods.period_key, m.reporting_unit_code as unit_code,
           coalesce(pay.procedure_code, d.procedure_code) as procedure_code
    from periods
    join {{ ref('fct_payment') }} pay
      on coalesce(pay.paid_at, pay.created_at) >= periods.start_ts
     and coalesce(pay.paid_at, pay.created_at) < periods.end_ts
     and (pay.payment_status = 'SUCCESS'
          or (pay.payment_status = 'REFUNDED' and pay.source_updated_at >= periods.end_ts))
    left join {{ ref('fct_dossier') }} d on d.dossier_code = pay.dossier_code
    join mappings m
      on m.period_type = periods.period_type and m.period_key = periods.period_key
     and m.unit_code = coalesce(pay.unit_code, d.unit_code)
),

offering_counts as (
    select
        o.period_type, o.period_key, o.unit_code,
        count(*)                                                            as offered,
        count(*) filter (where s.procedure_code is not null)                as offered_online,
        count(*) filter (where o.has_fee)                                   as offered_with_fee,
        count(*) filter (where o.has_fee and paid.procedure_code is not null) as offered_with_fee_paid,
        count(*) filter (where o.has_fee and s.is_payment_integrated)       as offered_with_fee_integrated,
        count(*) filter (where o.is_for_citizens)                           as offered_for_citizens,
        count(*) filter (where o.is_for_citizens and coalesce(dp.has_vneid_dossier, false))
                                                                            as offered_for_citizens_vneid
    from offered o
    left join online_services s using (period_type, period_key, unit_code, procedure_code)
    left join paid_pairs paid using (period_type, period_key, unit_code, procedure_code)
    left join dossier_pairs dp using (period_type, period_key, unit_code, procedure_code)
    group by 1, 2, 3
),

service_counts as (
    select
        s.period_type, s.period_key, s.unit_code,
        count(*)                                                            as services,
        count(*) filter (where dp.has_online_dossier)                       as services_used
    from online_services s
    left join dossier_pairs dp using (period_type, period_key, unit_code, procedure_code)
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
