{#- What the dossier-based metrics read of each received dossier, one row per dossier, joined
    and computed once (int_metric_dossier_counts, int_metric_procedure_counts and
    mart_report_ii06a count these rows per local day): its codes, days and flags from
    fct_dossier, whether the portal synced it (fct_sync), when its online payments count as
    paid (fct_payment), whether its TTHC's result is a document (dim_procedure), and the working
    hours from receipt to the end of processing (2.2, calendar of dim_date).

    Kept per dossier (macros/per_dossier_periods.sql with no periods, docs/decisions/005): a
    night replaces the rows of the dossiers with a staged record, payment or sync status loaded
    since the newest load the last run saw; every row is rebuilt when fct_dossier (a full
    refresh, as after a change of the TTHC catalogue or the calendar) or the model's code
    changes, so a night's counts do not redo these joins for every dossier. -#}

-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}
{{ kept_per_dossier(
    {'periods': none,
     'changed_by': ['stg_one_stop__dossiers', 'stg_dvc_portal__payments', 'stg_dvc_portal__sync_statuses']}) }}
{%- set plan = period_plan() %}

with dossiers as (
    select * from {{ ref('fct_dossier') }} d
    where {{ kept_dossiers_filter(plan) }}
),

-- per dossier, when its online payments count as paid at an instant e: a payment that is (or
-- was) SUCCESS, paid (paidAt, else createdAt) before e and not refunded (its record's updatedAt)
-- before e. One row per dossier: the first never-refunded payment, and the (paid, refunded]
-- ranges of refunded ones, so a period's test is two comparisons, not a subquery per row.
online_payments as (
    select
        dossier_code,
        min(paid_at) filter (where refunded_at is null)                        as first_unrefunded_paid_at,
        range_agg(tstzrange(paid_at, refunded_at, '(]')) filter (where refunded_at > paid_at)
                                                                                as paid_until_refunded
    from (
        select dossier_code, coalesce(paid_at, created_at) as paid_at,
               case when payment_status = 'REFUNDED' then source_updated_at end as refunded_at
        from {{ ref('fct_payment') }}
        where payment_status in ('SUCCESS', 'REFUNDED') and dossier_code is not null
          {%- if plan.mode != 'all' %}
          and {{ kept_dossiers_filter(plan) }}
          {%- endif %}
    ) p
    where paid_at is not null
    group by dossier_code
)

select
    d.dossier_code, d.unit_code, d.procedure_code, d.field_code, d.status, d.channel, d.applicant_type,
    d.received_at, d.end_of_processing_at, d.due_at, d.report_form_class,
    {{ local_date('d.received_at') }}                              as received_day,
    {{ local_date('d.end_of_processing_at') }}                     as end_day,
    d.has_fee_obligation,
    d.is_digitized, d.has_reused_data, d.uses_personal_data_store, d.is_vneid_authenticated,
    d.has_electronic_result,
    coalesce(procedures.result_is_document, false)                 as result_is_document,
    coalesce(sync.is_synced, false)                                as is_synced,
    pay.first_unrefunded_paid_at,
    pay.paid_until_refunded,
    -- working time from receipt to the end of processing (2.2), calendar from dim_date
    ({{ cumulative_working_seconds('d.end_of_processing_at', 'end_day') }}
     - {{ cumulative_working_seconds('d.received_at', 'received_day') }}) / 3600.0
                                                                   as working_hours_to_end,
    d.loaded_at
from dossiers d
left join {{ ref('dim_procedure') }} procedures using (procedure_code)
left join {{ ref('fct_sync') }} sync using (dossier_code)
left join online_payments pay using (dossier_code)
left join {{ ref('dim_date') }} received_day on received_day.date_day = {{ local_date('d.received_at') }}
left join {{ ref('dim_date') }} end_day on end_day.date_day = {{ local_date('d.end_of_processing_at') }}
