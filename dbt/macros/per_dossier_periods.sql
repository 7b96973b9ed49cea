{#- An indicator model kept per (period, dossier): a night replaces only the rows of the
    dossiers that changed, instead of recomputing every dossier of every period (at 2 M
    dossiers, millions of rows a night for a few thousand changed dossiers). Used by
    int_metric_2_1_dossiers and the per-dossier rows of the operational lists (int_list_*).
    docs/decisions/005 (the mechanism) and 009 (its state as data).

    A row depends on its dossier's records and on its period. The model says what it reads in
    config meta 'kept_per_dossier':
      periods     the periods model (default int_metric_periods); none for one row per
                  dossier, whatever the periods
      key         the columns, in the periods model and the model's rows, that name a row's
                  period (default [period_type, period_key]; the lists cut at a period's end
                  are kept per cut day, which periods ending together share)
      signature   more columns of the periods model that fix what a period's rows are
                  (default [period_start, period_end])
      changed_by  the inputs, as named in the change set int_dossier_changes, whose changes
                  change a dossier's rows (default [stg_one_stop__dossiers])
      settings    vars the rows depend on (default none)
      upstream    incremental relations whose rebuild (a full refresh: a new relation) or,
                  for a kept model, whose run in mode 'all' makes every row stale
                  (default [fct_dossier])

    Which dossiers changed is data: the warehouse build records them per build in
    int_dossier_changes (the change set), and each kept model reads it (`-- depends_on:` in
    its SQL). What each run of a kept model was built from is data too: its post-hook
    record_kept_model_state appends a row to <its schema>.kept_model_state (model, build_id,
    built_at, mode and why, the upstream relations and their versions, the md5 of the model's
    SQL compiled as for a full rebuild, settings, periods, the change set read through). No table
    comment holds state, so persist_docs may write the models' descriptions there. The next
    run compares (period_plan):
      - no state, an upstream rebuilt (fct_dossier by a full refresh after a change of the
        TTHC catalogue or the calendar: a new relation, its oid changes while its loaded_at
        values do not; a kept upstream's run in mode 'all'), the
        compiled SQL changed (the model's code, a macro it calls, a var it renders), one of
        its settings changed, the change set rebuilt or pruned past what it read: every row
        again, in place ('all');
      - otherwise ('changed'): the rows of the dossiers the change set lists, for its
        changed_by inputs, in the builds after the last one it read (a dossier no longer
        counted, deleted or refused, is among them and gets no new rows), the rows of the
        periods that appeared (a new month, an earlier first month, tonight's cut of the
        running periods) for every dossier, and none of the periods that went (a backfill's
        later periods, last night's cut). A rerun with no build between reads no dossier.
    The pre-hook replace_changed_rows deletes what the run replaces; the model's select reads
    the dossiers kept_dossiers_filter lets through and keeps what changed_rows_filter says.
    Needs columns dossier_code and the key's; a kept model is configured by kept_per_dossier
    (below), which gives it the indexes (dbt creates them with the table). -#}

{#- The config of a model kept per dossier: `spec` is its meta 'kept_per_dossier' (above; {} for
    every default), `pre_hook` planner settings to run before the rows are replaced. One macro,
    not a copy in each kept model, because these settings only work together: append (the
    pre-hook replace_changed_rows deletes what the run replaces, so appending is the merge),
    the post-hook record_kept_model_state (without it the next run finds no state and rebuilds
    every row), a unique index on the dossier and the spec's key (the same key the pre-hook
    deletes by; its uniqueness test reads only the night's rows because the index refuses a
    duplicate on every run: tests/dbt/test_test_scope.py) and one on loaded_at (the tests'
    night scope). -#}
{% macro kept_per_dossier(spec={}, pre_hook=[]) -%}
    {%- set key = [] if ('periods' in spec and spec.periods is none)
                  else spec.get('key', ['period_type', 'period_key']) -%}
    {{- config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        indexes=[{'columns': ['dossier_code'] + key, 'unique': true}, {'columns': ['loaded_at']}],
        pre_hook=pre_hook + ["{{ replace_changed_rows() }}"],
        post_hook=["{{ analyze_when_every_period_row_rebuilt() }}", "{{ record_kept_model_state() }}"]
    ) -}}
    {%- if spec -%}{{- config(meta={'kept_per_dossier': spec}) -}}{%- endif -%}
{%- endmacro %}

{% macro kept_spec() -%}
    {%- set spec = config.meta_get('kept_per_dossier') or {} -%}
    {{- return({'periods': spec.get('periods', 'int_metric_periods'),
                'key': spec.get('key', ['period_type', 'period_key']),
                'signature': spec.get('signature', ['period_start', 'period_end']),
                'changed_by': spec.get('changed_by', ['stg_one_stop__dossiers']),
                'settings': spec.get('settings', []),
                'upstream': spec.get('upstream', ['fct_dossier'])}) -}}
{%- endmacro %}

{#- Where every kept model's runs are recorded: a table beside the kept models (the
    transformer owns their schema), created by the first run that records one. -#}
{% macro kept_model_state_relation() -%}
    {{- return(api.Relation.create(database=this.database, schema=this.schema, identifier='kept_model_state')) -}}
{%- endmacro %}

{% macro kept_settings_json() -%}
    {%- set settings = {} -%}
    {%- for name in kept_spec().settings -%}
        {%- do settings.update({name: var(name)}) -%}
    {%- endfor -%}
    {{- return(tojson(settings) | replace("'", "''")) -}}
{%- endmacro %}

{#- The upstream relations as a jsonb of {relation: version}: its oid, and for a kept model the
    time of its last run in mode 'all' (its rows all rewritten). -#}
{% macro kept_upstream_versions() -%}
    {%- set state = kept_model_state_relation() -%}
    {%- set parts = [] -%}
    {%- for name in kept_spec().upstream -%}
        {%- set rel = ref(name) -%}
        {%- do parts.append("'" ~ rel.schema ~ "." ~ rel.identifier ~ "', concat_ws('@', to_regclass('" ~ rel ~ "')::oid::text, "
                            ~ "(select max(built_at)::text from " ~ state ~ " where model = '" ~ rel.identifier ~ "' and mode = 'all'))") -%}
    {%- endfor -%}
    {{- return('jsonb_build_object(' ~ parts | join(', ') ~ ')') -}}
{%- endmacro %}

{#- The md5 of the model's SQL as a full rebuild compiles it: the model's code with every macro
    it calls and every var it renders, but none of what a night's plan inlines (dossiers,
    periods, bounds), so the same code hashes the same every night and an edit of a macro
    changes it. Rendered again with the plan forced to 'all' (a flag in this node's context,
    which period_plan reads first). -#}
{% macro kept_compiled_sql_hash() -%}
    {%- do model.update({'kept_canonical_render': true}) -%}
    {%- set compiled = render(model.raw_code) -%}
    {%- do model.update({'kept_canonical_render': false}) -%}
    {{- return(local_md5(compiled)) -}}
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

{#- {'mode': 'all' | 'changed', 'reason': why 'all', 'changes_after': the last change-set build
    the previous run read (text), 'added': [...], 'removed': [...]} (the key of periods,
    'key|...'). Decided once per context (the compile's, the hooks'), from the state as the
    run found it. -#}
{% macro period_plan() -%}
    {%- set plan = {'mode': 'all', 'reason': none, 'changes_after': none, 'added': [], 'removed': []} -%}
    {#- parsing, a unit test (no relation of its own), or the render behind the compiled-SQL hash -#}
    {%- if not execute or this is none or model.get('kept_canonical_render') -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- if model.get('kept_plan') is not none -%}
        {{- return(model.get('kept_plan')) -}}
    {%- endif -%}
    {%- do model.update({'kept_plan': plan}) -%}
    {%- if not is_incremental() -%}
        {%- do plan.update({'reason': 'full refresh' if should_full_refresh() else 'first build'}) -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set state = kept_model_state_relation() -%}
    {%- if run_query("select to_regclass('" ~ state ~ "') is null").columns[0].values()[0] -%}
        {%- do plan.update({'reason': 'no state recorded'}) -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set changes = ref('int_dossier_changes') -%}
    {%- set query -%}
        select case
                 when s.model is null then 'no state recorded'
                 when s.upstream is distinct from {{ kept_upstream_versions() }} then 'upstream rebuilt'
                 when s.compiled_sql_hash <> '{{ kept_compiled_sql_hash() }}' then 'compiled SQL changed'
                 when s.settings <> '{{ kept_settings_json() }}'::jsonb then 'settings changed'
                 when exists (select 1 from {{ changes }} c
                              where c.built_at > s.through and c.dossier_code is null) then 'change set rebuilt'
                 when (select min(built_at) from {{ changes }}) > s.through then 'change set pruned past the last run'
               end,
               s.through::text,
               array_to_string(s.periods, ',')
        from (select 1) as one
        left join lateral (
            select *, coalesce(changes_through, '-infinity') as through
            from {{ state }} where model = '{{ this.identifier }}'
            order by built_at desc limit 1
        ) s on true
    {%- endset -%}
    {%- set stored = run_query(query).rows[0] -%}
    {%- if stored[0] is not none -%}
        {%- do plan.update({'reason': stored[0]}) -%}
        {{- return(plan) -}}
    {%- endif -%}
    {%- set before = (stored[2] or '').split(',') | reject('equalto', '') | list -%}
    {%- set now = current_periods() -%}
    {%- set key_size = kept_spec().key | length -%}
    {%- do plan.update({'mode': 'changed', 'changes_after': stored[1]}) -%}
    {%- for p in now if p not in before -%}
        {%- do plan.added.append(p.split('|')[:key_size] | join('|')) -%}
    {%- endfor -%}
    {%- for p in before if p not in now -%}
        {%- do plan.removed.append(p.split('|')[:key_size] | join('|')) -%}
    {%- endfor -%}
    {{- return(plan) -}}
{%- endmacro %}

{#- The dossiers whose rows a 'changed' run replaces (a subquery): those the change set lists
    for the model's changed_by inputs in the builds after the last one its previous run read. -#}
{% macro changed_dossiers(plan) -%}
    select dossier_code from {{ ref('int_dossier_changes') }}
    where built_at > '{{ plan.changes_after }}'::timestamptz
      and changed_by in ('{{ kept_spec().changed_by | join("', '") }}')
      and dossier_code is not null
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

{#- Post-hooks: statistics when every row was written, then what the rows were built from. -#}
{% macro analyze_when_every_period_row_rebuilt() -%}
    {%- if period_plan().mode == 'all' -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- One row per run in <schema>.kept_model_state, in the model's transaction (a failed run
    records nothing). changes_through: the newest change-set build, which the run read (builds
    take turns: tthc/pipeline/locks.py; within a dbt run the change set is built first, it is a
    parent). The advisory lock serializes the table's creation between dbt's threads. -#}
{% macro record_kept_model_state() -%}
    {%- if execute -%}
    {%- set plan = period_plan() -%}
    {%- set state = kept_model_state_relation() -%}
    {%- set changes = ref('int_dossier_changes') -%}
    select pg_advisory_xact_lock(hashtext('{{ state }}'));
    create table if not exists {{ state }} (
        model              text        not null,
        build_id           text        not null,
        built_at           timestamptz not null,
        mode               text        not null,
        rebuild_reason     text,
        upstream           jsonb       not null,
        compiled_sql_hash  text        not null,
        settings           jsonb       not null,
        periods            text[]      not null,
        changes_through    timestamptz,
        changed_dossiers   bigint,
        primary key (model, built_at, build_id)
    );
    insert into {{ state }}
    select '{{ this.identifier }}', '{{ invocation_id }}', clock_timestamp(), '{{ plan.mode }}',
           {{ "'" ~ plan.reason ~ "'" if plan.reason else 'null' }},
           {{ kept_upstream_versions() }},
           '{{ kept_compiled_sql_hash() }}', '{{ kept_settings_json() }}'::jsonb,
           array[{% for p in current_periods() %}'{{ p }}'{% if not loop.last %}, {% endif %}{% endfor %}]::text[],
           (select max(built_at) from {{ changes }}),
           {% if plan.mode == 'changed' -%}
           (select count(distinct dossier_code) from ({{ changed_dossiers(plan) }}) c)
           {%- else -%} null {%- endif %}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- For kept_dossiers_filter's in_added: a row whose state began at instant `since` and lasted
    until instant `until` (null: still) may fall in a period that appeared, whose local days run
    from its `low` column to its `high` column of the periods model (high exclusive): since <
    the greatest high's midnight and until >= the least low's. The bounds are literals, read
    first (not a subquery per row over the periods), and compared with the rows' instants as
    they are (not each converted to its local day), so a night over every dossier stays cheap
    (bench/README.md, "Figures behind the code"). A superset when the new periods are apart (a
    backfill), which changed_rows_filter narrows. -#}
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

{#- Post-hook of int_dossier_changes: drop the builds older than var change_set_retention,
    except each input's newest (its watermark). A kept model that has not run since a pruned
    build rebuilds every row (period_plan: 'change set pruned past the last run'). -#}
{% macro prune_dossier_changes() -%}
    {%- if is_incremental() -%}
    delete from {{ this }} c
    using (select changed_by, max(built_at) as newest from {{ this }} group by changed_by) n
    where n.changed_by = c.changed_by
      and c.built_at < now() - interval '{{ var("change_set_retention") }}'
      and c.built_at < n.newest
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
