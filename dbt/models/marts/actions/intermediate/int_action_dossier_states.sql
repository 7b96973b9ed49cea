{#- Every received dossier that matters at a moment T (docs/acting-today.md, §11), read as it stood at T:
    received (§6a: not status 1 or 3, not deleted) by T and open at T, or received in the current
    period (the month containing T) up to T, or closed in it up to T, or with its result ready at T
    and not handed back. One row per (at_ts, dossier_code). No personal data.

    As of a past T (§11): end of processing, returns, supplement requests and completions, apology
    letters (NgayXinLoi) and sync records (syncedAt) count only when dated at or before T; the
    current step is the process-log row with the highest STT started by T. Result files, reasons,
    the status and the TTHC catalogue are taken as they are now (the sources do not date them).

    Choices where §11 is silent (docs/acting-today.md):
    - waiting on the citizen at T: open at T with exactly one supplement request made by T, not
      completed by T (NgayTiepNhanBoSung null or after T). The status is not dated, so it is not
      read; for T = now this is the status-5 dossier of §11 (and §5's "request time ends
      processing", as fct_dossier's timeliness_end_at).
    - due time in force at T: NgayHenTra, unless a supplement completed after T has moved it since:
      then the NgayHenTraTruoc of the first request completed after T (NgayHenTra now when that is
      missing). Without NgayHenTra: §5's derived due (the TTHC's limit from receipt) plus the
      citizen's time of the requests completed by T only. No NgayHenTra and no limit: no due time.
    - a dossier's unit at T: its handling unit mapped to the first successor valid on T's local
      date (int_action_unit_mappings); a unit gone with no successor valid then keeps its code, and
      since no viewing unit valid at T holds it, its dossiers are on no unit's list (as the monthly
      marts leave them out of every unit's counts).
    - current step: the highest STT with NgayBatDau <= T (a step without NgayBatDau never is).
    - has_apology_letter: a letter with NgayXinLoi at or before T; a letter without NgayXinLoi
      counts as it is now (it exists).
    - is_synced: the portal's latest sync record is SUCCESS with syncedAt at or before T (a SUCCESS
      without syncedAt counts: undated, as now). The portal keeps one record per dossier, so a sync
      that failed at T and succeeded since reads as not synced at T only through its syncedAt.
    - is_closed_on_time: §5 at T: late with more than one request made by T; else the judged end
      (the single request still pending at T, else the end of processing) against the due time in
      force at T; on time without a due time.
    - is_carried_over: received before the period start with no judged end (as above) before it,
      as 2.1's scope (int_metric_2_1_dossiers).

    Reads only what matters at T: fct_dossier by its received_at, end_of_processing_at and
    returned_at indexes (one bitmap scan per moment), then per dossier index lookups. -#}

{{ config(indexes=[{'columns': ['at_ts', 'dossier_code'], 'unique': true},
                   {'columns': ['at_ts', 'unit_code']}]) }}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

