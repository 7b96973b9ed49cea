{#- One row per moment T of this build: the moment, its current period and the list thresholds
    in force, and when the build ran. The lists' readers (CLI, workbook, messages) print these,
    so what a list means travels with it. -#}

select
    m.at_ts::timestamptz                                              as at_ts,
    m.period_key::text                                                as period_key,
    m.period_start_ts::timestamptz                                    as period_start_ts,
    m.period_end_ts::timestamptz                                      as period_end_ts,
    {{ var('actions_due_soon_hours') }}::numeric                      as due_soon_hours,
    {{ var('actions_not_returned_hours') }}::numeric                  as not_returned_hours,
    {{ var('actions_unsynced_hours') }}::numeric                      as unsynced_hours,
    now()::timestamptz                                                as built_at
from {{ ref('int_action_moments') }} m
