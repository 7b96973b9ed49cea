{#- An indicator model kept per (period, dossier): a night replaces only the rows of the
    dossiers that changed, instead of recomputing every dossier of every period (at 2 M
    dossiers, millions of rows a night for a few thousand changed dossiers). Used by
    int_metric_2_1_dossiers and the per-dossier rows of the operational lists (int_list_*).

    A row depends on its dossier's records and on its period. The model says what it reads in
    config meta 'kept_per_dossier':
      periods     the periods model (default int_metric_periods); none for one row per
                  dossier, whatever the periods
      key         the columns, in the periods model and the model's rows, that name a row's
                  period (default [period_type, period_key]; the lists cut at a period's end
                  are kept per cut day, which periods ending together share)
      signature   more columns of the periods model that fix what a period's rows are
                  (default [period_start, period_end])
      changed_by  models with (dossier_code, loaded_at, a btree index on loaded_at) whose new
                  rows change a dossier's rows (default [stg_one_stop__dossiers])
      settings    vars the rows depend on (default none)
    The post-hook remember_period_inputs records in the table's comment what the rows were
    computed from; the next run compares (period_plan):
      - fct_dossier rebuilt by a full refresh (a change of the TTHC catalogue or the calendar: a
        new relation, its oid changes while its loaded_at values do not), the model's code or
        one of its settings changed: every row again, in place ('all'). A change of the macros
        it calls or of var timezone is not seen: `tthc build --full-refresh` (a new
        fct_dossier) covers it;
      - otherwise ('changed'): the rows of the dossiers with a row in `changed_by` loaded since
        the newest one the last run saw minus var incremental_lookback (a dossier no longer
        counted, deleted or refused, is among them and gets no new rows), the rows of the
        periods that appeared (a new month, an earlier first month, tonight's cut of the
        running periods) for every dossier, and none of the periods that went (a backfill's
        later periods, last night's cut).
    The pre-hook replace_changed_rows deletes what the run replaces; the model's select reads
    the dossiers kept_dossiers_filter lets through and keeps what changed_rows_filter says.
    Needs columns dossier_code and the key's; the indexes are the model's own (indexes in its
    config: dbt creates them with the table). -#}

{% macro kept_spec() -%}
    {%- set spec = config.meta_get('kept_per_dossier') or {} -%}
    {{- return({'periods': spec.get('periods', 'int_metric_periods'),
                'key': spec.get('key', ['period_type', 'period_key']),
                'signature': spec.get('signature', ['period_start', 'period_end']),
                'changed_by': spec.get('changed_by', ['stg_one_stop__dossiers']),
                'settings': spec.get('settings', [])}) -}}
{%- endmacro %}

{#- What every row depends on besides its period and its dossier: fct_dossier's relation, the
    model's code and its settings. -#}
{% macro period_inputs_key() -%}
    {%- set settings = [] -%}
    {%- for name in kept_spec().settings -%}
        {%- do settings.append(name ~ '=' ~ var(name)) -%}
    {%- endfor -%}
    {%- set query -%}
        select to_regclass('{{ ref("fct_dossier") }}')::oid::text
               || ' code {{ local_md5(model.raw_code ~ settings | join(",")) }}'
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}

{#- The periods as the run sees them: 'key|...|signature...'. -#}
{% macro current_periods() -%}
    {%- set spec = kept_spec() -%}
    {%- if spec.periods is none -%}
        {{- return([]) -}}
    {%- endif -%}
    {%- set query -%}
        select distinct concat_ws('|', {{ (spec.key + spec.signature) | join(', ') }})
        from {{ ref(spec.periods) }} order by 1
    {%- endset -%}
    {{- return(run_query(query).columns[0].values() | list) -}}
{%- endmacro %}

{#- The newest load of the inputs that change a dossier's rows, as text ('-infinity' if none). -#}
{% macro newest_change_seen() -%}
    {%- set newest = [] -%}
    {%- for name in kept_spec().changed_by -%}
        {%- do newest.append('(select max(loaded_at) from ' ~ ref(name) ~ ')') -%}
    {%- endfor -%}
    {%- set query = "select coalesce(greatest(" ~ newest | join(', ') ~ "), '-infinity')::text" -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}

{#- {'mode': 'all' | 'changed', 'seen': text, 'added': [...], 'removed': [...]} (the key of
    periods, 'key|...'). -#}
{% macro period_plan() -%}
    {%- set plan = {'mode': 'all', 'seen': none, 'added': [], 'removed': []} -%}
    {#- parsing, a first build, a full refresh, or a unit test (no relation of its own) -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set stored = run_query("select coalesce(obj_description('" ~ this ~ "'::regclass, 'pg_class'), '')")
                     .columns[0].values()[0].split('\n') -%}
    {%- if stored | length != 3 or stored[0] != 'inputs ' ~ period_inputs_key()
          or not stored[1].startswith('seen ') -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set before = stored[2].replace('periods ', '', 1).split(',') | reject('equalto', '') | list -%}
    {%- set now = current_periods() -%}
    {%- set key_size = kept_spec().key | length -%}
    {%- do plan.update({'mode': 'changed', 'seen': stored[1][5:]}) -%}
    {%- for p in now if p not in before -%}
        {%- do plan.added.append(p.split('|')[:key_size] | join('|')) -%}
    {%- endfor -%}
    {%- for p in before if p not in now -%}
        {%- do plan.removed.append(p.split('|')[:key_size] | join('|')) -%}
    {%- endfor -%}
    {{- return(plan) -}}
{%- endmacro %}

{#- The dossiers whose rows a 'changed' run replaces (a subquery; each input by its loaded_at
    index). -#}
{% macro changed_dossiers(plan) -%}
    {%- for name in kept_spec().changed_by %}
    select dossier_code from {{ ref(name) }}
    where loaded_at > '{{ plan.seen }}'::timestamptz - interval '{{ var("incremental_lookback") }}'
    {%- if not loop.last %}
    union{% endif %}
    {%- endfor %}
{%- endmacro %}

{% macro _period_in(periods) -%}
    ({{ kept_spec().key | map('string') | join("::text || '|' || ") }}::text) in ('{{ periods | join("', '") }}')
{%- endmacro %}

{#- A condition on a relation of dossiers: those whose rows the run computes. `in_added`: a
    condition true of every dossier that can have a row in a period that appeared (default:
    any dossier). -#}
{% macro kept_dossiers_filter(plan, in_added='true', column='dossier_code') -%}
    {%- if plan.mode == 'all' -%}
        true
    {%- elif plan.added -%}
        ({{ column }} in ({{ changed_dossiers(plan) }}) or ({{ in_added }}))
    {%- else -%}
        {{ column }} in ({{ changed_dossiers(plan) }})
    {%- endif -%}
{%- endmacro %}

{#- Flags for models that expand dossiers over periods: a changed dossier is computed for
    every period, the others only for the periods that appeared (is_added_period); tested
    right after the expansion, so the rest is never computed. -#}
{% macro is_changed_dossier(plan, column='dossier_code') -%}
    {%- if plan.mode == 'all' -%}
        true
    {%- else -%}
        {{ column }} in ({{ changed_dossiers(plan) }})
    {%- endif -%}
{%- endmacro %}

{% macro is_added_period(plan) -%}
    {%- if plan.mode == 'all' -%}
        true
    {%- elif plan.added -%}
        {{ _period_in(plan.added) }}
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}

{#- The condition on the model's rows that a 'changed' run recomputes ('true' for 'all'). -#}
{% macro changed_rows_filter(plan) -%}
    {%- if plan.mode == 'all' -%}
        true
    {%- else -%}
        (dossier_code in ({{ changed_dossiers(plan) }}){% if plan.added %} or {{ _period_in(plan.added) }}{% endif %})
    {%- endif -%}
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
        where dossier_code in ({{ changed_dossiers(plan) }})
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

{#- The newest load is read after the rows were written, in the same transaction: a load that
    committed in between is seen without having been read, which var incremental_lookback
    (the next night re-reads a day before it) covers, as for every incremental model. -#}
{% macro remember_period_inputs() -%}
    {%- if execute -%}
    comment on table {{ this }} is 'inputs {{ period_inputs_key() }}
seen {{ newest_change_seen() }}
periods {{ current_periods() | join(",") }}'
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- For kept_dossiers_filter's in_added: a row whose state began at instant `since` and lasted
    until instant `until` (null: still) may fall in a period that appeared, whose local days run
    from its `low` column to its `high` column of the periods model (high exclusive): since <
    the greatest high's midnight and until >= the least low's. The bounds are literals, read
    first, and compared with instants, not local days: a subquery per row over the periods cost
    44 s for the 2 M dossiers of a night (the paused list, 4 new cuts), local days 3 s. A
    superset when the new periods are apart (a backfill), which changed_rows_filter narrows. -#}
{% macro spans_added_periods(plan, since, until, low='period_start', high='period_end') -%}
    {%- if not plan.added -%}
        false
    {%- else -%}
        {%- set query -%}
            select min({{ low }})::text, max({{ high }})::text from {{ ref(kept_spec().periods) }}
            where {{ _period_in(plan.added) }}
        {%- endset -%}
        {%- set bounds = run_query(query).rows[0] -%}
        ({{ since }} < {{ local_midnight("'" ~ bounds[1] ~ "'::date") }}
         and ({{ until }} is null or {{ until }} >= {{ local_midnight("'" ~ bounds[0] ~ "'::date") }}))
    {%- endif -%}
{%- endmacro %}
