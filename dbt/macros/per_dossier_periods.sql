{#- An indicator model kept per (period, dossier): a night replaces only the rows of the
    dossiers whose record got a new version, instead of recomputing every dossier of every
    period (at 2 M dossiers, 8 M rows a night for a few thousand changed dossiers).

    A row depends on its dossier's fct_dossier row and on its period, whose bounds its key fixes.
    The post-hook remember_period_inputs records in the table's comment what the rows were
    computed from; the next run compares (period_plan):
      - fct_dossier rebuilt by a full refresh (a change of the TTHC catalogue or the calendar: a
        new relation, its oid changes while its loaded_at values do not) or the model's own code
        changed: every row again, in place ('all'). A change of the macros it calls or of var
        timezone is not seen: `tthc build --full-refresh` (a new fct_dossier) covers it;
      - otherwise ('changed'): the rows of the dossiers whose staged record was loaded since the
        model's newest row minus var incremental_lookback (the window fct_dossier merged; a
        dossier no longer counted, deleted or refused, is among them and gets no new rows), the
        rows of periods that appeared (a new month, report month, quarter or year; an earlier
        first month) for every dossier, and none of the periods that went (as_of_date moved
        back for a backfill).
    The pre-hook replace_changed_rows deletes what the run replaces; the model's select keeps
    what it recomputes with changed_rows_filter. Needs columns period_type, period_key,
    dossier_code and loaded_at (fct_dossier's); the indexes are the model's own (indexes in
    its config: dbt creates them with the table). -#}

{#- What every row depends on besides its period: fct_dossier's relation and the model's code. -#}
{% macro period_inputs_key() -%}
    {%- set query -%}
        select to_regclass('{{ ref("fct_dossier") }}')::oid::text || ' code {{ local_md5(model.raw_code) }}'
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}

{#- The periods as the run sees them: 'type|key|start|end' (the bounds only as a safeguard). -#}
{% macro current_periods() -%}
    {%- set query -%}
        select concat_ws('|', period_type, period_key, period_start, period_end)
        from {{ ref('int_metric_periods') }} order by 1
    {%- endset -%}
    {{- return(run_query(query).columns[0].values() | list) -}}
{%- endmacro %}

{#- {'mode': 'all' | 'changed', 'added': [...], 'removed': [...]} ('type|key' of periods). -#}
{% macro period_plan() -%}
    {%- set plan = {'mode': 'all', 'added': [], 'removed': []} -%}
    {#- parsing, a first build, a full refresh, or a unit test (no relation of its own) -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set stored = run_query("select coalesce(obj_description('" ~ this ~ "'::regclass, 'pg_class'), '')")
                     .columns[0].values()[0].split('\n') -%}
    {%- if stored | length != 2 or stored[0] != 'inputs ' ~ period_inputs_key() -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set before = stored[1].replace('periods ', '', 1).split(',') | reject('equalto', '') | list -%}
    {%- set now = current_periods() -%}
    {%- do plan.update({'mode': 'changed'}) -%}
    {%- for p in now if p not in before -%}
        {%- do plan.added.append(p.split('|')[:2] | join('|')) -%}
    {%- endfor -%}
    {%- for p in before if p not in now -%}
        {%- do plan.removed.append(p.split('|')[:2] | join('|')) -%}
    {%- endfor -%}
    {{- return(plan) -}}
{%- endmacro %}

{#- The dossiers whose rows a 'changed' run replaces (a subquery). -#}
{% macro changed_dossiers() -%}
    select dossier_code from {{ ref('stg_one_stop__dossiers') }}
    where {{ loaded_since_last_build() }}
{%- endmacro %}

{% macro _period_in(periods) -%}
    (period_type || '|' || period_key) in ('{{ periods | join("', '") }}')
{%- endmacro %}

{#- The condition on the model's rows that a 'changed' run recomputes ('true' for 'all'). -#}
{% macro changed_rows_filter(plan) -%}
    {%- if plan.mode == 'all' -%}
        true
    {%- else -%}
        (dossier_code in ({{ changed_dossiers() }}){% if plan.added %} or {{ _period_in(plan.added) }}{% endif %})
    {%- endif -%}
{%- endmacro %}

{#- Whether the model's select must read every dossier (not only the changed ones). -#}
{% macro reads_every_dossier(plan) -%}
    {{- return(plan.mode == 'all' or plan.added | length > 0) -}}
{%- endmacro %}

{#- Pre-hook: empty the table for a rebuild in place, else delete the rows the run replaces. -#}
{% macro replace_changed_rows() -%}
    {%- set plan = period_plan() -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif plan.mode == 'all' -%}
        truncate {{ this }}
    {%- else -%}
        delete from {{ this }}
        where dossier_code in ({{ changed_dossiers() }})
        {%- if plan.added or plan.removed %} or {{ _period_in(plan.added + plan.removed) }}{% endif %}
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: statistics when every row was written, then what the rows were computed from. -#}
{% macro analyze_when_every_period_row_rebuilt() -%}
    {%- if period_plan().mode == 'all' -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro remember_period_inputs() -%}
    {%- if execute -%}
    comment on table {{ this }} is 'inputs {{ period_inputs_key() }}
periods {{ current_periods() | join(",") }}'
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
