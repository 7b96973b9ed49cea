-- depends_on: {{ ref('stg_dvc_portal__payments') }}, {{ ref('stg_one_stop__dossiers') }}
{{ config(
    materialized='incremental',
    unique_key='dossier_code',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['dossier_code'], 'unique': true},
        {'columns': ['received_at']},
        {'columns': ['loaded_at']},
    ],
    pre_hook=["{{ remember_night_start() }}"],
    post_hook=["{{ delete_uncounted_dossiers(ref('stg_one_stop__dossiers')) }}",
               "{{ ensure_index(['end_of_processing_at']) }}", "{{ ensure_index(['returned_at']) }}"]
) }}
{#- end_of_processing_at and returned_at are indexed for the actions' open-at-T reads
    (models/marts/actions/intermediate), by post-hooks that make them when missing, so a warehouse
    built before them gets them on its next build without a full refresh. -#}
{#- One row per received dossier (statuses 1 and 3 and deleted dossiers excluded) with its
    dates, working time and both timeliness classifications.
    Incremental: dossiers loaded (or paid online) since the last run minus var
    incremental_lookback are merged again; dossiers that became deleted or refused are removed
    by the post-hook. A change of the TTHC catalogue or the calendar needs --full-refresh.
    Indexes on end_of_processing_at and returned_at: the actions models select the dossiers open,
    closed or handed back since a period start at a moment T (int_action_dossier_states). -#}

with dossiers as (
    select * from {{ ref('int_dossiers_timed') }}
    {% if is_incremental() %}
    -- one key list, then index lookups: with "loaded since … or in (paid since …)" the planner
    -- could use neither index and read all of int_dossiers_timed
    where dossier_code in (
        select dossier_code from {{ ref('int_dossiers_timed') }}
        where {{ loaded_since_last_build() }}
        union all
        select dossier_code from {{ ref('stg_dvc_portal__payments') }}
        where {{ loaded_since_last_build() }})
    {% endif %}
),

calendar as (
    select * from {{ ref('dim_date') }}
),

contents as (
    select * from {{ ref('int_dossier_contents_summarized') }}
),

payments as (
    select * from {{ ref('int_dossier_payments_summarized') }}
),

offerings as (
    select unit_code, procedure_code, online_level, valid_from, valid_to
    from {{ ref('dim_unit_procedure') }}
),

measured as (
    select
        dossiers.*,
        contents.component_count,
        contents.digitized_component_count,
        contents.reused_component_count,
        contents.data_store_component_count,
        contents.fee_amount,
        contents.result_file_count,
        contents.apology_letter_count,
        contents.first_apology_at,
        contents.apology_new_due_at,
        coalesce(payments.successful_payment_count, 0)                      as successful_payment_count,
        payments.first_paid_online_at,
        coalesce(payments.amount_paid_online, 0)                            as amount_paid_online,
        (select o.online_level from offerings o
          where o.unit_code = dossiers.unit_code and o.procedure_code = dossiers.procedure_code
            and o.valid_from <= {{ local_date('dossiers.received_at') }}
            and (o.valid_to is null or o.valid_to >= {{ local_date('dossiers.received_at') }})
          order by o.valid_from desc limit 1)                               as online_level,
        -- working time from receipt to the judged end, citizen supplement time excluded
        {{ cumulative_working_seconds('dossiers.timeliness_end_at', 'end_day') }}
          - {{ cumulative_working_seconds('dossiers.received_at', 'received_day') }}
          - dossiers.supplement_working_seconds                              as working_seconds_used
    from dossiers
    left join contents using (dossier_code)
    left join payments using (dossier_code)
    left join calendar received_day on received_day.date_day = {{ local_date('dossiers.received_at') }}
    left join calendar end_day on end_day.date_day = {{ local_date('dossiers.timeliness_end_at') }}
),

final as (
    select
        -- ids
        dossier_code,
        unit_code,
        procedure_code,
        field_code,
        applicant_key,
        -- codes
        status,
        channel,
        applicant_type,
        is_inter_agency,
        -- dates
        submitted_at,
        received_at,
        due_at,
        processing_ended_at,
        returned_at,
        end_of_processing_at,
        case when end_of_processing_at is not null then status end          as closing_status,
        -- supplements
        supplement_count,
        first_supplement_requested_at,
        second_supplement_requested_at,
        pending_supplement_requested_at,
        round(supplement_working_seconds / 3600.0, 4)                        as supplement_working_hours,
        -- 766 timeliness
        timeliness_end_at,
        derived_due_at,
        effective_due_at,
        time_limit,
        time_limit_unit,
        round(allowed_working_seconds / 3600.0, 4)                           as working_hours_allowed,
        round(working_seconds_used / 3600.0, 4)                              as working_hours_used,
        supplement_count > 1                                                 as is_late_by_supplements,
        -- §5, docs/spec/timeliness.md (macro closed_on_time_766, shared with "act today")
        {{ closed_on_time_766('timeliness_end_at', 'effective_due_at', 'supplement_count') }}
                                                                             as is_closed_on_time_766,
        -- report form (II.06a) classification by dates; withdrawn (7) / stopped (8) are a 4th class
        case
            when end_of_processing_at is null then null
            when status in (7, 8) then 'WITHDRAWN_STOPPED'
            when due_at is null then 'ON_TIME'
            when {{ local_date('end_of_processing_at') }} < {{ local_date('due_at') }} then 'EARLY'
            when {{ local_date('end_of_processing_at') }} = {{ local_date('due_at') }} then 'ON_TIME'
            else 'LATE'
        end                                                                  as report_form_class,
        -- online service, digitization and data reuse
        online_level,
        coalesce(digitized_component_count, 0) > 0                           as is_digitized,
        has_reused_digitized_component or coalesce(reused_component_count, 0) > 0 as has_reused_data,
        coalesce(data_store_component_count, 0) > 0                          as uses_personal_data_store,
        is_vneid_authenticated,
        coalesce(result_file_count, 0) > 0                                   as has_electronic_result,
        coalesce(component_count, 0)                                         as component_count,
        coalesce(digitized_component_count, 0)                               as digitized_component_count,
        -- fees and payment
        coalesce(fee_amount, 0)                                              as fee_amount,
        coalesce(fee_amount, 0) > 0                                          as has_fee_obligation,
        online_payment_kind,
        successful_payment_count > 0                                         as is_paid_online,
        first_paid_online_at,
        amount_paid_online,
        -- lateness follow-up
        coalesce(apology_letter_count, 0)                                    as apology_letter_count,
        coalesce(apology_letter_count, 0) > 0                                as has_apology_letter,
        apology_new_due_at,
        case when processing_ended_at is not null and returned_at is not null
             then round(extract(epoch from returned_at - processing_ended_at) / 86400.0, 4)
        end                                                                  as days_result_ready_to_returned,
        -- lineage
        source_updated_at,
        loaded_at
    from measured
)

select * from final
