{#- Which rows a data test reads. dbt wraps the tested relation in get_where_subquery; this
    project's version adds one rule to the `where` config:

    With test_scope = 'night' (var test_scope, else env TTHC_TEST_SCOPE: the nightly build, see
    checks_scope in tthc/pipeline/dbt.py),
    tests on an incremental model or a raw source read only the rows loaded within var
    night_test_window: the rows this night merged (a night merges what raw loaded since the
    model's newest row minus incremental_lookback, which is shorter). Rows loaded earlier were
    tested on their own night. Uniqueness stays whole: every column an incremental model tests
    as unique has a unique index (macros/incremental.sql), so the database refuses a duplicate
    on the merge itself. With test_scope = 'all' (full refreshes, the weekly full check, builds
    by hand) every row is read, as dbt does by default, except by a uniqueness test whose
    columns a unique index of the relation covers (checked in pg_index when the test runs): the
    database already refuses any duplicate, and reading every row proved nothing more (measured
    at 2 M dossiers: the 2.1 rows' weekly grain test took 48 s of a Sunday's marts). Measured at 170 k dossiers/year: the
    nightly build's tests took 7.1 s of its 10.9 s, each a scan of a table that grows every
    night. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where', '') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set night_rows = night_rows_condition(relation) -%}
    {%- if night_rows -%}
        {%- do conditions.append(night_rows) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- do return("(select * from " ~ relation ~ " where " ~ conditions | join(" and ") ~ ") dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- On a night, the condition that keeps the rows it loaded, or '' to read every row.
    Incremental models: within the window of their newest row (btree index on loaded_at; the
    bound a literal, so the planner sees how few rows pass it).
    Raw sources (every source of this project is a raw table): loaded within the window of now,
    as the raw suites of the gate (raw has a BRIN index on loaded_at, which cannot give a max;
    the extract ran just before). -#}
{% macro night_rows_condition(relation) -%}
    {%- if not execute -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- if (var('test_scope', none) or run_setting('TTHC_TEST_SCOPE', 'all')) != 'night'
          and not uniqueness_held_by_index(relation) -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set window = "interval '" ~ var('night_test_window') ~ "'" -%}
    {%- set tested_id = model.attached_node or (model.depends_on.nodes | first) -%}
    {%- if tested_id in graph.sources -%}
        {%- do return("loaded_at > now() - " ~ window) -%}
    {%- endif -%}
    {%- set tested = graph.nodes.get(tested_id) -%}
    {%- if tested is not none and tested.config.materialized == 'incremental' -%}
        {%- do return("loaded_at >= " ~ timestamptz_literal("select coalesce(max(loaded_at), '-infinity') - "
                                                             ~ window ~ " from " ~ relation)) -%}
    {%- endif -%}
    {%- do return('') -%}
{%- endmacro %}

{#- Whether the running test checks the uniqueness of columns that a valid unique index of
    `relation` covers exactly (the database then refuses every duplicate itself). -#}
{% macro uniqueness_held_by_index(relation) -%}
    {%- set test = model.test_metadata -%}
    {%- if test is none or test.name not in ('unique', 'unique_combination') -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- set columns = test.kwargs.get('columns') or [test.kwargs.get('column_name')] -%}
    {%- set query -%}
        select count(*) from pg_index i
        where i.indrelid = to_regclass('{{ relation }}') and i.indisunique and i.indisvalid
          and i.indpred is null and i.indexprs is null
          and (select array_agg(a.attname::text order by a.attname::text collate "C") from pg_attribute a
               where a.attrelid = i.indrelid and a.attnum = any(i.indkey))
              = array['{{ columns | sort | join("', '") }}']::text[]
    {%- endset -%}
    {%- do return(run_query(query).columns[0].values()[0] > 0) -%}
{%- endmacro %}
