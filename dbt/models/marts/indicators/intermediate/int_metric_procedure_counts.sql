{#- TTHC-based metrics (docs/metrics.md, §6a) per period and unit, before pooling: the rules are
    macro procedure_metric_counts (macros/metric_rules.sql), shared with "act today"
    (int_action_metric_counts); this model cuts the dossiers and payments into periods. They count
    (unit, TTHC) pairs, so pooling them over a subtree is a plain sum.
      1.1-1.3  the TTHC catalogue (dim_procedure), counted for the province units (level TINH)
               only: the publishing duties are provincial. Working days from dim_date:
               idx(d) = working days before d, so "a <= b - 5 working days" is
               idx(b) - idx(a) >= 5 and "b <= a + 5 working days" is idx(b) - idx(a + 1) < 5.
      3.1, 3.5, 3.6, 4.7  offered TTHC: thu-tuc-don-vi rows valid on the period's last day
      3.2      online services: portal online-services valid that day with publishedOnPortal
      3.5      a payment paid in the period whose status at the period end was SUCCESS
    Dossiers and payments count for the unit they map to in the period (the merger). -#}
{#- The planner takes the payments' (period, unit, TTHC) rows for a few hundred (there are
    millions on a large warehouse) and sorts them on disk to group them; hashing is faster. -#}
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

-- (unit, TTHC) pairs with an online dossier / a citizen dossier via VNeID received in the period:
-- per local day and the dossier's own unit first, then per period (an equality join on the day),
-- then per reporting unit. A dossier that is neither sets no flag, so it is left out at the scan
-- (grouping dossier-period rows instead made several rows of each dossier).
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

-- payments paid in the period and SUCCESS at its end (macro payment_successful_at), with the
-- unit and TTHC they count for (materialized: joined to the periods before the units)
paid_in_period as materialized (
    select periods.period_type, periods.period_key,
           coalesce(pay.unit_code, d.unit_code)           as unit_code,
           coalesce(pay.procedure_code, d.procedure_code) as procedure_code
    from {{ ref('fct_payment') }} pay
    join {{ ref('int_metric_period_days') }} periods
      on periods.date_day = {{ local_date('coalesce(pay.paid_at, pay.created_at)') }}
     and {{ payment_successful_at('pay', 'periods.end_ts') }}
    left join {{ ref('fct_dossier') }} d on d.dossier_code = pay.dossier_code
)

select * from (
    {{ procedure_metric_counts('periods', 'mappings', 'dossier_pairs_by_unit', 'paid_in_period') }}
) counts
