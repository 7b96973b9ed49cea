{#- The incremental models' filter: rows loaded since the newest row this model holds, minus
    var incremental_lookback (loads that commit out of order; see dbt_project.yml). -#}
{% macro loaded_since_last_build(column='loaded_at') -%}
    {{ column }} > {{ timestamptz_literal("select coalesce(max(loaded_at), '-infinity') - interval '"
                                          ~ var("incremental_lookback") ~ "' from " ~ this) }}
{%- endmacro %}

{#- The timestamptz that query `sql` returns, inlined as a literal when the node runs. The
    planner then estimates the rows past it from the column's statistics (a night's few); for a
    subquery's value it assumes a third of the table, and chose a sequential scan of raw's
    process log for each of the two step models. While dbt only parses, the subquery itself. -#}
{% macro timestamptz_literal(sql) -%}
    {%- if execute -%}
        {#- text with a prefix: dbt's result table would otherwise parse it into a naive datetime -#}
        {%- set value = run_query("select 'at ' || (" ~ sql ~ ")::text").columns[0].values()[0] -%}
        {%- if value is none -%}
            {%- do exceptions.raise_compiler_error("timestamptz_literal: no value from " ~ sql) -%}
        {%- endif -%}
        '{{ value[3:] }}'::timestamptz
    {%- else -%}
        ({{ sql }})
    {%- endif -%}
{%- endmacro %}

{#- A dossier the 766 rules count: received (not status 1, not refused at intake, 3) and not
    deleted as entered by mistake. -#}
{% macro is_counted_dossier(alias) -%}
    (not {{ alias }}.is_deleted and {{ alias }}.status not in (1, 3) and {{ alias }}.received_at is not null)
{%- endmacro %}

{#- Where a night starts for an incremental model: its newest row minus the lookback, taken
    by a pre-hook before the merge moves it, and kept for the model's post-hook in a temporary
    table that lives until the model's transaction commits (hooks run inside it). -#}
{% macro remember_night_start() -%}
    {%- if is_incremental() -%}
    create temporary table {{ this.identifier }}__night_start on commit drop as
    select coalesce(max(loaded_at), '-infinity') - interval '{{ var("incremental_lookback") }}' as night_start
    from {{ this }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- After an incremental merge of a per-dossier model: drop the dossiers whose latest version
    (in `dossiers`, stg_one_stop__dossiers) is no longer counted (now deleted as entered by
    mistake, or refused), so a rerun equals a full rebuild. Only a version loaded tonight can
    have made a dossier uncounted (a night deletes what it finds), so the candidates come from
    the loaded_at index, not from an anti-join over the whole table, which grows with the
    history. Needs the
    pre-hook remember_night_start. -#}
{% macro delete_uncounted_dossiers(dossiers) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} f
    using {{ dossiers }} c
    where c.dossier_code = f.dossier_code
      and c.loaded_at > {{ timestamptz_literal('select night_start from ' ~ this.identifier ~ '__night_start') }}
      and not {{ is_counted_dossier('c') }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Config of a stored staging model of a big entity: an incremental table merged on the raw
    key, so a night re-ranks only the keys with a new version (see macro latest_version);
    --full-refresh re-ranks all of raw. `business_key`, when the model's unique column is not
    the merge key itself (the record's id as parsed from the payload), gets a unique index too:
    the database then refuses a duplicate on every merge, and the nightly tests need only read
    the night's rows (var night_rows_always). `lookup_key`: a column the night looks rows up by
    (a plain index). -#}
{% macro stored_latest_version(unique_key='record_key', business_key=none, lookup_key=none) -%}
    {%- set indexes = [{'columns': [unique_key], 'unique': true}, {'columns': ['loaded_at']}] -%}
    {%- if business_key -%}
        {%- do indexes.append({'columns': [business_key], 'unique': true}) -%}
    {%- endif -%}
    {%- if lookup_key -%}
        {%- do indexes.append({'columns': [lookup_key]}) -%}
    {%- endif -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=indexes
    ) }}
{%- endmacro %}

{#- Config of a per-dossier intermediate: merged on dossier_code when the dossier's latest
    version changed (filter with loaded_since_last_build on the dossier's loaded_at). -#}
{% macro merged_per_dossier(pre_hook=[], post_hook=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key='dossier_code',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['loaded_at']}],
        pre_hook=pre_hook,
        post_hook=post_hook
    ) }}
{%- endmacro %}

{#- An index made when missing, named after the table and columns: for indexes added after a
    table was first built (dbt's `indexes` config applies only when it creates the table). -#}
{% macro ensure_index(columns) -%}
    create index if not exists {{ this.identifier }}__{{ columns | join('__') }}
        on {{ this }} ({{ columns | join(', ') }})
{%- endmacro %}
