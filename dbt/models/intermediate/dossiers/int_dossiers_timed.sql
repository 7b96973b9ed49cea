{{ merged_per_dossier(pre_hook=["{{ remember_night_start() }}"],
                      post_hook=["{{ delete_uncounted_dossiers(ref('stg_one_stop__dossiers')) }}"]) }}
{#- Received dossiers with the 766 timing rules applied (docs/spec/timeliness.md, §5):
    end of processing = NgayKetThucXuLy (statuses 9, 7, 8) else NgayTra (10); a single pending
    supplement request ends processing at the request time; NgayHenTra as the source gives it,
    else a due time derived from the TTHC's limit (working time, supplement time excluded). -#}

with dossiers as (
    select *
    from {{ ref('stg_one_stop__dossiers') }} d
    -- statuses 1 (not yet received) and 3 (refused at intake) and deleted dossiers never count
    where {{ is_counted_dossier('d') }}
    {% if is_incremental() %}
      and {{ loaded_since_last_build('d.loaded_at') }}
    {% endif %}
),

procedures as (
    select procedure_code, time_limit, time_limit_unit
    from {{ ref('stg_one_stop__procedures') }}
),

supplements as (
    select * from {{ ref('int_dossier_supplements_summarized') }}
),

joined as (
    select
        dossiers.*,
        coalesce(dossiers.processing_ended_at, dossiers.returned_at)         as end_of_processing_at,
        coalesce(supplements.supplement_count, 0)                            as supplement_count,
        supplements.first_supplement_requested_at,
        supplements.second_supplement_requested_at,
        supplements.pending_supplement_requested_at,
        coalesce(supplements.supplement_working_seconds, 0)                  as supplement_working_seconds,
        coalesce(supplements.supplement_seconds, 0)                          as supplement_seconds,
        procedures.time_limit,
        procedures.time_limit_unit,
        case procedures.time_limit_unit
            when 'NGAY_LAM_VIEC' then procedures.time_limit * {{ working_seconds_per_day() }}
            when 'GIO' then procedures.time_limit * 3600
        end                                                                  as allowed_working_seconds
    from dossiers
    left join supplements using (dossier_code)
    left join procedures using (procedure_code)
),

calendar as (
    select * from {{ ref('int_calendar_days') }}
),

targets as (
    -- working seconds (since the calendar start) at which a dossier without NgayHenTra is due
    select
        joined.*,
        case when joined.due_at is null and joined.allowed_working_seconds is not null
             then {{ cumulative_working_seconds('joined.received_at', 'received_day') }}
                  + joined.allowed_working_seconds + joined.supplement_working_seconds
        end                                                                  as due_working_seconds
    from joined
    left join calendar received_day on received_day.date_day = {{ local_date('joined.received_at') }}
),

timed as (
    select
        targets.*,
        -- the end the 766 rules judge: a single pending supplement request ends processing
        least(pending_supplement_requested_at, end_of_processing_at)        as timeliness_end_at,
        -- only when NgayHenTra is missing: the limit from receipt, supplement time added back
        case
            when due_at is not null then null
            when due_working_seconds is not null then
                -- the first working day that reaches the target; a result on a window's end stays there
                {{ local_midnight('due_day.date_day') }}
                  + make_interval(secs => {{ clock_after_working_seconds('(due_working_seconds - due_day.cumulative_working_seconds_before)') }})
            when time_limit_unit = 'NGAY' then
                -- calendar days; a due day off work moves to the end of the next working day
                case when next_day.date_day = {{ local_date('calendar_due') }} then calendar_due
                     else {{ local_midnight('next_day.date_day') }} + interval '{{ var("working_windows")[-1][1] }}' end
        end                                                                  as derived_due_at
    from targets
    {{ join_working_day_reaching(local_date('targets.received_at'), 'targets.due_working_seconds', 'due_day') }}
    left join lateral (
        select targets.received_at + make_interval(days => targets.time_limit::int)
               + make_interval(secs => targets.supplement_seconds) as calendar_due
        where targets.due_at is null and targets.time_limit_unit = 'NGAY'
    ) calendar_target on true
    left join lateral (
        select min(d.date_day) as date_day
        from {{ ref('int_calendar_days') }} d
        where calendar_target.calendar_due is not null
          and d.is_working_day and d.date_day >= {{ local_date('calendar_target.calendar_due') }}
    ) next_day on true
)

select
    timed.*,
    coalesce(due_at, derived_due_at)                                         as effective_due_at
from timed
