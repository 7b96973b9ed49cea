{#- act_list_rows' key with the name of the official holding each dossier at T (NguoiXuLy of
    the current step: the highest STT with NgayBatDau by T, found once in int_action_dossier_states),
    from the restricted staging model. Personal data (Decree 13/2023): per-unit roles read it through row
    level security, BI's general role never (tthc/warehouse/roles.py). Null when the dossier has
    no process-log step started by T or the step names nobody. -#}

{{ config(indexes=[{'columns': ['at_ts', 'unit_code', 'list_name', 'dossier_code'], 'unique': true}]) }}

with list_rows as (
    select at_ts, unit_code, list_name, dossier_code
    from {{ ref('act_list_rows') }}
),

-- the handler once per (moment, dossier), not once per list row and viewing unit, through the
-- current step int_action_dossier_states found; only the dossiers refused at intake (L7), which
-- are never received and so not among the states, look their current step up here
dossiers as (
    select distinct at_ts, dossier_code from list_rows
),

handlers as (
    select d.at_ts, d.dossier_code, h.handler_name
    from dossiers d
    -- (not aliased s: join_current_step_at's own subquery reads the process log as s, and a
    -- condition on s there would test the log's rows, not the states', probing every step)
    left join {{ ref('int_action_dossier_states') }} states
      on states.at_ts = d.at_ts and states.dossier_code = d.dossier_code
    {{ join_current_step_at('case when states.dossier_code is null then d.dossier_code end', 'd.at_ts') }}
    join {{ ref('stg_one_stop__process_step_handlers') }} h
      on h.dossier_step_key = coalesce(states.current_step_key, current_step.dossier_step_key)
)

select
    r.at_ts::timestamptz                                              as at_ts,
    r.unit_code::text                                                 as unit_code,
    r.list_name::text                                                 as list_name,
    r.dossier_code::text                                              as dossier_code,
    h.handler_name::text                                              as handler_name
from list_rows r
left join handlers h on h.at_ts = r.at_ts and h.dossier_code = r.dossier_code
