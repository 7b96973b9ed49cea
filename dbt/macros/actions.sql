{#- "Act today" (docs/acting-today.md, §11): the moments T the actions models are built for, and the rules
    that more than one model applies. -#}

{#- The moments T as a list of ISO 8601 strings: var actions_at (one string or a list), else env
    TTHC_ACTIONS_AT (the pipeline's, see run_setting; several separated by commas), else [] =
    now(). Each must carry its offset (or Z): a time without one would be read in the session's
    time zone, which is the server's, not the province's. -#}
{% macro actions_at_list() -%}
    {%- set value = var('actions_at', none) -%}
    {%- if value is none or (value is string and value | trim == '') -%}
        {%- set setting = run_setting('TTHC_ACTIONS_AT') -%}
        {%- set value = setting.split(',') if setting | trim else [] -%}
    {%- elif value is string -%}
        {%- set value = [value] -%}
    {%- endif -%}
    {%- set pattern = modules.re.compile('^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}(:?\\d{2})?)$') -%}
    {%- set moments = [] -%}
    {%- for item in value -%}
        {%- set text = item | string | trim -%}
        {%- if not pattern.match(text) -%}
            {%- do exceptions.raise_compiler_error("actions_at: '" ~ text ~ "' is not an ISO 8601 time with its offset, e.g. 2025-07-21T09:00:00+07:00") -%}
        {%- endif -%}
        {%- do moments.append(text) -%}
    {%- endfor -%}
    {{- return(moments) -}}
{%- endmacro %}

{#- A select of the moments, one row each (column at_ts): the given ones, else now() to the
    second. Only int_action_moments calls it: every other actions model joins that table, so one
    build holds one now(). -#}
{% macro actions_moments_select() -%}
    {%- set moments = actions_at_list() -%}
    {%- if moments -%}
        select distinct at_ts from unnest(array[
            {%- for m in moments %}'{{ m }}'::timestamptz{% if not loop.last %}, {% endif %}{% endfor -%}
        ]) as moments(at_ts)
    {%- else -%}
        select date_trunc('second', now()) as at_ts
    {%- endif -%}
{%- endmacro %}

{#- The moments of int_action_moments as [[at_ts, period_start_ts], ...] of timestamptz literals,
    read when the node runs (int_action_moments is built first), so each moment's selection is
    planned with its own constants: a moment joined as a parameter is estimated at a third of
    the table and read through received_at <= T alone, which is all of the history. While dbt
    only parses, or compiles without having built it (dbt docs generate): [] (the callers then
    join int_action_moments). -#}
{% macro action_moment_bounds() -%}
    {%- set bounds = [] -%}
    {%- if execute and load_relation(ref('int_action_moments')) is not none -%}
        {#- text with a prefix: dbt's result table would otherwise parse it into a naive datetime -#}
        {%- set result = run_query("select 'at ' || at_ts::text, 'at ' || period_start_ts::text from "
                                   ~ ref('int_action_moments') ~ " order by at_ts") -%}
        {%- for row in result.rows -%}
            {%- do bounds.append(["'" ~ row[0][3:] ~ "'::timestamptz", "'" ~ row[1][3:] ~ "'::timestamptz"]) -%}
        {%- endfor -%}
    {%- endif -%}
    {{- return(bounds) -}}
{%- endmacro %}

{#- When a refusal at intake (3), a withdrawal (7) or a stop (8) was decided: NgayTuChoi for a
    refusal, else NgayKetThucXuLy, else NgayTra; the last update when the source gives no date.
    One rule for the period lists (int_list_refused_returned_stopped) and today's list L7. -#}
{% macro refusal_decided_at(alias=none) -%}
    {%- set a = alias ~ '.' if alias else '' -%}
    (case when {{ a }}status = 3
          then coalesce({{ a }}refused_at, {{ a }}processing_ended_at, {{ a }}source_updated_at)
          else coalesce({{ a }}processing_ended_at, {{ a }}returned_at, {{ a }}source_updated_at) end)
{%- endmacro %}

{#- The staged dossiers refused (3), withdrawn (7) or stopped (8), not deleted: the rows of list
    L7 (and of int_list_refused_returned_stopped). -#}
{% macro is_refusal_or_stop(alias=none) -%}
    {%- set a = alias ~ '.' if alias else '' -%}
    ({{ a }}status in (3, 7, 8) and not {{ a }}is_deleted)
{%- endmacro %}

{#- A post-hook (outside the transaction, after a full refresh dropped the old table) of
    stg_one_stop__dossiers: a partial index on the decision time of its refused, withdrawn and
    stopped dossiers, so list L7 finds those decided in the current period up to T by index
    (the same expression, the same predicate: the planner matches them), not by reading all of
    staging. Named after the expression, so a changed rule builds a new index. -#}
{% macro refusals_decided_at_index() -%}
    {%- set expression = refusal_decided_at() -%}
    {%- set predicate = is_refusal_or_stop() -%}
    create index if not exists {{ this.identifier }}__decided_{{ local_md5(expression ~ predicate)[:10] }}
        on {{ this }} ({{ expression }}) where {{ predicate }}
{%- endmacro %}

{#- The current step of a dossier at T (docs/acting-today.md, §11, to the letter): the process-log row with
    the highest STT among those with NgayBatDau at or before T; a row without NgayBatDau is not
    among them (fct_dossier_step's step_started_at falls back to the previous step's time for
    durations; §11 does not). A lateral lookup on staging's dossier_code index: a few rows per
    dossier, never the whole process log. -#}
{% macro join_current_step_at(dossier_code_expr, at_expr, alias='current_step') -%}
    left join lateral (
        select s.dossier_step_key, s.step_number, s.unit_code, s.department_name, s.step_due_at
        from {{ ref('stg_one_stop__process_steps') }} s
        where s.dossier_code = {{ dossier_code_expr }}
          and s.started_at <= {{ at_expr }}
        order by s.step_number desc
        limit 1
    ) {{ alias }} on true
{%- endmacro %}

{#- Working hours from a to b (negative when b < a); day_a and day_b are dim_date joined on their
    local dates (macro cumulative_working_seconds). -#}
{% macro working_hours_between(a_expr, day_a, b_expr, day_b) -%}
    (({{ cumulative_working_seconds(b_expr, day_b) }} - {{ cumulative_working_seconds(a_expr, day_a) }}) / 3600.0)
{%- endmacro %}
