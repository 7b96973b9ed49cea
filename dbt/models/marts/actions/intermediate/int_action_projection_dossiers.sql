{#- The month-end projection of 2.1 per dossier (docs/acting-today.md, §11): every dossier known at T in
    2.1's scope for the current period (received in it up to T, or carried over open at its
    start; int_action_dossier_states), in one class, the first that holds:
      decided_on_time / decided_late  closed by T (§5 verdict, is_closed_on_time); waiting on the
                                      citizen (judged at the request time, §5); open and overdue
                                      at T (due <= T: late); open with more than one supplement
                                      request by T (late)
      safe                            open at T with the due time at or after the period end, or
                                      no due time at all (no NgayHenTra and no TTHC limit:
                                      nothing to miss, as §5 and 2.1 read it)
      undecided                       open at T with T < due < period end: on time only if closed
                                      by its due time
    Arrivals after T are not projected. is_complained: a complaint (5.3) before T, which 5.3's
    projection keeps as it stands. One row per (at_ts, dossier_code); act_projection pools the
    classes, act_undecided_dossiers lists the undecided. -#}

{{ config(indexes=[{'columns': ['at_ts', 'dossier_code'], 'unique': true}]) }}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

in_scope as (
    select s.*, m.period_end_ts
    from {{ ref('int_action_dossier_states') }} s
    join moments m on m.at_ts = s.at_ts
    where s.is_received_in_period or s.is_carried_over
),

complaints as (
    {{ dossier_complaints('select dossier_code from in_scope') }}
),

classified as (
    select
        s.at_ts, s.dossier_code, s.unit_code, s.due_at,
        case
            when s.end_at is not null
                then case when s.is_closed_on_time then 'decided_on_time' else 'decided_late' end
            when s.is_waiting_on_citizen
                then case when {{ closed_on_time_766('s.waiting_since', 's.due_at', 's.supplement_count') }}
                          then 'decided_on_time' else 'decided_late' end
            when s.due_at <= s.at_ts then 'decided_late'
            when s.supplement_count > 1 then 'decided_late'
            when s.due_at is null or s.due_at >= s.period_end_ts then 'safe'
            else 'undecided'
        end                                                                   as projection_class,
        coalesce(c.first_complained_at <= s.at_ts, false)                     as is_complained
    from in_scope s
    left join complaints c on c.dossier_code = s.dossier_code
)

select
    at_ts::timestamptz          as at_ts,
    dossier_code::text          as dossier_code,
    unit_code::text             as unit_code,
    due_at::timestamptz         as due_at,
    projection_class::text      as projection_class,
    is_complained::boolean      as is_complained
from classified
