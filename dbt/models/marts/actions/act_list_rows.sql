{#- Today's lists (docs/acting-today.md, §11): one row per (at_ts, unit_code, list_name, dossier_code), where
    unit_code is the VIEWING unit U and the row's unit (row_unit_code) is in U's subtree as of T's
    local date (int_unit_closure rows valid that day), so a row appears once for each of its
    unit's ancestors. No personal data and no handler's name (act_list_rows_named has it).

    | list_name             | on it when (at T)                                                      | list_value                     |
    | sap_den_han (L1)      | open, not waiting on the citizen, at most one request, due > T, working hours T -> due <= H | working hours left |
    | qua_han (L2)          | open, not waiting, due <= T or more than one request                    | working hours due -> T (0 when late only by the requests) |
    | buoc_qua_han (L3)     | open, not waiting, current step's NgayKetThucTheoQuyDinh < T; row unit = the step's unit | working hours step deadline -> T |
    | chua_tra_ket_qua (L4) | result ready at T, working hours NgayKetThucXuLy -> T >= R              | those working hours            |
    | thieu_ket_qua_dien_tu (L5) | resolved (9, 10) in the period up to T, result is a document, no result file | points_gain (4.1, and 4.2 where it counts) |
    | chua_dong_bo (L6)     | received in the period more than S calendar hours before T, no SUCCESS sync at T | points_gain (1.4)  |
    | thieu_ly_do (L7)      | refused (3), withdrawn (7) or stopped (8), decided in the period up to T, LyDo null or blank | null       |
    H, R, S: vars actions_due_soon_hours, actions_not_returned_hours, actions_unsynced_hours.

    Choices where §11 is silent (docs/acting-today.md):
    - a dossier without a due time (no NgayHenTra and no TTHC limit) is on neither L1 nor L2,
      unless it has more than one supplement request (L2, figure 0).
    - L2's figure counts working hours from the due time to T, not below 0.
    - L3: a step without a deadline is never overdue; a dossier waiting on the citizen is not
      listed even when its step's deadline passed (the agency cannot act on it).
    - L4: the dossier stays on it while the result is ready and not handed back, whether the
      processing was in time or not; R is compared unrounded.
    - L5 uses the result files as they are now (not dated); L6 counts S in calendar hours from
      NgayTiepNhan.
    - L7: dated as the period lists date it (macro refusal_decided_at: NgayTuChoi for a refusal,
      else NgayKetThucXuLy, else NgayTra, else the last update); its unit is the handling unit
      mapped at T; refused dossiers are not received, so they come from staging; due_at is
      NgayHenTra as the source gives it; the current step as for the other lists.
    - handling_unit_code is the dossier's unit at T (mapped, as unit codes everywhere here).
    - a row's unit with no unit valid at T in its successor chain (a unit gone without a
      successor) pools to no viewing unit, so the row is on no list. -#}

{{ config(indexes=[{'columns': ['at_ts', 'unit_code', 'list_name', 'dossier_code'], 'unique': true}]) }}

{%- set due_soon_seconds = var('actions_due_soon_hours') | float * 3600 %}
{%- set not_returned_seconds = var('actions_not_returned_hours') | float * 3600 %}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

states as (
    select s.*, m.at_date
    from {{ ref('int_action_dossier_states') }} s
    join moments m on m.at_ts = s.at_ts
),

-- working seconds since the calendar start at T and at each deadline (dim_date joins, no
-- function per row); the rows no working-hour list can hold are left out first
measured as (
    select
        s.*,
        {{ cumulative_working_seconds('s.at_ts', 'at_day') }}                  as at_seconds,
        {{ cumulative_working_seconds('s.due_at', 'due_day') }}                as due_seconds,
        {{ cumulative_working_seconds('s.current_step_due_at', 'step_due_day') }} as step_due_seconds,
        {{ cumulative_working_seconds('s.result_ready_at', 'ready_day') }}     as ready_seconds
    from states s
    left join {{ ref('dim_date') }} at_day on at_day.date_day = s.at_date
    left join {{ ref('dim_date') }} due_day on due_day.date_day = {{ local_date('s.due_at') }}
    left join {{ ref('dim_date') }} step_due_day on step_due_day.date_day = {{ local_date('s.current_step_due_at') }}
    left join {{ ref('dim_date') }} ready_day on ready_day.date_day = {{ local_date('s.result_ready_at') }}
    where (s.is_open and not s.is_waiting_on_citizen) or s.is_result_ready
),