-- received by T and: open at T (no end, or an end after T, which is after the period start),
-- closed since the period start, received since it, or ready and not handed back at T (status 9
-- now without NgayTra, or NgayTra after T). One select per moment with its bounds as constants
-- (macro action_moment_bounds): each arm of the "or" is an index range, so the planner ORs
-- four index scans instead of reading every dossier received before T.
{%- set bounds = action_moment_bounds() %}
{%- set moment_bounds = bounds if bounds else [['m.at_ts', 'm.period_start_ts']] %}
selected as (
    {%- for at_ts, period_start in moment_bounds %}
    select
        m.at_ts, m.at_date, m.period_start_ts, m.period_end_ts,
        d.dossier_code, d.unit_code as handling_unit_code, d.procedure_code, d.field_code, d.channel,
        d.status, d.received_at, d.due_at as source_due_at, d.derived_due_at, d.effective_due_at,
        d.time_limit, d.time_limit_unit, d.processing_ended_at, d.returned_at, d.end_of_processing_at,
        d.supplement_count as supplement_count_now, d.apology_letter_count, d.is_digitized,
        d.has_electronic_result
    from moments m
    join {{ ref('fct_dossier') }} d
      on {% if bounds %}m.at_ts = {{ at_ts }} and {% endif %}d.received_at <= {{ at_ts }}
     and (d.received_at >= {{ period_start }}
          or d.end_of_processing_at is null
          or d.end_of_processing_at >= {{ period_start }}
          or d.returned_at >= {{ period_start }}
          or (d.returned_at is null and d.status = 9))
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

-- supplement requests as they stood at T (int_dossier_supplement_requests: the list parsed once).
-- Each lookup below is a lateral "limit 1" on a unique index: a plain join would let the planner
-- hash the whole history of the looked-up table for the few dossiers that need it.
requests as (
    select
        s.at_ts, s.dossier_code, s.received_at, s.source_due_at, s.derived_due_at, s.time_limit,
        s.time_limit_unit, r.requested_at as requested_ats, r.received_back_at as received_back_ats,
        q.request_count, q.pending_request_at, q.first_completion_after_at, q.citizen_seconds_after
    from selected s
    cross join lateral (
        select l.requested_at, l.received_back_at
        from {{ ref('int_dossier_supplement_requests') }} l
        where l.dossier_code = s.dossier_code
        limit 1
    ) r
    cross join lateral (
        select
            count(*) filter (where u.requested_at <= s.at_ts)::int                         as request_count,
            min(u.requested_at) filter (where u.requested_at <= s.at_ts
                                          and (u.received_back_at is null or u.received_back_at > s.at_ts))
                                                                                           as pending_request_at,
            min(u.received_back_at) filter (where u.received_back_at > s.at_ts)           as first_completion_after_at,
            coalesce(sum(extract(epoch from u.received_back_at - u.requested_at))
                     filter (where u.received_back_at > s.at_ts), 0)                       as citizen_seconds_after
        from unnest(r.requested_at, r.received_back_at) as u(requested_at, received_back_at)
    ) q
    where s.supplement_count_now > 0
),

-- the requests of the few dossiers whose due time a completion after T has moved since
moved_later as (
    select * from requests where first_completion_after_at is not null
),

-- with NgayHenTra: the due time then was the NgayHenTraTruoc of the first request completed
-- after T (staged JSON)
previous_due as (
    select rq.at_ts, rq.dossier_code, p.previous_due_at
    from moved_later rq
    cross join lateral (
        select (select {{ json_local_timestamp('NgayHenTraTruoc', 'e') }}
                from jsonb_array_elements(case when jsonb_typeof(stg.supplement_requests) = 'array'
                                               then stg.supplement_requests else '[]' end) e
                where {{ json_local_timestamp('NgayTiepNhanBoSung', 'e') }} = rq.first_completion_after_at
                limit 1)                                                                  as previous_due_at
        from {{ ref('stg_one_stop__dossiers') }} stg
        where stg.dossier_code = rq.dossier_code
        limit 1
    ) p
    where rq.source_due_at is not null
),

-- without NgayHenTra: §5's derived due with only the citizen's time of the requests completed by
-- T (int_dossiers_timed counts them all). Working-time limits: the derived due's working-seconds
-- target less the later requests' citizen working time, then the first working day reaching it;
-- calendar-day limits: the calendar due less their seconds, moved off a day without work as
-- int_dossiers_timed does.
later_citizen_working_seconds as (
    select rq.at_ts, rq.dossier_code, rq.received_at, rq.derived_due_at,
           sum(({{ cumulative_working_seconds('u.received_back_at', 'back_day') }}
                - {{ cumulative_working_seconds('u.requested_at', 'request_day') }})) as seconds
    from moved_later rq
    cross join lateral unnest(rq.requested_ats, rq.received_back_ats) as u(requested_at, received_back_at)
    left join {{ ref('dim_date') }} request_day on request_day.date_day = {{ local_date('u.requested_at') }}
    left join {{ ref('dim_date') }} back_day on back_day.date_day = {{ local_date('u.received_back_at') }}
    where rq.source_due_at is null and rq.derived_due_at is not null
      and rq.time_limit_unit in ('NGAY_LAM_VIEC', 'GIO')
      and u.received_back_at > rq.at_ts
    group by rq.at_ts, rq.dossier_code, rq.received_at, rq.derived_due_at
),

derived_due_at_t as (
    select w.at_ts, w.dossier_code,
           {{ local_midnight('due_day.date_day') }}
             + make_interval(secs => {{ clock_after_working_seconds('(t.target - due_day.cumulative_working_seconds_before)') }})
                                                                                          as due_at
    from later_citizen_working_seconds w
    left join {{ ref('dim_date') }} derived_day on derived_day.date_day = {{ local_date('w.derived_due_at') }}
    cross join lateral (
        select {{ cumulative_working_seconds('w.derived_due_at', 'derived_day') }} - w.seconds as target
    ) t
    {{ join_working_day_reaching(local_date('w.received_at'), 't.target', 'due_day') }}

    union all

    select rq.at_ts, rq.dossier_code,
           case when next_day.date_day = {{ local_date('c.calendar_due') }} then c.calendar_due
                else {{ local_midnight('next_day.date_day') }} + interval '{{ var("working_windows")[-1][1] }}' end
    from moved_later rq
    cross join lateral (
        select timed.supplement_seconds
        from {{ ref('int_dossiers_timed') }} timed
        where timed.dossier_code = rq.dossier_code
        limit 1
    ) timed
    cross join lateral (
        select rq.received_at + make_interval(days => rq.time_limit::int)
               + make_interval(secs => timed.supplement_seconds - rq.citizen_seconds_after) as calendar_due
    ) c
    left join lateral (
        select min(d.date_day) as date_day
        from {{ ref('dim_date') }} d
        where d.is_working_day and d.date_day >= {{ local_date('c.calendar_due') }}
    ) next_day on true
    where rq.source_due_at is null and rq.time_limit_unit = 'NGAY' and rq.time_limit is not null
),

states as (
    select
        s.*,
        coalesce(rq.request_count, 0)                                                   as supplement_count,
        rq.pending_request_at,
        case
            when rq.first_completion_after_at is null then s.effective_due_at
            when s.source_due_at is not null then coalesce(pd.previous_due_at, s.source_due_at)
            else coalesce(dd.due_at, s.effective_due_at)
        end                                                                             as due_at,
        case when s.end_of_processing_at <= s.at_ts then s.end_of_processing_at end     as end_at
    from selected s
    left join requests rq on rq.at_ts = s.at_ts and rq.dossier_code = s.dossier_code
    left join previous_due pd on pd.at_ts = s.at_ts and pd.dossier_code = s.dossier_code
    left join derived_due_at_t dd on dd.at_ts = s.at_ts and dd.dossier_code = s.dossier_code
),

judged as (
    select
        states.*,
        -- §5: a single request still pending at T ends processing at the request time
        least(end_at, case when supplement_count = 1 then pending_request_at end)        as judged_end_at
    from states
)

select
    j.at_ts,
    j.dossier_code,
    coalesce(unit_map.mapped_unit_code, j.handling_unit_code)                         as unit_code,
    j.handling_unit_code,
    j.procedure_code,
    j.field_code,
    j.channel,
    j.status,
    j.received_at,
    j.due_at,
    j.end_at,
    j.end_at is null                                                                  as is_open,
    j.supplement_count,
    j.end_at is null and j.supplement_count = 1 and j.pending_request_at is not null  as is_waiting_on_citizen,
    case when j.end_at is null and j.supplement_count = 1 then j.pending_request_at end as waiting_since,
    j.supplement_count > 1                                                            as is_late_by_supplements,
    j.received_at >= j.period_start_ts                                                as is_received_in_period,
    j.received_at < j.period_start_ts
      and (j.judged_end_at is null or j.judged_end_at >= j.period_start_ts)           as is_carried_over,
    case
        when j.end_at is null then null
        when j.supplement_count > 1 then false
        when j.due_at is null then true
        else j.judged_end_at <= j.due_at
    end                                                                               as is_closed_on_time,
    coalesce(j.processing_ended_at <= j.at_ts and j.status in (9, 10)
             and (j.returned_at is null or j.returned_at > j.at_ts), false)           as is_result_ready,
    case when j.processing_ended_at <= j.at_ts then j.processing_ended_at end         as result_ready_at,
    coalesce(j.status in (9, 10) and j.end_at >= j.period_start_ts, false)            as is_resolved_in_period,
    coalesce(procedures.result_is_document, false)                                    as result_is_document,
    j.has_electronic_result                                                           as has_result_file,
    j.is_digitized,
    coalesce(apology.is_dated_by_t, false)                                            as has_apology_letter,
    coalesce(sync.is_synced_by_t, false)                                              as is_synced,
    current_step.step_number                                                          as current_step_number,
    coalesce(step_unit_map.mapped_unit_code, current_step.unit_code)                  as current_step_unit_code,
    current_step.department_name                                                      as current_step_department,
    current_step.step_due_at                                                          as current_step_due_at,
    current_step.dossier_step_key                                                     as current_step_key
from judged j
left join {{ ref('int_action_unit_mappings') }} unit_map
  on unit_map.at_ts = j.at_ts and unit_map.unit_code = j.handling_unit_code
left join {{ ref('dim_procedure') }} procedures on procedures.procedure_code = j.procedure_code
-- per-dossier lookups by unique index, only where there is something to find (limit 1 keeps each
-- one a lookup: pulled up into a join, the planner may hash all of the history instead)
left join lateral (
    select c.first_apology_at is null or c.first_apology_at <= j.at_ts as is_dated_by_t
    from {{ ref('int_dossier_contents_summarized') }} c
    where j.apology_letter_count > 0 and c.dossier_code = j.dossier_code
    limit 1
) apology on true
left join lateral (
    select f.is_synced and (f.synced_at is null or f.synced_at <= j.at_ts) as is_synced_by_t
    from {{ ref('fct_sync') }} f
    where f.dossier_code = j.dossier_code
    limit 1
) sync on true
{{ join_current_step_at('j.dossier_code', 'j.at_ts') }}
left join {{ ref('int_action_unit_mappings') }} step_unit_map
  on step_unit_map.at_ts = j.at_ts and step_unit_map.unit_code = current_step.unit_code
