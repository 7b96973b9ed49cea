{#- Metric 2.1 per dossier and period (domain.md section 6a), before pooling:
    in scope  = received in [start, end), or received before start and still open at start
                (no judged end before start);
    on time   = closed in the period with end <= due (at most one supplement request), or
                open at end with due >= end (§6a puts no supplement condition on open dossiers).
    "Judged end" is timeliness_end_at (a single pending supplement request ends processing);
    "due" is NgayHenTra, or the due derived from the TTHC limit when it is missing. -#}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

dossiers as (
    select
        dossier_code, unit_code, received_at, timeliness_end_at, effective_due_at,
        supplement_count, second_supplement_requested_at, is_closed_on_time_766
    from {{ ref('fct_dossier') }}
),

in_scope as (
    select
        periods.period_type,
        periods.period_key,
        periods.period_start,
        periods.period_end,
        dossiers.*,
        {{ local_midnight('periods.period_end') }} as end_ts
    from periods
    join dossiers
      on dossiers.received_at < {{ local_midnight('periods.period_end') }}
     and (dossiers.received_at >= {{ local_midnight('periods.period_start') }}
          or dossiers.timeliness_end_at is null
          or dossiers.timeliness_end_at >= {{ local_midnight('periods.period_start') }})
)

select
    period_type,
    period_key,
    dossier_code,
    unit_code,
    case
        when timeliness_end_at < end_ts then coalesce(is_closed_on_time_766, false)
        else (effective_due_at is null or effective_due_at >= end_ts)
    end as is_on_time
from in_scope