-- the agency's open dossiers: not waiting on the citizen
acting as (
    select * from measured where is_open and not is_waiting_on_citizen
),

leaf_rows as (
    select at_ts, 'sap_den_han' as list_name, dossier_code, unit_code as row_unit_code,
           (due_seconds - at_seconds) / 3600.0 as figure, null::boolean as has_apology_letter
    from acting
    where supplement_count <= 1
      and due_at > at_ts
      and due_seconds - at_seconds <= {{ due_soon_seconds }}

    union all

    select at_ts, 'qua_han', dossier_code, unit_code,
           case when due_at <= at_ts then greatest(at_seconds - due_seconds, 0) / 3600.0 else 0 end,
           has_apology_letter
    from acting
    where due_at <= at_ts or is_late_by_supplements

    union all

    select at_ts, 'buoc_qua_han', dossier_code, current_step_unit_code,
           greatest(at_seconds - step_due_seconds, 0) / 3600.0, null
    from acting
    where current_step_due_at < at_ts and current_step_unit_code is not null

    union all

    select at_ts, 'chua_tra_ket_qua', dossier_code, unit_code, (at_seconds - ready_seconds) / 3600.0, null
    from measured
    where is_result_ready
      and at_seconds - ready_seconds >= {{ not_returned_seconds }}

    union all

    select s.at_ts, 'thieu_ket_qua_dien_tu', s.dossier_code, s.unit_code, null, null
    from states s
    where s.is_resolved_in_period and s.result_is_document and not s.has_result_file

    union all

    select s.at_ts, 'chua_dong_bo', s.dossier_code, s.unit_code, null, null
    from states s
    where s.is_received_in_period
      and s.received_at < s.at_ts - interval '{{ var("actions_unsynced_hours") }} hours'
      and not s.is_synced
),

