{#- An indicator model kept per (period, dossier): a night replaces only the rows of the
    dossiers whose record got a new version, instead of recomputing every dossier of every
    period (at 2 M dossiers, 8 M rows a night for a few thousand changed dossiers).

    A row depends on its dossier's fct_dossier row and on the period; so the model rebuilds every
    row when what all rows depend on changed, recorded in the table's comment by the post-hook
    remember_period_inputs:
      - the set of periods (a new month, report month, quarter or year begins; as_of_date moved
        back for a backfill),
      - fct_dossier itself (a full refresh after a change of the TTHC catalogue or the calendar
        creates a new relation: its oid changes while its loaded_at values do not),
      - the model's own code.
    Otherwise the pre-hook replace_changed_dossiers deletes the rows of the dossiers whose staged
    record was loaded since the model's newest row minus var incremental_lookback (the window
    fct_dossier merged; a dossier no longer counted, deleted or refused, is among them and gets no
    new rows), and the model's select (filtered by changed_dossiers) appends their rows again.
    Needs columns dossier_code and loaded_at (fct_dossier's) and an index led by dossier_code. -#}

{#- The key of what every row depends on, as stored in the comment ('' when the query fails). -#}
{% macro period_inputs_key() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set query -%}
        select md5(string_agg(concat_ws(':', period_type, period_key, period_start, period_end), ','
                              order by period_type, period_key))
               || ' fct_dossier ' || to_regclass('{{ ref("fct_dossier") }}')::oid
               || ' code {{ local_md5(model.raw_code) }}'
        from {{ ref('int_metric_periods') }}
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0] or '') -}}
{%- endmacro %}

{#- True when this run computes every row: a first build, a full refresh, or a changed key. -#}
{% macro rebuilds_every_period_row() -%}
    {%- if not execute -%}
        {{- return(false) -}}
    {%- endif -%}
    {#- a unit test has no relation of its own: it computes every row, as a first build -#}
    {%- if this is none or not is_incremental() -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- set stored = run_query("select coalesce(obj_description('" ~ this ~ "'::regclass, 'pg_class'), '')")
                     .columns[0].values()[0] -%}
    {{- return(stored != 'inputs ' ~ period_inputs_key()) -}}
{%- endmacro %}

{#- The dossiers whose rows this run replaces (a subquery), or none when it computes all. -#}
{% macro changed_dossiers() -%}
    select dossier_code from {{ ref('stg_one_stop__dossiers') }}
    where {{ loaded_since_last_build() }}
{%- endmacro %}

{#- Pre-hook: empty the table for a rebuild in place, else drop the changed dossiers' rows. -#}
{% macro replace_changed_dossiers() -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif rebuilds_every_period_row() -%}
        truncate {{ this }}
    {%- else -%}
        delete from {{ this }} where dossier_code in ({{ changed_dossiers() }})
    {%- endif -%}
{%- endmacro %}

{#- Post-hooks: statistics when every row was written, then the key of what they depend on. -#}
{% macro analyze_when_every_period_row_rebuilt() -%}
    {%- if rebuilds_every_period_row() -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{% macro remember_period_inputs() -%}
    comment on table {{ this }} is 'inputs {{ period_inputs_key() }}'
{%- endmacro %}
