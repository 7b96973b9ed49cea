{#- The rows of mart_dossiers_refused_returned_stopped before the reporting unit: dossiers
    refused at intake (3), withdrawn (7) or stopped (8) per period of the decision (NgayTuChoi
    for refusals, else NgayKetThucXuLy, else NgayTra; the last update when the source gives no
    date), with the written reason (LyDo). Refused dossiers are not received, so they come from
    staging, not fct_dossier; deleted dossiers are left out.

    Kept per dossier (macros/per_dossier_periods.sql, docs/decisions/005): a row depends on the
    dossier's record and the periods containing its decision day, so a night replaces the rows
    of the dossiers whose record changed (by the staged dossiers' loaded_at index instead of a
    scan of all of staging) and a new period adds the rows of the dossiers decided in it. -#}

-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}, {{ ref('fct_dossier') }}, {{ ref('int_metric_periods') }}
{{ kept_per_dossier() }}
{%- set plan = period_plan() %}

with decided as (
    select
        d.*,
        {{ refusal_decided_at('d') }} as decided_at   -- one rule with today's list L7 (macros/actions.sql)
    from {{ ref('stg_one_stop__dossiers') }} d
    where {{ is_refusal_or_stop('d') }}
      and d.dossier_code is not null
      and {{ kept_dossiers_filter(plan) }}
),

per_period as (
    select
        pd.period_type,
        pd.period_key,
        d.dossier_code,
        d.unit_code,
        d.procedure_code,
        d.field_code,
        d.channel,
        d.status,
        case d.status when 3 then 'TU_CHOI' when 7 then 'RUT_HO_SO' else 'DUNG_XU_LY' end as outcome,
        d.submitted_at,
        d.received_at,
        d.decided_at,
        nullif(btrim(d.reason), '')                                        as reason,
        d.loaded_at
    from decided d
    join {{ ref('int_metric_period_days') }} pd on pd.date_day = {{ local_date('d.decided_at') }}
)

select * from per_period
where {{ changed_rows_filter(plan) }}