-- L7: refused at intake, withdrawn or stopped in the period up to T without a written reason.
-- From staging (refused dossiers are not received), by the partial index on the decision time
-- (macro refusals_decided_at_index, the same expression and predicate)
{%- set bounds = action_moment_bounds() %}
{%- set moment_bounds = bounds if bounds else [['m.at_ts', 'm.period_start_ts']] %}
decided_without_reason as (
    {%- for at_ts, period_start in moment_bounds %}
    select
        m.at_ts, m.at_date, d.dossier_code, d.unit_code as source_unit_code, d.procedure_code,
        d.field_code, d.channel, d.status, d.received_at, d.due_at
    from moments m
    join {{ ref('stg_one_stop__dossiers') }} d
      on {% if bounds %}m.at_ts = {{ at_ts }} and {% endif %}{{ is_refusal_or_stop('d') }}
     and {{ refusal_decided_at('d') }} >= {{ period_start }}
     and {{ refusal_decided_at('d') }} <= {{ at_ts }}
    where d.dossier_code is not null
      and nullif(btrim(d.reason), '') is null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

reasons_missing as (
    select
        r.at_ts, r.dossier_code,
        coalesce(unit_map.mapped_unit_code, r.source_unit_code)               as unit_code,
        r.procedure_code, r.field_code, r.channel, r.status, r.received_at, r.due_at,
        current_step.step_number                                              as current_step_number,
        coalesce(step_map.mapped_unit_code, current_step.unit_code)           as current_step_unit_code,
        current_step.department_name                                          as current_step_department
    from decided_without_reason r
    left join {{ ref('int_action_unit_mappings') }} unit_map
      on unit_map.at_ts = r.at_ts and unit_map.unit_code = r.source_unit_code
    {{ join_current_step_at('r.dossier_code', 'r.at_ts') }}
    left join {{ ref('int_action_unit_mappings') }} step_map
      on step_map.at_ts = r.at_ts and step_map.unit_code = current_step.unit_code
),

rows_by_dossier as (
    select
        l.at_ts, l.list_name, l.dossier_code, l.row_unit_code, s.unit_code as handling_unit_code,
        s.procedure_code, s.field_code, s.channel, s.status, s.received_at, s.due_at, l.figure,
        l.has_apology_letter, s.current_step_number, s.current_step_unit_code, s.current_step_department
    from leaf_rows l
    join states s on s.at_ts = l.at_ts and s.dossier_code = l.dossier_code

    union all

    select
        at_ts, 'thieu_ly_do', dossier_code, unit_code, unit_code, procedure_code, field_code, channel,
        status, received_at, due_at, null, null, current_step_number, current_step_unit_code,
        current_step_department
    from reasons_missing
),

-- once per viewing unit: every ancestor (self included) of the row's unit valid on T's date
pooled as (
    select c.ancestor_unit_code as unit_code, r.*
    from rows_by_dossier r
    join moments m on m.at_ts = r.at_ts
    join {{ ref('int_unit_closure') }} c
      on c.descendant_unit_code = r.row_unit_code
     and c.valid_from <= m.at_date
     and (c.valid_to is null or c.valid_to >= m.at_date)
),

-- the points a fix would gain in the VIEWING unit's metric at T (int_action_metric_counts,
-- filled by H2): L5 the gain of one more 4.1 numerator, plus one more 4.2 numerator where the
-- dossier counts there (macro l5_counts_in_4_2); L6 one more 1.4; L1 the loss of 2.1 if it turns late
unit_gains as (
    select
        at_ts, unit_code,
        max(gain_one_more) filter (where metric_code = '4.1')   as gain_4_1,
        max(gain_one_more) filter (where metric_code = '4.2')   as gain_4_2,
        max(gain_one_more) filter (where metric_code = '1.4')   as gain_1_4,
        max(loss_one_fewer) filter (where metric_code = '2.1')  as loss_2_1
    from {{ ref('int_action_metric_counts') }}
    where metric_code in ('1.4', '2.1', '4.1', '4.2')
    group by 1, 2
),

with_gains as (
    select
        p.*,
        case p.list_name
            when 'thieu_ket_qua_dien_tu'
                then g.gain_4_1 + case when {{ l5_counts_in_4_2('s') }} then g.gain_4_2 else 0 end
            when 'chua_dong_bo' then g.gain_1_4
            when 'sap_den_han' then g.loss_2_1
        end                                                     as points_gain
    from pooled p
    left join unit_gains g on g.at_ts = p.at_ts and g.unit_code = p.unit_code
    left join states s
      on p.list_name = 'thieu_ket_qua_dien_tu' and s.at_ts = p.at_ts and s.dossier_code = p.dossier_code
)

select
    at_ts::timestamptz                                                        as at_ts,
    unit_code::text                                                           as unit_code,
    list_name::text                                                           as list_name,
    dossier_code::text                                                        as dossier_code,
    row_unit_code::text                                                       as row_unit_code,
    handling_unit_code::text                                                  as handling_unit_code,
    procedure_code::text                                                      as procedure_code,
    field_code::text                                                          as field_code,
    channel::integer                                                          as channel,
    status::integer                                                           as status,
    received_at::timestamptz                                                  as received_at,
    due_at::timestamptz                                                       as due_at,
    (case when list_name in ('thieu_ket_qua_dien_tu', 'chua_dong_bo') then points_gain
          else figure end)::numeric                                           as list_value,
    has_apology_letter::boolean                                               as has_apology_letter,
    points_gain::numeric                                                      as points_gain,
    current_step_number::integer                                              as current_step_number,
    current_step_unit_code::text                                              as current_step_unit_code,
    current_step_department::text                                             as current_step_department
from with_gains
